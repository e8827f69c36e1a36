"""Deadlines as a person reads them: "due in 2 business days", "3 days overdue".

The front end shows these without computing the Victorian calendar itself: each open obligation
the API returns carries `business_days_left` (business days from today, Melbourne, to the due
day; 0 when due today) or, once past due, `days_overdue` (Melbourne calendar days since the due
day; 0 when it fell due earlier today). Both are null for settled or undated obligations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.calendar import business_days_until, calendar_days_since
from domain.obligations import Status


def _instant(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def annotate(obligation: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The obligation with `business_days_left` and `days_overdue` added (see the module)."""
    due = _instant(obligation.get("due"))
    left = overdue = None
    if due is not None and obligation.get("status") in (Status.OPEN, Status.OVERDUE):
        if due >= now:
            left = business_days_until(now, due)
        else:
            overdue = calendar_days_since(due, now)
    return {**obligation, "business_days_left": left, "days_overdue": overdue}


def annotate_all(obligations: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Each obligation annotated as `annotate` does."""
    return [annotate(o, now) for o in obligations]
