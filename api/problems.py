"""Every error as RFC 9457 problem details, with a stable type URI per error or rule."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import psycopg
import psycopg_pool
from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import AuthError
from api.responses import JSON, SECURITY_HEADERS
from domain.errors import (
    IdempotencyKeyReused,
    IncidentNotFound,
    PolicyViolation,
    UnknownCommand,
    VersionConflict,
)

TYPE_BASE = "https://cims-ledger.example/problems/"
# A body with thousands of bad fields is answered with the first of them, not megabytes.
MAX_FIELD_ERRORS = 100
log = logging.getLogger("cims.api")


class Problem(Exception):
    """An error the API answers with directly."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str = "",
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.headers = headers or {}
        self.extra = extra


def invalid(field: str, rule: str, message: str) -> Problem:
    """A 422 for one field of the request, naming the rule it broke."""
    return Problem(
        422,
        "validation",
        "The request is not valid",
        message,
        errors=[{"field": field, "rule": rule, "message": message}],
    )


def problem_response(problem: Problem, request: Request) -> JSON:
    body = {
        "type": TYPE_BASE + problem.slug,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.url.path,
        **problem.extra,
    }
    return JSON(
        body,
        status_code=problem.status,
        headers=problem.headers,
        media_type="application/problem+json",
    )


def _as_problem(exc: Exception) -> Problem:
    match exc:
        case Problem():
            return exc
        case PolicyViolation():
            return Problem(
                422,
                exc.rule_id,
                "Refused by CIMS policy",
                exc.message,
                rule=exc.rule_id,
                errors=[{"field": exc.field, "rule": exc.rule_id, "message": exc.message}],
            )
        case VersionConflict():
            return Problem(
                409,
                "version-conflict",
                "The incident has moved on",
                str(exc),
                current_version=exc.current,
                expected_version=exc.expected,
            )
        case IdempotencyKeyReused():
            return Problem(
                422,
                "idempotency-key-reused",
                "Idempotency-Key reused",
                "this Idempotency-Key was used with a different request",
                errors=[
                    {
                        "field": "Idempotency-Key",
                        "rule": "idempotency.key-reused",
                        "message": "same key, different request",
                    }
                ],
            )
        case IncidentNotFound():
            return Problem(404, "incident-not-found", "No such incident", str(exc))
        case UnknownCommand():
            return Problem(404, "unknown-command", "No such command", str(exc))
        case AuthError():
            return Problem(
                401,
                "unauthenticated",
                "Authentication required",
                str(exc),
                headers={"WWW-Authenticate": "Bearer"},
            )
        case RequestValidationError():
            return Problem(
                422,
                "validation",
                "The request is not valid",
                "one or more fields break the schema",
                errors=_field_errors(exc),
            )
        case StarletteHTTPException():
            return Problem(
                exc.status_code, f"http-{exc.status_code}", str(exc.detail), str(exc.detail)
            )
        case (
            OperationalError()
            | InterfaceError()
            | psycopg.OperationalError()
            | psycopg_pool.PoolTimeout()
            | sqlite3.OperationalError()
        ):
            return store_unavailable()
    log.exception("unexpected error", exc_info=exc)
    return Problem(500, "internal", "Internal error", "the error was logged")


def store_unavailable() -> Problem:
    return Problem(
        503,
        "store-unavailable",
        "The ledger's store is unavailable",
        "try again shortly; nothing was recorded by this request",
        headers={"Retry-After": "2"},
    )


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body",
            "rule": f"schema.{e.get('type', 'invalid')}",
            "message": e.get("msg", "invalid"),
        }
        for e in exc.errors()[:MAX_FIELD_ERRORS]
    ]


def install(app: FastAPI) -> None:
    async def handle(request: Request, exc: Exception) -> JSON:
        problem = _as_problem(exc)
        if problem.slug == "store-unavailable":
            request.app.state.services.breaker.trip()
        return problem_response(problem, request)

    for kind in (
        Problem,
        PolicyViolation,
        VersionConflict,
        IdempotencyKeyReused,
        IncidentNotFound,
        UnknownCommand,
        AuthError,
        RequestValidationError,
        StarletteHTTPException,
        OperationalError,
        InterfaceError,
        psycopg.OperationalError,
        psycopg_pool.PoolTimeout,
        sqlite3.OperationalError,
    ):
        app.add_exception_handler(kind, handle)

    async def handle_unexpected(request: Request, exc: Exception) -> JSON:
        # Starlette answers an unexpected error outside every middleware, the security
        # headers' included, so this answer carries them itself.
        response = await handle(request, exc)
        for name, value in SECURITY_HEADERS:
            response.headers[name.decode()] = value.decode()
        return response

    app.add_exception_handler(Exception, handle_unexpected)
