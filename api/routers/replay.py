"""Auditors' replay: history, state as of, differences, verification, export bundles."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api import authorisation as authz
from api import reads
from api.deps import ActorDep, ServicesDep
from api.problems import Problem, invalid
from api.schemas import MAX_INT

router = APIRouter(prefix="/v1/incidents", tags=["replay"])


async def audited(svc: ServicesDep, actor: ActorDep, incident_id: UUID, what: str) -> None:
    await reads.read_incident(svc, actor, incident_id, what, roles=authz.AUDITORS)


def _point(value: str, name: str) -> int | datetime:
    try:
        return int(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise invalid(
            name,
            "schema.version-or-instant",
            f"{name} must be a version number or an instant with an offset",
        )
    return moment


def _invalid(exc: ValueError, field: str) -> Problem:
    return invalid(field, "replay.out-of-range", str(exc))


@router.get("/{incident_id}/history", summary="Every event, from the event store")
async def get_history(incident_id: UUID, svc: ServicesDep, actor: ActorDep) -> Any:
    await audited(svc, actor, incident_id, "history")
    found = await run_in_threadpool(svc.auditor.history, incident_id)
    return found.model_dump(mode="json")


@router.get("/{incident_id}/as-of", summary="The incident as it stood at an instant or version")
async def get_as_of(
    incident_id: UUID,
    svc: ServicesDep,
    actor: ActorDep,
    at: datetime | None = None,
    version: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
) -> Any:
    await audited(svc, actor, incident_id, "as-of")
    if (at is None) == (version is None):
        raise invalid("at", "replay.one-of-at-or-version", "give at= or version=")
    if at is not None and at.tzinfo is None:
        raise invalid("at", "schema.aware-datetime", "at needs an offset")
    try:
        found = await run_in_threadpool(
            svc.auditor.state_as_of, incident_id, at=at, version=version
        )
    except ValueError as exc:
        raise _invalid(exc, "at" if at else "version") from None
    return found.model_dump(mode="json")


@router.get("/{incident_id}/diff", summary="What changed between two versions or instants")
async def get_diff(
    incident_id: UUID,
    a: Annotated[str, Query(max_length=100)],
    b: Annotated[str, Query(max_length=100)],
    svc: ServicesDep,
    actor: ActorDep,
) -> Any:
    await audited(svc, actor, incident_id, "diff")
    try:
        found = await run_in_threadpool(
            svc.auditor.diff, incident_id, _point(a, "a"), _point(b, "b")
        )
    except ValueError as exc:
        raise _invalid(exc, "a") from None
    return found.model_dump(mode="json")


@router.get("/{incident_id}/verify", summary="Recompute the incident's hash chain")
async def get_verify(incident_id: UUID, svc: ServicesDep, actor: ActorDep) -> Any:
    await audited(svc, actor, incident_id, "verification")
    found = await run_in_threadpool(svc.auditor.verify, incident_id)
    return found.model_dump(mode="json")


@router.get("/{incident_id}/export", summary="An audit bundle (zip) to check offline")
async def get_export(incident_id: UUID, svc: ServicesDep, actor: ActorDep) -> Response:
    await audited(svc, actor, incident_id, "export")
    bundle = await run_in_threadpool(svc.auditor.export, incident_id)
    return Response(
        bundle,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="incident-{incident_id}.zip"'},
    )
