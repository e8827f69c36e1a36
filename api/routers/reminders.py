"""Reminder subscriptions: who is emailed when an obligation comes due or falls overdue.

A signed-in person subscribes an email address (their token's `email` claim unless they give
another) to reminders for their organisation's worklist, or only for incidents they are named on
(investigator, outcome reviewer). An incident manager sees and ends their organisation's
subscriptions. Subscribing and ending are recorded with who and when. The notices themselves
are sent by `cims reminders run` (see README, "Reminders").
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any, Literal

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api import authorisation as authz
from api import paging
from api.deps import ActorDep, ServicesDep
from api.problems import Problem, error_responses, invalid
from api.query import strict_query
from domain.reminders import Scope, Subscription
from domain.values import Actor, Role
from projections.db import Db
from projections.reminder_delivery import Reminders, SubscriptionNotFound

router = APIRouter(prefix="/v1/reminders", tags=["reminders"], dependencies=[Depends(strict_query)])

# Who may hold a subscription: the people who act on incidents. Regulators receive feeds and
# auditors read; neither has a worklist to be reminded of.
SUBSCRIBERS = frozenset(
    {
        Role.REPORTER,
        Role.INCIDENT_MANAGER,
        Role.DEPARTMENT_OFFICER,
        Role.INVESTIGATOR,
        Role.REVIEWER,
    }
)
# Who sees and ends every subscription of their own organisation.
ORGANISATION_MANAGERS = frozenset({Role.INCIDENT_MANAGER})
EMAIL_MAX = 254


def open_reminders(db: Db) -> Reminders:
    """The subscriptions and outbox on the app's store (their tables made, at start-up)."""
    return Reminders(db)


async def _kept(request: Request) -> Reminders:
    found: Reminders = request.app.state.reminders
    return found


RemindersDep = Annotated[Reminders, Depends(_kept)]


def outbox_counts(reminders: Reminders) -> dict[str, int]:
    """The outbox's notices by status, and how many pending ones have failed at least once
    (`retrying`), for the metrics."""
    found = reminders.status()
    return {k: found[k] for k in ("pending", "sent", "failed", "cancelled", "retrying")}


class NewSubscription(BaseModel):
    """A subscription to make for the caller."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(
        None,
        max_length=EMAIL_MAX,
        description="Where to send reminders; the sign-in token's email when left out.",
        examples=["mel.manager@northside.example"],
    )
    scope: Literal["worklist", "named"] = Field(
        "worklist",
        description="`worklist`: every owed obligation of the organisation's incidents; "
        "`named`: only incidents naming the caller as investigator or outcome reviewer.",
    )


class SubscriptionOut(BaseModel):
    """A subscription in force."""

    id: str
    email: str
    organisation: str
    subject: str = Field(description="The person subscribed (their sign-in subject).")
    scope: Literal["worklist", "named"]
    since: datetime


class EndedSubscription(SubscriptionOut):
    """A subscription just ended."""

    ended_at: datetime


class SubscriptionList(BaseModel):
    items: list[SubscriptionOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor=` for the next page; null on the last."
    )


class SubscriptionLogEntry(BaseModel):
    """One subscribing or ending: whose subscription, who did it and when."""

    subscription_id: str
    action: Literal["subscribed", "ended"]
    email: str
    subject: str
    scope: Literal["worklist", "named"]
    actor_id: str
    actor_role: str
    actor_organisation: str
    at: str


class SubscriptionLog(BaseModel):
    items: list[SubscriptionLogEntry]
    next_cursor: str | None = Field(
        description="Pass as `cursor=` for the next page; null on the last."
    )


class SentReminder(BaseModel):
    """A notice queued for the caller, and how its delivery went."""

    id: str = Field(description="The notice's id (the same notice always has the same id).")
    threshold: Literal["due_soon", "overdue", "digest"]
    incident_ids: list[str]
    obligations: list[str]
    queued_at: str
    status: Literal["pending", "sent", "failed", "cancelled"] = Field(
        description="`pending` (waiting or retrying), `sent`, `failed` (the address was "
        "refused) or `cancelled` (met, withdrawn or extended before it went)."
    )
    sent_at: str | None
    subject: str | None = Field(description="The email's subject line, once sent.")
    attempts: int


class SentReminders(BaseModel):
    items: list[SentReminder]
    next_cursor: str | None = Field(
        description="Pass as `cursor=` for the next (older) page; null on the last."
    )


def _out(s: Subscription) -> dict[str, Any]:
    return {
        "id": s.id,
        "email": s.email,
        "organisation": s.organisation,
        "subject": s.subject,
        "scope": s.scope.value,
        "since": s.since,
    }


def _require_subscriber(actor: Actor) -> None:
    authz.require_role(actor, SUBSCRIBERS, "subscribe to reminders")


def _address(given: str | None, request: Request, svc: Any) -> str:
    email = given or svc.verifier.email(request.headers.get("authorization"))
    if not email:
        raise invalid(
            "email",
            "reminders.email-required",
            "give an email address: your sign-in does not carry one",
        )
    try:
        return str(validate_email(email, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise invalid("email", "reminders.email-invalid", f"not an email address: {exc}") from None


@router.post(
    "/subscriptions",
    status_code=201,
    summary="Subscribe to reminders of what is due soon and overdue.",
    response_model=SubscriptionOut,
    responses=error_responses(400, 401, 403, 413, 422, 429, 431, 503),
)
async def subscribe(
    body: NewSubscription,
    request: Request,
    svc: ServicesDep,
    actor: ActorDep,
    reminders: RemindersDep,
) -> dict[str, Any]:
    """Subscribe the caller: a notice when an owed obligation of their organisation's incidents
    (or, with `scope` `named`, of incidents naming them) comes due within the next business
    day, another when it falls overdue, and a digest at 07:30 Melbourne time on business days
    of what is due this week and overdue. Never about another organisation's incidents; no
    client detail in any email. 422 `reminders.email-required` / `reminders.email-invalid`."""
    _require_subscriber(actor)
    email = _address(body.email, request, svc)
    subscription_id = await run_in_threadpool(
        reminders.subscribe,
        email=email,
        organisation=actor.organisation,
        subject=actor.id,
        scope=Scope(body.scope),
        actor=(actor.id, actor.role.value, actor.organisation),
        now=svc.clock(),
    )
    found = {s.id: s for s in await run_in_threadpool(reminders.subscriptions)}
    return _out(found[subscription_id])


@router.get(
    "/subscriptions",
    summary="List the caller's subscriptions (a manager: the organisation's).",
    response_model=SubscriptionList,
    responses={200: {"headers": paging.LINK}, **error_responses(401, 403, 422, 429, 431, 503)},
)
async def subscriptions(
    request: Request,
    response: Response,
    svc: ServicesDep,
    actor: ActorDep,
    reminders: RemindersDep,
    cursor: paging.Cursor = None,
    limit: paging.Limit = 100,
) -> dict[str, Any]:
    """The subscriptions in force, oldest first: the caller's own, or, for an incident manager,
    every one of their organisation's."""
    _require_subscriber(actor)
    found = await run_in_threadpool(reminders.subscriptions, actor.organisation)
    mine = actor.role in ORGANISATION_MANAGERS
    items = [_out(s) for s in found if mine or s.subject == actor.id]
    page, next_cursor = paging.page_of(sorted(items, key=_by_since), _by_since, cursor, limit)
    return paging.answer(request, response, page, next_cursor)


def _by_since(item: dict[str, Any]) -> list[Any]:
    return [item["since"].isoformat(), item["id"]]


@router.post(
    "/subscriptions/{subscription_id}/end",
    summary="End a subscription.",
    response_model=EndedSubscription,
    responses=error_responses(400, 401, 403, 404, 413, 422, 429, 431, 503),
)
async def end(
    subscription_id: Annotated[str, Path(max_length=64)],
    svc: ServicesDep,
    actor: ActorDep,
    reminders: RemindersDep,
) -> dict[str, Any]:
    """End one of the caller's subscriptions (an incident manager: any of their organisation's);
    recorded with who and when. 404 for one that is not in force or not theirs to end."""
    _require_subscriber(actor)

    def may_end(s: Subscription) -> bool:
        same_org = s.organisation == actor.organisation
        return same_org and (s.subject == actor.id or actor.role in ORGANISATION_MANAGERS)

    now = svc.clock()
    try:
        ended = await run_in_threadpool(
            reminders.end,
            subscription_id,
            actor=(actor.id, actor.role.value, actor.organisation),
            may_end=may_end,
            now=now,
        )
    except SubscriptionNotFound:
        raise Problem(
            404,
            "subscription-not-found",
            "No such subscription",
            "no reminder subscription in force with this id is yours to end",
        ) from None
    return {**_out(ended), "ended_at": now}


@router.get(
    "/subscriptions/log",
    summary="List every subscribing and ending in the caller's organisation.",
    response_model=SubscriptionLog,
    responses={200: {"headers": paging.LINK}, **error_responses(401, 403, 422, 429, 431, 503)},
)
async def subscription_log(
    request: Request,
    response: Response,
    svc: ServicesDep,
    actor: ActorDep,
    reminders: RemindersDep,
    cursor: paging.Cursor = None,
    limit: paging.Limit = 100,
) -> dict[str, Any]:
    """Who subscribed or ended which subscription, and when, oldest first (incident managers
    only)."""
    authz.require_role(actor, ORGANISATION_MANAGERS, "read the organisation's subscriptions")
    items = await run_in_threadpool(reminders.subscription_log, actor.organisation)
    numbered = list(enumerate(items))
    page, next_cursor = paging.page_of(numbered, lambda i: [i[0]], cursor, limit)
    return paging.answer(request, response, [entry for _, entry in page], next_cursor)


@router.get(
    "/sent",
    summary="List the reminders queued for the caller, newest first.",
    response_model=SentReminders,
    responses={200: {"headers": paging.LINK}, **error_responses(401, 403, 422, 429, 431, 503)},
)
async def sent(
    request: Request,
    response: Response,
    svc: ServicesDep,
    actor: ActorDep,
    reminders: RemindersDep,
    cursor: paging.Cursor = None,
    limit: paging.Limit = 100,
) -> dict[str, Any]:
    """What was (or is waiting to be) sent to the caller, newest first: each notice's
    threshold, the incidents and obligations it was about, when it was queued and sent, and
    how delivery went (the latest 1,000)."""
    _require_subscriber(actor)
    rows = await run_in_threadpool(reminders.sent_to, actor.organisation, actor.id, limit=1000)
    items = [
        {
            "id": hashlib.sha256(r["key"].encode()).hexdigest()[:16],
            "threshold": r["threshold"],
            "incident_ids": [i["incident_id"] for i in r["items"]],
            "obligations": [i["kind"] for i in r["items"]],
            "queued_at": r["queued_at"],
            "status": r["status"],
            "sent_at": r["sent_at"],
            "subject": r["subject"],
            "attempts": r["attempts"],
        }
        for r in rows
    ]
    items.sort(key=_newest_first, reverse=True)
    page, next_cursor = paging.page_of(items, _newest_first, cursor, limit, descending=True)
    return paging.answer(request, response, page, next_cursor)


def _newest_first(item: dict[str, Any]) -> list[Any]:
    return [item["queued_at"], item["id"]]
