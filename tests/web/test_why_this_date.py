"""The incident page says why each date is what it is (issue 20, item 6): a "Why this date?"
disclosure beside every dated obligation."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.web.helpers import sign_in
from tests.web.test_journeys import NORTHSIDE


def test_an_obligation_says_why_its_date_is_what_it_is(page: Page) -> None:
    sign_in(page, "Incident manager", NORTHSIDE)
    # Any incident will do (every one owes its report): the first the organisation's list
    # shows, whatever other journeys did to the demo data before this one.
    page.get_by_role("link", name="Incidents", exact=True).click()
    page.get_by_role("row").nth(1).get_by_role("link").first.click()

    row = page.get_by_role("row", name=re.compile("Incident report"))
    row.get_by_text("Why this date?").click()

    why = row.get_by_text(re.compile("3 business days counted from"))
    expect(why).to_be_visible()
    expect(why).to_contain_text("close of business")
    expect(why).to_contain_text("Source:")
