"""Worklists, statistics, the access log and the regulators' feeds, from the read models."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from api import authorisation as authz
from api import deadlines, reads
from api.deps import ActorDep, ServicesDep
from api.problems import Problem, invalid
from api.routers.incidents import Cursor, Filter, MinPosition, read_models_at
from api.schemas import MAX_INT
from domain.obligations import Status
from domain.values import Role
from projections.regulator_feed import REGULATORS

router = APIRouter(prefix="/v1", tags=["read-models"])


@router.get("/obligations", summary="The worklist: obligations by status and organisation")
async def worklist(
    svc: ServicesDep,
    actor: ActorDep,
    response: Response,
    status: Status | None = None,
    organisation: Filter = None,
    kind: Annotated[str | None, Query(max_length=100, description="one obligation kind")] = None,
    client: Annotated[str | None, Query(max_length=200, description="a client reference")] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Obligations of the incidents the caller's organisation sees, soonest due first (so
    overdue first), each with `business_days_left` / `days_overdue` (see `api/deadlines.py`);
    filters: `status`, `organisation`, `kind` (e.g. `allegations_served`), `client` (the
    incidents about that client reference). Each incident the page shows is written to the
    access log (`what` "list:obligations") before it is answered."""
    orgs = await reads.visible_organisations(svc, actor, "list:obligations")
    await read_models_at(svc, min_position)
    try:
        items, next_cursor = await run_in_threadpool(
            svc.read_models.worklist,
            organisations=orgs,
            now=svc.clock(),
            status=status,
            organisation=organisation,
            kind=kind,
            client=client,
            cursor=cursor,
            limit=limit,
        )
    except ValueError:
        raise invalid("cursor", "schema.cursor", "cursor is not valid") from None
    await reads.log_listed(svc, actor, "list:obligations", items, "incident_id")
    response.headers["X-Projection-Position"] = str(svc.read_models.position())
    now = svc.clock()
    return {"items": [deadlines.annotate(i, now) for i in items], "next_cursor": next_cursor}


@router.get("/statistics", summary="Counts, time to close and overdue rates")
async def statistics(svc: ServicesDep, actor: ActorDep) -> dict[str, Any]:
    orgs = await reads.visible_organisations(svc, actor, "statistics")
    return await run_in_threadpool(svc.read_models.statistics, organisations=orgs, now=svc.clock())


@router.get("/access-log", summary="Who read which incident record, and when")
async def access_log(
    svc: ServicesDep,
    actor: ActorDep,
    incident_id: Annotated[str | None, Query(max_length=100)] = None,
    after: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    authz.require_role(actor, authz.AUDITORS, "read the access log")
    try:
        wanted = uuid.UUID(incident_id) if incident_id else None
    except ValueError:
        raise invalid("incident_id", "schema.uuid", "incident_id is not a UUID") from None
    items = await run_in_threadpool(
        svc.read_models.access_log, incident_id=wanted, after=after, limit=limit
    )
    return {"items": items}


@router.get("/feeds/{regulator}", summary="A regulator's feed of CloudEvents", tags=["feeds"])
async def feed(
    regulator: Annotated[str, Path(max_length=100)],
    svc: ServicesDep,
    actor: ActorDep,
    after: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    if regulator not in REGULATORS:
        raise Problem(404, "feed-not-found", "No such feed", f"feeds: {', '.join(REGULATORS)}")
    own = actor.role == Role.REGULATOR and actor.organisation.lower() == regulator
    if not own and actor.role != Role.ADMIN:
        raise Problem(403, "forbidden", "Forbidden", "a regulator reads its own feed only")
    items = await run_in_threadpool(svc.read_models.feed, regulator, after=after, limit=limit)
    return {"items": items, "next_cursor": items[-1]["cursor"] if items else after}
