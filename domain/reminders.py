"""Reminders: which notices an obligation owes a subscriber, and when the daily digest is due.

Policy source: the CIMS policy exists for "timely and effective responses" (policy §1), and its
deadlines are short (the regulator's short form by close of business the next business day, §6;
the incident report within three business days, §5a). A reminder tells the people who must act
before a deadline passes, and again once it has.

Everything here is pure: the caller gives the obligations as they stand (from the reminders read
model), the subscriptions and the clock. Each notice has a key — (subscription, incident,
obligation, due moment, threshold) — that the outbox holds unique, so a notice is owed once: a
restart, a second worker or a later run finds it already queued. An extension moves the due
moment, so the key changes and the notice is owed again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from domain.calendar import business_days_after, business_days_until, is_business_day
from domain.policy_table import MELBOURNE


class Threshold(StrEnum):
    """The moments a subscriber is told about an obligation."""

    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    DIGEST = "digest"


class Scope(StrEnum):
    """What a subscription covers."""

    WORKLIST = "worklist"  # every owed obligation of incidents the organisation is on
    NAMED = "named"  # only incidents the person is named on (investigator, outcome reviewer)


@dataclass(frozen=True)
class Subscription:
    """A person's standing request for reminders, by email."""

    id: str
    email: str
    organisation: str
    subject: str
    scope: Scope
    since: datetime  # when it was made: what was already overdue then comes in the digest


@dataclass(frozen=True)
class OwedObligation:
    """One obligation as the reminders read model holds it: unsettled, on a live incident."""

    incident_id: str
    kind: str
    organisation: str
    other_provider: str | None
    due: datetime
    named: frozenset[tuple[str, str]]  # (organisation, subject) of the investigator, reviewer


@dataclass(frozen=True)
class Notice:
    """A notice owed to one subscription: about one obligation, or (a digest) about several."""

    subscription: Subscription
    threshold: Threshold
    key: str
    obligations: tuple[OwedObligation, ...]


def covers(subscription: Subscription, owed: OwedObligation) -> bool:
    """Whether a subscription may hear of an obligation: never another organisation's
    incident; for `named`, only incidents that name the person (as investigator or reviewer)."""
    on_incident = subscription.organisation in (owed.organisation, owed.other_provider)
    if not on_incident:
        return False
    if subscription.scope is Scope.NAMED:
        return (subscription.organisation, subscription.subject) in owed.named
    return True


def due_soon(owed: OwedObligation, *, now: datetime, lead_business_days: int, cob: time) -> bool:
    """Not yet due, and due by close of business `lead_business_days` business days after today."""
    return now < owed.due <= business_days_after(now, lead_business_days, cob)


def notice_key(subscription: Subscription, owed: OwedObligation, threshold: Threshold) -> str:
    """The notice's identity: one per subscription, obligation, due moment and threshold."""
    due = owed.due.isoformat()
    return f"{subscription.id}|{owed.incident_id}|{owed.kind}|{due}|{threshold.value}"


def notices_owed(
    subscriptions: Iterable[Subscription],
    owed: Iterable[OwedObligation],
    *,
    now: datetime,
    lead_business_days: int,
    cob: time,
) -> list[Notice]:
    """The due-soon and overdue notices each subscription is owed now, one per obligation and
    threshold. An obligation past due is owed only its overdue notice (a due-soon notice it
    never got is no longer worth sending), and only when it fell overdue after the
    subscription began: what was overdue before then is in the daily digest, not a flood of
    notices on the day someone subscribes."""
    found: list[Notice] = []
    owed = list(owed)
    for subscription in subscriptions:
        for item in owed:
            if not covers(subscription, item):
                continue
            if item.due <= now:
                if item.due <= subscription.since:
                    continue
                threshold = Threshold.OVERDUE
            elif due_soon(item, now=now, lead_business_days=lead_business_days, cob=cob):
                threshold = Threshold.DUE_SOON
            else:
                continue
            key = notice_key(subscription, item, threshold)
            found.append(Notice(subscription, threshold, key, (item,)))
    return found


def digest_day(now: datetime, at: time) -> date | None:
    """The Melbourne day whose digest is due at `now`: today when today is a business day and
    it is `at` or later; None otherwise (weekends and Victorian public holidays have none)."""
    local = now.astimezone(MELBOURNE)
    if not is_business_day(local.date()) or local.time() < at:
        return None
    return local.date()


def end_of_week(day: date) -> datetime:
    """The end of the Melbourne week (Sunday midnight) that `day` is in, as an instant."""
    sunday_midnight = datetime.combine(day + timedelta(days=7 - day.weekday()), time(0))
    return sunday_midnight.replace(tzinfo=MELBOURNE)


def digests_owed(
    subscriptions: Iterable[Subscription],
    owed: Iterable[OwedObligation],
    *,
    now: datetime,
    at: time,
) -> list[Notice]:
    """The digest each subscription is owed today (at `at` Melbourne time on business days):
    what is overdue and what falls due by the end of this week, overdue first then by due
    moment. Nothing owed, no digest."""
    day = digest_day(now, at)
    if day is None:
        return []
    week_ends = end_of_week(day)
    owed = sorted(owed, key=lambda o: (o.due, o.incident_id, o.kind))
    found: list[Notice] = []
    for subscription in subscriptions:
        items = tuple(o for o in owed if covers(subscription, o) and o.due < week_ends)
        if items:
            key = f"{subscription.id}|digest|{day.isoformat()}"
            found.append(Notice(subscription, Threshold.DIGEST, key, items))
    return found


def when_due(owed: OwedObligation, *, now: datetime) -> str:
    """How a person reads the due moment: Melbourne time and how far off in business days
    ("Tue 9 Dec 2025, 5:00 pm — in 1 business day", "… — 2 days overdue")."""
    local = owed.due.astimezone(MELBOURNE)
    shown = f"{local:%a} {local.day} {local:%b %Y}, {local:%I:%M %p}".replace(" 0", " ")
    shown = shown.replace("AM", "am").replace("PM", "pm")
    if owed.due <= now:
        days = (now.astimezone(MELBOURNE).date() - local.date()).days
        late = "overdue today" if days == 0 else f"{days} day{'s' * (days != 1)} overdue"
        return f"{shown} — {late}"
    ahead = business_days_until(now, owed.due)
    soon = "today" if ahead == 0 else f"in {ahead} business day{'s' * (ahead != 1)}"
    return f"{shown} — {soon}"
