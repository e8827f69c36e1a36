"""The ledger application: load an incident, run one command, save its event, never lose one."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Recording
from eventsourcing.utils import get_topic

from domain.errors import (
    DomainError,
    IdempotencyKeyReused,
    IncidentNotFound,
    UnknownCommand,
    VersionConflict,
)
from domain.incident import Incident
from domain.obligations import Obligation, obligations
from domain.policy_table import policy_at
from domain.rules.response import DuplicateTarget
from domain.rules.text import require_storable_texts
from domain.rules.times import require_honest_times
from domain.values import DetailsChange, DocumentKind, Stamp
from ledger.documents import Upload, rehash, stored_chunks
from ledger.group_commit import GroupCommit
from ledger.persistence import DEFAULT_DATABASE_URL, store_env
from ledger.receipts import CommandKey, Receipt

# The incident's lifecycle commands callable through `Ledger.execute`, by method name.
COMMANDS: frozenset[str] = frozenset(
    {
        "amend",
        "reclassify",
        "assess_scope",
        "withdraw",
        "record_client_voice",
        "record_notification",
        "record_guardian",
        "record_aboriginal_consultation",
        "record_department_review",
        "determine_follow_up",
        "appoint_investigator",
        "record_investigation_plan",
        "serve_allegations",
        "record_subject_response",
        "record_evidence",
        "record_sufficient_evidence_rationale",
        "record_outcome",
        "submit_investigation_report",
        "complete_incident_review",
        "endorse_rcs_investigation",
        "communicate_outcome",
        "request_outcome_review",
        "appoint_outcome_reviewer",
        "decide_outcome_review",
        "record_response_plan",
        "record_carer_support_plan",
        "extend",
        "action_recommendation",
        "close",
        "reopen",
        "correct",
        "change_responsible_organisation",
        "resolve_legacy_type",
        "supersede_document",
    }
)
# Commands that record document bytes beside their event: only through `Ledger.add_document`.
WITH_DOCUMENTS = frozenset({"add_document"})
# Commands whose rules read the incident's obligations, which only its events can tell.
NEEDS_OBLIGATIONS = frozenset({"close", "extend"})
REPORTED_TOPIC = get_topic(Incident.Reported)
_IDEMPOTENCY_NAMESPACE = uuid5(NAMESPACE_URL, "urn:cims-ledger:incident")


@dataclass(frozen=True)
class Accepted:
    """A command was recorded: the incident's new version and the event's log position."""

    incident_id: UUID
    version: int
    position: int | None
    event: Incident.Event
    # True when this is an earlier request's answer given again (a repeated command id or
    # idempotency key), not a command recorded now.
    replayed: bool = field(default=False, compare=False)


def fold(events: Sequence[Incident.Event]) -> Incident | None:
    """The incident as these events (oldest first) leave it."""
    incident: Incident | None = None
    for event in events:
        incident = event.mutate(incident)
    return incident


# What one command asks the store to write: its events, and its key's receipt if it has one.
Write = tuple[tuple[Incident.Event, ...], Receipt | None]


def incident_id_for(stamp: Stamp, key: CommandKey | None = None) -> UUID:
    """A report's id: derived from the principal's idempotency key, else from its command id,
    when it has one, so a retry is the same incident."""
    if key is not None:
        scoped = "\x1f".join((key.organisation, key.subject, key.key))
        return uuid5(_IDEMPOTENCY_NAMESPACE, f"key:{scoped}")
    if stamp.command_id:
        return uuid5(_IDEMPOTENCY_NAMESPACE, f"{stamp.actor.organisation}:{stamp.command_id}")
    return uuid4()


def check_text(stamp: Stamp, args: Mapping[str, Any]) -> None:
    """The one text rule every command passes, whatever way it came in (API, command line,
    import, demo): no control character a store cannot keep or a screen would obey
    (domain/rules/text.py). Who acts is text the event keeps too."""
    require_storable_texts({"actor": stamp.actor, "command_id": stamp.command_id, **args})


def check_times(stamp: Stamp, args: Mapping[str, Any], *, became_aware_at: datetime | None) -> None:
    """The one time rule every command passes before its own rules (domain/rules/times.py)."""
    require_honest_times(
        args,
        effective_at=stamp.effective_at,
        now=stamp.now,
        became_aware_at=became_aware_at,
        policy=policy_at(stamp.now),
    )


class Histories:
    """The decoded events of the incidents read lately, per process: a bounded LRU of
    `size` incidents (0 keeps none).

    Safe because events are never edited or removed and each (incident, version) is stored
    once: the first v events of an incident, once read, are its first v events for ever. What a
    kept history can lack is only what was written after it was read (here or by another
    process): `Ledger.incident_events` always asks the store for that (one query for the
    versions above the kept ones), and `Ledger.execute_on_kept` answers only when the store
    takes the next version, which proves nothing was missing. Events are frozen models and the
    aggregate is folded afresh from them for each use, so no command, refused or not, can
    change what is kept; only events read from the store or committed by this process are
    added."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[UUID, tuple[Incident.Event, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, incident_id: UUID) -> tuple[Incident.Event, ...]:
        """The incident's first events as last read (oldest first), or () if none are kept."""
        with self._lock:
            found = self._kept.get(incident_id)
            if found is None:
                return ()
            self._kept.move_to_end(incident_id)
            return found

    def extend(self, incident_id: UUID, written: Sequence[Incident.Event]) -> None:
        """Add events this process has just committed, when they follow on from what is kept
        (a report's first events need nothing kept); otherwise leave it to the next read."""
        if not written:
            return
        after = written[0].originator_version - 1
        with self._lock:
            kept = self._kept.get(incident_id, ())
        if len(kept) == after:
            self.put(incident_id, (*kept, *written))

    def forget(self, incident_id: UUID) -> None:
        """Let go of an incident's kept events (its stored rows differ from them: a row was
        edited behind the ledger's back), so the next read decodes the store's rows."""
        with self._lock:
            self._kept.pop(incident_id, None)

    def put(self, incident_id: UUID, events: tuple[Incident.Event, ...]) -> None:
        """Keep `events`, the incident's versions 1..n as read from the store, unless a longer
        history is kept already; the least recently used incident goes past `size`."""
        if self.size <= 0 or not events or events[-1].originator_version != len(events):
            return
        with self._lock:
            kept = self._kept.get(incident_id)
            if kept is None or len(kept) < len(events):
                self._kept[incident_id] = events
            self._kept.move_to_end(incident_id)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)


class RefusedByCaller(Exception):
    """Raised by an `execute_on_kept` check that refuses: the caller decides again from the
    store, where the refusal is made (and recorded) for real."""


class _Stale(Exception):
    """An optimistic command's write found its version or key taken: decide again from the
    store (`Ledger.execute_on_kept`)."""


class Ledger(Application[UUID]):
    name = "cims"
    env: ClassVar[dict[str, str]] = {}

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env=env)
        # How many incidents' decoded events this process keeps (see `Histories`); 0: none.
        self.histories = Histories(int(self.env.get("INCIDENT_CACHE_SIZE") or 2000))
        # How many commands may share one transaction; 1 turns group commit off.
        most = int(self.env.get("GROUP_COMMIT_MAX_BATCH") or 64)
        self.commits = GroupCommit(
            self._save_together, self._save_alone, conflict=IntegrityError, max_batch=most
        )

    @classmethod
    def from_url(
        cls, database_url: str | None = None, options: Mapping[str, str] | None = None
    ) -> Ledger:
        """The ledger on a store; `options` are its own settings (`INCIDENT_CACHE_SIZE`,
        `GROUP_COMMIT_MAX_BATCH`: see `api.settings.Settings.ledger_options`)."""
        return cls(env=store_env(database_url or DEFAULT_DATABASE_URL) | dict(options or {}))

    # ---- writing -----------------------------------------------------------------------------

    def report(self, *, stamp: Stamp, key: CommandKey | None = None, **fields: Any) -> Accepted:
        """Record a new incident report. A retried report with the same command id, or the same
        principal's idempotency `key`, is the same incident, so a lost acknowledgement never
        makes a second one. Raises `IdempotencyKeyReused` when `key` was first used for a
        different request."""
        check_text(stamp, fields)
        aware = getattr(fields.get("details"), "became_aware_at", None)
        check_times(stamp, fields, became_aware_at=aware)
        incident = Incident.report(stamp=stamp, incident_id=incident_id_for(stamp, key), **fields)
        return self._save(incident, expected_version=0, stamp=stamp, key=key)

    def execute(
        self,
        incident_id: UUID,
        command: str,
        *,
        expected_version: int,
        stamp: Stamp,
        history: Sequence[Incident.Event] | None = None,
        state: Incident | None = None,
        key: CommandKey | None = None,
        _optimistic: bool = False,
        _documents: Sequence[Upload] = (),
        **args: Any,
    ) -> Accepted:
        """Run one lifecycle command on the incident at `expected_version`. `history` is the
        incident's events as the caller has just read them, so they are not read twice; if a
        writer got in between, the version check below or the store's key refuses the command.
        `state`, with `history` only, is `fold(history)` already made by the caller, not to
        be folded twice: a private copy that the command changes and that is used for nothing
        else afterwards.

        `key` (a principal's idempotency key and request fingerprint) is reserved in the same
        transaction as the command's event. A command refused because its key, or the version
        it expected, is taken is answered from the key's receipt when the key was reserved for
        this same request, and raises `IdempotencyKeyReused` when it was reserved for another."""
        if command not in COMMANDS and not (command in WITH_DOCUMENTS and _documents):
            raise UnknownCommand(command)
        events = list(history) if history is not None else self.incident_events(incident_id)
        incident = state if state is not None and history is not None else fold(events)
        assert incident is not None
        if incident.version != expected_version:
            replayed = self._already_recorded(incident_id, expected_version, stamp)
            if replayed is None and key is not None:
                replayed = self.recall(key)
            if replayed is not None:
                return replayed
            raise VersionConflict(incident_id, expected_version, incident.version)
        check_text(stamp, args)
        changes = args.get("changes")
        aware = (
            changes.became_aware_at
            if isinstance(changes, DetailsChange) and changes.became_aware_at is not None
            else incident.details.became_aware_at
        )
        check_times(stamp, args, became_aware_at=aware)
        if command in NEEDS_OBLIGATIONS:
            args["obligations"] = obligations(events, now=stamp.now)
        if command == "withdraw" and args.get("duplicate_of") is not None:
            args["duplicate"] = self.duplicate_target(args["duplicate_of"])
        getattr(incident, command)(stamp=stamp, **args)
        return self._save(
            incident,
            expected_version=expected_version,
            stamp=stamp,
            key=key,
            stale=_optimistic,
            documents=_documents,
        )

    def add_document(
        self,
        incident_id: UUID,
        upload: Upload,
        kind: DocumentKind,
        *,
        expected_version: int,
        stamp: Stamp,
        history: Sequence[Incident.Event] | None = None,
        state: Incident | None = None,
        key: CommandKey | None = None,
        supports_version: int | None = None,
        supersedes: UUID | None = None,
        reason: str | None = None,
    ) -> Accepted:
        """Add a received document (`upload`, checked and hashed by `ledger.documents.Spool`)
        to the incident at `expected_version`: its `Incident.DocumentAdded` event (and, with
        `supersedes`, the earlier document's `DocumentSuperseded`) and its bytes are written
        in one transaction. Refusals and idempotency as `execute`."""
        return self.execute(
            incident_id,
            "add_document",
            expected_version=expected_version,
            stamp=stamp,
            history=history,
            state=state,
            key=key,
            _documents=(upload,),
            document_id=uuid4(),
            kind=kind,
            file_name=upload.file_name,
            media_type=upload.media_type,
            size=upload.size,
            sha256=upload.sha256,
            supports_version=supports_version,
            supersedes=supersedes,
            reason=reason,
        )

    def document_bytes(self, sha256: str) -> Iterator[bytes]:
        """A document's stored bytes, chunk by chunk (at most 1 MiB in memory at a time)."""
        return stored_chunks(self.recorder, sha256)

    def rehash_document(self, sha256: str) -> tuple[str, int]:
        """The SHA-256 and size of a document's bytes as stored now (for `replay.verify`)."""
        return rehash(self.recorder, sha256)

    def execute_on_kept(
        self,
        incident_id: UUID,
        command: str,
        *,
        expected_version: int,
        stamp: Stamp,
        check: Callable[[Incident], None],
        key: CommandKey | None = None,
        **args: Any,
    ) -> Accepted | None:
        """`execute`, decided on the history this process keeps, without reading the store
        first; None when that cannot give the answer, and the caller then goes the usual way
        (`incident_events`, its checks, `execute`).

        It answers only when the kept history is at `expected_version`, `check` (the caller's
        own checks, e.g. who may act) passes on its fold, the rules accept, and the store then
        takes the event at `expected_version + 1` (or finds it already ours: a lost
        acknowledgement). That last proves the kept history was the latest: versions are
        written one after another, each once, and none ever removed, so the store held exactly
        the kept versions when it took ours, and the usual way, reading the store first, would
        have decided the same. Anything else (nothing kept, another version kept, a refusal
        by `check` or a rule, a taken version or key) may come of a stale history, and so
        records nothing and returns None: no refusal is ever answered from kept events.
        Errors of the store itself are raised as `execute` raises them."""
        kept = self.histories.get(incident_id)
        if len(kept) != expected_version or not kept or command not in COMMANDS:
            return None
        history = list(kept)
        incident = fold(history)
        assert incident is not None
        try:
            check(incident)
            return self.execute(
                incident_id,
                command,
                expected_version=expected_version,
                stamp=stamp,
                history=history,
                state=incident,
                key=key,
                _optimistic=True,
                **args,
            )
        except (_Stale, DomainError, RefusedByCaller):
            return None

    def _save(
        self,
        incident: Incident,
        *,
        expected_version: int,
        stamp: Stamp,
        key: CommandKey | None,
        stale: bool = False,
        documents: Sequence[Upload] = (),
    ) -> Accepted:
        # Taken out of the aggregate now: a batch that fails is written again from these.
        pending: list[Incident.Event] = incident.collect_events()  # type: ignore[assignment]
        receipt = None if key is None else Receipt(key, incident.id, pending[-1].originator_version)
        try:
            if documents:
                # Megabytes of bytes in the transaction: written alone, never holding up (or
                # held up by) a group of small commands.
                receipts = [receipt] if receipt else []
                last = self.save(*pending, receipts=receipts, documents=documents)[-1]
            else:
                last = self.commits.save((tuple(pending), receipt))
        except IntegrityError:
            # A key is taken: the (incident, version) of the events, or the principal's
            # idempotency key. Either our own insert committed and the driver's retry after a
            # lost connection hit our rows, or another writer won the race.
            replayed = self._already_recorded(incident.id, expected_version, stamp, pending[0])
            if stale and replayed is None:
                raise _Stale from None
            if replayed is None and key is not None:
                replayed = self.recall(key)
            if replayed is not None:
                return replayed
            current = self._current_version(incident.id)
            raise VersionConflict(incident.id, expected_version, current) from None
        # Committed: what this process keeps goes on from here without reading it back.
        self.histories.extend(incident.id, pending)
        return Accepted(
            incident_id=incident.id,
            version=last.domain_event.originator_version,
            position=last.notification.id,
            event=last.domain_event,  # type: ignore[arg-type]
        )

    def _save_alone(self, write: Write) -> Recording[UUID]:
        events, receipt = write
        return self.save(*events, receipts=[receipt] if receipt else [])[-1]

    def _save_together(self, writes: Sequence[Write]) -> list[Recording[UUID]]:
        """One transaction for all, receipts included: each command's last recording, in the
        order given."""
        saved = self.save(
            *(event for events, _ in writes for event in events),
            receipts=[receipt for _, receipt in writes if receipt is not None],
        )
        last = {(r.domain_event.originator_id, r.domain_event.originator_version): r for r in saved}
        return [
            last[events[-1].originator_id, events[-1].originator_version] for events, _ in writes
        ]

    def recall(self, key: CommandKey) -> Accepted | None:
        """The answer a principal's idempotency key was first given, if the key is reserved.

        Raises `IdempotencyKeyReused` when the key was reserved for a different request (its
        fingerprint differs). Keys are per principal: another principal's use of the same
        key is another key, and is never answered from this one's receipt."""
        found = self.recorder.find_receipt(  # type: ignore[attr-defined]
            key.organisation, key.subject, key.key
        )
        if found is None:
            return None
        if found.fingerprint != key.fingerprint:
            raise IdempotencyKeyReused(key.key)
        stored = list(self.events.get(found.incident_id, gt=found.version - 1, lte=found.version))
        event: Incident.Event = stored[0]  # type: ignore[assignment]
        return self._accepted(event)

    def _already_recorded(
        self,
        incident_id: UUID,
        expected_version: int,
        stamp: Stamp,
        written: Incident.Event | None = None,
    ) -> Accepted | None:
        """The stored event after `expected_version`, if this same command recorded it: the
        same command id from the same principal, and, when the event we tried to write is at
        hand, the very same event (its hash covers every field, the command's and the
        principal's), so another principal's or another request's use of a command id is never
        taken for ours."""
        if not stamp.command_id:
            return None
        stored = list(self.events.get(incident_id, gt=expected_version, limit=1))
        if not stored:
            return None
        event: Incident.Event = stored[0]  # type: ignore[assignment]
        if event.command_id != stamp.command_id or event.actor != stamp.actor:
            return None
        if written is not None and event.hash != written.hash:
            return None
        # With `written`: our own write, whose acknowledgement the driver lost; it is new.
        return self._accepted(event, replayed=written is None)

    def _accepted(self, event: Incident.Event, *, replayed: bool = True) -> Accepted:
        incident_id = event.originator_id
        return Accepted(
            replayed=replayed,
            incident_id=incident_id,
            version=event.originator_version,
            position=self.recorder.position_of(  # type: ignore[attr-defined]
                incident_id, event.originator_version
            ),
            event=event,
        )

    def duplicate_target(self, incident_id: UUID) -> DuplicateTarget | None:
        """What a withdrawal as a duplicate of `incident_id` needs to know of it (whether it
        is live, whose clients it names); None when no such incident is on record."""
        other = fold(list(self.events.get(incident_id)))  # type: ignore[arg-type]
        if other is None:
            return None
        return DuplicateTarget(
            withdrawn=other.withdrawn,
            reporting_organisation=other.reporting_organisation,
            clients=other.clients,
        )

    def _current_version(self, incident_id: UUID) -> int:
        last = list(self.events.get(incident_id, desc=True, limit=1))
        return last[0].originator_version if last else 0

    def close(self) -> None:
        """Close the store's connections and let go of the kept histories."""
        self.histories = Histories(0)
        super().close()

    def drop_broken_connections(self) -> None:
        """After an outage: test the store's idle pooled connections and replace the dead ones."""
        pool = getattr(getattr(self.recorder, "datastore", None), "pool", None)
        if pool is not None:
            pool.check()

    # ---- reading -----------------------------------------------------------------------------

    def incident_events(self, incident_id: UUID, *, lte: int | None = None) -> list[Incident.Event]:
        """The incident's events, oldest first, up to version `lte` if given (a new list each
        call). Raises `IncidentNotFound` when it has none.

        Read through `histories`: the store is asked only for the versions above those kept
        (one query, usually answering nothing new), and not at all for `lte` at or below
        them."""
        kept = self.histories.get(incident_id)
        if kept and lte is not None and lte <= len(kept):
            return list(kept[: max(lte, 0)]) or self._not_found(incident_id)
        newer: list[Incident.Event] = list(
            self.events.get(incident_id, gt=len(kept) or None, lte=lte)  # type: ignore[arg-type]
        )
        found = [*kept, *newer]
        if not found:
            raise IncidentNotFound(incident_id)
        if newer:
            self.histories.put(incident_id, tuple(found))
        return found

    def stored_events(self, incident_id: UUID) -> list[Incident.Event]:
        """The incident's events, oldest first, read and decoded from the store afresh, never
        from what this process keeps: for auditors, who must see each row as it is stored now
        (a row edited behind the ledger's back fails to decode, or differs, here). Raises
        `IncidentNotFound` when it has none."""
        found: list[Incident.Event] = list(self.events.get(incident_id))  # type: ignore[arg-type]
        return found or self._not_found(incident_id)

    @staticmethod
    def _not_found(incident_id: UUID) -> list[Incident.Event]:
        raise IncidentNotFound(incident_id)

    def incident(self, incident_id: UUID) -> Incident:
        incident = fold(self.incident_events(incident_id))
        assert incident is not None
        return incident

    def obligations(self, incident_id: UUID, *, now: datetime) -> tuple[Obligation, ...]:
        return obligations(self.incident_events(incident_id), now=now)

    def incident_ids(self, *, batch: int = 500) -> Iterator[UUID]:
        """Every incident ever reported, in the order reported (read from the notification log)."""
        start = 1
        while True:
            page = self.recorder.select_notifications(
                start=start, limit=batch, topics=[REPORTED_TOPIC]
            )
            for notification in page:
                yield UUID(str(notification.originator_id))
            if len(page) < batch:
                return
            start = page[-1].id + 1
