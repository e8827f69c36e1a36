"""Which reminders an obligation owes a subscriber, and when the digest goes (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from domain.policy_table import MELBOURNE
from domain.reminders import (
    OwedObligation,
    Scope,
    Subscription,
    Threshold,
    digest_day,
    digests_owed,
    notices_owed,
    when_due,
)

COB = time(17)
SINCE = datetime(2025, 1, 1, tzinfo=UTC)
NORTHSIDE = Subscription(
    "s1", "mel@northside.example", "Northside CSO", "mel", Scope.WORKLIST, SINCE
)
IVAN = Subscription("s2", "ivan@northside.example", "Northside CSO", "ivan", Scope.NAMED, SINCE)


def melbourne(*args: int) -> datetime:
    return datetime(*args, tzinfo=MELBOURNE).astimezone(UTC)  # type: ignore[misc]


def owed(due: datetime, organisation: str = "Northside CSO", **kw: object) -> OwedObligation:
    fields: dict[str, object] = {
        "incident_id": "0a1b2c3d-0000-4000-8000-000000000001",
        "kind": "investigation_or_review",
        "organisation": organisation,
        "other_provider": None,
        "due": due,
        "named": frozenset(),
    }
    fields.update(kw)
    return OwedObligation(**fields)  # type: ignore[arg-type]


def thresholds(subs: list[Subscription], items: list[OwedObligation], now: datetime) -> list[str]:
    found = notices_owed(subs, items, now=now, lead_business_days=1, cob=COB)
    return [n.threshold.value for n in found]


def test_due_soon_when_due_by_close_of_business_the_next_business_day() -> None:
    due = melbourne(2025, 3, 7, 17)  # Friday COB
    assert thresholds([NORTHSIDE], [owed(due)], melbourne(2025, 3, 6, 9)) == ["due_soon"]
    assert thresholds([NORTHSIDE], [owed(due)], melbourne(2025, 3, 5, 16, 59)) == []


def test_due_soon_lead_skips_a_victorian_public_holiday() -> None:
    # Labour Day, Monday 10 March 2025: from Friday the next business day is Tuesday.
    due = melbourne(2025, 3, 11, 17)
    assert thresholds([NORTHSIDE], [owed(due)], melbourne(2025, 3, 7, 10)) == ["due_soon"]
    assert thresholds([NORTHSIDE], [owed(due + timedelta(days=1))], melbourne(2025, 3, 7, 10)) == []


def test_overdue_once_past_due_and_only_if_it_fell_overdue_after_subscribing() -> None:
    due = melbourne(2025, 3, 7, 17)
    assert thresholds([NORTHSIDE], [owed(due)], due + timedelta(minutes=1)) == ["overdue"]
    late_subscriber = Subscription(
        "s3", "x@northside.example", "Northside CSO", "x", Scope.WORKLIST, due + timedelta(hours=1)
    )
    assert thresholds([late_subscriber], [owed(due)], due + timedelta(hours=2)) == []


def test_never_about_another_organisations_incident() -> None:
    due = melbourne(2025, 3, 7, 17)
    other = owed(due, organisation="Westgate Housing")
    assert thresholds([NORTHSIDE], [other], melbourne(2025, 3, 7, 9)) == []
    responsible = owed(due, organisation="Westgate Housing", other_provider="Northside CSO")
    assert thresholds([NORTHSIDE], [responsible], melbourne(2025, 3, 7, 9)) == ["due_soon"]


def test_named_scope_hears_only_of_incidents_naming_the_person() -> None:
    due = melbourne(2025, 3, 7, 17)
    naming = owed(due, named=frozenset({("Northside CSO", "ivan")}))
    assert thresholds([IVAN], [owed(due)], melbourne(2025, 3, 7, 9)) == []
    assert thresholds([IVAN], [naming], melbourne(2025, 3, 7, 9)) == ["due_soon"]
    # The same subject in another organisation is someone else.
    elsewhere = owed(due, named=frozenset({("Westgate Housing", "ivan")}))
    assert thresholds([IVAN], [elsewhere], melbourne(2025, 3, 7, 9)) == []


def test_an_extension_gives_a_new_key_so_the_notice_is_owed_again() -> None:
    due = melbourne(2025, 3, 7, 17)
    first = notices_owed(
        [NORTHSIDE], [owed(due)], now=due - timedelta(hours=3), lead_business_days=1, cob=COB
    )
    later = due + timedelta(days=3)
    second = notices_owed(
        [NORTHSIDE], [owed(later)], now=later - timedelta(hours=3), lead_business_days=1, cob=COB
    )
    assert first[0].key != second[0].key


def test_digest_at_half_past_seven_on_business_days_only() -> None:
    assert digest_day(melbourne(2025, 3, 6, 7, 29), time(7, 30)) is None
    assert digest_day(melbourne(2025, 3, 6, 7, 30), time(7, 30)) is not None
    assert digest_day(melbourne(2025, 3, 8, 9), time(7, 30)) is None  # Saturday
    assert digest_day(melbourne(2025, 3, 10, 9), time(7, 30)) is None  # Labour Day


def test_a_holiday_moves_the_digest_and_what_is_due_this_week() -> None:
    # Easter 2025: Good Friday 18 April, Easter Monday 21 April. The Thursday digest lists what
    # falls due by Sunday; none goes on Friday or Monday; Tuesday's lists that week's.
    thursday_item = owed(melbourne(2025, 4, 22, 17))
    this_week = owed(melbourne(2025, 4, 17, 17), incident_id="b" * 8 + "-x")
    thursday = digests_owed(
        [NORTHSIDE], [thursday_item, this_week], now=melbourne(2025, 4, 17, 8), at=time(7, 30)
    )
    assert [o.incident_id for o in thursday[0].obligations] == [this_week.incident_id]
    for holiday in (melbourne(2025, 4, 18, 8), melbourne(2025, 4, 21, 8)):
        assert digests_owed([NORTHSIDE], [thursday_item], now=holiday, at=time(7, 30)) == []
    tuesday = digests_owed(
        [NORTHSIDE], [thursday_item], now=melbourne(2025, 4, 22, 8), at=time(7, 30)
    )
    assert tuesday[0].threshold is Threshold.DIGEST
    assert tuesday[0].key.endswith("2025-04-22")


def test_due_moment_is_read_in_melbourne_time_with_business_days_to_go() -> None:
    item = owed(melbourne(2025, 3, 11, 17))
    assert (
        when_due(item, now=melbourne(2025, 3, 7, 10))
        == "Tue 11 Mar 2025, 5:00 pm — in 1 business day"
    )
    assert when_due(item, now=melbourne(2025, 3, 13, 10)).endswith("2 days overdue")
