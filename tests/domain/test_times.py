"""Honest times: one rule for every command's instants, and backdating made visible."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain.errors import PolicyViolation
from domain.obligations import Status
from domain.policy_table import MELBOURNE, policy_at
from domain.procedural_fairness import procedural_fairness
from domain.rules.times import instants, recorded_late, require_honest_times
from domain.values import Client, DetailsChange, OccurredBetween, Stamp
from ledger.application import COMMANDS, check_times
from tests.factories import (
    INVESTIGATOR,
    MANAGER,
    START,
    Story,
    investigate_to_outcome,
    recommendation,
    report_fields,
)

POLICY = policy_at(START)
AWARE = START - timedelta(hours=2)
SKEW = timedelta(seconds=POLICY.clock_skew_seconds)


def refused(args: dict[str, Any], effective_at: datetime | None = None) -> str:
    with pytest.raises(PolicyViolation) as caught:
        require_honest_times(
            args, effective_at=effective_at, now=START, became_aware_at=AWARE, policy=POLICY
        )
    return caught.value.rule_id


def accepted(args: dict[str, Any], effective_at: datetime | None = None) -> None:
    require_honest_times(
        args, effective_at=effective_at, now=START, became_aware_at=AWARE, policy=POLICY
    )


def test_an_effective_time_in_the_future_beyond_the_clock_skew_is_refused() -> None:
    # A client-voice record dated five years ahead was accepted.
    assert refused({}, START + timedelta(days=5 * 365)) == "time.effective-in-future"
    assert refused({}, START + SKEW + timedelta(seconds=1)) == "time.effective-in-future"
    accepted({}, START + SKEW)  # a clock a little ahead is not a lie


def test_an_effective_time_before_the_provider_became_aware_is_refused() -> None:
    # The investigation report "submitted" in 2000 on an overdue incident.
    year_2000 = datetime(2000, 1, 1, tzinfo=UTC)
    assert refused({}, year_2000) == "time.effective-before-aware"
    assert refused({}, AWARE - timedelta(seconds=1)) == "time.effective-before-aware"
    accepted({}, AWARE)


def test_the_reports_own_instants_may_not_lie_in_the_future() -> None:
    fields = report_fields(
        became_aware_at=START + timedelta(days=1), occurred_at=START + timedelta(hours=1)
    )
    with pytest.raises(PolicyViolation) as caught:
        check_times(
            Stamp(actor=MANAGER, now=START), fields, became_aware_at=START + timedelta(days=1)
        )
    assert caught.value.rule_id == "time.effective-in-future"
    assert caught.value.field == "details.occurred_at"


@pytest.mark.parametrize(
    "args",
    [
        {"changes": DetailsChange(occurred_at=datetime(9999, 12, 31, 23, tzinfo=UTC))},
        {"changes": DetailsChange(occurred_at=datetime(1, 1, 1, tzinfo=UTC))},
        {"new_due": datetime(9999, 12, 31, 23, tzinfo=UTC)},
        {
            "changes": DetailsChange(
                clients=(Client(ref="c", aboriginal=False, date_of_birth=date(1, 1, 1)),)
            )
        },
        {
            "changes": DetailsChange(
                occurred_between=OccurredBetween(
                    start=datetime(1850, 1, 1, tzinfo=UTC), end=START - timedelta(days=1)
                )
            )
        },
    ],
)
def test_an_instant_no_view_can_show_in_melbourne_time_is_out_of_range(
    args: dict[str, Any],
) -> None:
    assert refused(args) == "time.out-of-range"


def test_an_effective_time_out_of_range_is_refused_before_anything_else() -> None:
    assert refused({}, datetime(9999, 12, 31, 23, tzinfo=UTC)) == "time.out-of-range"


def test_a_deadline_may_lie_in_the_future_but_a_fact_may_not() -> None:
    accepted({"new_due": START + timedelta(days=60)})
    later = DetailsChange(occurred_at=START + timedelta(days=2))
    assert refused({"changes": later}) == "time.effective-in-future"


def test_a_day_after_today_in_melbourne_is_refused_like_any_future_fact() -> None:
    # A client "born" in 2030 was accepted: a date is a fact as an instant is.
    melbourne_today = START.astimezone(MELBOURNE).date()
    tomorrow = Client(ref="c", aboriginal=False, date_of_birth=melbourne_today + timedelta(1))
    with pytest.raises(PolicyViolation) as caught:
        require_honest_times(
            {"clients": [tomorrow]},
            effective_at=None,
            now=START,
            became_aware_at=AWARE,
            policy=POLICY,
        )
    assert caught.value.rule_id == "time.effective-in-future"
    assert caught.value.field == "clients.0.date_of_birth"  # the request's own path
    today = Client(ref="c", aboriginal=False, date_of_birth=melbourne_today)
    accepted({"clients": [today], "endorsed_on": melbourne_today})


def test_every_instant_in_nested_arguments_is_found_with_its_path() -> None:
    change = DetailsChange(
        occurred_between=OccurredBetween(start=AWARE, end=START),
        clients=(Client(ref="c", aboriginal=False, date_of_birth=date(2010, 1, 1)),),
    )
    found = dict(instants({"changes": change, "not_required": {"a": "b"}}))
    assert found == {
        "changes.occurred_between.start": AWARE,
        "changes.occurred_between.end": START,
        "changes.clients.0.date_of_birth": date(2010, 1, 1),
    }


def test_the_ledger_knows_every_command_it_checks() -> None:
    # The time rule runs in `Ledger.execute` for every one of these, and in `Ledger.report`.
    assert {"submit_investigation_report", "record_client_voice", "extend"} <= COMMANDS


def test_recorded_late_is_more_than_one_business_day_after_the_effective_time() -> None:
    friday = datetime(2025, 3, 7, 1, 0, tzinfo=UTC)  # Friday noon, Melbourne
    monday_cob = datetime(2025, 3, 10, 6, 0, tzinfo=UTC)  # 17:00 AEDT; 10 March is Labour Day
    tuesday_cob = datetime(2025, 3, 11, 6, 0, tzinfo=UTC)
    assert not recorded_late(friday, friday + timedelta(hours=3), POLICY)
    assert not recorded_late(friday, monday_cob, POLICY)  # a public holiday is no business day
    assert not recorded_late(friday, tuesday_cob, POLICY)
    assert recorded_late(friday, tuesday_cob + timedelta(minutes=1), POLICY)


def test_an_obligation_met_by_a_backdated_step_shows_both_instants_and_is_recorded_late() -> None:
    story: Story = investigate_to_outcome(major_story())
    story.do("record_investigation_plan", plan="Interviews.", actor=INVESTIGATOR)
    story.later(days=40)
    backdated = story.now - timedelta(days=20)
    story.incident.submit_investigation_report(
        summary="s",
        recommendations=[recommendation()],
        stamp=Stamp(actor=INVESTIGATOR, now=story.now, effective_at=backdated),
    )
    story.events.extend(story.incident.collect_events())

    met = story.obligation("investigation_or_review")

    assert met.status == Status.MET
    assert met.met_at == backdated and met.met_recorded_at == story.now
    assert met.recorded_late
    check = next(
        c
        for c in procedural_fairness(story.events, now=story.now)
        if c.check == "completed_within_28_days"
    )
    assert check.recorded_late
    assert check.effective_at == backdated and check.recorded_at == story.now


def test_an_obligation_met_on_time_is_not_recorded_late() -> None:
    story: Story = investigate_to_outcome(major_story())
    story.do("record_investigation_plan", plan="Interviews.", actor=INVESTIGATOR)
    story.later(days=1).do(
        "submit_investigation_report",
        summary="s",
        recommendations=[recommendation()],
        actor=INVESTIGATOR,
    )
    met = story.obligation("investigation_or_review")
    assert met.met_recorded_at == met.met_at == story.now
    assert not met.recorded_late


def major_story() -> Story:
    from tests.factories import major_abuse_by_carer

    return major_abuse_by_carer()
