"""Honest times: when a command says something happened in the world (design "Times" contract).

Policy §5a and §8 measure deadlines from when the provider became aware, and an auditor reads
when each step happened. So an instant a command carries is refused when it lies in the future
(beyond a small clock skew, a policy-table number), when it claims a step happened before the
provider became aware of the incident, or when it lies outside the range every view can show in
Australia/Melbourne time. A step recorded more than a policy-table number of business days after
the effective time it claims is accepted but flagged `recorded_late`, so backdating shows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from domain.calendar import business_days_after
from domain.errors import PolicyViolation
from domain.policy_table import MELBOURNE, PolicyNumbers

# Every view shows instants in Australia/Melbourne time and as ISO text with a four-digit year:
# anything outside these bounds (e.g. 9999-12-31T23:00Z, which is year 10000 in Melbourne) is not
# a time a CIMS record can truthfully carry. A technical bound, not a policy number.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
# Instants that name a deadline, not something that happened: they may lie in the future.
FORWARD_LOOKING = frozenset({"new_due"})


def require_displayable(moment: datetime | date, field: str) -> None:
    """Every instant accepted can be shown in Melbourne time by every view (API, CLI, bundle)."""
    day = moment.date() if isinstance(moment, datetime) else moment
    try:
        inside = (
            EARLIEST <= moment < LATEST
            if isinstance(moment, datetime)
            else EARLIEST.date() <= day < LATEST.date()
        )
    except OverflowError:  # its UTC instant lies before year 1 or after 9999 (0001-01-01+14:00)
        inside = False
    if not inside:
        raise PolicyViolation(
            "time.out-of-range",
            f"{field} must lie between {EARLIEST.year} and {LATEST.year - 1}",
            field=field,
        )


def require_not_in_future(
    moment: datetime | date, *, now: datetime, policy: PolicyNumbers, field: str
) -> None:
    """Nothing is recorded as having happened after it was recorded (beyond the clock skew); a
    day (a date of birth, an endorsement's day) no later than today in Melbourne."""
    latest = now + timedelta(seconds=policy.clock_skew_seconds)
    if isinstance(moment, datetime):
        late = moment > latest
    else:
        late = moment > latest.astimezone(MELBOURNE).date()
    if late:
        raise PolicyViolation(
            "time.effective-in-future", f"{field} lies in the future", field=field
        )


def require_not_before_aware(
    effective_at: datetime, *, became_aware_at: datetime, field: str = "effective_at"
) -> None:
    """A step on an incident happens no earlier than the provider became aware of it (§5a)."""
    if effective_at < became_aware_at:
        raise PolicyViolation(
            "time.effective-before-aware",
            f"{field} is earlier than the provider became aware of the incident"
            f" ({became_aware_at.isoformat()})",
            field=field,
        )


def require_honest_times(
    args: Mapping[str, Any],
    *,
    effective_at: datetime | None,
    now: datetime,
    became_aware_at: datetime | None,
    policy: PolicyNumbers,
) -> None:
    """One rule for every command: each instant it carries is displayable and not in the future
    (deadlines excepted), and its effective time is not before the provider became aware."""
    found = list(instants(args))
    if effective_at is not None:
        found.append(("effective_at", effective_at))
    for field, moment in found:
        require_displayable(moment, field)
    for field, moment in found:
        if field.rsplit(".", 1)[-1] not in FORWARD_LOOKING:
            require_not_in_future(moment, now=now, policy=policy, field=field)
    if effective_at is not None and became_aware_at is not None:
        require_not_before_aware(effective_at, became_aware_at=became_aware_at)


def recorded_late(effective_at: datetime, recorded_at: datetime, policy: PolicyNumbers) -> bool:
    """True when a step was recorded more than the allowed business days after the time it
    says it happened: close of business on that many business days after its effective day."""
    allowed = business_days_after(
        effective_at, policy.late_recording_business_days, policy.close_of_business
    )
    return recorded_at > allowed


def instants(value: Any, path: str = "") -> Iterator[tuple[str, datetime | date]]:
    """Every date and instant inside a command's arguments, with its dotted field path (a list
    item by its index, "clients.0.date_of_birth", as a request's own field errors name it)."""
    if isinstance(value, datetime | date):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from instants(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from instants(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple | set | frozenset):
        for n, item in enumerate(value):
            yield from instants(item, f"{path}.{n}" if path else str(n))
