"""The front end's own arithmetic, run in Chromium: Melbourne time in and out (across daylight
saving), and deadlines in words from the API's numbers."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

CASES = [
    ("30/11/2026 14:30", "2026-11-30T14:30:00+11:00"),  # daylight time
    ("15/6/2026 9:05 am", "2026-06-15T09:05:00+10:00"),  # standard time
    ("25/12/2026 12:00 pm", "2026-12-25T12:00:00+11:00"),
    ("25/12/2026 12:10 am", "2026-12-25T00:10:00+11:00"),
    ("2026-04-05T03:30", "2026-04-05T03:30:00+10:00"),  # just after clocks went back
    ("31/2/2026 10:00", None),  # no such day
    ("30/11/2026 24:00", None),
    ("13/1/2026 13:00 pm", None),
    ("tomorrow", None),
    ("05/04/2026 02:30", None),  # happens twice as clocks go back: which?
    ("05/04/2026 02:30 AEDT", "2026-04-05T02:30:00+11:00"),
    ("05/04/2026 02:30 aest", "2026-04-05T02:30:00+10:00"),
    ("05/04/2026 02:30 +10:00", "2026-04-05T02:30:00+10:00"),
    ("2026-04-05T02:30+11:00", "2026-04-05T02:30:00+11:00"),
    ("04/10/2026 02:30", None),  # skipped as clocks go forward
    ("04/10/2026 02:30 AEST", None),
    ("30/11/2026 14:30 AEST", None),  # daylight time then
    ("04/10/2026 03:30", "2026-10-04T03:30:00+11:00"),
    ("04/10/2026 01:59", "2026-10-04T01:59:00+10:00"),
]


@pytest.fixture
def format_module(page: Page) -> Page:
    page.goto("/")
    page.evaluate("async () => { window.f = await import('/js/format.js'); }")
    return page


def test_typed_melbourne_times_become_instants_with_their_offset(format_module: Page) -> None:
    for typed, instant in CASES:
        assert format_module.evaluate("t => f.fromMelbourneInput(t)", typed) == instant, typed


def test_a_time_that_happens_twice_or_never_in_melbourne_is_refused_saying_why(
    format_module: Page,
) -> None:
    twice = format_module.evaluate("f.whyNotMelbourneInput('05/04/2026 02:30')")
    never = format_module.evaluate("f.whyNotMelbourneInput('04/10/2026 02:30')")

    assert "happens twice" in twice and "AEDT" in twice and "AEST" in twice
    assert "does not exist in Melbourne" in never
    assert format_module.evaluate("f.whyNotMelbourneInput('30/11/2026 14:30')") is None


def test_instants_are_shown_in_melbourne_whatever_the_browser_zone(format_module: Page) -> None:
    # The browser runs in UTC (see conftest); 2025-03-04T01:00Z is noon in Melbourne.
    shown = format_module.evaluate("f.melbourne('2025-03-04T01:00:00Z')")
    assert shown == "4 Mar 2025, 12:00 pm AEDT"
    assert format_module.evaluate("f.toMelbourneInput('2026-06-14T23:05:00Z')") == (
        "15/06/2026 09:05"
    )


def test_deadlines_read_as_a_person_says_them(format_module: Page) -> None:
    said = format_module.evaluate(
        """() => [
          {status: 'open', due: 'x', business_days_left: 2},
          {status: 'open', due: 'x', business_days_left: 1},
          {status: 'open', due: 'x', business_days_left: 0},
          {status: 'overdue', due: 'x', days_overdue: 3},
          {status: 'overdue', due: 'x', days_overdue: 0},
          {status: 'open', due: null},
          {status: 'met', due: 'x'},
        ].map(f.deadline)"""
    )
    assert said == [
        "due in 2 business days",
        "due in 1 business day",
        "due today",
        "3 days overdue",
        "overdue since today",
        "no deadline",
        "—",
    ]
