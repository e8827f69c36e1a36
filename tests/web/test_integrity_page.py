"""The incident page says so when the stored record is not intact (the API's `integrity`)."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, Route, expect

from tests.web.helpers import sign_in

BROKEN = {
    "chain": "broken",
    "events_checked": 3,
    "first_broken_version": 2,
    "problem": "hash does not match the stored event: it was altered",
}


def test_a_record_that_is_not_intact_is_shown_with_a_warning(page: Page) -> None:
    def tampered(route: Route) -> None:
        answer = route.fetch()
        body = answer.json()
        if isinstance(body, dict) and "integrity" in body:
            body["integrity"] = BROKEN
        route.fulfill(response=answer, body=json.dumps(body))

    sign_in(page, "Reviewer", "Eastside Housing")
    page.route(re.compile(r".*/v1/incidents/[0-9a-f-]{36}$"), tampered)
    page.get_by_role("link", name="Incidents").click()
    page.get_by_role("link", name="Serious risk").click()

    warning = page.get_by_role("alert").filter(has_text="This record is not intact")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("from version 2")
