"""Every deadline explains itself (issue 20, item 6): the rule and its source, the instant it
counts from and the event that set it, the unit and count, each Victorian non-business day
skipped by date and name, the extensions, and the regime; the due moment recomputes from the
explanation alone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import calendar
from domain.obligations import Unit, recompute_due
from domain.values import Impact, RegulatorCategory
from tests.factories import CARER, INVESTIGATOR, OFFICER, Story, T, reported


def report_aware_at(aware: datetime, **overrides: Any) -> Story:
    return reported(
        now=aware + timedelta(hours=1),
        occurred_at=aware - timedelta(hours=1),
        became_aware_at=aware,
        **overrides,
    )


def test_a_deadline_over_easter_names_each_day_it_skipped() -> None:
    aware = datetime(2025, 4, 16, 23, 0, tzinfo=UTC)  # Thursday 17 April, 09:00 in Melbourne
    story = report_aware_at(aware, regulator_category=RegulatorCategory.CRITICAL)

    report = story.obligation("incident_report").explanation
    assert report is not None

    assert report.rule == "incident_report" and report.policy_version == "CIMS-2024-12"
    assert (report.counts_from, report.set_by_event, report.set_by_version) == (
        aware,
        "Reported",
        1,
    )
    assert (report.unit, report.count) == (Unit.BUSINESS_DAYS, 3)
    assert [(s.day, s.name) for s in report.skipped] == [
        (date(2025, 4, 18), "Good Friday"),
        (date(2025, 4, 19), "Easter Saturday"),
        (date(2025, 4, 20), "Easter Sunday"),
        (date(2025, 4, 21), "Easter Monday"),
    ]
    # Tuesday 22, Wednesday 23, Thursday 24: 17:00 on Thursday 24 April.
    assert report.due == datetime(2025, 4, 24, 7, 0, tzinfo=UTC)
    assert "Good Friday" in report.text and "17:00 on Thursday 24 April 2025" in report.text
    assert "reported in CIMS" in report.policy_source


def test_melbourne_cup_day_and_a_proclaimed_holiday_are_named() -> None:
    cup = report_aware_at(datetime(2025, 11, 2, 23, 0, tzinfo=UTC))  # Monday 3 November
    mourning = report_aware_at(datetime(2022, 9, 20, 23, 0, tzinfo=UTC))  # Wednesday 21 Sept

    cup_days = cup.obligation("incident_report").explanation
    mourning_days = mourning.obligation("incident_report").explanation
    assert cup_days is not None and mourning_days is not None

    assert (date(2025, 11, 4), "Melbourne Cup Day") in [(s.day, s.name) for s in cup_days.skipped]
    assert (date(2022, 9, 22), "National Day of Mourning for Queen Elizabeth II") in [
        (s.day, s.name) for s in mourning_days.skipped
    ]
    assert mourning_days.policy_version == "CIMS-2018"


def test_an_extension_says_who_approved_it_who_recorded_it_when_and_why() -> None:
    story = report_aware_at(
        datetime(2025, 3, 3, 23, 0, tzinfo=UTC),
        types=[T.PHYSICAL_ABUSE],
        impact=Impact.MAJOR,
        subjects_of_allegation=[CARER],
    ).later(days=20)
    first_due = story.obligation("investigation_or_review").due
    assert first_due is not None
    new_due = first_due + timedelta(days=14)

    story.do(
        "extend",
        obligation_kind="investigation_or_review",
        new_due=new_due,
        approved_by="Director, Operations",
        reason="a witness is overseas until April",
        actor=OFFICER,
    )

    e = story.obligation("investigation_or_review").explanation
    assert e is not None
    (x,) = e.extensions
    assert (x.new_due, x.approved_by, x.reason) == (
        new_due,
        "Director, Operations",
        "a witness is overseas until April",
    )
    assert x.recorded_by.startswith(OFFICER.id) and x.recorded_at == story.now
    assert (e.computed_due, e.due, e.unit, e.count) == (first_due, new_due, Unit.CALENDAR_DAYS, 28)
    assert "Director, Operations" in e.text and "witness is overseas" in e.text


def test_an_amended_awareness_names_the_amendment_as_what_set_the_count() -> None:
    from domain.values import DetailsChange

    story = report_aware_at(datetime(2025, 3, 3, 23, 0, tzinfo=UTC)).later(hours=2)
    story.do(
        "amend",
        changes=DetailsChange(became_aware_at=datetime(2025, 3, 3, 22, 0, tzinfo=UTC)),
        reason="the carer rang an hour earlier",
    )

    e = story.obligation("incident_report").explanation
    assert e is not None
    assert (e.set_by_event, e.set_by_version) == ("DetailsAmended", 2)
    assert "amendment" in e.text


def test_a_consultation_due_at_the_decision_names_the_decision() -> None:
    from tests.factories import ABORIGINAL_CLIENT

    story = report_aware_at(
        datetime(2025, 3, 3, 23, 0, tzinfo=UTC),
        clients=[ABORIGINAL_CLIENT],
        types=[T.SELF_HARM],
        impact=Impact.MAJOR,
    ).do("determine_follow_up", kind="incident_review", reason="self-harm")

    e = story.obligation("aboriginal_consultation_follow_up").explanation
    assert e is not None
    assert (e.unit, e.set_by_event, e.due) == (
        Unit.AT_DECISION,
        "FollowUpDetermined",
        story.events[-1].happened_at,
    )


AWARE = st.datetimes(
    min_value=datetime(2017, 1, 1), max_value=datetime(2039, 12, 1), timezones=st.just(UTC)
)
STEPS = st.lists(
    st.sampled_from(["police", "investigation", "review", "rcs", "extend", "consult"]),
    max_size=4,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    aware=AWARE,
    major=st.booleans(),
    category=st.sampled_from(list(RegulatorCategory)),
    aboriginal=st.booleans(),
    steps=STEPS,
)
def test_every_due_moment_recomputes_from_its_explanation_alone(
    aware: datetime, major: bool, category: RegulatorCategory, aboriginal: bool, steps: list[str]
) -> None:
    from tests.factories import ABORIGINAL_CLIENT, CLIENT

    story = report_aware_at(
        aware,
        clients=[ABORIGINAL_CLIENT if aboriginal else CLIENT],
        types=[T.PHYSICAL_ABUSE] if major else [T.INJURY_EXPLAINED],
        impact=Impact.MAJOR if major else Impact.NON_MAJOR,
        subjects_of_allegation=[CARER] if major else [],
        regulator_category=category,
    )
    for step in steps:
        story.later(days=1)
        try:
            _take(story, step)
        except Exception as refused:  # a step the stage does not allow is simply not taken
            if type(refused).__name__ != "PolicyViolation":
                raise

    for o in story.obligations(now=story.now + timedelta(days=90)):
        e = o.explanation
        assert e is not None and e.rule == o.kind and e.policy_source
        assert recompute_due(e) == o.due, (o.kind, e)
        assert e.computed_due == o.original_due
        if e.unit == Unit.BUSINESS_DAYS:
            assert e.counts_from is not None
            _assert_truthful_skips(e.counts_from, e.skipped, o.original_due)


def _take(story: Story, step: str) -> None:
    if step == "police":
        story.do("record_notification", kind="police", recipient="Victoria Police")
    elif step in ("investigation", "review", "rcs"):
        kind = {"investigation": "investigation", "review": "incident_review"}.get(
            step, "rcs_in_lieu"
        )
        story.do("determine_follow_up", kind=kind, reason="as required")
    elif step == "consult":
        story.do(
            "record_aboriginal_consultation", body="acsass", stage="follow_up", consulted="duty"
        )
    else:
        dated = [o for o in story.obligations() if o.due is not None]
        if dated:
            o = dated[0]
            assert o.due is not None
            story.do(
                "extend",
                obligation_kind=o.kind,
                new_due=o.due + timedelta(days=3),
                approved_by="Director",
                reason="more time",
                actor=OFFICER,
            )
    _ = INVESTIGATOR


def _assert_truthful_skips(start: datetime, skipped: Any, due: datetime | None) -> None:
    """Every day listed is a non-business day, and every day of the count not listed is one."""
    assert due is not None
    from domain.policy_table import MELBOURNE

    day = start.astimezone(MELBOURNE).date() + timedelta(days=1)
    last = due.astimezone(MELBOURNE).date()
    listed = {s.day for s in skipped}
    while day <= last:
        assert (day in listed) == (not calendar.is_business_day(day)), day
        day += timedelta(days=1)
