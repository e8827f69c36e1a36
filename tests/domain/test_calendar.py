"""Deadlines on the Victorian business calendar, close of business in Melbourne, across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from domain.calendar import business_days_after, calendar_days_after, is_business_day
from domain.policy_table import policy_at

MELB = ZoneInfo("Australia/Melbourne")
COB = time(17, 0)


def melbourne(*args: int) -> datetime:
    return datetime(*args, tzinfo=MELB)  # type: ignore[misc]


def test_report_made_friday_after_close_of_business_is_due_wednesday() -> None:
    due = business_days_after(melbourne(2025, 2, 28, 18, 30), 3, COB)

    assert due == melbourne(2025, 3, 5, 17, 0)


def test_melbourne_cup_day_is_not_a_business_day() -> None:
    due = business_days_after(melbourne(2025, 11, 3, 10, 0), 1, COB)

    assert due == melbourne(2025, 11, 5, 17, 0)


def test_regulator_short_form_due_close_of_business_next_business_day_over_easter() -> None:
    due = business_days_after(melbourne(2025, 4, 17, 10, 0), 1, COB)

    assert due == melbourne(2025, 4, 22, 17, 0)


def test_christmas_and_boxing_day_observed_on_the_following_weekdays() -> None:
    due = business_days_after(melbourne(2021, 12, 24, 10, 0), 1, COB)

    assert not is_business_day(date(2021, 12, 27)) and not is_business_day(date(2021, 12, 28))
    assert due == melbourne(2021, 12, 29, 17, 0)


def test_morning_in_melbourne_that_is_still_yesterday_in_utc_counts_from_the_melbourne_day() -> (
    None
):
    aware = melbourne(2025, 3, 5, 9, 0)  # Wednesday 09:00 AEDT = Tuesday 22:00 UTC
    assert aware.astimezone(UTC).date() == date(2025, 3, 4)

    assert business_days_after(aware, 1, COB) == melbourne(2025, 3, 6, 17, 0)


def test_close_of_business_follows_daylight_saving_into_utc() -> None:
    before_dst = business_days_after(melbourne(2025, 10, 2, 10, 0), 1, COB)  # Thu, AEST
    after_dst = business_days_after(melbourne(2025, 10, 3, 10, 0), 1, COB)  # Fri → Mon, AEDT

    assert before_dst.astimezone(UTC) == datetime(2025, 10, 3, 7, 0, tzinfo=UTC)
    assert after_dst.astimezone(UTC) == datetime(2025, 10, 6, 6, 0, tzinfo=UTC)


def test_twenty_eight_calendar_days_keep_the_wall_clock_time_across_dst() -> None:
    start = melbourne(2025, 9, 20, 10, 0)

    due = calendar_days_after(start, 28)

    assert due.astimezone(MELB).replace(tzinfo=None) == datetime(2025, 10, 18, 10, 0)
    assert due - start == timedelta(days=28, hours=-1)


def test_incidents_are_judged_by_the_policy_in_force_when_reported() -> None:
    assert policy_at(melbourne(2024, 12, 8, 12, 0)).incident_review_days == 21
    assert policy_at(melbourne(2024, 12, 9, 0, 0)).incident_review_days == 28


@given(
    st.datetimes(
        min_value=datetime(2019, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
    st.integers(min_value=1, max_value=10),
)
def test_business_day_deadline_lands_at_close_of_business_on_a_business_day(
    moment: datetime, days: int
) -> None:
    due = business_days_after(moment, days, COB).astimezone(MELB)

    assert due.time() == COB
    assert is_business_day(due.date())
    assert due.date() > moment.astimezone(MELB).date()
    assert (due.date() - moment.astimezone(MELB).date()).days <= days * 2 + 6
