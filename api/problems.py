"""Every error as RFC 9457 problem details, with a stable type URI per error or rule."""

from __future__ import annotations

import logging
import re
import sqlite3
import typing
from typing import Any
from uuid import UUID

import psycopg
import psycopg_pool
from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic_core._pydantic_core import list_all_errors
from pydantic_core.core_schema import ErrorType
from starlette.concurrency import run_in_threadpool
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
from domain.rules.catalogue import CATALOGUE
from projections.audit_trail import REFUSED

TYPE_BASE = "https://cims-ledger.example/problems/"
# A body with thousands of bad fields is answered with the first of them, not megabytes.
MAX_FIELD_ERRORS = 100
log = logging.getLogger("cims.api")


# Every problem the API itself answers with (policy refusals are in `domain.rules.catalogue`):
# slug -> (status, title, what it means). `GET /v1/rules` lists them with the policy's rules, so
# every problem's `type` resolves to an entry there.
API_PROBLEMS: dict[str, tuple[int, str, str]] = {
    "validation": (422, "The request is not valid", "One or more fields break the schema."),
    "version-conflict": (
        409,
        "The incident has moved on",
        "The body's `expected_version` is not the incident's current version; read it again.",
    ),
    "precondition-failed": (
        412,
        "The incident has moved on",
        "`If-Match` names a version that is not the incident's current one (RFC 9110).",
    ),
    "precondition-required": (
        428,
        "Expected version required",
        "A command names the version it acts on: `expected_version` or `If-Match`.",
    ),
    "version-mismatch": (
        400,
        "If-Match and expected_version disagree",
        "Send one of them, or the same version in both.",
    ),
    "incident-not-found": (404, "No such incident", "No incident with this id is visible to you."),
    "document-not-found": (404, "No such document", "No document with this id is on the incident."),
    "unknown-command": (404, "No such command", "The command is not an incident command."),
    "feed-not-found": (404, "No such feed", "There is no regulator feed of that name."),
    "subscription-not-found": (
        404,
        "No such subscription",
        "No reminder subscription in force with this id is yours to end.",
    ),
    "unauthenticated": (401, "Authentication required", "Send a valid bearer token."),
    "forbidden": (
        403,
        "Forbidden",
        "Your role, organisation or appointment does not allow this (see the operation's "
        "description).",
    ),
    "idempotency.key-reused": (
        422,
        "Idempotency-Key reused",
        "This Idempotency-Key was used before with a different request.",
    ),
    "request.headers-too-large": (
        431,
        "Request headers too large",
        "A request header (or all of them) is over the configured limit.",
    ),
    "rate-limited": (429, "Too many requests", "Slow down and retry after Retry-After."),
    "too-many-waits": (
        503,
        "Too many requests waiting for the read models",
        "Too many requests wait for `min_position` at once; retry after Retry-After.",
    ),
    "idempotency.key-invalid": (
        400,
        "Idempotency-Key is not valid",
        "The Idempotency-Key header is empty or malformed.",
    ),
    "idempotency.in-flight": (
        409,
        "A request with this Idempotency-Key is in progress",
        "Retry once the first request has been answered (after Retry-After).",
    ),
    "not-ready": (
        503,
        "Not ready",
        "A read model has stopped on an event it cannot apply, or an event has waited for one"
        " longer than allowed: `problems` says which, with its position and the error.",
    ),
    "store-unavailable": (
        503,
        "The ledger's store is unavailable",
        "Try again shortly; nothing was recorded by this request.",
    ),
    "internal": (500, "Internal error", "An unexpected error; it was logged."),
    "http-400": (400, "Bad request", "The request could not be read."),
    "http-404": (404, "Not Found", "No such path."),
    "http-405": (405, "Method Not Allowed", "The path does not take this method."),
    "body-too-large": (413, "Request body too large", "The body is over the configured limit."),
    "invalid-utf8": (400, "Body is not UTF-8", "JSON bodies are encoded as UTF-8."),
    "json-too-deep": (400, "JSON nested too deeply", "The body nests deeper than allowed."),
    "duplicate-key": (400, "Duplicate JSON key", "A JSON object gives the same key twice."),
    "control-character": (
        422,
        "Control character in text",
        "Text may hold no control characters other than tab, CR and LF.",
    ),
}
# Policy refusals answered with a status of their own rather than 422.
RULE_STATUS: dict[str, int] = {"document.too-large": 413, "document.type-not-allowed": 415}
# Rule ids that name a field's fault in `errors[].rule` (not a problem type of their own; a
# refusal naming one carries the `validation` type). A problem that is its own type has one id,
# its type's last segment, in `errors[].rule` too (e.g. `idempotency.key-reused`).
FIELD_RULES: dict[str, str] = {
    "schema.version": 'If-Match is an incident version in quotes, e.g. "3".',
    "schema.cursor": "The cursor is one this API returned as `next_cursor`.",
    "schema.cursor-or-after": "Give `cursor` (or its deprecated name `after`), not both.",
    "schema.duplicate-key": "A JSON object gives each key once.",
    "schema.control-character": "Text holds no control characters other than tab, CR and LF.",
    "schema.uuid": "The value is a UUID.",
    "schema.version-or-instant": "A version number, or an instant with an offset.",
    "schema.aware-datetime": "An instant with an offset (e.g. `2025-03-04T09:00:00+11:00`).",
    "schema.query-repeated": "A query parameter is given once.",
    "schema.query-unknown": "Only the query parameters the operation documents are accepted.",
    "replay.one-of-at-or-version": "Give `at=` or `version=`, not both or neither.",
    "replay.out-of-range": "The instant or version lies outside the incident's history.",
    "read.position-beyond-head": "`min_position` is at most the head of the ledger's log.",
    "patterns.client-required": "Name the client: the provider's client reference or the "
    "department client ID.",
    "patterns.organisation-required": "A provider's client reference belongs to one "
    "organisation: name it.",
    "legacy.columns-missing": "A legacy CSV's header names every required column.",
    "schema.file-required": "A document is sent as a multipart part named `file`.",
    "schema.one-file": "One file per upload.",
    "schema.too-many-fields": "An upload has at most the form fields it documents.",
    "schema.too-long": "A form field of an upload is within its length.",
    "schema.utf8": "A form field of an upload is UTF-8 text.",
    "reminders.email-required": "Reminders go to an email address: give one, or sign in with a "
    "token that carries one.",
    "reminders.email-invalid": "The email address is a valid address (user@domain).",
}

# Every kind of field error pydantic can report (`schema.<kind>`, the kind being pydantic's own
# error type), in words a person reads; a kind not worded here reads as pydantic words it.
SCHEMA_MESSAGES: dict[str, str] = {
    "missing": "The field is required.",
    "extra_forbidden": "The field is not one the request takes.",
    "string_type": "The value is text.",
    "string_too_short": "The text is not empty (or is at least as long as its minimum).",
    "string_too_long": "The text is at most as long as its maximum.",
    "string_pattern_mismatch": "The text has the form the field describes.",
    "int_type": "The value is a whole number.",
    "int_parsing": "The value is a whole number.",
    "int_from_float": "The value is a whole number, without a fraction.",
    "float_type": "The value is a number.",
    "float_parsing": "The value is a number.",
    "bool_type": "The value is true or false.",
    "bool_parsing": "The value is true or false.",
    "greater_than": "The number is above its minimum.",
    "greater_than_equal": "The number is at least its minimum.",
    "less_than": "The number is below its maximum.",
    "less_than_equal": "The number is at most its maximum.",
    "list_type": "The value is a list.",
    "tuple_type": "The value is a list.",
    "set_type": "The value is a list of different items.",
    "too_short": "The list has at least its minimum number of items.",
    "too_long": "The list has at most its maximum number of items.",
    "dict_type": "The value is an object.",
    "model_type": "The value is an object.",
    "model_attributes_type": "The value is an object.",
    "enum": "The value is one of those the field lists.",
    "literal_error": "The value is one of those the field lists.",
    "uuid_type": "The value is a UUID.",
    "uuid_parsing": "The value is a UUID.",
    "uuid_version": "The value is a UUID of the version the field names.",
    "datetime_type": "The value is an instant (e.g. `2025-03-04T09:00:00+11:00`).",
    "datetime_parsing": "The value is an instant (e.g. `2025-03-04T09:00:00+11:00`).",
    "datetime_from_date_parsing": "The value is an instant (e.g. `2025-03-04T09:00:00+11:00`).",
    "datetime_object_invalid": "The value is an instant that exists.",
    "timezone_aware": "The instant carries a UTC offset (e.g. `+11:00`).",
    "timezone_naive": "The instant carries no UTC offset.",
    "date_type": "The value is a date (e.g. `2025-03-04`).",
    "date_parsing": "The value is a date (e.g. `2025-03-04`).",
    "date_from_datetime_parsing": "The value is a date (e.g. `2025-03-04`).",
    "json_invalid": "The body is JSON.",
    "json_type": "The value is JSON text.",
    "value_error": "The value is one the field allows (the message says why not).",
    "assertion_error": "The value is one the field allows (the message says why not).",
    "union_tag_invalid": "The object's kind is one of those the field lists.",
    "union_tag_not_found": "The object names its kind.",
    "url_parsing": "The value is a URL.",
    "url_type": "The value is a URL.",
}


def schema_rules() -> dict[str, str]:
    """`schema.<kind>` for every error type pydantic can report, with what it requires."""
    found = {}
    for kind in typing.get_args(ErrorType):
        message = SCHEMA_MESSAGES.get(kind)
        if message is None:
            # Pydantic's own wording, a number it would fill in (`{max_length}`) shown as N.
            template = _PYDANTIC_MESSAGES.get(kind, kind.replace("_", " ").capitalize())
            template = template.replace("{expected_plural}", "s")
            message = re.sub(r"\{\w+\}", "N", template).rstrip(".") + "."
        found[f"schema.{kind}"] = message
    return found


_PYDANTIC_MESSAGES = {e["type"]: e["message_template_python"] for e in list_all_errors()}


def problem_type(slug: str) -> str:
    """The `type` URI of a problem (a policy rule id or one of `API_PROBLEMS`)."""
    return TYPE_BASE + slug


def catalogue() -> list[dict[str, str]]:
    """Every rule and problem a request can be refused with: the body of `GET /v1/rules`."""
    items = [
        {
            "id": e.id,
            "section": e.section,
            "title": e.title,
            "message": e.message,
            "type": problem_type(e.id),
        }
        for e in CATALOGUE.values()
    ]
    items += [
        {
            "id": slug,
            "section": "api",
            "title": title,
            "message": message,
            "type": problem_type(slug),
        }
        for slug, (_, title, message) in API_PROBLEMS.items()
    ]
    items += [
        {
            "id": rule,
            "section": "api",
            "title": rule,
            "message": message,
            "type": problem_type("validation"),
        }
        for rule, message in (FIELD_RULES | schema_rules()).items()
    ]
    return items


ERROR_MEANINGS = {
    400: "The request cannot be read (bad JSON, a duplicate key, or If-Match and "
    "expected_version disagree).",
    401: "No valid bearer token.",
    403: "The caller's role, organisation or appointment does not allow this.",
    404: "No such incident (or not visible to the caller), command or feed.",
    409: "The body's `expected_version` is stale (`current_version` says where the incident "
    "is), or a request with the same Idempotency-Key is in progress.",
    412: "`If-Match` is stale: `current_version` says where the incident is.",
    413: "The body is too large (a document: over `CIMS_DOCUMENT_MAX_BYTES`).",
    415: "The document's type (sniffed from its bytes) is not one the ledger keeps.",
    422: "A field breaks the schema, or a policy rule refuses the command (`rule` names it; "
    "see `GET /v1/rules`).",
    428: "Neither `expected_version` nor `If-Match` was sent.",
    429: "Too many requests; retry after `Retry-After`.",
    431: "A request header is too large.",
    503: "The store is unavailable; nothing was recorded; retry after `Retry-After`.",
}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of an operation for these error statuses, each a Problem."""
    return {
        code: {
            "description": ERROR_MEANINGS[code],
            "content": {"application/problem+json": {"schema": PROBLEM_REF}},
        }
        for code in codes
    }


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
        # Whether the refusal is in the access log already (else a 403 is logged on its way out).
        self.logged = False


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
        "type": problem_type(problem.slug),
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
                RULE_STATUS.get(exc.rule_id, 422),
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
                "idempotency.key-reused",
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


async def _log_refusal(request: Request) -> None:
    """Every refused attempt of a caller who signed in is accounted for: a 403 that no read
    logged already (a role refused a feed, the access log, a legacy import, a report) is
    written to the access log, naming the endpoint, before it is answered."""
    actor = getattr(request.state, "actor", None)
    if actor is None:
        return
    route = getattr(request.scope.get("route"), "path", request.url.path)
    try:
        incident: UUID | None = UUID(str(request.path_params.get("incident_id")))
    except ValueError:
        incident = None
    svc = request.app.state.services
    await run_in_threadpool(
        svc.read_models.log_access,
        actor=actor,
        incident_id=incident,
        what=f"{request.method} {route}",
        at=svc.clock(),
        outcome=REFUSED,
    )


def install(app: FastAPI) -> None:
    async def handle(request: Request, exc: Exception) -> JSON:
        problem = _as_problem(exc)
        if problem.slug == "store-unavailable":
            request.app.state.services.breaker.trip()
        if problem.status == 403 and not problem.logged:
            await _log_refusal(request)
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
