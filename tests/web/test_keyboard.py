"""The whole report form filled with the keyboard alone: Tab to move, type, Space to tick,
letters to choose an option, Enter to press a button."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.web.helpers import accessible, sign_in


def tab_to(page: Page, target: Locator, most: int = 80) -> None:
    """Press Tab (only Tab) until `target` has the focus."""
    for _ in range(most):
        if target.evaluate("e => e === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


def test_the_whole_report_form_with_the_keyboard_alone(page: Page) -> None:
    sign_in(page, "Incident manager", "Eastside Housing")
    page.keyboard.press("Shift+Tab")  # wherever the focus is, back to the top of the page
    tab_to(page, page.get_by_role("link", name="Skip to main content"))
    tab_to(page, page.get_by_role("link", name="Report an incident"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Report an incident", level=1)).to_be_visible()
    keys = page.keyboard

    tab_to(page, page.get_by_label("Program"))
    keys.type("Housing")
    tab_to(page, page.get_by_label("Care context"))
    keys.type("Any other")  # the vocabulary's words: "Any other service setting"
    client = page.get_by_role("group", name="Client 1")
    tab_to(page, client.get_by_label("Reference", exact=True))
    keys.type("client-kb-1")
    tab_to(page, client.get_by_label("Aboriginal"))
    keys.press("Space")
    tab_to(page, client.get_by_label("Date of birth"))
    keys.type("27/3/2010")
    tab_to(page, page.get_by_role("button", name="Add another client"))
    keys.press("Enter")
    second = page.get_by_role("group", name="Client 2")
    tab_to(page, second.get_by_label("Reference", exact=True))
    keys.type("client-kb-2")
    tab_to(page, page.get_by_role("checkbox", name="Medication error"))
    keys.press("Space")
    tab_to(page, page.get_by_role("checkbox", name="Injury-explained"))
    keys.press("Space")
    tab_to(page, page.get_by_label("Impact"))
    keys.type("Non")
    tab_to(page, page.get_by_label("Occurred at"))
    keys.type("29/11/2026 21:05")
    tab_to(page, page.get_by_label("Became aware at"))
    keys.type("29/11/2026 10:30 pm")
    tab_to(page, page.get_by_label("Location"))
    keys.type("Eastside unit 4, kitchen")
    tab_to(page, page.get_by_label("Description"))
    keys.type("Evening dose given twice; client checked by GP, no harm.")
    tab_to(page, page.get_by_role("button", name="Add a subject of allegation"))
    keys.press("Enter")
    subject = page.get_by_role("group", name="Subject of allegation 1")
    tab_to(page, subject.get_by_label("Reference", exact=True))
    keys.type("staff-kb")
    tab_to(page, subject.get_by_label("Role"))
    keys.type("Other")
    tab_to(page, page.get_by_role("button", name="Remove subject of allegation 1"))
    keys.press("Enter")  # on second thoughts, no subject
    expect(page.get_by_role("group", name="Subject of allegation 1")).to_have_count(0)
    tab_to(page, page.get_by_label("Immediate actions"))
    keys.type("GP called; pharmacy informed.")
    tab_to(page, page.get_by_label("Regulator category"))
    keys.type("Not notifiable")
    tab_to(page, page.get_by_label("Other provider"))
    keys.type("Westgate Disability Services")
    tab_to(page, page.get_by_label("Historical"))
    tab_to(page, page.get_by_role("button", name="Send report"))
    accessible(page, "report-keyboard")
    keys.press("Enter")

    heading = page.get_by_role("heading", name=re.compile("Injury-explained|Medication error"))
    expect(heading).to_be_visible()
    details = page.get_by_role("region", name="Details")
    expect(details).to_contain_text("client-kb-1: Aboriginal, born 27 Mar 2010")
    expect(details).to_contain_text("client-kb-2: not Aboriginal")
    expect(details).to_contain_text("Not notifiable to the regulator")
    expect(details).to_contain_text("29 Nov 2026, 9:05 pm AEDT")  # as typed, in Melbourne
    expect(details).to_contain_text("29 Nov 2026, 10:30 pm AEDT")
    expect(details).to_contain_text("Westgate Disability Services")
