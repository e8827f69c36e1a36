"""export: one zip an auditor can check offline — events, states, deadlines, fairness, sums, and
the documents on the record (their bytes under `documents/<sha256>`, or, asked for, only their
hashes, which the events carry anyway), listed in `documents.json`."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.errors import IncidentNotFound
from domain.incident import Incident
from domain.obligations import obligations
from domain.procedural_fairness import procedural_fairness
from domain.views import incident_state
from ledger.application import fold
from replay import bundle_check
from replay.store import EventRows
from replay.verify import verify

# What a bundle holds, entry by entry (`/openapi.json` describes the export with this, and a
# test holds it to the entries of a real bundle). `NNNN`: a version, four digits.
ENTRIES: dict[str, str] = {
    "events.ndjson": "Every stored event of the incident, one JSON object a line: its log"
    " `position`, its `topic` and its `state` as stored (the hash chain included).",
    "states/vNNNN.json": "The incident's state as each version left it (`v0001.json` the report).",
    "obligations.json": "At each version (`version`, `as_of`): the obligations as they stood.",
    "procedural_fairness.json": "The procedural-fairness checklist as of the last event.",
    "verification.json": "The ledger's own check of the hash chain: `ok`, `events_checked`, and"
    " the first broken version and problem if any.",
    "bundle_check.py": "A checker needing only Python's standard library: `python3"
    " bundle_check.py incident.zip` checks the manifest and recomputes every event's hash.",
    "MANIFEST.sha256": "The SHA-256 of every other entry, as `sha256sum -c` reads it.",
}


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, sort_keys=True, default=str).encode()


def export(rows: EventRows, incident_id: UUID, *, document_bytes: bool = True) -> bytes:
    """The audit bundle of one incident (a zip, in memory). With `document_bytes` false, the
    documents are listed with their hashes but their bytes are left out."""
    stored = rows.of_incident(incident_id)
    if not stored:
        raise IncidentNotFound(incident_id)
    events = [rows.event(row) for row in stored]
    files: dict[str, bytes] = {
        "events.ndjson": b"".join(
            json.dumps(
                {"position": row.position, "topic": row.topic, "state": rows.decode(row)},
                sort_keys=True,
                ensure_ascii=False,
            ).encode()
            + b"\n"
            for row in stored
        ),
    }
    timeline = []
    for n in range(1, len(events) + 1):
        prefix = events[:n]
        incident = fold(prefix)
        assert incident is not None
        files[f"states/v{n:04d}.json"] = _json(incident_state(incident))
        timeline.append(
            {
                "version": n,
                "as_of": prefix[-1].timestamp.isoformat(),
                "obligations": [
                    o.model_dump(mode="json") for o in obligations(prefix, now=prefix[-1].timestamp)
                ],
            }
        )
    last = events[-1].timestamp
    files["obligations.json"] = _json(timeline)
    files["procedural_fairness.json"] = _json(
        [c.model_dump(mode="json") for c in procedural_fairness(events, now=last)]
    )
    files["verification.json"] = _json(verify(rows, incident_id).model_dump(mode="json"))
    files["bundle_check.py"] = Path(bundle_check.__file__).read_bytes()
    listed = []
    for e in events:
        if not isinstance(e, Incident.DocumentAdded):
            continue
        listed.append(
            {
                "document_id": str(e.document_id),
                "version": e.originator_version,
                "kind": e.kind.value,
                "file_name": e.file_name,
                "media_type": e.media_type,
                "size": e.size,
                "sha256": e.sha256,
                "bytes_included": document_bytes,
            }
        )
        if document_bytes:
            # The bytes as stored now: if they were altered, the bundle shows it offline.
            files[f"documents/{e.sha256}"] = b"".join(rows.ledger.document_bytes(e.sha256))
    if listed:
        files["documents.json"] = _json(listed)
    manifest = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in sorted(files.items()):
            bundle.writestr(name, data)
        bundle.writestr("MANIFEST.sha256", manifest)
    return buffer.getvalue()
