"""state as of a moment or a version: the incident and its deadlines exactly as they stood."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain.errors import PolicyViolation
from domain.incident import Incident
from domain.obligations import Obligation, incident_with_obligations
from domain.views import incident_state
from ledger.application import Ledger


class StateAsOf(BaseModel):
    model_config = ConfigDict(frozen=True)

    incident_id: UUID
    version: int
    as_of: datetime
    policy_version: str
    state: dict[str, Any]
    obligations: list[Obligation]

    @classmethod
    def of(
        cls, incident_id: UUID, incident: Incident, moment: datetime, owed: Sequence[Obligation]
    ) -> StateAsOf:
        """The answer for an incident folded to `moment`, with its obligations then."""
        return cls(
            incident_id=incident_id,
            version=incident.version,
            as_of=moment,
            policy_version=incident.policy_version,
            state=incident_state(incident),
            obligations=list(owed),
        )


def check_request(
    *, at: datetime | None = None, version: int | None = None, now: datetime | None = None
) -> None:
    """The checks made before any event is read: exactly one of `at` or `version`
    (`ValueError`), and no instant after `now` (`PolicyViolation` `time.as-of-in-future`)."""
    if (at is None) == (version is None):
        raise ValueError("give exactly one of at= or version=")
    if at is not None and at.tzinfo is not None and now is not None and at > now:
        raise PolicyViolation(
            "time.as-of-in-future",
            f"{at.isoformat()} is later than now; the state as of then is not yet known",
            field="at",
        )


def events_as_of(
    ledger: Ledger,
    incident_id: UUID,
    *,
    at: datetime | None = None,
    version: int | None = None,
    now: datetime | None = None,
) -> tuple[list[Any], datetime]:
    """The events recorded by then, and the instant to judge deadlines at. An instant after
    `now` is refused (`time.as-of-in-future`): the ledger cannot know the future, only guess."""
    check_request(at=at, version=version, now=now)
    # Read afresh: a process's kept copy would hide a row edited in the store since.
    events = ledger.stored_events(incident_id)
    if version is not None:
        if not 1 <= version <= len(events):
            raise ValueError(f"incident {incident_id} has versions 1 to {len(events)}")
        chosen = events[:version]
        return chosen, chosen[-1].timestamp
    assert at is not None
    if at.tzinfo is None:
        # Comparing a local wall-clock time with recorded UTC instants would silently guess.
        raise ValueError("the instant needs an offset, e.g. 2025-03-04T12:00:00+11:00")
    chosen = [e for e in events if e.timestamp <= at]
    if not chosen:
        raise ValueError(f"incident {incident_id} was not yet reported at {at.isoformat()}")
    return chosen, at


def state_as_of(
    ledger: Ledger,
    incident_id: UUID,
    *,
    at: datetime | None = None,
    version: int | None = None,
    now: datetime | None = None,
) -> StateAsOf:
    """The incident and its obligations as they stood at `at` (not after `now`) or `version`:
    the plain fold of every event from the first (`replay.snapshots.FoldCache` gives the same
    from kept snapshots)."""
    chosen, moment = events_as_of(ledger, incident_id, at=at, version=version, now=now)
    incident, owed = incident_with_obligations(chosen, now=moment)
    assert incident is not None
    return StateAsOf.of(incident_id, incident, moment, owed)
