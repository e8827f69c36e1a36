"""The front end a practitioner would choose (issue 21): privacy of drafts, forms in the
policy's language, refusals at their fields, everything recorded in view, what to do next,
focus, finding things, phone and print. In real Chromium, as each role."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.web.helpers import accessible, sign_in

NORTHSIDE = "Northside Community Services"
WESTGATE = "Westgate Disability Services"


def stored(page: Page) -> str:
    """Everything this origin keeps in the browser: both storages and the Cache API."""
    return page.evaluate(
        """async () => JSON.stringify({
            local: {...localStorage}, session: {...sessionStorage},
            caches: 'caches' in window ? await caches.keys() : [],
        })"""
    )


def test_a_draft_is_one_persons_and_goes_at_sign_out(page: Page) -> None:
    sign_in(page, "Practitioner (reporter)", NORTHSIDE)
    client = page.get_by_role("group", name="Client 1")
    client.get_by_label("Reference", exact=True).fill("client-secret-41")
    page.get_by_label("Description").fill("Confidential: what the client disclosed.")
    page.reload()  # kept for the same person
    expect(page.get_by_role("status").filter(has_text="draft was restored")).to_be_visible()
    expect(page.get_by_label("Description")).to_have_value(re.compile("Confidential"))

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    kept = stored(page)
    assert "client-secret-41" not in kept and "Confidential" not in kept, kept

    sign_in(page, "Practitioner (reporter)", WESTGATE)
    expect(page.get_by_role("heading", name="Report an incident", level=1)).to_be_visible()
    expect(page.get_by_label("Description")).to_have_value("")
    expect(page.get_by_text("draft was restored")).to_have_count(0)


def test_someone_elses_or_an_expired_draft_is_never_shown(page: Page) -> None:
    sign_in(page, "Practitioner (reporter)", WESTGATE)
    # A draft left by someone else whose session ended without signing out, and one of this
    # person's own, nine hours old.
    page.evaluate(
        """() => {
        const put = (name, owner, expires) => localStorage.setItem('cims.draft.' + name,
          JSON.stringify({owner, expires, data: {value: {location: 'Left behind'}}}));
        put('report', 'Northside Community Services|practitioner@Northside Community Services',
            Date.now() + 3600e3);
        put('other', 'Westgate Disability Services|practitioner@Westgate Disability Services',
            Date.now() - 3600e3);
        localStorage.setItem('cims.report-draft', JSON.stringify({value: {location: 'Old'}}));
      }"""
    )
    page.reload()
    expect(page.get_by_role("heading", name="Report an incident", level=1)).to_be_visible()
    expect(page.get_by_label("Location")).to_have_value("")
    kept = stored(page)
    assert "Left behind" not in kept, kept
    page.get_by_role("button", name="Sign out").click()
    assert "Old" not in stored(page)
    accessible(page, "signed-out")
