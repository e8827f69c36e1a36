"""`cims incidents`: the incident manager's list and one incident's state, read from the ledger.

Both fold the events themselves (no read model needs to be running), judge deadlines now, and
show them in Melbourne time. Incidents are named by their id or by its first characters (the
list shows the first 8, more only where 8 would not tell two apart); a prefix that fits several
incidents is refused rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from difflib import get_close_matches
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

import typer
from rich import box
from rich.table import Column, Table
from rich.text import Text

from cli.access import log_read
from cli.output import (
    AsJson,
    BadParameter,
    CliError,
    literal,
    melbourne,
    melbourne_iso,
    melbourne_short,
    out,
    print_json,
)
from cli.settings import open_ledger, store
from domain.errors import IncidentNotFound
from domain.incident import Incident, Stage
from domain.obligations import Obligation, Status, incident_with_obligations, next_due
from domain.values import IncidentType
from domain.views import incident_state
from ledger.application import Ledger
from projections.db import Db
from replay.store import EventRows
from replay.verify import integrity

app = typer.Typer(help="Look at incidents in the ledger.", no_args_is_help=True)

SHORT = 8  # characters of an id the list shows
MIN_PREFIX = 4  # the fewest characters accepted as the start of an id
_HEX = re.compile(r"[0-9a-f]+")


# ---- naming an incident ----------------------------------------------------------------------


def resolve(ledger: Ledger, text: str, *, name: str = "INCIDENT") -> UUID:
    """The incident `text` names: a whole id, or the first characters (at least 4) of exactly
    one incident's id. Raises `CliError` for an unknown or ambiguous id."""
    given = text.strip().lower()
    try:
        incident_id = UUID(given)
    except ValueError:
        pass
    else:
        try:
            ledger.incident_events(incident_id, lte=1)
        except IncidentNotFound:
            raise CliError(f"no incident {incident_id} in this store") from None
        return incident_id
    prefix = given.replace("-", "")
    if not _HEX.fullmatch(prefix) or len(prefix) < MIN_PREFIX or len(prefix) > 32:
        raise BadParameter(
            name,
            f"{text!r} is not an incident id: give the id, or its first {SHORT} characters"
            " as `cims incidents list` shows them",
        )
    found = [i for i in ledger.incident_ids() if i.hex.startswith(prefix)]
    if not found:
        raise CliError(f"no incident id starts with {text!r} in this store")
    if len(found) > 1:
        shown = ", ".join(short_ids(found, found).values())
        raise CliError(f"{text!r} starts {len(found)} incident ids ({shown}): give more characters")
    return found[0]


def short_ids(ids: list[UUID], among: list[UUID]) -> dict[UUID, str]:
    """Each id's first 8 characters, or as many more as it takes to tell apart all of `among`."""
    length = SHORT
    while length < 32 and len({i.hex[:length] for i in among}) < len(set(among)):
        length += 1
    return {i: i.hex[:length] for i in ids}


# ---- reading every incident in one pass ------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One incident as the list shows it."""

    incident: Incident
    obligations: tuple[Obligation, ...]
    reported_at: datetime

    @property
    def next_due(self) -> datetime | None:
        return next_due(self.obligations)

    @property
    def overdue(self) -> bool:
        return any(o.status == Status.OVERDUE for o in self.obligations)

    @property
    def organisations(self) -> set[str]:
        other = self.incident.details.other_provider
        return {self.incident.reporting_organisation} | ({other} if other else set())


def every_incident(ledger: Ledger, *, now: datetime, batch: int = 1000) -> Iterator[Row]:
    """Every incident with its obligations at `now`, from one read of the notification log."""
    histories: dict[UUID, list[Any]] = {}
    start = 1
    while True:
        page = ledger.recorder.select_notifications(start=start, limit=batch)
        for notification in page:
            event = ledger.mapper.to_domain_event(notification)
            histories.setdefault(UUID(str(event.originator_id)), []).append(event)
        if len(page) < batch:
            break
        start = page[-1].id + 1
    for events in histories.values():
        incident, owed = incident_with_obligations(events, now=now)
        if incident is not None:
            yield Row(incident, owed, events[0].timestamp)


# ---- cims incidents list ---------------------------------------------------------------------


class SortBy(StrEnum):
    REPORTED = "reported"
    DUE = "due"
    STAGE = "stage"
    ORGANISATION = "organisation"


def incident_type(value: str) -> IncidentType:
    """An incident type by its policy name (`"Physical abuse"`, any case) or its enum name
    (`physical_abuse`)."""
    wanted = value.strip().casefold().replace("_", " ").replace("-", " ")
    for t in IncidentType:
        if wanted in (t.value.casefold(), t.name.casefold().replace("_", " ")):
            return t
    names = ", ".join(t.name.lower() for t in IncidentType)
    raise BadParameter("--type", f"unknown incident type {value!r}; one of: {names}")


def _sort_key(by: SortBy) -> Any:
    far = datetime.max.replace(tzinfo=UTC)
    return {
        SortBy.REPORTED: lambda r: r.reported_at,
        SortBy.DUE: lambda r: (r.next_due or far, r.reported_at),
        SortBy.STAGE: lambda r: (list(Stage).index(r.incident.stage), r.reported_at),
        SortBy.ORGANISATION: lambda r: (
            r.incident.reporting_organisation.casefold(),
            r.reported_at,
        ),
    }[by]


@app.command("list")
def list_incidents(
    organisation: Annotated[
        str | None,
        typer.Option("--organisation", "--org", help="reported by, or naming, this organisation"),
    ] = None,
    status: Annotated[
        list[Stage] | None, typer.Option("--status", help="stage (repeat for several)")
    ] = None,
    types: Annotated[
        list[str] | None,
        typer.Option("--type", help='incident type, e.g. physical_abuse or "Physical abuse"'),
    ] = None,
    overdue: Annotated[
        bool | None,
        typer.Option(
            "--overdue/--not-overdue", help="only incidents with (without) a deadline passed"
        ),
    ] = None,
    sort: Annotated[
        SortBy,
        typer.Option(help="reported (newest first), due (soonest first), stage, organisation"),
    ] = SortBy.REPORTED,
    as_json: AsJson = False,
) -> None:
    """Incidents with their stage, types and next deadline (Melbourne time); `!` marks overdue."""
    wanted_types = {incident_type(t) for t in types or []}
    now = datetime.now(UTC)
    with open_ledger(store()) as ledger:
        rows = list(every_incident(ledger, now=now))
    if organisation is not None:
        _known_organisation(organisation, rows)
    chosen = [
        r
        for r in rows
        if (organisation is None or organisation in r.organisations)
        and (not status or r.incident.stage in status)
        and (not wanted_types or wanted_types & set(r.incident.types))
        and (overdue is None or r.overdue == overdue)
    ]
    chosen.sort(key=_sort_key(sort), reverse=sort == SortBy.REPORTED)
    shorts = short_ids([r.incident.id for r in chosen], [r.incident.id for r in rows])
    if as_json:
        print_json([_json_row(r, shorts[r.incident.id]) for r in chosen])
        return
    out.print(_table(chosen, shorts, out.width))
    late = sum(r.overdue for r in chosen)
    summary = f"{len(chosen)} of {len(rows)} incidents" + (f", {late} overdue (!)" if late else "")
    out.print(literal(summary))


def _known_organisation(name: str, rows: list[Row]) -> None:
    known = sorted({o for r in rows for o in r.organisations})
    if name in known:
        return
    near = get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
    listed = "" if near or not known else f"; organisations in this store: {', '.join(known)}"
    raise BadParameter("--organisation", f"no incident names {name!r}{hint}{listed}")


def _json_row(r: Row, short: str) -> dict[str, Any]:
    i = r.incident
    return {
        "id": str(i.id),
        "short_id": short,
        "reporting_organisation": i.reporting_organisation,
        "other_provider": i.details.other_provider,
        "stage": i.stage.value,
        "types": [t.value for t in i.types],
        "impact": i.impact.value,
        "reported_at": r.reported_at.isoformat(),
        "next_due": r.next_due.isoformat() if r.next_due else None,
        "overdue": r.overdue,
        "version": i.version,
    }


def _fit(room: int, wanted: list[int]) -> list[int]:
    """Column widths within `room`: each as wide as its longest text, the widest cut first."""
    widths = list(wanted)
    while sum(widths) > room and max(widths) > 6:
        widths[widths.index(max(widths))] -= 1
    return widths


def _table(rows: list[Row], shorts: dict[UUID, str], width: int) -> Table:
    """A layout that reads at 80 columns: every row one line, long text cut with `…`."""
    id_width = max([len(s) for s in shorts.values()] or [SHORT])
    # id, impact, overdue mark, next due, and a space between each pair of the 7 columns
    room = max(width - (id_width + 9 + 1 + 16 + 6), 24)
    org, stage, types = _fit(
        room,
        [
            max([len(r.incident.reporting_organisation) for r in rows] + [len("organisation")]),
            max([len(r.incident.stage.value) for r in rows] + [len("stage")]),
            max([len(", ".join(r.incident.types)) for r in rows] + [len("types")]),
        ],
    )
    table = Table(
        Column("id", no_wrap=True, width=id_width),
        Column("organisation", no_wrap=True, overflow="ellipsis", width=org),
        Column("stage", no_wrap=True, overflow="ellipsis", width=stage),
        Column("types", no_wrap=True, overflow="ellipsis", width=types),
        Column("impact", no_wrap=True, width=9),
        Column("", no_wrap=True, width=1),
        Column("due (Melbourne)", no_wrap=True, width=16),
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=0,
    )
    for r in rows:
        i = r.incident
        table.add_row(
            literal(shorts[i.id]),
            literal(i.reporting_organisation),
            literal(i.stage.value.replace("_", " ")),
            literal(", ".join(t.value for t in i.types)),
            literal("major" if i.impact.value == "major" else "non-major"),
            Text("!", style="bold red") if r.overdue else Text(""),
            literal(melbourne_short(r.next_due)),
        )
    return table


def _met(o: Obligation) -> str:
    """When it was met; for a step recorded late (backdated), also when it was recorded."""
    met = melbourne_iso(o.met_at)
    if o.met_recorded_at is None or not o.recorded_late:
        return met
    return f"{met}\nrecorded {melbourne_iso(o.met_recorded_at)} (recorded late)"


# ---- cims incidents show ---------------------------------------------------------------------


@app.command("show")
def show_incident(
    incident: Annotated[str, typer.Argument(help="incident id, or its first 8 characters")],
    as_json: AsJson = False,
) -> None:
    """One incident's state and its obligations, deadlines in Melbourne time with their offset."""
    now = datetime.now(UTC)
    url = store()
    with open_ledger(url) as ledger:
        incident_id = resolve(ledger, incident)
        found, owed = incident_with_obligations(ledger.incident_events(incident_id), now=now)
        db = Db(url)
        try:  # the stored chain of what is shown, checked as the API checks it
            chain = integrity(EventRows(ledger, db), incident_id)
        finally:
            db.close()
    assert found is not None
    log_read(url, incident_id, "incident")
    if as_json:
        state = incident_state(found)
        print_json(
            {
                **state,
                "obligations": [o.model_dump(mode="json") for o in owed],
                "integrity": chain.model_dump(mode="json", exclude={"served_differs"}),
            }
        )
        return
    out.print(Text(f"Incident {incident_id} — version {found.version}", style="bold"))
    if chain.chain != "intact":
        out.print(
            Text(
                f"WARNING: the stored record is not intact (hash chain broken at version"
                f" {chain.first_broken_version}: {chain.problem}); shown as stored, not as fact",
                style="bold red",
            )
        )
    facts = Table(show_header=False, box=box.SIMPLE, pad_edge=False)
    for label, value in [
        ("stage", found.stage.value),
        ("reported by", found.reporting_organisation),
        ("other provider", found.details.other_provider or "—"),
        ("program / care", f"{found.program.value} / {found.care_context.value}"),
        ("types", ", ".join(found.types)),
        ("impact", found.impact.value),
        ("regulator", found.regulator_category.value),
        ("Aboriginal client", "yes" if found.aboriginal else "no"),
        ("follow-up", found.follow_up.value if found.follow_up else "—"),
        ("became aware", melbourne(found.details.became_aware_at)),
        ("policy", found.policy_version),
    ]:
        facts.add_row(literal(label), literal(value))
    out.print(facts)
    table = Table(
        Column("obligation", ratio=1),
        Column("due (Melbourne)", no_wrap=True),
        Column("status", no_wrap=True),
        Column("met (Melbourne)", no_wrap=True),
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    for o in owed:
        table.add_row(
            literal(o.kind.replace("_", " ") + (f" — {o.note}" if o.note else "")),
            literal(melbourne_iso(o.due)),
            Text(o.status.value, style="bold red" if o.status == Status.OVERDUE else ""),
            literal(_met(o)),
        )
    out.print(table)
    # Why each date is what it is: the derivation of every dated obligation.
    dated = [o for o in owed if o.due is not None and o.explanation is not None]
    if dated:
        out.print(Text("Why these dates?", style="bold"))
        for o in dated:
            assert o.explanation is not None
            out.print(literal(f"{o.kind.replace('_', ' ')}: {o.explanation.text}"))
