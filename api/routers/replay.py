"""Auditors' replay: history, state as of, differences, verification, export bundles."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api import authorisation as authz
from api import reads
from api.deps import ActorDep, ServicesDep
from api.problems import Problem, invalid
from api.query import instant, strict_query
from api.routers.incidents import READ_ERRORS
from api.schemas import MAX_INT
from replay.as_of import StateAsOf
from replay.diff import Diff
from replay.export import ENTRIES
from replay.history import History
from replay.verify import Verification

router = APIRouter(prefix="/v1/incidents", tags=["replay"], dependencies=[Depends(strict_query)])


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
    return instant(moment, name)


def _invalid(exc: ValueError, field: str) -> Problem:
    return invalid(field, "replay.out-of-range", str(exc))


@router.get(
    "/{incident_id}/history",
    summary="List every event of an incident, from the event store.",
    response_model=None,
    responses={200: {"model": History}, **READ_ERRORS},
)
async def get_history(incident_id: UUID, svc: ServicesDep, actor: ActorDep) -> Any:
    await audited(svc, actor, incident_id, "history")
    found = await run_in_threadpool(svc.auditor.history, incident_id)
    return found.model_dump(mode="json")


@router.get(
    "/{incident_id}/as-of",
    summary="Show an incident as it stood at an instant or version.",
    response_model=None,
    responses={200: {"model": StateAsOf}, **READ_ERRORS},
)
async def get_as_of(
    incident_id: UUID,
    svc: ServicesDep,
    actor: ActorDep,
    at: Annotated[
        datetime | None, Query(description="An instant with an offset; or give `version`.")
    ] = None,
    version: Annotated[
        int | None, Query(ge=1, le=MAX_INT, description="A version; or give `at`.")
    ] = None,
) -> Any:
    await audited(svc, actor, incident_id, "as-of")
    if (at is None) == (version is None):
        raise invalid("at", "replay.one-of-at-or-version", "give at= or version=")
    if at is not None:
        at = instant(at, "at")
    try:
        found = await run_in_threadpool(
            svc.auditor.state_as_of, incident_id, at=at, version=version
        )
    except ValueError as exc:
        raise _invalid(exc, "at" if at else "version") from None
    return found.model_dump(mode="json")


@router.get(
    "/{incident_id}/diff",
    summary="Show what changed on an incident between two versions or instants.",
    response_model=None,
    responses={200: {"model": Diff}, **READ_ERRORS},
)
async def get_diff(
    incident_id: UUID,
    a: Annotated[
        str, Query(max_length=100, description="From: a version, or an instant with an offset.")
    ],
    b: Annotated[
        str, Query(max_length=100, description="To: a version, or an instant with an offset.")
    ],
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


@router.get(
    "/{incident_id}/verify",
    summary="Recompute an incident's hash chain and say whether it holds.",
    response_model=None,
    responses={200: {"model": Verification}, **READ_ERRORS},
)
async def get_verify(incident_id: UUID, svc: ServicesDep, actor: ActorDep) -> Any:
    await audited(svc, actor, incident_id, "verification")
    found = await run_in_threadpool(svc.auditor.verify, incident_id)
    return found.model_dump(mode="json")


@router.get(
    "/{incident_id}/export",
    summary="Export an incident's audit bundle (a zip) to check offline.",
    response_model=None,
    response_class=Response,
    responses={
        200: {
            "description": "The bundle, a zip of these entries:\n\n"
            + "\n".join(f"- `{name}`: {meaning}" for name, meaning in ENTRIES.items()),
            "headers": {
                "Content-Disposition": {
                    "description": '`attachment; filename="incident-<id>.zip"`.',
                    "schema": {"type": "string"},
                }
            },
            "content": {
                "application/zip": {
                    "schema": {
                        "type": "string",
                        "format": "binary",
                        "description": "A zip archive (PKZIP, deflated).",
                    }
                }
            },
        },
        **READ_ERRORS,
    },
)
async def get_export(
    incident_id: UUID,
    svc: ServicesDep,
    actor: ActorDep,
    documents: Annotated[
        Literal["bytes", "hashes"],
        Query(description="the documents' bytes in the bundle (default), or only their hashes"),
    ] = "bytes",
) -> Response:
    await audited(svc, actor, incident_id, "export")
    bundle = await run_in_threadpool(
        partial(svc.auditor.export, incident_id, document_bytes=documents == "bytes")
    )
    return Response(
        bundle,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="incident-{incident_id}.zip"'},
    )
