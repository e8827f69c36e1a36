"""history: every event of an incident, with who, when, why and a readable line."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain.errors import IncidentNotFound
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


class History(BaseModel):
    model_config = ConfigDict(frozen=True)

    incident_id: UUID
    events: list[Entry]


def history(rows: EventRows, incident_id: UUID) -> History:
    stored = rows.of_incident(incident_id)
    if not stored:
        raise IncidentNotFound(incident_id)
    entries = []
    for row in stored:
        e = rows.event(row)
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
            )
        )
    return History(incident_id=incident_id, events=entries)
