"""Business days on the Victorian calendar; close of business in Australia/Melbourne."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import holidays

from domain import proclaimed_holidays
from domain.policy_table import MELBOURNE

# The years whose holidays the fingerprint covers: every deadline the ledger computes.
FINGERPRINT_YEARS = range(2017, 2041)


@lru_cache(maxsize=64)
def _victorian_holidays(year: int) -> frozenset[date]:
    # A plain set: a `HolidayBase` lookup parses its key and may load more years each time.
    proclaimed = {p.day for p in proclaimed_holidays.PROCLAIMED_HOLIDAYS if p.day.year == year}
    return frozenset(holidays.country_holidays("AU", subdiv="VIC", years=year)) | proclaimed


@lru_cache(maxsize=64)
def _holiday_names(year: int) -> dict[date, str]:
    names = dict(holidays.country_holidays("AU", subdiv="VIC", years=year).items())
    names.update(
        {p.day: p.name for p in proclaimed_holidays.PROCLAIMED_HOLIDAYS if p.day.year == year}
    )
    return names


def non_business_day_name(day: date) -> str | None:
    """Why `day` is not a business day in Victoria, for a person to read: the public holiday's
    name (a proclaimed one's included), else "Saturday" or "Sunday"; None on a business day."""
    if is_business_day(day):
        return None
    name = _holiday_names(day.year).get(day)
    if name is not None:
        return name
    return "Saturday" if day.weekday() == 5 else "Sunday"


def non_business_days_between(first: date, last: date) -> list[tuple[date, str]]:
    """Each day from `first` to `last` (both included) that is not a business day, by name."""
    found = []
    day = first
    while day <= last:
        name = non_business_day_name(day)
        if name is not None:
            found.append((day, name))
        day += timedelta(days=1)
    return found


def calendar_changed() -> None:
    """Forget the holidays read so far, after the proclaimed list was changed in place."""
    _victorian_holidays.cache_clear()
    _holiday_names.cache_clear()


def calendar_fingerprint() -> str:
    """A digest of the Victorian calendar in force (the `holidays` release's days and the
    proclaimed holidays): read models whose deadlines count business days recompute when it
    changes."""
    days = sorted(d for year in FINGERPRINT_YEARS for d in _victorian_holidays(year))
    text = ",".join(d.isoformat() for d in days)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _victorian_holidays(day.year)


def next_business_day(day: date) -> date:
    day += timedelta(days=1)
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def close_of_business(day: date, cob: time) -> datetime:
    """`cob` on `day` in Melbourne, as a UTC instant (zoneinfo keeps it right across DST)."""
    return datetime.combine(day, cob, tzinfo=MELBOURNE).astimezone(UTC)


def business_days_after(moment: datetime, days: int, cob: time) -> datetime:
    """Close of business on the `days`-th business day after the day of `moment`.

    The day something becomes known does not count, whether or not it is a business day and
    whatever the hour: three business days from a Friday-evening report end Wednesday at COB.
    """
    day = moment.astimezone(MELBOURNE).date()
    for _ in range(days):
        day = next_business_day(day)
    return close_of_business(day, cob)


def calendar_days_after(moment: datetime, days: int) -> datetime:
    """The same Melbourne wall-clock time `days` calendar days later, as a UTC instant."""
    local = moment.astimezone(MELBOURNE)
    later = datetime.combine(local.date() + timedelta(days=days), local.time(), tzinfo=MELBOURNE)
    return later.astimezone(UTC)


def business_days_until(now: datetime, due: datetime) -> int:
    """How many business days from the Melbourne day of `now` to that of `due`, counting the
    due day and not today: 0 when due today, 2 when due on the second business day after."""
    today = now.astimezone(MELBOURNE).date()
    last = due.astimezone(MELBOURNE).date()
    count, day = 0, today
    while day < last:
        day = next_business_day(day)
        if day <= last:
            count += 1
    return count


def calendar_days_since(due: datetime, now: datetime) -> int:
    """Whole Melbourne calendar days from the day of `due` to the day of `now` (0: same day)."""
    return (now.astimezone(MELBOURNE).date() - due.astimezone(MELBOURNE).date()).days
