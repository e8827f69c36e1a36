"""Reminders in the front end: a manager subscribes, sees the refusal of a bad address at its
field, sees the subscription with who and when, and stops it."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.web.helpers import accessible, sign_in

NORTHSIDE = "Northside Community Services"


def test_a_manager_subscribes_to_reminders_and_stops_them(page: Page) -> None:
    sign_in(page, "Incident manager", NORTHSIDE)
    page.get_by_role("link", name="Reminders").click()
    expect(page.get_by_role("heading", name="Reminders", level=1)).to_be_visible()
    # The first read may wait for the server's follower to finish catching up on the demo data.
    expect(page.get_by_text("You receive no reminders yet.")).to_be_visible(timeout=60_000)

    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Subscribe").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    # The refusal is at the field it names, in words, with no rule id or pattern.
    field_error = page.locator("#reminders-email-error")
    expect(field_error).to_be_visible()
    expect(field_error).not_to_contain_text("reminders.")

    page.get_by_label("Email address").fill("mel.manager@northside.example")
    page.get_by_label("Only incidents I am named on").check()
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Reminders will be sent to mel.manager@northside.example"
    )
    expect(page.get_by_role("status")).to_be_focused()
    card = page.get_by_role("listitem").filter(has_text="mel.manager@northside.example")
    expect(card.first).to_contain_text("Only incidents I am named on (as investigator")
    expect(page.get_by_text("started reminders to mel.manager@northside.example")).to_be_visible()
    accessible(page, "reminders")

    page.get_by_role("button", name="Stop reminders to mel.manager@northside.example").click()
    expect(page.get_by_role("status")).to_contain_text("have stopped")
    expect(page.get_by_text("You receive no reminders yet.")).to_be_visible()
    expect(page.get_by_text("stopped reminders to mel.manager@northside.example")).to_be_visible()
