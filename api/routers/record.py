"""What was recorded on an incident, entry by entry: the facts each step recorded (the plan, the
evidence, the subject's response, the findings and their rationale, recommendations and what was
done about them, notifications with their reference numbers, consultations with their advice),
for the people who may see the incident — not only its auditors."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api import authorisation as authz
from api import reads
from api.deps import ActorDep, ServicesDep
from api.query import strict_query
from api.resources import Resource
from api.routers.incidents import READ_ERRORS
from domain.incident import Incident
from domain.summary import summarise
from domain.values import Actor
from projections.audit_trail import GRANTED

router = APIRouter(prefix="/v1/incidents", tags=["incidents"], dependencies=[Depends(strict_query)])

# The event's bookkeeping, shown elsewhere (who, when, why) or not to people at all.
_BOOKKEEPING = {
    "originator_id",
    "originator_topic",
    "originator_version",
    "timestamp",
    "actor",
    "command_id",
    "effective_at",
    "reason",
    "prev_hash",
    "hash",
    "policy_version",
}


class EntryActor(BaseModel):
    id: str = Field(description="Who recorded it.")
    role: str = Field(description="Their role.")
    organisation: str = Field(description="Their organisation.")


class RecordEntry(BaseModel):
    """One step recorded on the incident, with what it recorded."""

    version: int = Field(description="The incident's version this entry made.")
    type: str = Field(description="The event's class, e.g. `EvidenceRecorded`.")
    summary: str = Field(description="The entry in one line a person reads.")
    recorded_at: str = Field(description="When it was recorded (UTC).")
    effective_at: str | None = Field(description="When it happened, where that differs (UTC).")
    actor: EntryActor = Field(description="Who recorded it: id, role and organisation.")
    reason: str | None = Field(description="Why, where a reason was given.")
    data: dict[str, Any] = Field(
        description="What it recorded, by the request's own field names (instants in UTC)."
    )


class IncidentRecord(Resource):
    """What each step on an incident recorded, oldest first."""

    id: str = Field(description="The incident's id.")
    items: list[RecordEntry]


def _redacted(value: Any) -> Any:
    """Without the department's client identifier, wherever it appears."""
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items() if k != "department_client_id"}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def entries(events: list[Incident.Event], actor: Actor, incident: Incident) -> list[dict[str, Any]]:
    """One entry per event, oldest first: `version`, `type`, `summary`, `recorded_at`,
    `effective_at`, `actor` {id, role, organisation}, `reason` and `data` (what the event
    recorded, by field). The department's client identifier and the incidents a pattern
    escalation names are left out for another provider named on the incident (as on
    `GET /v1/incidents/{id}`)."""
    own = actor.role in authz.SEE_ALL or actor.organisation == incident.reporting_organisation
    found = []
    for e in events:
        data = {k: v for k, v in e.model_dump(mode="json").items() if k not in _BOOKKEEPING}
        if not own:
            data = _redacted(data)
            data.pop("pattern_of", None)
        found.append(
            {
                "version": e.originator_version,
                "type": type(e).__name__,
                "summary": summarise(e),
                "recorded_at": e.timestamp.isoformat(),
                "effective_at": e.effective_at.isoformat() if e.effective_at else None,
                "actor": {
                    "id": e.actor.id,
                    "role": e.actor.role.value,
                    "organisation": e.actor.organisation,
                },
                "reason": e.reason,
                "data": data,
            }
        )
    return found


@router.get(
    "/{incident_id}/record",
    summary="Show what each step on an incident recorded.",
    response_model=None,
    responses={200: {"model": IncidentRecord}, **READ_ERRORS},
)
async def get_record(incident_id: UUID, svc: ServicesDep, actor: ActorDep) -> dict[str, Any]:
    """Every entry of the incident, oldest first, with what it recorded (`data`, by field: the
    request's own field names, instants in UTC): for anyone who may see the incident, so the
    plan, evidence, responses, findings, rationale, recommendations and actions are read where
    they are acted on. Reading it is recorded in the access log (`what` "record")."""

    def read() -> dict[str, Any]:
        events, incident = reads.authorised_state(svc, actor, incident_id, "record")
        svc.read_models.log_access(
            actor=actor, incident_id=incident_id, what="record", at=svc.clock(), outcome=GRANTED
        )
        return {"id": str(incident_id), "items": entries(events, actor, incident)}

    return await run_in_threadpool(read)
