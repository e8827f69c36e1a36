"""The ledger application: load an incident, run one command, save its event, never lose one."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Recording
from eventsourcing.utils import get_topic

from domain.errors import IncidentNotFound, UnknownCommand, VersionConflict
from domain.group_commit import GroupCommit
from domain.incident import Incident
from domain.obligations import Obligation, obligations
from domain.persistence import DEFAULT_DATABASE_URL, store_env
from domain.values import Stamp

# The incident's lifecycle commands callable through `Ledger.execute`, by method name.
COMMANDS: frozenset[str] = frozenset(
    {
        "amend",
        "reclassify",
        "assess_scope",
        "withdraw",
        "record_client_voice",
        "record_notification",
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
    }
)
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


def fold(events: Sequence[Incident.Event]) -> Incident | None:
    """The incident as these events (oldest first) leave it."""
    incident: Incident | None = None
    for event in events:
        incident = event.mutate(incident)
    return incident


def incident_id_for(stamp: Stamp) -> UUID:
    """A report's id: derived from its command id when it has one, so a retry is the same."""
    if stamp.command_id:
        return uuid5(_IDEMPOTENCY_NAMESPACE, f"{stamp.actor.organisation}:{stamp.command_id}")
    return uuid4()


class Ledger(Application[UUID]):
    name = "cims"
    env: ClassVar[dict[str, str]] = {}

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env=env)
        # How many commands may share one transaction; 1 turns group commit off.
        most = int(self.env.get("GROUP_COMMIT_MAX_BATCH") or 64)
        self.commits = GroupCommit(
            self._save_together, self._save_alone, conflict=IntegrityError, max_batch=most
        )

    @classmethod
    def from_url(cls, database_url: str | None = None) -> Ledger:
        return cls(env=store_env(database_url or DEFAULT_DATABASE_URL))

    # ---- writing -----------------------------------------------------------------------------

    def report(self, *, stamp: Stamp, **fields: Any) -> Accepted:
        """Record a new incident report. A retried report with the same command id is the same
        incident, so a lost acknowledgement never makes a second one."""
        incident = Incident.report(stamp=stamp, incident_id=incident_id_for(stamp), **fields)
        return self._save(incident, expected_version=0, stamp=stamp)

    def execute(
        self,
        incident_id: UUID,
        command: str,
        *,
        expected_version: int,
        stamp: Stamp,
        history: Sequence[Incident.Event] | None = None,
        **args: Any,
    ) -> Accepted:
        """Run one lifecycle command on the incident at `expected_version`. `history` is the
        incident's events as the caller has just read them, so they are not read twice; if a
        writer got in between, the version check below or the store's key refuses the command."""
        if command not in COMMANDS:
            raise UnknownCommand(command)
        events = list(history) if history is not None else self.incident_events(incident_id)
        incident = fold(events)
        assert incident is not None
        if incident.version != expected_version:
            replayed = self._already_recorded(incident_id, expected_version, stamp)
            if replayed is not None:
                return replayed
            raise VersionConflict(incident_id, expected_version, incident.version)
        if command in NEEDS_OBLIGATIONS:
            args["obligations"] = obligations(events, now=stamp.now)
        getattr(incident, command)(stamp=stamp, **args)
        return self._save(incident, expected_version=expected_version, stamp=stamp)

    def _save(self, incident: Incident, *, expected_version: int, stamp: Stamp) -> Accepted:
        try:
            # Taken out of the aggregate now: a batch that fails is written again from these.
            pending: list[Incident.Event] = incident.collect_events()  # type: ignore[assignment]
            last = self.commits.save(tuple(pending))
        except IntegrityError:
            # The (incident, version) key is taken: either another writer won the race, or our
            # own insert committed and the driver's retry after a lost connection hit our row.
            replayed = self._already_recorded(incident.id, expected_version, stamp)
            if replayed is not None:
                return replayed
            current = self._current_version(incident.id)
            raise VersionConflict(incident.id, expected_version, current) from None
        return Accepted(
            incident_id=incident.id,
            version=last.domain_event.originator_version,
            position=last.notification.id,
            event=last.domain_event,  # type: ignore[arg-type]
        )

    def _save_alone(self, events: Sequence[Incident.Event]) -> Recording[UUID]:
        return self.save(*events)[-1]

    def _save_together(self, commands: Sequence[Sequence[Incident.Event]]) -> list[Recording[UUID]]:
        """One transaction for all: each command's last recording, in the order given."""
        saved = self.save(*(event for events in commands for event in events))
        last = {(r.domain_event.originator_id, r.domain_event.originator_version): r for r in saved}
        return [
            last[events[-1].originator_id, events[-1].originator_version] for events in commands
        ]

    def _already_recorded(
        self, incident_id: UUID, expected_version: int, stamp: Stamp
    ) -> Accepted | None:
        """The stored event after `expected_version`, if this same command recorded it."""
        if not stamp.command_id:
            return None
        stored = list(self.events.get(incident_id, gt=expected_version, limit=1))
        if not stored or stored[0].command_id != stamp.command_id:  # type: ignore[attr-defined]
            return None
        event: Incident.Event = stored[0]  # type: ignore[assignment]
        # Its exact position is not kept on the event; the head of the log bounds it, which is
        # all read-your-writes needs.
        return Accepted(
            incident_id=incident_id,
            version=event.originator_version,
            position=self.recorder.max_notification_id(),
            event=event,
        )

    def _current_version(self, incident_id: UUID) -> int:
        last = list(self.events.get(incident_id, desc=True, limit=1))
        return last[0].originator_version if last else 0

    def drop_broken_connections(self) -> None:
        """After an outage: test the store's idle pooled connections and replace the dead ones."""
        pool = getattr(getattr(self.recorder, "datastore", None), "pool", None)
        if pool is not None:
            pool.check()

    # ---- reading -----------------------------------------------------------------------------

    def incident_events(self, incident_id: UUID, *, lte: int | None = None) -> list[Incident.Event]:
        found: list[Incident.Event] = list(
            self.events.get(incident_id, lte=lte)  # type: ignore[arg-type]
        )
        if not found:
            raise IncidentNotFound(incident_id)
        return found

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
