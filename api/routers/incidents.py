"""Incident commands and the queries of one incident's record."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextvars
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import WithJsonSchema
from starlette.concurrency import run_in_threadpool

from api import authorisation as authz
from api import deadlines, paging, reads
from api import resources as out
from api.command_docs import TITLES, describe, describe_report, title
from api.deps import ActorDep, Services, ServicesDep
from api.idempotency import MAX_KEY_LENGTH, Stored, command_key, fingerprint, parse_key
from api.next_actions import next_actions, obligations_out
from api.paging import LINK, Cursor, DeprecatedAfter, Limit, log_page, position
from api.problems import Problem, error_responses, invalid
from api.query import strict_query
from api.responses import JSON
from api.schemas import MAX_INT, CommandIn, ReportIn
from domain.errors import (
    DomainError,
    IdempotencyKeyReused,
    IncidentNotFound,
    PolicyViolation,
    VersionConflict,
)
from domain.incident import Incident, Stage
from domain.values import REF_MAX, Actor, Impact, IncidentType, Stamp
from domain.views import incident_state
from ledger.application import Accepted, RefusedByCaller, fold
from ledger.receipts import CommandKey

T = TypeVar("T")
router = APIRouter(prefix="/v1/incidents", tags=["incidents"], dependencies=[Depends(strict_query)])
# Checked by `parse_key` (an empty or malformed key is a 400 naming the header); the schema
# documents the bound: 200 characters, two more for the structured-field quotes.
IdempotencyKey = Annotated[
    Annotated[str, WithJsonSchema({"type": "string", "maxLength": MAX_KEY_LENGTH + 2})] | None,
    Header(
        alias="Idempotency-Key",
        description="Any unique string: a retry with the same key and body returns the first "
        "answer and records nothing new (scoped to you).",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=100,
        description='The incident version you read, as its ETag (e.g. `"3"`): instead of, or '
        "agreeing with, the body's `expected_version`. Stale: 412.",
    ),
]
Filter = Annotated[str | None, Query(max_length=REF_MAX)]
MinPosition = Annotated[
    int | None,
    Query(
        ge=0,
        le=MAX_INT,
        description="Read your own write: wait (briefly) for the read models to reach this log "
        "position (a command's `position`). If they do not in time, the answer is still 200, "
        "with `X-Projection-Reached: false` and `X-Projection-Position` saying how far they got.",
    ),
]
READ_ERRORS = error_responses(401, 403, 404, 422, 429, 431, 503)
COMMAND_ERRORS = error_responses(400, 401, 403, 404, 409, 412, 413, 422, 428, 429, 431, 503)
FRESHNESS = {
    "X-Projection-Position": {
        "description": "The log position the read models had reached when answering.",
        "schema": {"type": "integer"},
    },
    "X-Projection-Reached": {
        "description": "With `?min_position=`: whether the read models reached it in time.",
        "schema": {"type": "boolean"},
    },
}
ETAG = {
    "ETag": {"description": 'The incident\'s version, e.g. `"3"`.', "schema": {"type": "string"}}
}


# The threads commands run in: one hop each way through a plain executor, which costs the event
# loop a fraction of what anyio's `to_thread` (a capacity limiter, cancel scopes, its own
# queue) did per request. Sized as anyio's default pool.
COMMAND_THREADS = ThreadPoolExecutor(max_workers=40, thread_name_prefix="command")


async def in_command_thread(func: Callable[[], T]) -> T:
    """Run `func` in a command thread, with this request's context variables, and await it."""
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(COMMAND_THREADS, context.run, func)


def accepted_body(accepted: Accepted) -> dict[str, Any]:
    event = accepted.event.model_dump(mode="json")
    return {
        "id": str(accepted.incident_id),
        "version": accepted.version,
        "position": accepted.position,
        "event": {"type": type(accepted.event).__name__, **event},
    }


def request_stamp(svc: Services, actor: Actor, effective_at: datetime | None = None) -> Stamp:
    """Who acts and when (the app's clock), with a command id of its own: one per request (the
    principal's `Idempotency-Key`, if any, travels beside it as `key`)."""
    return Stamp(
        actor=actor, now=svc.clock(), effective_at=effective_at, command_id=f"cmd-{uuid.uuid4()}"
    )


ACCESS_REFUSALS = frozenset({401, 403, 404})


async def idempotent(
    svc: Services,
    request: Request,
    actor: Actor,
    raw_key: str | None,
    body: CommandIn | ReportIn,
    run: Callable[[CommandKey | None, T], Accepted],
    authorise: Callable[[], T],
    answer: Callable[[Accepted], Stored],
    fast: Callable[[CommandKey | None], Accepted | None] | None = None,
    **request_extra: Any,
) -> JSON:
    """Run `authorise`, then `run` the command (given what `authorise` read) once per
    principal's `Idempotency-Key`, and `answer` with what it recorded.

    The key and the fingerprint of the parsed request (method, path, `body`, `request_extra`)
    are reserved by the ledger in the command's own transaction. A repeat is refused by the
    ledger or the rules (the incident has moved on, the key is taken) and then answered from
    the key's receipt: the first answer, rebuilt from the stored event; a different request
    with the same key is a 422, the same key in flight in this process a 409. An empty or
    malformed key is a 400. `fast`, if given, is tried first: the command decided on what
    this process keeps (`Ledger.execute_on_kept`), answering only when that is the answer the
    usual way would give, else None.

    All of it runs in one command thread (one hop there and back): each hop between the event
    loop and a thread costs more than the store's own round trips."""
    key = parse_key(raw_key)
    ckey = None
    if key is not None:
        print_ = fingerprint(request.method, request.url.path, body, **request_extra)
        ckey = command_key(actor, key, print_)

    def once() -> Stored:
        with svc.idempotency.hold(ckey) if ckey else nullcontext():
            try:
                accepted = (fast(ckey) if fast else None) or run(ckey, authorise())
            except IdempotencyKeyReused:
                raise
            except Problem as refused:
                # A caller who may no longer see or act on the incident (403, or the 404 of an
                # unseen one) gets what every other request of theirs gets, not the stored 200.
                if refused.status in ACCESS_REFUSALS:
                    raise
                replayed = svc.ledger.recall(ckey) if ckey else None
                if replayed is None:
                    raise
                return answer(replayed)
            except DomainError:
                replayed = svc.ledger.recall(ckey) if ckey else None
                if replayed is None:
                    raise
                return answer(replayed)
        if not accepted.replayed:
            svc.metrics.events.inc()
        return answer(accepted)

    stored = await in_command_thread(once)
    svc.read_models.notify()
    return JSON(stored.body, status_code=stored.status, headers=stored.headers)


@router.post(
    "",
    status_code=201,
    summary=TITLES["report"],
    description=describe_report(),
    response_model=None,
    responses={
        201: {
            "model": out.Accepted,
            "description": "Recorded.",
            "headers": {
                **ETAG,
                "Location": {"description": "The incident.", "schema": {"type": "string"}},
            },
        },
        **error_responses(400, 401, 403, 409, 413, 422, 429, 431, 503),
    },
)
async def report_incident(
    body: ReportIn,
    request: Request,
    svc: ServicesDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> JSON:
    authz.require_role(actor, authz.REPORTERS, "report an incident")

    def run(key: CommandKey | None, _: None) -> Accepted:
        return svc.ledger.report(stamp=request_stamp(svc, actor), key=key, **body.command_args())

    def answer(accepted: Accepted) -> Stored:
        return Stored(
            201,
            accepted_body(accepted),
            {
                "Location": f"/v1/incidents/{accepted.incident_id}",
                "ETag": f'"{accepted.version}"',
            },
        )

    return await idempotent(svc, request, actor, idempotency_key, body, run, lambda: None, answer)


def _expected_version(body: CommandIn, if_match: str | None) -> int:
    """The version a command acts on: the body's `expected_version` or `If-Match` (if both,
    they must agree: 400)."""
    tagged = None
    if if_match is not None:
        if if_match.strip().startswith("W/"):
            # RFC 9110 §13.1.1: If-Match uses the strong comparison, so a weak tag never matches.
            raise Problem(
                412,
                "precondition-failed",
                "The incident has moved on",
                'a weak entity tag (W/"…") never matches If-Match: send the version as "3"',
            )
        tag = if_match.strip().strip('"')
        # Digits only: int() would also take "+1", " 1" or "1_0".
        if not (tag.isascii() and tag.isdigit()) or int(tag) > MAX_INT:
            raise invalid(
                "If-Match", "schema.version", 'If-Match must be an incident version, e.g. "3"'
            )
        tagged = int(tag)
    if body.expected_version is not None:
        if tagged is not None and tagged != body.expected_version:
            raise Problem(
                400,
                "version-mismatch",
                "If-Match and expected_version disagree",
                f"If-Match names version {tagged}, expected_version {body.expected_version}",
                errors=[
                    {
                        "field": "If-Match",
                        "rule": "version-mismatch",
                        "message": "If-Match and expected_version name different versions",
                    }
                ],
            )
        return body.expected_version
    if tagged is not None:
        return tagged
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

        def authorise() -> tuple[list[Incident.Event], Incident]:
            # Read and folded once: the same history decides who may act and what the command
            # does.
            found = reads.authorised_state(
                svc, actor, incident_id, f"command:{name}", action=action
            )
            for other in command.related_incidents():
                _require_linkable(svc, actor, other)
            return found

        def run(key: CommandKey | None, found: tuple[list[Incident.Event], Incident]) -> Accepted:
            history, state = found
            with stale_if_match(command):
                return svc.ledger.execute(
                    incident_id,
                    action.command,
                    expected_version=expected,
                    stamp=request_stamp(svc, actor, command.effective_at),
                    history=history,
                    state=state,
                    key=key,
                    **command.command_args(),
                )

        def answer(accepted: Accepted) -> Stored:
            return Stored(200, accepted_body(accepted), {"ETag": f'"{accepted.version}"'})

        def may_act(incident: Incident) -> None:
            try:
                authz.refuse_regulators(actor)
                reads.require_may_see_and_act(actor, incident, action)
            except Problem:
                raise RefusedByCaller from None

        def fast(key: CommandKey | None) -> Accepted | None:
            if command.related_incidents():
                return None  # another incident to check: the usual way
            return svc.ledger.execute_on_kept(
                incident_id,
                action.command,
                expected_version=expected,
                stamp=request_stamp(svc, actor, command.effective_at),
                check=may_act,
                key=key,
                **command.command_args(),
            )

        return await idempotent(
            svc,
            request,
            actor,
            idempotency_key,
            command,
            run,
            authorise,
            answer,
            fast,
            expected_version=expected,
        )

    endpoint.__name__ = name.replace("-", "_")
    # Annotations are strings in this module; the body's model is local, so name it directly.
    endpoint.__annotations__["body"] = body_type
    return endpoint


@contextmanager
def stale_if_match(command: CommandIn) -> Iterator[None]:
    """A stale version within: 412 (`precondition_failed`) when `If-Match` named it, else the
    usual 409."""
    try:
        yield
    except VersionConflict as stale:
        if command.expected_version is None:  # the version came from If-Match
            raise precondition_failed(stale) from None
        raise


def precondition_failed(stale: VersionConflict) -> Problem:
    """A stale `If-Match`: 412 Precondition Failed (RFC 9110 §13.1.1)."""
    return Problem(
        412,
        "precondition-failed",
        "The incident has moved on",
        str(stale),
        current_version=stale.current,
        expected_version=stale.expected,
    )


for _name, _action in authz.ACTIONS.items():
    router.add_api_route(
        f"/{{incident_id}}/{_name}",
        _command_endpoint(_name, _action),
        methods=["POST"],
        summary=title(_name),
        description=describe(_name, _action),
        name=f"command-{_name}",
        response_model=None,
        responses={
            200: {"model": out.Accepted, "description": "Recorded.", "headers": ETAG},
            **COMMAND_ERRORS,
        },
    )


def _require_linkable(svc: Services, actor: Actor, incident_id: UUID) -> None:
    """An incident a command links to exists and is visible to the caller; one that is not
    is refused alike, so a link does not reveal another organisation's incident."""
    try:
        other = fold(svc.ledger.incident_events(incident_id))
        assert other is not None
        authz.require_visible(actor, other)
    except (IncidentNotFound, Problem):
        raise PolicyViolation(
            "withdrawal.duplicate-not-found",
            f"no incident {incident_id} is on record for you to link to",
            field="duplicate_of",
        ) from None


async def read_models_at(svc: Services, min_position: int | None) -> bool:
    """Read-your-writes: wait (on the event loop, bounded) for the read models to reach
    `min_position`, at most `read_your_writes_wait_seconds`; whether they did (True without
    one). A 422 for a position beyond the head of the log, a 503 when too many requests are
    waiting already."""
    if min_position is None:
        return True
    return await svc.waits.wait(
        min_position,
        timeout=svc.settings.read_your_writes_wait_seconds,
        position=svc.read_models.position,
        head=lambda: svc.ledger.recorder.max_notification_id() or 0,
        poke=svc.read_models.notify,
    )


def freshness(response: Response, svc: Services, reached: bool) -> None:
    """Say how fresh a read-model answer is (see `MinPosition`)."""
    response.headers["X-Projection-Position"] = str(svc.read_models.position())
    response.headers["X-Projection-Reached"] = "true" if reached else "false"


@router.get(
    "",
    summary="List the incidents you may see, newest first.",
    response_model=None,
    responses={200: {"model": out.IncidentList, "headers": {**FRESHNESS, **LINK}}, **READ_ERRORS},
)
async def list_incidents(
    svc: ServicesDep,
    actor: ActorDep,
    request: Request,
    response: Response,
    status: Annotated[Stage | None, Query(description="Only incidents at this stage.")] = None,
    type: Annotated[IncidentType | None, Query(description="Only incidents of this type.")] = None,
    impact: Annotated[Impact | None, Query(description="Only incidents of this impact.")] = None,
    organisation: Annotated[
        str | None,
        Query(
            max_length=REF_MAX,
            description="Only incidents an organisation whose name contains this (any case)"
            " reported or is named responsible for.",
        ),
    ] = None,
    overdue: Annotated[
        bool | None,
        Query(
            description="Only incidents with (true) or without (false) an overdue obligation now."
        ),
    ] = None,
    aboriginal: Annotated[
        bool | None, Query(description="Only incidents with (or without) an Aboriginal client.")
    ] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200, description="At most this many items.")] = 50,
    min_position: MinPosition = None,
    sort: Annotated[
        Literal["newest", "oldest"],
        Query(description="by the instant reported: newest (default) or oldest first"),
    ] = "newest",
    search: Annotated[
        str | None,
        Query(
            max_length=REF_MAX,
            description="Find incidents by the start of their id, a client reference (whole, any"
            " case) or words of the description or location (every word, any case).",
        ),
    ] = None,
    assigned: Annotated[
        Literal["me"] | None,
        Query(description="`me`: only incidents you are appointed to (investigator or reviewer)."),
    ] = None,
) -> dict[str, Any]:
    """Keyset-paged (follow `next_cursor`), newest report first (`sort=oldest`: oldest first;
    a `next_cursor` pages on in the order it was made in). `organisation` matches part of a name,
    in any case ("northside"); `search` finds by id prefix, client reference or description
    words; `assigned=me` lists what you are appointed to. Each filter is given at most once; an
    unknown value or parameter is a 422. Each incident listed is written to the access log
    (`what` "list:incidents") before the page is answered."""
    orgs = await reads.visible_organisations(svc, actor, "list:incidents")
    reached = await read_models_at(svc, min_position)
    items, next_cursor = await run_in_threadpool(
        svc.read_models.list_incidents,
        organisations=orgs,
        now=svc.clock(),
        stage=status and status.value,
        incident_type=type and type.value,
        impact=impact and impact.value,
        organisation=organisation,
        overdue=overdue,
        aboriginal=aboriginal,
        cursor=_cursor(cursor),
        limit=limit,
        oldest_first=sort == "oldest",
        search=search,
        assigned_to=(actor.organisation, actor.id) if assigned == "me" else None,
    )
    await reads.log_listed(svc, actor, "list:incidents", items, "id")
    freshness(response, svc, reached)
    return paging.answer(request, response, items, next_cursor)


def _cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        base64.urlsafe_b64decode(cursor.encode()).decode().split("|")[1]
    except (binascii.Error, UnicodeDecodeError, IndexError, ValueError):
        raise invalid("cursor", "schema.cursor", "cursor is not valid") from None
    return cursor


async def visible_incident(svc: Services, actor: Actor, incident_id: UUID, what: str) -> Any:
    # Every read of a record is logged first; if the log cannot be written, nothing is shown.
    return await reads.read_incident(svc, actor, incident_id, what)


async def with_obligations(
    svc: Services, actor: Actor, incident_id: UUID, what: str, response: Response
) -> tuple[Any, Any]:
    incident = await visible_incident(svc, actor, incident_id, what)
    obligations = await run_in_threadpool(svc.ledger.obligations, incident_id, now=svc.clock())
    response.headers["ETag"] = f'"{incident.version}"'
    return incident, obligations


@router.get(
    "/{incident_id}",
    summary="Show one incident: its state, obligations and what you may do next.",
    response_model=None,
    responses={200: {"model": out.IncidentOut, "headers": ETAG}, **READ_ERRORS},
)
async def get_incident(
    incident_id: UUID, svc: ServicesDep, actor: ActorDep, response: Response
) -> dict[str, Any]:
    """The incident as its events leave it, its obligations (each with `met_by`, the commands
    that meet it) and `next_actions`: the commands this caller may issue now, by role,
    organisation, appointment and stage. Reading it is recorded in the access log.
    `integrity` says whether the stored hash chain of what is served holds (`chain`: `intact`
    or `broken`, with the first broken version and the problem): a record edited behind the
    ledger's back is served as the store holds it, flagged, never as fact."""
    incident, found = await reads.read_checked_incident(svc, actor, incident_id, "incident")
    obligations = await run_in_threadpool(svc.ledger.obligations, incident_id, now=svc.clock())
    response.headers["ETag"] = f'"{incident.version}"'
    state = incident_state(incident)
    authz.redact_department_client_ids(actor, incident, state)
    return {
        **state,
        "obligations": deadlines.annotate_all(obligations_out(obligations), svc.clock()),
        "next_actions": next_actions(actor, incident, obligations),
        "integrity": found.model_dump(mode="json", exclude={"served_differs"}),
    }


@router.get(
    "/{incident_id}/obligations",
    summary="Show an incident's obligations and their deadlines.",
    response_model=None,
    responses={200: {"model": out.ObligationsOut, "headers": ETAG}, **READ_ERRORS},
)
async def get_obligations(
    incident_id: UUID, svc: ServicesDep, actor: ActorDep, response: Response
) -> dict[str, Any]:
    incident, obligations = await with_obligations(svc, actor, incident_id, "obligations", response)
    return {
        "id": str(incident_id),
        "version": incident.version,
        "obligations": deadlines.annotate_all(obligations_out(obligations), svc.clock()),
    }


@router.get(
    "/{incident_id}/procedural-fairness",
    summary="Show the procedural-fairness checklist of an incident's investigation.",
    response_model=None,
    responses={200: {"model": out.FairnessOut, "headers": FRESHNESS}, **READ_ERRORS},
)
async def get_procedural_fairness(
    incident_id: UUID,
    svc: ServicesDep,
    actor: ActorDep,
    response: Response,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    await visible_incident(svc, actor, incident_id, "procedural-fairness")
    reached = await read_models_at(svc, min_position)
    checks = await run_in_threadpool(
        svc.read_models.procedural_fairness, incident_id, now=svc.clock()
    )
    freshness(response, svc, reached)
    return {"id": str(incident_id), "checks": checks}


@router.get(
    "/{incident_id}/audit-trail",
    summary="Show who did what on an incident, when and why.",
    response_model=None,
    responses={200: {"model": out.AuditTrail, "headers": FRESHNESS}, **READ_ERRORS},
)
async def get_audit_trail(
    incident_id: UUID,
    svc: ServicesDep,
    actor: ActorDep,
    response: Response,
    cursor: Cursor = None,
    limit: Limit = 100,
    min_position: MinPosition = None,
    after: DeprecatedAfter = None,
) -> dict[str, Any]:
    """The incident's entries in log order, a log that grows (api/paging.py): `next_cursor` is
    always given, so a reader keeps it and asks again for what comes later."""
    start = position(cursor, after)
    await visible_incident(svc, actor, incident_id, "audit-trail")
    reached = await read_models_at(svc, min_position)
    items = await run_in_threadpool(
        svc.read_models.audit_trail, incident_id=incident_id, after=start, limit=limit
    )
    freshness(response, svc, reached)
    return log_page(items, "position", start)
