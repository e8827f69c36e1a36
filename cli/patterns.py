"""`cims patterns`: one client's incidents, possible patterns, escalation and dismissal."""

from __future__ import annotations

import json
import re
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from rich import box
from rich.console import Console
from rich.table import Column, Table

from api.schemas import ReportIn
from cli.import_legacy import DEPARTMENT
from cli.output import AsJson, BadParameter, CliError, actor, literal, print_json
from cli.projections import open_read_models
from cli.settings import open_ledger
from domain.errors import DomainError, PolicyViolation
from domain.policy_table import MELBOURNE, policy_at
from domain.values import DEPARTMENT_CLIENT_ID_PATTERN, Actor, Role, Stamp
from ledger import patterns

app = typer.Typer(help="Patterns of harm across one client's incidents.", no_args_is_help=True)
# Stored text (organisations, types, reasons) is printed as typed: no markup is interpreted.
console = Console(markup=False, highlight=False, emoji=False)
Provider = Annotated[
    str | None,
    typer.Option(help="answer as this provider would see it (its own incidents only)"),
]
By = Annotated[str, typer.Option("--by", help="who decides (their id)")]
Organisation = Annotated[str, typer.Option(help="their organisation")]
RoleOption = Annotated[Role, typer.Option(help="their role")]
# As the API's `window_days`: a window back from now that every view can show (100 years).
MAX_WINDOW_DAYS = 36_500


def _scope(provider: str | None) -> set[str] | None:
    return None if provider is None else {provider}


def _when(text: str) -> str:
    moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return moment.astimezone(MELBOURNE).strftime("%d %b %Y %H:%M")


@app.command("show")
def show(
    department_id: Annotated[
        str | None, typer.Option(help="the department's client identifier")
    ] = None,
    client_ref: Annotated[str | None, typer.Option(help="a provider's client ref")] = None,
    organisation: Annotated[str | None, typer.Option(help="the ref's organisation")] = None,
    window_days: Annotated[int | None, typer.Option(help="default: the policy's window")] = None,
    provider: Provider = None,
    as_json: AsJson = False,
) -> None:
    """One client's incidents in time order (type, impact, stage, outcome) within a window."""
    if department_id is None and (client_ref is None or (organisation or provider) is None):
        raise BadParameter(
            "--department-id", "give --department-id, or --client-ref with --organisation"
        )
    if department_id is not None and not re.fullmatch(DEPARTMENT_CLIENT_ID_PATTERN, department_id):
        raise BadParameter("--department-id", "a department client identifier is 6 to 10 digits")
    if window_days is not None and not 1 <= window_days <= MAX_WINDOW_DAYS:
        raise BadParameter(
            "--window-days", f"give a whole number of days from 1 to {MAX_WINDOW_DAYS}"
        )
    now = datetime.now(UTC)
    days = window_days or policy_at(now).pattern_window_days
    models = open_read_models()
    try:
        models.catch_up()
        items = models.client_incidents(
            organisations=_scope(provider),
            client_ref=client_ref,
            organisation=provider or organisation,
            department_client_id=department_id,
            since=now - timedelta(days=days),
            until=now,
        )
    finally:
        models.close()
    if as_json:
        print_json({"window_days": days, "items": items})
        return
    # Readable at 80 columns: the fixed-width facts never wrap, the free text shares the rest.
    table = Table(
        Column("became aware", no_wrap=True),
        Column("organisation", ratio=2),
        Column("types", ratio=3),
        Column("impact", no_wrap=True),
        Column("stage, outcome", ratio=2),
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        caption="became aware: Melbourne time",
    )
    for i in items:
        stage = str(i["stage"]).replace("_", " ") + (" (linked)" if i["linked_to_pattern"] else "")
        table.add_row(
            _when(i["became_aware_at"]),
            literal(i["organisation"]),
            literal(", ".join(i["types"] or i["legacy_types"])),
            # Spelt as `cims incidents list` spells them.
            str(i["impact"]).replace("_", "-"),
            literal(stage + (f": {', '.join(i['outcome'])}" if i["outcome"] else "")),
        )
    console.print(f"{len(items)} incident(s) in the last {days} days")
    console.print(table)
    if items:
        console.print("incident ids, in the same order:")
    for i in items:
        console.print(literal(f"  {i['id']}  {i['organisation']}"))


@app.command("suggestions")
def suggestions(provider: Provider = None, as_json: AsJson = False) -> None:
    """Possible patterns for a person to decide on (escalate or dismiss)."""
    models = open_read_models()
    try:
        models.catch_up()
        found = models.pattern_suggestions(organisations=_scope(provider), now=datetime.now(UTC))
    finally:
        models.close()
    if as_json:
        print_json({"items": found})
        return
    if not found:
        console.print("no possible patterns")
    for s in found:
        client = ", ".join([*s["department_client_ids"], *s["client_refs"]])
        console.print(
            literal(
                f"possible pattern — client {client}: {len(s['incident_ids'])} non-major"
                f" incidents within {s['window_days']} days"
            )
        )
        for i in s["incidents"]:
            console.print(literal(f"  {i['id']}  {i['organisation']}  {', '.join(i['types'])}"))


def _actor(by: str, role: Role, organisation: str) -> Actor:
    return actor(by, role, organisation)


def _refused(error: DomainError) -> CliError:
    if isinstance(error, PolicyViolation):
        return CliError(f"refused ({error.rule_id}): {error.message}")
    return CliError(str(error))


@app.command("escalate")
def escalate(
    incident_ids: Annotated[list[UUID], typer.Argument(help="the incidents forming the pattern")],
    report: Annotated[
        Path, typer.Option(help="the new major report, as JSON (the body of POST /v1/incidents)")
    ],
    reason: Annotated[str, typer.Option(help="why these incidents together reach major")],
    by: By,
    organisation: Organisation = DEPARTMENT,
    role: RoleOption = Role.DEPARTMENT_OFFICER,
) -> None:
    """Report a new major-impact incident for the pattern; each incident is linked to it."""
    body: dict[str, Any] = json.loads(report.read_text())
    fields = ReportIn.model_validate(body).command_args()
    stamp = Stamp(actor=_actor(by, role, organisation), now=datetime.now(UTC))
    with closing(open_ledger()) as ledger:
        try:
            accepted = patterns.escalate(
                ledger, stamp=stamp, pattern_of=incident_ids, reason=reason, **fields
            )
        except DomainError as error:
            raise _refused(error) from None
    console.print(
        f"reported major incident {accepted.incident_id}; linked {len(incident_ids)} incidents"
    )


@app.command("dismiss")
def dismiss(
    incident_ids: Annotated[list[UUID], typer.Argument(help="the incidents suggested together")],
    reason: Annotated[str, typer.Option(help="why they are not a pattern")],
    by: By,
    organisation: Organisation = DEPARTMENT,
    role: RoleOption = Role.DEPARTMENT_OFFICER,
) -> None:
    """Dismiss a possible pattern, with the reason; it does not return for these incidents."""
    stamp = Stamp(actor=_actor(by, role, organisation), now=datetime.now(UTC))
    with closing(open_ledger()) as ledger:
        try:
            dismissal_id, _ = patterns.dismiss(
                ledger, stamp=stamp, incident_ids=incident_ids, reason=reason
            )
        except DomainError as error:
            raise _refused(error) from None
    console.print(f"dismissed ({dismissal_id}); recorded on {len(incident_ids)} incidents")
