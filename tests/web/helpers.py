"""What every journey does: sign in as a demo identity, check accessibility, keep screenshots."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.web.conftest import ARTIFACTS, NARROW, WIDE

SERIOUS = {"serious", "critical"}


def sign_in(page: Page, label: str, organisation: str) -> None:
    """Open the front end and pick a demo identity on the development sign-in page."""
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    page.get_by_role("button", name=f"Sign in as {label}, {organisation}", exact=True).click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def accessible(page: Page, name: str) -> None:
    """axe-core in the page finds no serious or critical violation; screenshots at two widths."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    summary = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5], v["help"]) for v in bad
    ]
    assert not bad, f"{name}: axe found {summary}"
    screenshots(page, name)


def screenshots(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}-wide.png", full_page=True)
    page.set_viewport_size(NARROW)
    page.screenshot(path=ARTIFACTS / f"{name}-narrow.png", full_page=True)
    page.screenshot(path=ARTIFACTS / f"{name}-narrow-top.png")  # what a phone shows first
    page.set_viewport_size(WIDE)


def row_with(page: Page, text: str | re.Pattern[str]) -> Any:
    return page.get_by_role("row").filter(has_text=text)


def under_investigation(store: str, organisation: str) -> str:
    """A new incident of `organisation` in `store`, reported now by its incident manager: a
    carer is the subject, police notified, an investigation decided and its investigator
    (`investigator@<organisation>`) appointed; nothing yet served. Returns its id."""
    from datetime import UTC, datetime, timedelta

    from domain.values import Actor, Impact, Role, Stamp
    from ledger.application import Ledger
    from tests.factories import CARER, LedgerStory, T

    manager = Actor(
        id=f"manager@{organisation}", role=Role.INCIDENT_MANAGER, organisation=organisation
    )
    ledger = Ledger.from_url(store)
    # Now, not a fixed past day: the demo store is shared, and other journeys rely on its
    # oldest incidents being the demo's.
    now = datetime.now(UTC)
    try:
        story = LedgerStory.report(
            ledger,
            actor=manager,
            now=now,
            became_aware_at=now - timedelta(hours=2),
            occurred_at=now - timedelta(hours=3),
            types=[T.PHYSICAL_ABUSE],
            impact=Impact.MAJOR,
            subjects_of_allegation=[CARER],
        )
        for command, args in (
            ("record_notification", {"kind": "police", "recipient": "Victoria Police"}),
            ("determine_follow_up", {"kind": "investigation", "reason": "abuse by a carer"}),
            (
                "appoint_investigator",
                {
                    "investigator_ref": f"investigator@{organisation}",
                    "independence_declared": True,
                    "declaration": "No part in the client's care.",
                },
            ),
        ):
            accepted = ledger.execute(
                story.incident_id,
                command,
                expected_version=story.version,
                stamp=Stamp(actor=manager, now=now),
                **args,
            )
            story.version = accepted.version
        return str(story.incident_id)
    finally:
        ledger.close()


def fill_report_form(
    page: Page,
    *,
    program: str,
    care_context: str,
    client: str,
    incident_type: str,
    impact: str,
    occurred_at: str,
    became_aware_at: str,
    location: str,
    description: str,
    regulator_category: str,
) -> None:
    """Fill the report form's required fields as a person does: options by their values, the
    incident type by its label, times as typed in Melbourne time."""
    page.get_by_label("Program").select_option(program)
    page.get_by_label("Care context").select_option(care_context)
    page.get_by_role("group", name="Client 1").get_by_label("Reference", exact=True).fill(client)
    page.get_by_role("checkbox", name=incident_type, exact=True).check()
    page.get_by_label("Impact").select_option(impact)
    page.get_by_label("Occurred at").fill(occurred_at)
    page.get_by_label("Became aware at").fill(became_aware_at)
    page.get_by_label("Location").fill(location)
    page.get_by_label("Description").fill(description)
    page.get_by_label("Regulator category").select_option(regulator_category)
