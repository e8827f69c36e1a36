"""`cims import`: bring the 2018 system's records in, list and resolve their split types."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from cli.incidents import resolve as resolve_incident
from cli.incidents import short_ids
from cli.output import AsJson, CliError, actor, literal, note, print_json
from cli.projections import open_read_models
from cli.settings import database_url, open_ledger, store
from cli.store import sqlite_path
from domain.errors import DomainError, PolicyViolation
from domain.legacy_records import HeaderRefused, RowRefused, legacy_csv
from domain.values import IncidentType, Role, Stamp
from ledger import spreadsheet
from ledger.legacy_import import Outcome, RowResult, Summary, import_rows
from ledger.persistence import is_postgres

app = typer.Typer(help="Bring the old system's records in.", no_args_is_help=True)
# Stored text (legacy ids, labels, organisations) is printed as typed: no markup is interpreted.
console = Console(markup=False, highlight=False, emoji=False)
progress_console = Console(stderr=True)
DEPARTMENT = "Department of Families, Fairness and Housing"
By = Annotated[str, typer.Option("--by", help="who runs it (a department officer's id)")]
Organisation = Annotated[str, typer.Option(help="the department officer's organisation")]


@app.command("legacy")
def legacy(
    file: Annotated[Path, typer.Argument(help="the CSV export", exists=True, dir_okay=False)],
    by: By,
    organisation: Organisation = DEPARTMENT,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="decide every row, write none")
    ] = False,
    refused: Annotated[
        Path | None, typer.Option(help="where to write refused rows (default FILE.refused.csv)")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Import a CSV export of the 2018 system (README: "Importing the old system's records").

    Each row becomes an incident whose first event says it was imported; re-running the same
    file changes nothing; a changed row is reported, never overwritten; a bad row is refused
    with its line and reason while the rest imports. Ends with a summary; refused rows go to a
    CSV with a `reason` column. With --dry-run nothing is written at all, that file neither:
    the refused rows are listed with their reasons instead. The file is UTF-8, with or without
    a byte order mark. Exit 1, in one line, if it is not, or if the header lacks a required
    column.
    """
    by_whom = actor(by, Role.DEPARTMENT_OFFICER, organisation)
    require_utf8(file)
    with file.open(newline="", encoding="utf-8") as f:
        header, rows = _legacy_csv(file, f)
        total = sum(1 for _ in rows)
    refused_path = refused or file.with_suffix(".refused.csv")
    summary = Summary()
    unresolved: list[RowResult] = []
    changed: list[RowResult] = []
    refusals: list[RowResult] = []
    # A dry run writes no file: its refused rows are only listed.
    sink = (
        nullcontext(io.StringIO())
        if dry_run
        else refused_path.open("w", newline="", encoding="utf-8")
    )
    with (
        file.open(newline="", encoding="utf-8") as f,
        sink as out,
        closing(open_ledger(_dry_run_store() if dry_run else None)) as ledger,
        Progress(
            TextColumn("dry run" if dry_run else "importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=progress_console,
        ) as bar,
    ):
        header, rows = _legacy_csv(file, f)
        writer = spreadsheet.DictWriter(out, fieldnames=["line", *header, "reason"])
        writer.writeheader()
        task = bar.add_task("rows", total=total)
        for result in import_rows(
            ledger, rows, actor=by_whom, now=datetime.now(UTC), dry_run=dry_run
        ):
            summary.count(result)
            bar.advance(task)
            if result.outcome == Outcome.REFUSED:
                row = {k: v for k, v in result.row.items() if k is not None}
                writer.writerow({"line": result.line, **row, "reason": result.reason})
                refusals.append(result)
            elif result.outcome == Outcome.CHANGED:
                changed.append(result)
            if result.outcome == Outcome.IMPORTED and result.unresolved and len(unresolved) < 50:
                unresolved.append(result)
    # A dry run's incidents are not in the store (which it may not even have created).
    shorts = (
        {r.incident_id: r.incident_id.hex[:8] for r in unresolved if r.incident_id}
        if dry_run
        else _short_ids(r.incident_id for r in unresolved)
    )
    if as_json:
        print_json(
            {
                "dry_run": dry_run,
                "counts": summary.as_dict(),
                "refused_file": None if dry_run or not summary.refused else str(refused_path),
                "refused": [
                    {"line": r.line, "legacy_id": r.legacy_id, "reason": r.reason} for r in refusals
                ],
                "changed": [
                    {"line": r.line, "legacy_id": r.legacy_id, "incident_id": r.incident_id}
                    for r in changed
                ],
                "unresolved": [
                    {
                        "line": r.line,
                        "legacy_id": r.legacy_id,
                        "incident_id": r.incident_id,
                        "unresolved": list(r.unresolved),
                    }
                    for r in unresolved
                ],
            }
        )
        return
    _report(summary, unresolved, changed, refused_path, dry_run, refusals, shorts)


def _dry_run_store() -> str:
    """The store a dry run decides against: the configured one, never created; where no
    embedded store exists yet, an empty one in memory (so a dry run writes no file at all)."""
    url = database_url()
    path = None if is_postgres(url) else sqlite_path(url)
    if path is not None and not path.exists():
        note(f"store: none yet at {path}: the rows are decided as for an empty store")
        return "sqlite:///:memory:"
    return store()


def _short_ids(ids: Iterable[UUID | None]) -> dict[UUID, str]:
    """Each id as `cims incidents list` shows it (and `cims import resolve` takes it)."""
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    with closing(open_ledger()) as ledger:
        return short_ids(wanted, list(ledger.incident_ids()))


def require_utf8(file: Path) -> None:
    """`CliError` (one line) unless the file is UTF-8 text, with or without a byte order mark:
    it names the first line that is not, and the encoding expected."""
    with file.open("rb") as f:
        for line, raw in enumerate(f, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise CliError(
                    f"{file}: line {line} is not UTF-8 (byte 0x{raw[exc.start]:02X}); save the"
                    " export as UTF-8 (with or without a byte order mark) and import it again"
                ) from None


def _legacy_csv(
    file: Path, lines: Iterable[str]
) -> tuple[list[str], Iterator[tuple[int, Mapping[str, str] | RowRefused]]]:
    try:
        return legacy_csv(lines)
    except HeaderRefused as refused:
        raise CliError(f"{file}: {refused.reason}") from None


def _report(
    summary: Summary,
    unresolved: list[RowResult],
    changed: list[RowResult],
    refused_path: Path,
    dry_run: bool,
    refusals: list[RowResult],
    shorts: dict[UUID, str],
) -> None:
    table = Table("imported", "unchanged", "changed", "unresolved", "refused")
    counts = summary.as_dict()
    table.add_row(
        *(str(counts[k]) for k in ("imported", "unchanged", "changed", "unresolved", "refused"))
    )
    console.print(table)
    if dry_run:
        console.print("dry run: nothing was written, to the ledger or to a file")
    for r in changed[:50]:
        console.print(
            literal(
                f"line {r.line} {r.legacy_id}: changed since it was imported"
                f" (incident {r.incident_id}); the ledger keeps what it has"
            )
        )
    if unresolved:
        listed = Table(
            Column("line", no_wrap=True, justify="right"),
            Column("legacy id", no_wrap=True),
            Column("incident", no_wrap=True),
            Column("unresolved types", overflow="fold"),
            title="to resolve",
            box=box.SIMPLE_HEAD,
        )
        for r in unresolved:
            short = shorts.get(r.incident_id, str(r.incident_id)) if r.incident_id else ""
            types = literal(", ".join(r.unresolved))
            listed.add_row(str(r.line), literal(r.legacy_id), short, types)
        console.print(listed)
        console.print("resolve each with:")
        console.print("  cims import resolve INCIDENT --label L --type T --reason R --by ID")
    if summary.refused and dry_run:
        console.print(f"{summary.refused} row(s) would be refused:")
        for r in refusals[:50]:
            console.print(literal(f"  line {r.line} {r.legacy_id}: {r.reason}"))
    elif summary.refused:
        console.print(f"{summary.refused} refused row(s), with reasons: {refused_path}")


@app.command("unresolved")
def list_unresolved(as_json: AsJson = False) -> None:
    """Imported records whose split legacy types wait for a person's choice."""
    models = open_read_models()
    try:
        models.catch_up()
        items = models.unresolved_legacy_types(organisations=None, limit=500)
    finally:
        models.close()
    if as_json:
        print_json({"items": items})
        return
    shorts = _short_ids(UUID(str(i["id"])) for i in items)
    table = Table(
        Column("incident", no_wrap=True),
        Column("legacy id", no_wrap=True),
        Column("organisation", overflow="fold"),
        Column("unresolved", overflow="fold"),
        Column("v", no_wrap=True, justify="right"),
        box=box.SIMPLE_HEAD,
    )
    for i in items:
        table.add_row(
            shorts[UUID(str(i["id"]))],
            literal(i["legacy_id"]),
            literal(i["organisation"]),
            literal(", ".join(i["unresolved_legacy_types"])),
            str(i["version"]),
        )
    console.print(table)


@app.command("resolve")
def resolve(
    incident: Annotated[
        str, typer.Argument(help="the imported incident: its id, or its first 8 characters")
    ],
    label: Annotated[str, typer.Option(help="the split legacy type, e.g. Injury")],
    incident_type: Annotated[IncidentType, typer.Option("--type", help="the current type chosen")],
    reason: Annotated[str, typer.Option(help="why this type")],
    by: By,
    organisation: Organisation = DEPARTMENT,
    role: Annotated[Role, typer.Option(help="the person's role")] = Role.DEPARTMENT_OFFICER,
) -> None:
    """Resolve a split legacy type to one current type; the choice is recorded as an event."""
    by_whom = actor(by, role, organisation)
    with closing(open_ledger()) as ledger:
        incident_id = resolve_incident(ledger, incident)
        try:
            current = ledger.incident(incident_id)
            accepted = ledger.execute(
                incident_id,
                "resolve_legacy_type",
                expected_version=current.version,
                stamp=Stamp(actor=by_whom, now=datetime.now(UTC)),
                legacy_label=label,
                incident_type=incident_type,
                reason=reason,
            )
        except PolicyViolation as refused:
            raise CliError(f"refused ({refused.rule_id}): {refused.message}") from None
        except DomainError as error:
            raise CliError(str(error)) from None
    console.print(
        f"{label} resolved as {incident_type.value}: incident {incident_id} v{accepted.version}"
    )
