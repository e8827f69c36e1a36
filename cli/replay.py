"""`cims replay`: an auditor's history, state as of, diff, verification and export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from cli.settings import checkpoint_key, database_url, open_ledger
from domain.errors import IncidentNotFound, PolicyViolation
from projections.db import Db
from replay.auditor import Auditor
from replay.checkpoint import load_signed, sign

app = typer.Typer(help="Auditor replay from the event store alone.", no_args_is_help=True)
console = Console()


@contextmanager
def auditor() -> Iterator[Auditor]:
    """An auditor, its store connections closed when the command is done with it."""
    ledger, db = open_ledger(), Db(database_url())
    try:
        yield Auditor(ledger, db)
    finally:
        db.close()
        ledger.close()


def _print_json(value: Any) -> None:
    console.print_json(json.dumps(value, default=str))


def _point(value: str) -> int | datetime:
    return int(value) if value.isdigit() else datetime.fromisoformat(value)


@app.command()
def history(incident_id: UUID) -> None:
    """Every event of the incident, oldest first."""
    try:
        with auditor() as reader:
            found = reader.history(incident_id)
    except IncidentNotFound:
        console.print(f"[red]no incident {incident_id}[/red]")
        raise typer.Exit(1) from None
    table = Table("pos", "v", "recorded at (UTC)", "who", "what", "reason")
    for e in found.events:
        table.add_row(
            str(e.position),
            str(e.version),
            e.recorded_at.strftime("%Y-%m-%d %H:%M"),
            f"{e.actor_id} ({e.actor_role}, {e.actor_organisation})",
            e.summary,
            e.reason or "",
        )
    console.print(table)


@app.command("as-of")
def as_of(
    incident_id: UUID,
    at: Annotated[str | None, typer.Option(help="an instant with offset")] = None,
    version: Annotated[int | None, typer.Option(help="a version")] = None,
) -> None:
    """The incident and its deadlines as they stood then."""
    try:
        moment = datetime.fromisoformat(at) if at else None
        with auditor() as reader:
            found = reader.state_as_of(incident_id, at=moment, version=version)
    except PolicyViolation as exc:
        console.print(f"[red]{exc.rule_id}[/red]: {escape(exc.message)}", highlight=False)
        raise typer.Exit(2) from None
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    _print_json(found.model_dump(mode="json"))


@app.command()
def diff(incident_id: UUID, a: str, b: str) -> None:
    """What changed between A and B (versions, or instants with offset)."""
    try:
        with auditor() as reader:
            found = reader.diff(incident_id, _point(a), _point(b))
    except PolicyViolation as exc:
        console.print(f"[red]{exc.rule_id}[/red]: {escape(exc.message)}", highlight=False)
        raise typer.Exit(2) from None
    table = Table("field", f"v{found.from_version}", f"v{found.to_version}")
    for c in found.changes:
        table.add_row(c.field, json.dumps(c.before, default=str), json.dumps(c.after, default=str))
    console.print(table)


@app.command()
def verify(
    incident_id: Annotated[UUID | None, typer.Argument()] = None,
    all_: Annotated[bool, typer.Option("--all", help="every incident and checkpoint")] = False,
    kept: Annotated[
        list[Path] | None, typer.Option("--checkpoint", help="a signed checkpoint kept elsewhere")
    ] = None,
) -> None:
    """Recompute hash chains; exit 1 on any break."""
    if incident_id is None and not all_:
        console.print("[red]give an incident id or --all[/red]")
        raise typer.Exit(2)
    if incident_id is not None:
        with auditor() as reader:
            result = reader.verify(incident_id)
        _print_json(result.model_dump(mode="json"))
        if not result.ok:
            raise typer.Exit(1)
        return
    with Progress(
        SpinnerColumn(), TextColumn("{task.completed} events checked"), console=console
    ) as progress:
        task = progress.add_task("verify", total=None)
        elsewhere = [load_signed(json.loads(p.read_text()), checkpoint_key()) for p in kept or []]
        with auditor() as reader:
            everything = reader.verify_all(lambda n: progress.update(task, completed=n), elsewhere)
    _print_json(everything.model_dump(mode="json"))
    if not everything.ok:
        raise typer.Exit(1)


@app.command()
def export(
    incident_id: UUID, output: Annotated[Path, typer.Option("-o", "--output", help="zip to write")]
) -> None:
    """Write an audit bundle; check it with `python -m replay.bundle_check FILE`."""
    with auditor() as reader:
        output.write_bytes(reader.export(incident_id))
    console.print(f"wrote {output}")


@app.command()
def checkpoint(
    export: Annotated[Path | None, typer.Option(help="also write it, signed, to this file")] = None,
) -> None:
    """Record the running digest of the whole log; keep a signed copy outside the database."""
    key = checkpoint_key()  # refused before anything is read or written
    with auditor() as reader:
        signed = sign(reader.checkpoint(), key)
    if export is not None:
        export.write_text(json.dumps(signed, indent=2))
    _print_json(signed)
