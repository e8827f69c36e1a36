"""Business days on the Victorian calendar; close of business in Australia/Melbourne."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import holidays

from domain.policy_table import MELBOURNE


@lru_cache(maxsize=64)
def _victorian_holidays(year: int) -> frozenset[date]:
    # A plain set: a `HolidayBase` lookup parses its key and may load more years each time.
    return frozenset(holidays.country_holidays("AU", subdiv="VIC", years=year))


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
