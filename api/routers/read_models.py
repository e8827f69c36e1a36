"""Worklists, statistics, the access log and the regulators' feeds, from the read models."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api import authorisation as authz
from api import deadlines, paging, reads
from api import resources as out
from api.deps import ActorDep, ServicesDep
from api.paging import LINK, Cursor, DeprecatedAfter, Limit, log_page, position
from api.problems import Problem, error_responses, invalid
from api.query import strict_query
from api.routers.incidents import (
    FRESHNESS,
    READ_ERRORS,
    MinPosition,
    freshness,
    read_models_at,
)
from api.routers.patterns import log_suggested
from api.schemas import FeedName
from domain.obligations import ObligationKind, Status
from domain.values import REF_MAX, Role
from projections.regulator_feed import REGULATORS

router = APIRouter(prefix="/v1", tags=["read-models"], dependencies=[Depends(strict_query)])


@router.get(
    "/obligations",
    summary="List the worklist: obligations by status and organisation.",
    response_model=None,
    responses={200: {"model": out.Worklist, "headers": {**FRESHNESS, **LINK}}, **READ_ERRORS},
)
async def worklist(
    svc: ServicesDep,
    actor: ActorDep,
    request: Request,
    response: Response,
    status: Annotated[
        Status | Literal["needs_action", "all"],
        Query(
            description="Only obligations in this status; `needs_action` (the default): open or"
            " overdue, overdue first; `all`: whatever their status."
        ),
    ] = "needs_action",
    organisation: Annotated[
        str | None, Query(max_length=REF_MAX, description="Only this organisation's obligations.")
    ] = None,
    kind: Annotated[
        ObligationKind | None, Query(description="Only obligations of this kind.")
    ] = None,
    client: Annotated[
        str | None,
        Query(max_length=REF_MAX, description="Only obligations of incidents about this client."),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Obligations of the incidents the caller's organisation sees, soonest due first (so
    overdue first); by default only those needing action (open or overdue: `status=all` for
    every one), each with `business_days_left` / `days_overdue` (see `api/deadlines.py`);
    filters: `status`, `organisation`, `kind` (e.g. `allegations_served`), `client` (the
    incidents about that client reference). Each incident the page shows is written to the
    access log (`what` "list:obligations") before it is answered."""
    orgs = await reads.visible_organisations(svc, actor, "list:obligations")
    reached = await read_models_at(svc, min_position)
    try:
        items, next_cursor = await run_in_threadpool(
            svc.read_models.worklist,
            organisations=orgs,
            now=svc.clock(),
            status=None if status == "all" else status,
            organisation=organisation,
            kind=kind,
            client=client,
            cursor=cursor,
            limit=limit,
        )
    except ValueError:
        raise invalid("cursor", "schema.cursor", "cursor is not valid") from None
    await reads.log_listed(svc, actor, "list:obligations", items, "incident_id")
    freshness(response, svc, reached)
    now = svc.clock()
    annotated = [deadlines.annotate(i, now) for i in items]
    found = paging.answer(request, response, annotated, next_cursor)
    if actor.role in (Role.INCIDENT_MANAGER, Role.DEPARTMENT_OFFICER) and cursor is None:
        # A suggestion for a person to decide on (GET /v1/patterns/suggestions), not a deadline.
        found["possible_patterns"] = await run_in_threadpool(
            svc.read_models.pattern_suggestions, organisations=orgs, now=now
        )
        await log_suggested(svc, actor, found["possible_patterns"])
    return found


@router.get(
    "/statistics",
    summary="Give counts, time to close and overdue rates.",
    response_model=None,
    responses={200: {"model": out.Statistics}, **error_responses(401, 403, 422, 429, 431, 503)},
)
async def statistics(svc: ServicesDep, actor: ActorDep) -> dict[str, Any]:
    orgs = await reads.visible_organisations(svc, actor, "statistics")
    return await run_in_threadpool(svc.read_models.statistics, organisations=orgs, now=svc.clock())


@router.get(
    "/access-log",
    summary="List who read which incident record, and when.",
    response_model=None,
    responses={200: {"model": out.AccessLog}, **error_responses(401, 403, 422, 429, 431, 503)},
)
async def access_log(
    svc: ServicesDep,
    actor: ActorDep,
    incident_id: Annotated[
        str | None, Query(max_length=100, description="Only reads of this incident (a UUID).")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
    after: DeprecatedAfter = None,
) -> dict[str, Any]:
    """Auditors and department officers only. In the order logged, a log that grows
    (api/paging.py): `next_cursor` is always given, so a reader keeps it and asks again."""
    start = position(cursor, after)
    authz.require_role(actor, authz.AUDITORS, "read the access log")
    try:
        wanted = uuid.UUID(incident_id) if incident_id else None
    except ValueError:
        raise invalid("incident_id", "schema.uuid", "incident_id is not a UUID") from None
    items = await run_in_threadpool(
        svc.read_models.access_log, incident_id=wanted, after=start, limit=limit
    )
    return log_page(items, "id", start)


@router.get(
    "/feeds/{regulator}",
    summary="Read a regulator's feed of CloudEvents.",
    tags=["feeds"],
    response_model=None,
    responses={200: {"model": out.Feed}, **error_responses(401, 403, 404, 422, 429, 431, 503)},
)
async def feed(
    regulator: FeedName,
    svc: ServicesDep,
    actor: ActorDep,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many items.")] = 100,
    after: DeprecatedAfter = None,
) -> dict[str, Any]:
    """A regulator reads its own feed (its organisation is the feed's name); an admin any.
    Ordered and resumable; carries only what the sharing protocol allows. A log that grows
    (api/paging.py): `next_cursor` is always given; keep it and ask again for what is new."""
    start = position(cursor, after)
    if regulator not in REGULATORS:
        raise Problem(404, "feed-not-found", "No such feed", f"feeds: {', '.join(REGULATORS)}")
    own = actor.role == Role.REGULATOR and actor.organisation.lower() == regulator
    if not own and actor.role != Role.ADMIN:
        raise Problem(
            403,
            "forbidden",
            "Forbidden",
            f"the {regulator.value} feed is read by a regulator whose organisation is"
            f" {regulator.value!r} (the regulators' organisations are"
            f" {', '.join(map(repr, REGULATORS))}), or by an admin",
        )
    items = await run_in_threadpool(svc.read_models.feed, regulator.value, after=start, limit=limit)
    return log_page(items, "cursor", start)
