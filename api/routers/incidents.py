"""Incident commands and the queries of one incident's record."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api import authorisation as authz
from api import deadlines
from api.deps import ActorDep, Services, ServicesDep
from api.idempotency import Stored, fingerprint
from api.problems import Problem, invalid
from api.responses import JSON
from api.schemas import MAX_INT, CommandIn, ReportIn
from domain.incident import Incident
from domain.ledger import Accepted, fold
from domain.values import Actor, Stamp
from domain.views import incident_state

T = TypeVar("T")
router = APIRouter(prefix="/v1/incidents", tags=["incidents"])
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
IfMatch = Annotated[str | None, Header(alias="If-Match")]
MinPosition = Annotated[
    int | None,
    Query(ge=0, le=MAX_INT, description="wait for the read models to reach this position"),
]


def accepted_body(accepted: Accepted) -> dict[str, Any]:
    event = accepted.event.model_dump(mode="json")
    return {
        "id": str(accepted.incident_id),
        "version": accepted.version,
        "position": accepted.position,
        "event": {"type": type(accepted.event).__name__, **event},
    }


async def idempotent(
    svc: Services,
    request: Request,
    actor: Actor,
    key: str | None,
    run: Callable[[T], Stored],
    authorise: Callable[[], T],
) -> JSON:
    """Run `authorise`, then answer a repeat of a keyed request with the stored first answer,
    else `run` it (given what `authorise` read) once.

    All of it runs in one worker thread: each hop between the event loop and the thread pool
    costs more than the store's own round trips."""
    print_ = fingerprint(request.method, request.url.path, await request.body()) if key else ""

    def once() -> Stored:
        authorised = authorise()
        if key is not None:
            found = svc.idempotency.recall(actor.organisation, key, print_)
            if found is not None:
                return found
        stored = run(authorised)
        svc.metrics.events.inc()
        if key is not None:
            svc.idempotency.remember(actor.organisation, key, print_, stored)
        return stored

    stored = await run_in_threadpool(once)
    svc.read_models.notify()
    return JSON(stored.body, status_code=stored.status, headers=stored.headers)


@router.post("", status_code=201, summary="Report an incident")
async def report_incident(
    body: ReportIn,
    request: Request,
    svc: ServicesDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> JSON:
    authz.require_role(actor, authz.REPORTERS, "report an incident")

    def run(_: None) -> Stored:
        stamp = Stamp(actor=actor, now=svc.clock(), command_id=idempotency_key)
        accepted = svc.ledger.report(stamp=stamp, **body.command_args())
        return Stored(
            201,
            accepted_body(accepted),
            {
                "Location": f"/v1/incidents/{accepted.incident_id}",
                "ETag": f'"{accepted.version}"',
            },
        )

    return await idempotent(svc, request, actor, idempotency_key, run, lambda: None)


def _expected_version(body: CommandIn, if_match: str | None) -> int:
    if body.expected_version is not None:
        return body.expected_version
    if if_match is not None:
        tag = if_match.strip().removeprefix("W/").strip('"')
        # Digits only: int() would also take "+1", " 1" or "1_0".
        if not (tag.isascii() and tag.isdigit()) or int(tag) > MAX_INT:
            raise invalid(
                "If-Match", "schema.version", 'If-Match must be an incident version, e.g. "3"'
            )
        return int(tag)
    raise Problem(
        428,
        "precondition-required",
        "Expected version required",
        'send expected_version in the body or If-Match: "<version>"',
    )


def _command_endpoint(name: str, action: authz.Action) -> Callable[..., Awaitable[Any]]:
    body_type = action.body

    async def endpoint(
        incident_id: UUID,
        body: body_type,  # type: ignore[valid-type]
        request: Request,
        svc: ServicesDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
        if_match: IfMatch = None,
    ) -> JSON:
        command: CommandIn = body
        expected = _expected_version(command, if_match)

        def authorise() -> list[Incident.Event]:
            # Read once: the same history decides who may act and what the command does.
            history = svc.ledger.incident_events(incident_id)
            incident = fold(history)
            assert incident is not None
            authz.require_visible(actor, incident)
            authz.require_may_act(actor, action, incident)
            return history

        def run(history: list[Incident.Event]) -> Stored:
            stamp = Stamp(
                actor=actor,
                now=svc.clock(),
                effective_at=command.effective_at,
                command_id=idempotency_key or f"cmd-{uuid.uuid4()}",
            )
            accepted = svc.ledger.execute(
                incident_id,
                action.command,
                expected_version=expected,
                stamp=stamp,
                history=history,
                **command.command_args(),
            )
            return Stored(200, accepted_body(accepted), {"ETag": f'"{accepted.version}"'})

        return await idempotent(svc, request, actor, idempotency_key, run, authorise)

    endpoint.__name__ = name.replace("-", "_")
    # Annotations are strings in this module; the body's model is local, so name it directly.
    endpoint.__annotations__["body"] = body_type
    return endpoint


for _name, _action in authz.ACTIONS.items():
    router.add_api_route(
        f"/{{incident_id}}/{_name}",
        _command_endpoint(_name, _action),
        methods=["POST"],
        summary=(_action.body.__doc__ or _action.command.replace("_", " ")).splitlines()[0],
        name=f"command-{_name}",
    )


async def read_models_at(svc: Services, min_position: int | None) -> None:
    if min_position is not None:
        await run_in_threadpool(
            svc.read_models.wait_for, min_position, svc.settings.read_your_writes_wait_seconds
        )


@router.get("", summary="List incidents")
async def list_incidents(
    svc: ServicesDep,
    actor: ActorDep,
    response: Response,
    status: str | None = None,
    type: str | None = None,
    impact: str | None = None,
    organisation: str | None = None,
    overdue: bool | None = None,
    aboriginal: bool | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    orgs = authz.visible_organisations(actor)
    await read_models_at(svc, min_position)
    items, next_cursor = await run_in_threadpool(
        svc.read_models.list_incidents,
        organisations=orgs,
        now=svc.clock(),
        stage=status,
        incident_type=type,
        impact=impact,
        organisation=organisation,
        overdue=overdue,
        aboriginal=aboriginal,
        cursor=_cursor(cursor),
        limit=limit,
    )
    response.headers["X-Projection-Position"] = str(svc.read_models.position())
    return {"items": items, "next_cursor": next_cursor}


def _cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        base64.urlsafe_b64decode(cursor.encode()).decode().split("|")[1]
    except (binascii.Error, UnicodeDecodeError, IndexError, ValueError):
        raise invalid("cursor", "schema.cursor", "cursor is not valid") from None
    return cursor


async def visible_incident(svc: Services, actor: Actor, incident_id: UUID, what: str) -> Any:
    incident = await run_in_threadpool(svc.ledger.incident, incident_id)
    authz.require_visible(actor, incident)
    # Every read of a record is logged first; if the log cannot be written, nothing is shown.
    await run_in_threadpool(
        svc.read_models.log_access, actor=actor, incident_id=incident_id, what=what, at=svc.clock()
    )
    return incident


async def with_obligations(
    svc: Services, actor: Actor, incident_id: UUID, what: str, response: Response
) -> tuple[Any, list[dict[str, Any]]]:
    incident = await visible_incident(svc, actor, incident_id, what)
    obligations = await run_in_threadpool(svc.ledger.obligations, incident_id, now=svc.clock())
    response.headers["ETag"] = f'"{incident.version}"'
    now = svc.clock()
    return incident, [deadlines.annotate(o.model_dump(mode="json"), now) for o in obligations]


@router.get("/{incident_id}", summary="One incident's current state and obligations")
async def get_incident(
    incident_id: UUID, svc: ServicesDep, actor: ActorDep, response: Response
) -> dict[str, Any]:
    incident, obligations = await with_obligations(svc, actor, incident_id, "incident", response)
    return {**incident_state(incident), "obligations": obligations}


@router.get("/{incident_id}/obligations", summary="An incident's obligations and deadlines")
async def get_obligations(
    incident_id: UUID, svc: ServicesDep, actor: ActorDep, response: Response
) -> dict[str, Any]:
    incident, obligations = await with_obligations(svc, actor, incident_id, "obligations", response)
    return {"id": str(incident_id), "version": incident.version, "obligations": obligations}


@router.get("/{incident_id}/procedural-fairness", summary="Procedural-fairness checklist")
async def get_procedural_fairness(
    incident_id: UUID,
    svc: ServicesDep,
    actor: ActorDep,
    response: Response,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    await visible_incident(svc, actor, incident_id, "procedural-fairness")
    await read_models_at(svc, min_position)
    checks = await run_in_threadpool(
        svc.read_models.procedural_fairness, incident_id, now=svc.clock()
    )
    response.headers["X-Projection-Position"] = str(svc.read_models.position())
    return {"id": str(incident_id), "checks": checks}


@router.get("/{incident_id}/audit-trail", summary="Who did what, when and why")
async def get_audit_trail(
    incident_id: UUID,
    svc: ServicesDep,
    actor: ActorDep,
    response: Response,
    after: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    await visible_incident(svc, actor, incident_id, "audit-trail")
    await read_models_at(svc, min_position)
    items = await run_in_threadpool(
        svc.read_models.audit_trail, incident_id=incident_id, after=after, limit=limit
    )
    response.headers["X-Projection-Position"] = str(svc.read_models.position())
    return {"items": items}
