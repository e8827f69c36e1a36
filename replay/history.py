"""history: every event of an incident, with who, when, why and a readable line."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain.errors import IncidentNotFound
from domain.policy_table import policy_named
from domain.rules.times import recorded_late
from domain.summary import summarise
from replay.store import EventRows


class Entry(BaseModel):
    model_config = ConfigDict(frozen=True)

    position: int
    version: int
    type: str
    actor_id: str
    actor_role: str
    actor_organisation: str
    recorded_at: datetime
    effective_at: datetime | None
    reason: str | None
    summary: str
    hash: str
    # Recorded more than the allowed business days after the effective time it claims.
    recorded_late: bool = False


class History(BaseModel):
    model_config = ConfigDict(frozen=True)

    incident_id: UUID
    events: list[Entry]


def history(rows: EventRows, incident_id: UUID) -> History:
    stored = rows.of_incident(incident_id)
    if not stored:
        raise IncidentNotFound(incident_id)
    entries = []
    policy = None
    for row in stored:
        e = rows.event(row)
        policy = policy or policy_named(e.policy_version)  # the first event is the report
        entries.append(
            Entry(
                position=row.position,
                version=row.version,
                type=type(e).__name__,
                actor_id=e.actor.id,
                actor_role=e.actor.role.value,
                actor_organisation=e.actor.organisation,
                recorded_at=e.timestamp,
                effective_at=e.effective_at,
                reason=e.reason,
                summary=summarise(e),
                hash=e.hash,
                recorded_late=e.effective_at is not None
                and recorded_late(e.effective_at, e.timestamp, policy),
            )
        )
    return History(incident_id=incident_id, events=entries)
