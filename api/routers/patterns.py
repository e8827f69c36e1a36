"""Patterns of harm across one client's incidents, and the old system's records brought in.

Who sees what: a provider's incident manager sees its own organisation's incidents only, found
by the client's ref or the department's client identifier; a department officer sees every
provider's, joined across providers by the department identifier only. A provider's answers are
built from its own incidents alone, so they never tell it that another provider has any.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any, cast
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from api import authorisation as authz
from api import paging, reads
from api import resources as out
from api.deps import ActorDep, Services, ServicesDep
from api.idempotency import Stored
from api.paging import LINK, Cursor, DeprecatedAfter, Limit
from api.problems import Problem, invalid
from api.query import instant, strict_query
from api.routers.incidents import (
    COMMAND_ERRORS,
    READ_ERRORS,
    IdempotencyKey,
    MinPosition,
    accepted_body,
    idempotent,
    read_models_at,
    request_stamp,
)
from api.schemas import Body, ReportIn
from domain.legacy_records import HeaderRefused, RowRefused, legacy_csv
from domain.policy_table import policy_at
from domain.values import DEPARTMENT_CLIENT_ID_PATTERN, Actor, Role
from ledger import patterns, spreadsheet
from ledger.application import Accepted
from ledger.legacy_import import Outcome as ImportOutcome
from ledger.legacy_import import RowResult, Summary, import_rows
from ledger.receipts import CommandKey
from projections.audit_trail import REFUSED

router = APIRouter(prefix="/v1", tags=["patterns"], dependencies=[Depends(strict_query)])
PATTERN_ROLES = frozenset({Role.INCIDENT_MANAGER, Role.DEPARTMENT_OFFICER})
Ids = Annotated[list[UUID], Field(min_length=2, max_length=50)]


class EscalationIn(ReportIn):
    """Report a new major-impact incident for a pattern of harm formed by `pattern_of`."""

    pattern_of: Ids = Field(description="The incidents forming the pattern (at least two).")
    reason: str = Field(
        min_length=1, max_length=50_000, description="Why together they reach major impact."
    )


class DismissalIn(Body):
    """Dismiss a possible pattern: these incidents, with the reason."""

    incident_ids: Ids = Field(description="The incidents the suggestion named.")
    reason: str = Field(
        min_length=1, max_length=50_000, description="Why they are not a pattern of harm."
    )


class ImportRow(out.Resource):
    """What became of one row of a legacy file."""

    line: int = Field(description="The row's line in the file (the header is line 1).")
    legacy_id: str = Field(description="The row's id in the old system.")
    outcome: ImportOutcome = Field(description="What became of the row.")
    incident_id: UUID | None = Field(description="The incident it is (or would be) recorded as.")
    reason: str | None = Field(description="Why it was refused or reported changed.")
    rule: str | None = Field(description="The rule id that refused it (see `GET /v1/rules`).")
    unresolved_legacy_types: list[str] = Field(
        description="Split legacy types left for a person to choose."
    )
    removed_legacy_types: list[str] = Field(
        description="Legacy labels that are no longer types: kept and flagged."
    )


class ImportSummary(out.Resource):
    """How many rows came to each outcome."""

    imported: int = Field(description="Rows recorded as new incidents.")
    unchanged: int = Field(description="Rows already recorded, the same.")
    changed: int = Field(description="Rows already recorded, different: reported, not written.")
    unresolved: int = Field(description="Imported rows with a split legacy type to resolve.")
    refused: int = Field(description="Rows refused, each with its line and reason.")


class DismissedIncident(out.Resource):
    id: UUID = Field(description="The incident's id.")
    version: int = Field(description="Its version after the dismissal was recorded on it.")
    position: int | None = Field(description="That event's position in the ledger's log.")


class ClientNamed(out.Resource):
    client_ref: str | None = Field(description="The provider's client ref asked about.")
    organisation: str | None = Field(description="The organisation the ref belongs to.")
    department_client_id: str | None = Field(description="The department identifier asked.")


class Window(out.Resource):
    days: int = Field(description="How many days before `until` the view reaches back.")
    since: datetime = Field(description="The window's start.")
    until: datetime = Field(description="The window's end.")


class PatternView(out.Resource):
    """One client's incidents, oldest first, within a window."""

    client: ClientNamed = Field(description="How the client was named.")
    window: Window = Field(description="The window the incidents lie in.")
    count: int = Field(description="How many incidents in the window (all the caller may see).")
    items: list[out.PatternIncident] = Field(description="This page of them, oldest first.")
    next_cursor: str | None = Field(description="Pass as `cursor=` for the next page; null at end.")


class Suggestions(out.Resource):
    """Possible patterns for a person to decide on."""

    items: list[out.PossiblePattern] = Field(
        description="Possible patterns: the incidents named (oldest first), the client, and the"
        " policy's window and count."
    )
    next_cursor: str | None = Field(description="Pass as `cursor=` for the next page; null at end.")


class EscalationAccepted(out.Accepted):
    linked: list[UUID] = Field(description="The incidents linked to the new incident.")


class Dismissed(out.Resource):
    dismissal_id: UUID = Field(description="The dismissal, recorded on each incident.")
    incidents: list[DismissedIncident] = Field(
        description="Each incident's id, new version and log position."
    )


class LegacyImportOut(out.Resource):
    dry_run: bool = Field(description="True: nothing was written.")
    summary: ImportSummary = Field(description="How many rows came to each outcome.")
    results: list[ImportRow] = Field(description="Each row's outcome, in file order.")
    refused_csv: str = Field(description="The refused rows as CSV, with a `reason` column.")


class Unresolved(out.Resource):
    items: list[out.PatternIncident] = Field(
        description="Imported incidents with a split legacy type unresolved."
    )
    next_cursor: str | None = Field(description="Pass as `cursor=` for the next page; null at end.")
    next_after: str | None = Field(
        default=None,
        deprecated=True,
        description="Deprecated (this release only): `next_cursor` by its old name.",
    )


class LegacyImportIn(Body):
    """A CSV export of the 2018 system (README: "Importing the old system's records")."""

    # Bounded by the API's body limit in any case; a bigger file goes through the CLI.
    csv: str = Field(
        min_length=1, max_length=1_000_000, description="the file's text, header line first"
    )
    dry_run: bool = Field(default=False, description="Decide every row, write none.")


async def _scope(svc: Services, actor: Actor, what: str) -> set[str] | None:
    """The organisations whose incidents the caller's pattern answers are built from; a
    refusal is written to the access log before it is answered."""
    try:
        authz.refuse_regulators(actor)
        authz.require_role(actor, PATTERN_ROLES, "work with patterns of harm")
    except Problem as refused:
        await run_in_threadpool(
            svc.read_models.log_access,
            actor=actor,
            incident_id=None,
            what=what,
            at=svc.clock(),
            outcome=REFUSED,
        )
        refused.logged = True
        raise
    return None if actor.role == Role.DEPARTMENT_OFFICER else {actor.organisation}


@router.get(
    "/patterns/clients",
    summary="Show one client's incidents in time order, within a window.",
    response_model=None,
    responses={200: {"model": PatternView, "headers": LINK}, **READ_ERRORS},
)
async def client_incidents(
    svc: ServicesDep,
    actor: ActorDep,
    request: Request,
    response: Response,
    client_ref: Annotated[
        str | None, Query(min_length=1, max_length=200, description="A provider's client ref.")
    ] = None,
    organisation: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="The organisation the ref belongs to."),
    ] = None,
    department_client_id: Annotated[
        str | None,
        Query(
            pattern=DEPARTMENT_CLIENT_ID_PATTERN,
            max_length=10,
            description="The department's client identifier (6 to 10 digits).",
        ),
    ] = None,
    window_days: Annotated[
        int | None,
        Query(ge=1, le=36_500, description="Days back from `until` (default: the policy's)."),
    ] = None,
    until: Annotated[
        datetime | None, Query(description="The window's end, with an offset (default: now).")
    ] = None,
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """A client's incidents (type, impact, stage, outcome), oldest first by when the provider
    became aware, within `window_days` (default: the policy table's pattern window) up to
    `until` (default now). Name the client by `client_ref` (with `organisation`, which for a
    provider is its own) or by `department_client_id`. A provider is answered from its own
    incidents only; across providers only a department officer, by the department identifier.
    Each incident listed is logged as read. 403 for other roles; 422 without a client. Paged
    as every list (api/paging.py); `count` counts the whole window."""
    scope = await _scope(svc, actor, "list:pattern")
    if client_ref is None and department_client_id is None:
        raise invalid(
            "client_ref", "patterns.client-required", "give client_ref or department_client_id"
        )
    if until is not None:
        until = instant(until, "until")
    if scope is not None:
        if organisation not in (None, actor.organisation):
            raise Problem(403, "forbidden", "Forbidden", "a provider sees its own incidents only")
        organisation = actor.organisation
    elif client_ref is not None and organisation is None:
        raise invalid(
            "organisation",
            "patterns.organisation-required",
            "a client ref belongs to one organisation: name it",
        )
    now = svc.clock()
    high = until or now
    days = window_days or policy_at(now).pattern_window_days
    await read_models_at(svc, min_position)
    items = await run_in_threadpool(
        svc.read_models.client_incidents,
        organisations=scope,
        client_ref=client_ref,
        organisation=organisation,
        department_client_id=department_client_id,
        since=high - timedelta(days=days),
        until=high,
    )
    page, next_cursor = paging.page_of(
        items, lambda i: [i["became_aware_at"], i["id"]], cursor, limit
    )
    await reads.log_listed(svc, actor, "list:pattern", page, "id")
    response.headers["X-Projection-Position"] = str(svc.read_models.position())
    return {
        "client": {
            "client_ref": client_ref,
            "organisation": organisation if client_ref else None,
            "department_client_id": department_client_id,
        },
        "window": {"days": days, "since": high - timedelta(days=days), "until": high},
        "count": len(items),
        **paging.answer(request, response, page, next_cursor),
    }


@router.get(
    "/patterns/suggestions",
    summary="List possible patterns of harm for a person to decide on.",
    response_model=None,
    responses={200: {"model": Suggestions, "headers": LINK}, **READ_ERRORS},
)
async def suggestions(
    svc: ServicesDep,
    actor: ActorDep,
    request: Request,
    response: Response,
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """`possible_pattern` items: the policy table's count of current, unlinked, non-major
    incidents about one client within its window (both in the item), naming the incidents. A
    suggestion is not a decision: escalate it (`POST /v1/patterns/escalations`) or dismiss it
    (`POST /v1/patterns/dismissals`). Incident managers see their organisation's; the
    department sees every provider's. Paged as every list (api/paging.py), by the earliest
    incident each names."""
    scope = await _scope(svc, actor, "list:pattern-suggestions")
    await read_models_at(svc, min_position)
    items = await run_in_threadpool(
        svc.read_models.pattern_suggestions, organisations=scope, now=svc.clock()
    )
    page, next_cursor = paging.page_of(
        sorted(items, key=_suggestion_key), _suggestion_key, cursor, limit
    )
    await log_suggested(svc, actor, page)
    response.headers["X-Projection-Position"] = str(svc.read_models.position())
    return paging.answer(request, response, page, next_cursor)


def _suggestion_key(suggestion: dict[str, Any]) -> list[Any]:
    """A suggestion's place in the list: its earliest incident, then the incidents it names."""
    first = min(i["became_aware_at"] for i in suggestion["incidents"])
    return [first, *sorted(suggestion["incident_ids"])]


async def log_suggested(svc: Services, actor: Actor, suggestions: list[dict[str, Any]]) -> None:
    """Log the read of every incident a list of suggestions names."""
    named = [{"id": i} for s in suggestions for i in s["incident_ids"]]
    await reads.log_listed(svc, actor, "list:pattern-suggestions", named, "id")


def _visible(svc: Services, actor: Actor, ids: list[UUID]) -> None:
    """Each named incident, as the caller may see it: the one 404 for unseen and unknown."""
    for incident_id in ids:
        reads.authorised_history(svc, actor, incident_id, "pattern", roles=PATTERN_ROLES)


@router.post(
    "/patterns/escalations",
    status_code=201,
    summary="Escalate a pattern of harm as a new major-impact incident.",
    response_model=None,
    responses={201: {"model": EscalationAccepted}, **COMMAND_ERRORS},
)
async def escalate(
    body: EscalationIn,
    request: Request,
    svc: ServicesDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Report a new major-impact incident naming the incidents forming the pattern and the
    reason; each of them records that it was linked (all in one transaction). The new incident
    owes what any major incident owes. 404 for an incident the caller cannot see; 422 with the
    rule (`pattern.*`, or any report rule) when the policy refuses."""
    await _scope(svc, actor, "pattern-escalation")

    def run(key: CommandKey | None, _: None) -> Accepted:
        return patterns.escalate(
            svc.ledger,
            stamp=request_stamp(svc, actor),
            key=key,
            pattern_of=body.pattern_of,
            reason=body.reason,
            **body.command_args(),
        )

    def answer(accepted: Accepted) -> Stored:
        found = accepted_body(accepted)
        found["linked"] = [str(i) for i in getattr(accepted.event, "pattern_of", ())]
        return Stored(201, found, {"Location": f"/v1/incidents/{accepted.incident_id}"})

    def authorise() -> None:
        _visible(svc, actor, body.pattern_of)

    return await idempotent(svc, request, actor, idempotency_key, body, run, authorise, answer)


@router.post(
    "/patterns/dismissals",
    summary="Dismiss a possible pattern of harm, with the reason.",
    response_model=None,
    responses={200: {"model": Dismissed}, **COMMAND_ERRORS},
)
async def dismiss(
    body: DismissalIn,
    request: Request,
    svc: ServicesDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Record on each named incident that a person dismissed the possible pattern they form,
    and why; a suggestion naming only these incidents does not return. 404 for an incident the
    caller cannot see; 422 with the rule when the incidents are not about one client. With an
    `Idempotency-Key`, a repeat is answered with the first answer and records nothing."""
    await _scope(svc, actor, "pattern-dismissal")

    def run(key: CommandKey | None, _: None) -> Accepted:
        accepted = patterns.dismiss(
            svc.ledger,
            stamp=request_stamp(svc, actor),
            key=key,
            incident_ids=body.incident_ids,
            reason=body.reason,
        )[1]
        return accepted[0]

    def answer(first: Accepted) -> Stored:
        dismissal_id: UUID = first.event.dismissal_id  # type: ignore[attr-defined]
        recorded = patterns.recorded_dismissal(svc.ledger, body.incident_ids, dismissal_id)
        incidents = [
            {"id": str(a.incident_id), "version": a.version, "position": a.position}
            for a in recorded
        ]
        return Stored(200, {"dismissal_id": str(dismissal_id), "incidents": incidents}, {})

    def authorise() -> None:
        _visible(svc, actor, body.incident_ids)

    # The request's fingerprint is taken from any parsed body, not only a command's.
    parsed = cast(ReportIn, body)
    return await idempotent(svc, request, actor, idempotency_key, parsed, run, authorise, answer)


def _rows(text: str) -> tuple[list[str], Iterator[tuple[int, Mapping[str, str] | RowRefused]]]:
    try:
        return legacy_csv(io.StringIO(text, newline=""))
    except HeaderRefused as refused:
        raise invalid("csv", "legacy.columns-missing", refused.reason) from None


def _result(r: RowResult) -> dict[str, Any]:
    return {
        "line": r.line,
        "legacy_id": r.legacy_id,
        "outcome": r.outcome.value,
        "incident_id": str(r.incident_id) if r.incident_id else None,
        "reason": r.reason,
        "rule": r.rule,
        "unresolved_legacy_types": list(r.unresolved),
        "removed_legacy_types": list(r.removed),
    }


@router.post(
    "/legacy-imports",
    summary="Import the old system's records (department officers only).",
    response_model=None,
    responses={200: {"model": LegacyImportOut}, **COMMAND_ERRORS},
)
async def import_legacy(body: LegacyImportIn, svc: ServicesDep, actor: ActorDep) -> Any:
    """Import a CSV export of the 2018 system, as `cims import legacy` does: each row an
    incident (first event: imported, with source system, legacy id and the row's SHA-256), or
    unchanged (same legacy id, same row), changed (reported, never overwritten) or refused
    (line and reason; the rest still imports). Answers the summary, each row's result and the
    refused rows as CSV with a `reason` column. `dry_run` writes nothing. Department officers
    only (403); the body is bounded by the API's body limit, so big files go through the CLI."""
    authz.require_role(actor, frozenset({Role.DEPARTMENT_OFFICER}), "import legacy records")
    header, rows = _rows(body.csv)
    first = next(rows, None)  # the header is checked before any row is imported

    def run() -> dict[str, Any]:
        summary, results = Summary(), []
        refused = io.StringIO()
        writer: spreadsheet.DictWriter | None = None
        source = [first] if first is not None else []
        for r in import_rows(
            svc.ledger,
            (*source, *rows),
            actor=actor,
            now=svc.clock(),
            dry_run=body.dry_run,
        ):
            summary.count(r)
            results.append(_result(r))
            if r.outcome.value == "refused":
                if writer is None:
                    writer = refused_writer(refused, header)
                writer.writerow({"line": r.line, **r.row, "reason": r.reason})
        return {
            "dry_run": body.dry_run,
            "summary": summary.as_dict(),
            "results": results,
            "refused_csv": refused.getvalue(),
        }

    answer = await run_in_threadpool(run)
    svc.read_models.notify()
    return answer


def refused_writer(out: io.StringIO, columns: list[str]) -> spreadsheet.DictWriter:
    """A CSV of refused rows: the line, the row as it was (no cell a live formula), the reason."""
    writer = spreadsheet.DictWriter(out, fieldnames=["line", *columns, "reason"])
    writer.writeheader()
    return writer


@router.get(
    "/legacy-imports/unresolved",
    summary="List imported records waiting for a split type to be resolved.",
    response_model=None,
    responses={200: {"model": Unresolved, "headers": LINK}, **READ_ERRORS},
)
async def unresolved(
    svc: ServicesDep,
    actor: ActorDep,
    request: Request,
    response: Response,
    cursor: Cursor = None,
    limit: Limit = 100,
    min_position: MinPosition = None,
    after: DeprecatedAfter = None,
) -> dict[str, Any]:
    """Imported incidents with a split legacy type still unresolved, each resolved with
    `POST /v1/incidents/{id}/resolve-legacy-type` (the choice is recorded as an event). Paged
    as every list (api/paging.py): `next_cursor` is null on the last page."""
    text, field = paging.given(cursor, after)
    start = _unresolved_after(text, field)
    scope = await _scope(svc, actor, "list:unresolved-legacy-types")
    await read_models_at(svc, min_position)
    rows = await run_in_threadpool(
        svc.read_models.unresolved_legacy_types,
        organisations=scope,
        limit=limit + 1,
        after=start,
    )
    items = rows[:limit]
    await reads.log_listed(svc, actor, "list:unresolved-legacy-types", items, "id")
    next_cursor = items[-1]["id"] if len(rows) > limit else None
    return {**paging.answer(request, response, items, next_cursor), "next_after": next_cursor}


def _unresolved_after(text: str | None, field: str) -> str:
    """The incident id an unresolved-imports cursor stands for ("" for the first page)."""
    if text is None:
        return ""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise paging.bad_cursor(field) from None
