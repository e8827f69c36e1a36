"""The incident page says why each date is what it is (issue 20, item 6): a "Why this date?"
disclosure beside every dated obligation."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.web.helpers import sign_in
from tests.web.test_journeys import NORTHSIDE, open_worklist_row


def test_an_obligation_says_why_its_date_is_what_it_is(page: Page) -> None:
    sign_in(page, "Incident manager", NORTHSIDE)
    expect(page.get_by_role("row").nth(1)).to_be_visible()
    open_worklist_row(page, "client-8", "Response plan")

    row = page.get_by_role("row", name=re.compile("Incident report"))
    row.get_by_text("Why this date?").click()

    why = row.get_by_text(re.compile("3 business days counted from"))
    expect(why).to_be_visible()
    expect(why).to_contain_text("close of business")
    expect(why).to_contain_text("Source:")
