"""`cims replay`: an auditor's history, state as of, diff, verification and export.

Every command reads the event store alone. Incidents are named by id or by its first 8
characters; versions and instants are checked here, so a mistake is one line naming the flag or
argument (`--at`, `--version`, `A`, `B`), never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich import box
from rich.table import Column, Table

from cli.access import log_read
from cli.incidents import resolve
from cli.output import (
    AsJson,
    BadParameter,
    CliError,
    literal,
    melbourne_iso,
    note,
    out,
    print_json,
    progress,
)
from cli.settings import checkpoint_key, database_url, open_ledger, settings, store
from domain.errors import PolicyViolation
from domain.rules.times import require_displayable
from projections.db import Db
from replay.auditor import Auditor
from replay.checkpoint import Checkpoint, load_signed, sign
from replay.witness import UnsafeTarget, witness_from

app = typer.Typer(help="Auditor replay from the event store alone.", no_args_is_help=True)

INCIDENT = typer.Argument(help="incident id, or its first 8 characters")
EXAMPLE = "2025-03-04T12:00+11:00"


@contextmanager
def auditor() -> Iterator[Auditor]:
    """An auditor over the configured store (said on stderr), closed when the command is done."""
    url = store()
    ledger = open_ledger(url)
    try:
        db = Db(url)
        try:
            yield Auditor(ledger, db)
        finally:
            db.close()
    finally:
        ledger.close()


def instant(flag: str, text: str) -> datetime:
    """An instant given on the command line: ISO 8601 with an offset, not in the future."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadParameter(flag, f"{text!r} is not an instant; write e.g. {EXAMPLE}") from None
    if moment.tzinfo is None:
        # A wall-clock time compared with recorded UTC instants would silently be guessed at.
        raise BadParameter(flag, f"{text!r} needs an offset, e.g. {EXAMPLE}")
    try:
        require_displayable(moment, flag)  # 0001-01-01T00:00+14:00 has no UTC instant
    except PolicyViolation as refused:
        raise BadParameter(flag, f"{text} is out of range ({refused.message})") from None
    if moment > datetime.now(UTC):
        raise BadParameter(
            flag, f"{text} is in the future (time.as-of-in-future): the ledger cannot say yet"
        )
    return moment


def point(name: str, text: str, events: list[Any]) -> int | datetime:
    """A version number or an instant, checked against the incident's events."""
    if text.strip().isdigit():
        return version(name, int(text), events)
    return reported_by(name, text, events)


def reported_by(name: str, text: str, events: list[Any]) -> datetime:
    """An instant at or after the incident was reported."""
    moment = instant(name, text)
    if moment < events[0].timestamp:
        first = events[0].timestamp.isoformat(timespec="seconds")
        raise BadParameter(name, f"the incident was not yet reported at {text} (reported {first})")
    return moment


def version(name: str, number: int, events: list[Any]) -> int:
    if not 1 <= number <= len(events):
        raise BadParameter(name, f"the incident has versions 1 to {len(events)}, not {number}")
    return number


@app.command()
def history(
    incident: Annotated[str, INCIDENT],
    as_json: AsJson = False,
) -> None:
    """Every event of the incident, oldest first: who, when, what and why (shown literally)."""
    with auditor() as reader:
        incident_id = resolve(reader.ledger, incident)
        found = reader.history(incident_id)
        chain = reader.verify(incident_id)
    log_read(database_url(), incident_id, "history")
    if as_json:
        print_json(found.model_dump(mode="json"))
        return
    if not chain.ok:
        out.print(
            literal(
                f"WARNING: the stored record is not intact (hash chain broken at version"
                f" {chain.first_broken_version}: {chain.problem}); shown as stored, not as fact"
            ),
            style="bold red",
        )
    if out.width < WIDE:
        _history_cards(found.events)
        return
    table = Table(
        Column("pos", no_wrap=True, justify="right"),
        Column("v", no_wrap=True, justify="right"),
        Column("recorded (Melbourne)", no_wrap=True),
        Column("who", ratio=2),
        Column("what", ratio=3),
        Column("reason", ratio=2),
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    for e in found.events:
        table.add_row(
            literal(e.position),
            literal(e.version),
            literal(melbourne_iso(e.recorded_at, seconds=True)),
            literal(f"{e.actor_id} ({e.actor_role})"),
            literal(e.summary + _happened(e.effective_at, e.recorded_late)),
            literal(e.reason or ""),
        )
    out.print(table)


# Narrower than this, a history is shown one event to a block rather than as a table, whose
# six columns would wrap every cell into a tall, narrow column.
WIDE = 120


def _history_cards(events: Sequence[Any]) -> None:
    """Each event as a short block: position, version and when; who; what; why."""
    for e in events:
        out.print(
            literal(
                f"#{e.position}  v{e.version}  {melbourne_iso(e.recorded_at, seconds=True)}"
                " (Melbourne)"
            ),
            style="bold",
        )
        out.print(literal(f"  who:  {e.actor_id} ({e.actor_role})"))
        out.print(literal(f"  what: {e.summary}{_happened(e.effective_at, e.recorded_late)}"))
        if e.reason:
            out.print(literal(f"  why:  {e.reason}"))
        out.print()


def _happened(effective_at: datetime | None, late: bool) -> str:
    """When a step happened in the world, where that differs from when it was recorded, and
    whether it was recorded late (backdating shows here as in every other view)."""
    if effective_at is None:
        return ""
    flag = "; RECORDED LATE" if late else ""
    return f" (happened {melbourne_iso(effective_at, seconds=True)}{flag})"


@app.command("as-of")
def as_of(
    incident: Annotated[str, INCIDENT],
    at: Annotated[str | None, typer.Option(help=f"an instant with offset, e.g. {EXAMPLE}")] = None,
    version_: Annotated[
        int | None, typer.Option("--version", help="a version (1 = the report)")
    ] = None,
) -> None:
    """The incident and its deadlines as they stood then (JSON on stdout)."""
    if (at is None) == (version_ is None):
        raise BadParameter("--at/--version", "give exactly one of --at or --version")
    with auditor() as reader:
        incident_id = resolve(reader.ledger, incident)
        events = reader.ledger.incident_events(incident_id)
        if version_ is not None:
            found = reader.state_as_of(incident_id, version=version("--version", version_, events))
        else:
            assert at is not None
            found = reader.state_as_of(incident_id, at=reported_by("--at", at, events))
    log_read(database_url(), incident_id, "as-of")
    print_json(found.model_dump(mode="json"))


@app.command()
def diff(
    incident: Annotated[str, INCIDENT],
    a: Annotated[str, typer.Argument(help=f"a version, or an instant with offset ({EXAMPLE})")],
    b: Annotated[str, typer.Argument(help="a later version or instant")],
    as_json: AsJson = False,
) -> None:
    """What changed between A and B, field by field (versions, or instants with offset)."""
    with auditor() as reader:
        incident_id = resolve(reader.ledger, incident)
        events = reader.ledger.incident_events(incident_id)
        found = reader.diff(incident_id, point("A", a, events), point("B", b, events))
    log_read(database_url(), incident_id, "diff")
    if as_json:
        print_json(found.model_dump(mode="json"))
        return
    table = Table(
        Column("field", no_wrap=True),
        f"v{found.from_version}",
        f"v{found.to_version}",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    for c in found.changes:
        table.add_row(
            literal(c.field),
            _value(c.before, c.change == "added"),
            _value(c.after, c.change == "removed"),
        )
    out.print(table)
    if not found.changes:
        note(f"no field differs between version {found.from_version} and {found.to_version}")


def _value(value: Any, absent: bool) -> Any:
    return literal("—" if absent else json.dumps(value, default=str, ensure_ascii=False))


@app.command()
def verify(
    incident: Annotated[str | None, INCIDENT] = None,
    all_: Annotated[bool, typer.Option("--all", help="every incident and checkpoint")] = False,
    kept: Annotated[
        list[Path] | None,
        typer.Option("--checkpoint", help="a signed checkpoint kept elsewhere (repeatable)"),
    ] = None,
) -> None:
    """Recompute hash chains (JSON on stdout, progress on stderr); exit 1 on any break."""
    if (incident is None) == (not all_):
        raise BadParameter("INCIDENT/--all", "give an incident id or --all (not both)")
    if kept and not all_:
        raise BadParameter("--checkpoint", "checkpoints are checked with --all")
    if incident is not None:
        with auditor() as reader:
            result = reader.verify(resolve(reader.ledger, incident))
        print_json(result.model_dump(mode="json"))
        if not result.ok:
            raise typer.Exit(1)
        return
    elsewhere = [_signed_checkpoint(p) for p in kept or []]
    with auditor() as reader:
        total = reader.rows.count()
        with progress("verifying", "events") as bar:
            task = bar.add_task("verify", total=total)
            everything = reader.verify_all(lambda n: bar.update(task, completed=n), elsewhere)
            bar.update(task, completed=everything.events_checked)
    print_json(everything.model_dump(mode="json"))
    if not everything.ok:
        raise typer.Exit(1)


def _signed_checkpoint(path: Path) -> Checkpoint:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise BadParameter("--checkpoint", f"cannot read {path}: {exc.strerror}") from None
    except ValueError:
        raise BadParameter("--checkpoint", f"{path} is not JSON (a signed checkpoint)") from None
    try:
        if not isinstance(data, dict):
            raise ValueError("not a signed checkpoint")
        return load_signed(data, checkpoint_key())
    except ValidationError:
        raise BadParameter("--checkpoint", f"{path} is not a signed checkpoint") from None
    except ValueError as exc:
        raise BadParameter("--checkpoint", f"{path}: {exc}") from None


@app.command()
def export(
    incident: Annotated[str, INCIDENT],
    output: Annotated[Path, typer.Option("-o", "--output", help="zip to write")],
    hashes_only: Annotated[
        bool,
        typer.Option("--hashes-only", help="the documents' hashes, not their bytes"),
    ] = False,
) -> None:
    """Write an audit bundle (with the documents' bytes unless --hashes-only); check it with
    `python -m replay.bundle_check FILE`."""
    with auditor() as reader:
        incident_id = resolve(reader.ledger, incident)
        bundle = reader.export(incident_id, document_bytes=not hashes_only)
    log_read(database_url(), incident_id, "export")
    _write("--output", output, bundle)
    note(f"wrote {output}: the audit bundle of incident {incident_id}")


@app.command()
def checkpoint(
    export: Annotated[Path | None, typer.Option(help="also write it, signed, to this file")] = None,
) -> None:
    """Record the running digest of the whole log; keep a signed copy outside the database."""
    key = checkpoint_key()  # refused before anything is read or written
    config = settings()
    try:
        witness = witness_from(key, config.checkpoint_witness_file, config.checkpoint_witness_url)
    except UnsafeTarget as exc:
        raise CliError(f"CIMS_CHECKPOINT_WITNESS_URL: {exc}", exit_code=2) from None
    with auditor() as reader:
        try:
            signed = sign(reader.checkpoint(witness), key)
        except ValueError as exc:  # the log up to a recorded checkpoint has changed
            raise CliError(str(exc)) from None
    if export is not None:
        _write("--export", export, json.dumps(signed, indent=2).encode())
    print_json(signed)


def _write(flag: str, path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise BadParameter(flag, f"cannot write {path}: {exc.strerror}") from None
