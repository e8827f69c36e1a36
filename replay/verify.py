"""Integrity verification: the hash chain, version continuity and log order of every event, and
the stored bytes of every document an event names (re-hashed against the event's SHA-256)."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from pydantic import BaseModel, ConfigDict

from domain.base import GENESIS_HASH, canonical_bytes, chain_hash
from domain.incident import Incident
from replay.checkpoint import Checkpoint, Checkpoints, fold_digest
from replay.store import EventRows, Row

DOCUMENT_TOPIC = get_topic(Incident.DocumentAdded)


class ChangedDocument(BaseModel):
    """A document whose stored bytes no longer hash to the SHA-256 its event recorded."""

    model_config = ConfigDict(frozen=True)

    incident_id: UUID
    document_id: UUID
    version: int
    file_name: str
    sha256: str
    problem: str


class Verification(BaseModel):
    model_config = ConfigDict(frozen=True)

    ok: bool
    incident_id: UUID
    events_checked: int
    first_broken_version: int | None = None
    problem: str | None = None
    documents_checked: int = 0
    changed_documents: list[ChangedDocument] = []


class LedgerVerification(BaseModel):
    model_config = ConfigDict(frozen=True)

    ok: bool
    incidents_checked: int
    events_checked: int
    checkpoints_checked: int
    broken: list[Verification]
    checkpoint_problem: str | None = None
    # The access log's own hash chain (who read which record): entries checked, first problem.
    access_log_entries_checked: int = 0
    access_log_problem: str | None = None
    documents_checked: int = 0
    changed_documents: list[ChangedDocument] = []


@dataclass
class _Chain:
    version: int = 0
    hash: str = GENESIS_HASH
    position: int = 0
    count: int = 0
    broken: Verification | None = None


@dataclass
class ChainChecker:
    """Checks events one at a time, in log order, keeping each incident's chain head.

    A row that passes every check is accepted on a fast path (the stored bytes parsed once, the
    hash recomputed from that parse); any row that fails one goes through `_problem`, the
    reference check, which names the problem. The fast path accepts a row only when each
    condition `_problem` tests holds, so the verdict and its wording are the reference's."""

    rows: EventRows
    chains: dict[UUID, _Chain] = field(default_factory=dict)
    # The documents the events name, in log order: checked against their bytes by `documents`.
    named: list[tuple[Row, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._loads = self.rows.plain_decoder()

    def feed(self, row: Row) -> None:
        if row.topic == DOCUMENT_TOPIC:
            # An undecodable row is the chain check's to name.
            with contextlib.suppress(Exception):
                self.named.append((row, self.rows.decode(row)))
        chain = self.chains.get(row.incident_id)
        if chain is None:
            chain = self.chains[row.incident_id] = _Chain()
        if chain.broken is not None:
            return
        chain.count += 1
        if self._accepted(row, chain):
            return
        problem = self._problem(row, chain)
        if problem is not None:
            chain.broken = Verification(
                ok=False,
                incident_id=row.incident_id,
                events_checked=chain.count,
                first_broken_version=row.version,
                problem=problem,
            )
            return

    def _accepted(self, row: Row, chain: _Chain) -> bool:
        """True, with the chain advanced, when the row passes every check of `_problem`."""
        loads = self._loads
        if loads is None or row.version != chain.version + 1 or row.position <= chain.position:
            return False
        try:
            state: Any = loads(row.state)
        except Exception:
            return False
        if type(state) is not dict:
            return False
        stored_hash = state.pop("hash", None)
        if (
            state.get("originator_version") != row.version
            or str(state.get("originator_id")) != row.incident_text
            or state.get("prev_hash") != chain.hash
            # `state` less its hash is exactly the body `chain_hash` hashes.
            or hashlib.sha256(canonical_bytes({"topic": row.topic, "event": state})).hexdigest()
            != stored_hash
        ):
            return False
        chain.version, chain.hash, chain.position = row.version, stored_hash, row.position
        return True

    def _problem(self, row: Row, chain: _Chain) -> str | None:
        if row.version != chain.version + 1:
            return f"version {row.version} follows version {chain.version}: events are missing"
        if row.position <= chain.position:
            return f"version {row.version} is out of log order (position {row.position})"
        try:
            state = self.rows.decode(row)
        except Exception as exc:  # an edited row may no longer decode at all
            return f"stored state does not decode: {exc}"
        if not isinstance(state, dict):  # valid JSON, but no event's: `[1, 2]`, `"x"`, `null`
            return "stored state does not decode: it is not a JSON object"
        if (
            state.get("originator_version") != row.version
            or str(state.get("originator_id")) != row.incident_text
        ):
            return "stored state belongs to a different event than its row"
        if state.get("prev_hash") != chain.hash:
            return "prev_hash does not link to the previous event"
        if chain_hash(row.topic, state) != state.get("hash"):
            return "hash does not match the stored event: it was altered"
        chain.version, chain.hash, chain.position = row.version, str(state["hash"]), row.position
        return None

    def documents(self) -> list[ChangedDocument]:
        """Each named document whose bytes, re-hashed as stored now, differ from its event's
        SHA-256 or size (each distinct hash read once)."""
        hashed: dict[str, tuple[str, int]] = {}
        changed = []
        for row, state in self.named:
            sha, size = str(state.get("sha256")), state.get("size")
            if sha not in hashed:
                hashed[sha] = self.rows.ledger.rehash_document(sha)
            found, found_size = hashed[sha]
            if (found, found_size) == (sha, size):
                continue
            problem = (
                "its bytes are missing from the store"
                if found_size == 0
                else f"its stored bytes ({found_size:,} bytes) hash to {found[:12]}…, the event"
                f" recorded {sha[:12]}… ({size:,} bytes): they were altered"
            )
            changed.append(
                ChangedDocument(
                    incident_id=row.incident_id,
                    document_id=state.get("document_id"),
                    version=row.version,
                    file_name=str(state.get("file_name")),
                    sha256=sha,
                    problem=problem,
                )
            )
        return changed

    def result(self, incident_id: UUID) -> Verification:
        chain = self.chains.get(incident_id)
        if chain is None:
            return Verification(
                ok=False,
                incident_id=incident_id,
                events_checked=0,
                problem="no events stored for this incident",
            )
        return chain.broken or Verification(
            ok=True, incident_id=incident_id, events_checked=chain.count
        )


def verify(rows: EventRows, incident_id: UUID) -> Verification:
    checker = ChainChecker(rows)
    for row in rows.of_incident(incident_id):
        checker.feed(row)
    chain = checker.result(incident_id)
    changed = checker.documents()
    return chain.model_copy(
        update={
            "ok": chain.ok and not changed,
            "documents_checked": len(checker.named),
            "changed_documents": changed,
        }
    )


class Integrity(BaseModel):
    """Whether what a read serves is what the store holds, unaltered (for every incident read)."""

    model_config = ConfigDict(frozen=True)

    chain: str  # "intact" or "broken"
    events_checked: int
    first_broken_version: int | None = None
    problem: str | None = None
    # The events a process kept from an earlier read differ from the stored ones now.
    served_differs: bool = False


def integrity(rows: EventRows, incident_id: UUID, served: Sequence[str] = ()) -> Integrity:
    """The stored chain of one incident checked (edits, gaps, order), and compared with the
    hashes of the events a read was about to serve (`served`, oldest first, e.g. from a
    process's kept history): a kept event whose stored row now differs is `served_differs`,
    and the read must serve the store's rows instead, flagged, never the kept ones silently.
    One query for the incident's rows; each parsed and hashed once."""
    checker = ChainChecker(rows)
    stored: list[str] = []
    for row in rows.of_incident(incident_id):
        checker.feed(row)
        chain = checker.chains[incident_id]
        stored.append(chain.hash if chain.broken is None else "")
    found = checker.result(incident_id)
    differs = any(a != b for a, b in zip(served, stored, strict=False)) or len(served) > len(stored)
    if found.ok and differs:
        version = next(
            (n for n, (a, b) in enumerate(zip(served, stored, strict=False), 1) if a != b),
            len(stored) + 1,
        )
        return Integrity(
            chain="broken",
            events_checked=found.events_checked,
            first_broken_version=version,
            problem=f"version {version} as stored differs from the same version read earlier:"
            " the stored events were rewritten",
            served_differs=True,
        )
    return Integrity(
        chain="intact" if found.ok else "broken",
        events_checked=found.events_checked,
        first_broken_version=found.first_broken_version,
        problem=found.problem,
        served_differs=differs,
    )


def verify_all(
    rows: EventRows,
    checkpoints: Checkpoints,
    progress: Callable[[int], None] | None = None,
    kept_elsewhere: Sequence[Checkpoint] = (),
) -> LedgerVerification:
    """Every incident's chain, and the running digest of the whole log against every
    checkpoint, so a deleted incident or a truncated log is found as well as an edit."""
    checker = ChainChecker(rows)
    # A checkpoint kept outside the database also catches deletion of the stored checkpoints.
    expected = {c.position: c for c in [*checkpoints.list(), *kept_elsewhere]}
    digest, count, checked, problem = hashlib.sha256(b"").hexdigest(), 0, 0, None
    positions = sorted(expected)
    for row in rows.all():
        while positions and positions[0] < row.position and problem is None:
            problem = _compare(expected[positions.pop(0)], digest, count)
            checked += 1
        checker.feed(row)
        digest = fold_digest(digest, row)
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(count)
    for position in positions:
        if problem is None:
            problem = _compare(expected[position], digest, count)
        checked += 1
    broken = [c.broken for c in checker.chains.values() if c.broken is not None]
    changed = checker.documents()
    return LedgerVerification(
        ok=not broken and problem is None and not changed,
        documents_checked=len(checker.named),
        changed_documents=changed,
        incidents_checked=len(checker.chains),
        events_checked=count,
        checkpoints_checked=checked,
        broken=broken,
        checkpoint_problem=problem,
    )


def _compare(checkpoint: Checkpoint, digest: str, count: int) -> str | None:
    if checkpoint.digest != digest or checkpoint.event_count != count:
        return (
            f"checkpoint at position {checkpoint.position} recorded {checkpoint.event_count}"
            f" events with digest {checkpoint.digest[:12]}…, the log now gives {count}"
            f" events and {digest[:12]}…: events were removed or altered"
        )
    return None
