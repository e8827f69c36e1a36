"""`cims import`: bring the 2018 system's records in, list and resolve their split types."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from cli.incidents import resolve as resolve_incident
from cli.output import CliError, actor, literal
from cli.projections import open_read_models
from cli.settings import open_ledger
from domain.errors import DomainError, PolicyViolation
from domain.legacy_records import HeaderRefused, RowRefused, legacy_csv
from domain.values import IncidentType, Role, Stamp
from ledger import spreadsheet
from ledger.legacy_import import Outcome, RowResult, Summary, import_rows

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
) -> None:
    """Import a CSV export of the 2018 system (README: "Importing the old system's records").

    Each row becomes an incident whose first event says it was imported; re-running the same
    file changes nothing; a changed row is reported, never overwritten; a bad row is refused
    with its line and reason while the rest imports. Ends with a summary; refused rows go to a
    CSV with a `reason` column. The file is UTF-8, with or without a byte order mark. Exit 1,
    in one line, if it is not, or if the header lacks a required column.
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
    with (
        file.open(newline="", encoding="utf-8") as f,
        refused_path.open("w", newline="", encoding="utf-8") as out,
        closing(open_ledger()) as ledger,
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
            elif result.outcome == Outcome.CHANGED:
                changed.append(result)
            if result.outcome == Outcome.IMPORTED and result.unresolved and len(unresolved) < 50:
                unresolved.append(result)
    _report(summary, unresolved, changed, refused_path, dry_run)


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
) -> None:
    table = Table("imported", "unchanged", "changed", "unresolved", "refused")
    counts = summary.as_dict()
    table.add_row(
        *(str(counts[k]) for k in ("imported", "unchanged", "changed", "unresolved", "refused"))
    )
    console.print(table)
    if dry_run:
        console.print("dry run: nothing was written to the ledger")
    for r in changed[:50]:
        console.print(
            literal(
                f"line {r.line} {r.legacy_id}: changed since it was imported"
                f" (incident {r.incident_id}); the ledger keeps what it has"
            )
        )
    if unresolved:
        listed = Table("line", "legacy id", "unresolved types", title="to resolve")
        listed.columns.insert(2, Column("incident", no_wrap=True, min_width=36))
        for r in unresolved:
            types = literal(", ".join(r.unresolved))
            listed.add_row(str(r.line), literal(r.legacy_id), str(r.incident_id), types)
        console.print(listed)
        console.print(
            "resolve each with: cims import resolve INCIDENT --label L --type T --reason R --by ID"
        )
    if summary.refused:
        console.print(f"{summary.refused} refused row(s), with reasons: {refused_path}")


@app.command("unresolved")
def list_unresolved() -> None:
    """Imported records whose split legacy types wait for a person's choice."""
    models = open_read_models()
    try:
        models.catch_up()
        items = models.unresolved_legacy_types(organisations=None, limit=500)
    finally:
        models.close()
    table = Table("legacy id", "organisation", "unresolved", "version")
    table.columns.insert(0, Column("incident", no_wrap=True, min_width=36))
    for i in items:
        table.add_row(
            i["id"],
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
