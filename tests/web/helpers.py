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
