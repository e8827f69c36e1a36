"""`cims documents`: add a document to an incident's record, list them, get one back.

The command line works on the store directly (as `cims import resolve` does): the person adding
a document names themselves (`--by`, `--organisation`, `--role`), the file is streamed into the
same spool and through the same checks as an upload over HTTP (size and types from
`CIMS_DOCUMENT_MAX_BYTES` and `CIMS_DOCUMENT_TYPES`, the type sniffed from the bytes), and a
refusal is one line naming its rule. `get` writes the bytes as stored, checking their SHA-256
against the event's on the way, and refuses to leave a file whose bytes do not match.
"""

from __future__ import annotations

import hashlib
import os
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from rich import box
from rich.table import Table

from cli.incidents import resolve
from cli.output import AsJson, BadParameter, CliError, literal, melbourne, note, out, print_json
from cli.settings import open_ledger, settings
from domain.errors import DomainError, PolicyViolation
from domain.incident import Incident
from domain.values import Actor, DocumentKind, Role, Stamp
from ledger.application import Ledger
from ledger.documents import CHUNK_BYTES, Limits, Spool, allowed

app = typer.Typer(help="Documents on an incident's record.", no_args_is_help=True)
INCIDENT = typer.Argument(help="incident id, or its first 8 characters")


def _added(ledger: Ledger, incident_id: UUID) -> list[Incident.DocumentAdded]:
    return [e for e in ledger.incident_events(incident_id) if isinstance(e, Incident.DocumentAdded)]


def _superseded(ledger: Ledger, incident_id: UUID) -> dict[UUID, Incident.DocumentSuperseded]:
    return {
        e.document_id: e
        for e in ledger.incident_events(incident_id)
        if isinstance(e, Incident.DocumentSuperseded)
    }


def _document(ledger: Ledger, incident_id: UUID, text: str) -> Incident.DocumentAdded:
    """The document `text` names on this incident: its id or the first characters of it."""
    given = text.strip().lower().replace("-", "")
    found = [d for d in _added(ledger, incident_id) if d.document_id.hex.startswith(given)]
    if not given or not found:
        raise CliError(f"no document {text!r} on incident {incident_id}")
    if len(found) > 1:
        raise CliError(f"{text!r} starts {len(found)} document ids: give more characters")
    return found[0]


@app.command("add")
def add(
    incident: Annotated[str, INCIDENT],
    file: Annotated[Path, typer.Argument(help="the file to add")],
    kind: Annotated[DocumentKind, typer.Option(help="what the document is")],
    by: Annotated[str, typer.Option("--by", help="who adds it (their id)")],
    organisation: Annotated[str, typer.Option(help="their organisation")],
    role: Annotated[Role, typer.Option(help="their role")] = Role.INVESTIGATOR,
    supports_version: Annotated[
        int | None, typer.Option(help="the step (incident version) it supports", min=1)
    ] = None,
    supersedes: Annotated[
        str | None, typer.Option(help="a document this corrected copy replaces")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="why (required with --supersedes)")] = None,
) -> None:
    """Add FILE to the incident's record; its bytes and event are written together."""
    config = settings()
    limits = Limits(config.document_max_bytes, allowed(config.document_types.split(",")))
    try:
        source = file.open("rb")
    except OSError as exc:
        raise BadParameter("FILE", f"cannot read {file}: {exc.strerror}") from None
    actor = Actor(id=by, role=role, organisation=organisation)
    with (
        closing(open_ledger()) as ledger,
        source,
        Spool(limits, config.document_spool_dir) as spool,
    ):
        incident_id = resolve(ledger, incident)
        replaced = _document(ledger, incident_id, supersedes).document_id if supersedes else None
        while piece := source.read(CHUNK_BYTES):
            spool.write(piece)
        upload = spool.finish(file.name)
        current = ledger.incident(incident_id)
        try:
            accepted = ledger.add_document(
                incident_id,
                upload,
                kind,
                expected_version=current.version,
                stamp=Stamp(actor=actor, now=datetime.now(UTC)),
                supports_version=supports_version,
                supersedes=replaced,
                reason=reason,
            )
        except PolicyViolation:
            raise  # one line naming the rule (cli.group)
        except DomainError as error:
            raise CliError(str(error)) from None
    event = accepted.event
    added = event.document_id if isinstance(event, Incident.DocumentAdded) else replaced_by(event)
    note(
        f"added {upload.file_name} ({upload.media_type}, {upload.size:,} bytes) to incident"
        f" {incident_id} v{accepted.version}"
    )
    print(added)


def replaced_by(event: Incident.Event) -> UUID | None:
    return getattr(event, "superseded_by", None)


@app.command("list")
def list_(incident: Annotated[str, INCIDENT], as_json: AsJson = False) -> None:
    """The documents on the incident's record, oldest first."""
    with closing(open_ledger()) as ledger:
        incident_id = resolve(ledger, incident)
        added = _added(ledger, incident_id)
        gone = _superseded(ledger, incident_id)
    if as_json:
        print_json(
            [
                {
                    **d.model_dump(mode="json", include=_SHOWN),
                    "version": d.originator_version,
                    "superseded": d.document_id in gone,
                    "superseded_reason": gone[d.document_id].reason
                    if d.document_id in gone
                    else None,
                }
                for d in added
            ]
        )
        return
    table = Table("document", "kind", "file", "type", "bytes", "added", "", box=box.SIMPLE)
    for d in added:
        table.add_row(
            literal(str(d.document_id)),
            literal(d.kind.value.replace("_", " ")),
            literal(d.file_name),
            literal(d.media_type),
            f"{d.size:,}",
            literal(f"{melbourne(d.timestamp)} by {d.actor.id}"),
            literal("superseded" if d.document_id in gone else ""),
        )
    out.print(table)


_SHOWN = {"document_id", "kind", "file_name", "media_type", "size", "sha256", "supports_version"}


@app.command("get")
def get(
    incident: Annotated[str, INCIDENT],
    document: Annotated[str, typer.Argument(help="document id, or its first characters")],
    output: Annotated[Path, typer.Option("-o", "--output", help="file to write")],
) -> None:
    """Write the document's bytes to OUTPUT, checked against the SHA-256 in its event."""
    with closing(open_ledger()) as ledger:
        incident_id = resolve(ledger, incident)
        found = _document(ledger, incident_id, document)
        partial = output.with_name(output.name + ".part")
        digest, size = hashlib.sha256(), 0
        try:
            with partial.open("wb") as sink:
                for piece in ledger.document_bytes(found.sha256):
                    digest.update(piece)
                    size += len(piece)
                    sink.write(piece)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise BadParameter("--output", f"cannot write {output}: {exc.strerror}") from None
    if (digest.hexdigest(), size) != (found.sha256, found.size):
        partial.unlink(missing_ok=True)
        raise CliError(
            f"the stored bytes of document {found.document_id} do not match its event's SHA-256:"
            " run `cims replay verify --all`"
        )
    os.replace(partial, output)
    note(f"wrote {output}: {found.file_name}, {size:,} bytes, SHA-256 {found.sha256}")
