"""The document journey in real Chromium: an investigator adds the allegations letter (file
picker) and the investigation report (dropped on the box), a reviewer opens both from the
procedural-fairness checklist, and an auditor's bundle carries them and verifies offline."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import WIDE
from tests.web.helpers import accessible, sign_in, under_investigation

WESTGATE = "Westgate Disability Services"
LETTER = b"%PDF-1.7\n% the allegations letter\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
REPORT = b"%PDF-1.7\n% the investigation report\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@pytest.fixture
def incident(demo_store: str) -> str:
    """A Westgate incident under investigation, its investigator appointed."""
    return under_investigation(demo_store, WESTGATE)


@pytest.fixture
def other_page(browser: Any, server: str) -> Iterator[Page]:
    """A second person's browser (a context of its own, signed in separately)."""
    context = browser.new_context(
        base_url=server, viewport=WIDE, locale="en-AU", timezone_id="UTC", accept_downloads=True
    )
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_an_investigator_adds_the_letter_and_report_a_reviewer_opens_them_an_auditor_verifies(
    page: Page, other_page: Page, incident: str, tmp_path: Any
) -> None:
    sign_in(page, "Investigator", WESTGATE)
    page.goto(f"/#/incidents/{incident}")
    expect(page.get_by_role("heading", name=re.compile("Physical abuse"))).to_be_visible(
        timeout=15_000
    )
    documents = page.get_by_role("region", name="Documents")
    expect(documents.get_by_text("No documents are on the record.")).to_be_visible()
    sent: list[str] = []
    page.on(
        "request",
        lambda r: (
            sent.append(r.resource_type)
            if r.url.endswith("/documents") and r.method == "POST"
            else None
        ),
    )

    # The letter, with the file picker.
    documents.get_by_label("Kind of document").select_option(label="Allegations letter")
    documents.get_by_label("File").set_input_files(
        {"name": "letter.pdf", "mimeType": "application/pdf", "buffer": LETTER}
    )
    accessible(page, "documents-add")
    documents.get_by_role("button", name="Add the document").click()
    expect(page.get_by_role("status").filter(has_text="Document added")).to_be_visible()
    expect(documents.get_by_role("button", name="letter.pdf", exact=True)).to_be_visible()

    # The report, dropped on the box, supporting the investigator's appointment.
    documents.get_by_label("Kind of document").select_option(label="Investigation report")
    step = documents.get_by_label("Step it supports (optional)")
    expect(step.get_by_role("option", name=re.compile("^Version 4: Investigator"))).to_have_count(1)
    step.select_option("4")
    dropped = page.evaluate_handle(
        """(b64) => {
            const dt = new DataTransfer();
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            dt.items.add(new File([bytes], 'report.pdf', { type: 'application/pdf' }));
            return dt;
        }""",
        base64.b64encode(REPORT).decode(),
    )
    documents.get_by_text("Choose a file, or drop it here").dispatch_event(
        "drop", {"dataTransfer": dropped}
    )
    expect(documents.get_by_text("Chosen: report.pdf")).to_be_visible()
    documents.get_by_role("button", name="Add the document").click()
    expect(documents.get_by_role("button", name="report.pdf", exact=True)).to_be_visible()
    assert sent == ["xhr", "xhr"]  # sent with XMLHttpRequest, which reports upload progress
    # Beside the step it supports.
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline.get_by_role("button", name="Open report.pdf")).to_be_visible()

    # A bad file is refused at the field, nothing added.
    documents.get_by_label("Kind of document").select_option(label="Evidence")
    documents.get_by_label("File").set_input_files(
        {
            "name": "statement.pdf",
            "mimeType": "application/pdf",
            "buffer": b"<html><script>x()</script></html>",
        }
    )
    documents.get_by_role("button", name="Add the document").click()
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_be_visible()
    expect(documents.get_by_role("listitem").filter(has_text="statement.pdf")).to_have_count(0)

    # The reviewer opens both from the procedural-fairness checklist.
    sign_in(other_page, "Reviewer", WESTGATE)
    other_page.goto(f"/#/incidents/{incident}")
    expect(other_page.get_by_role("heading", name=re.compile("Physical abuse"))).to_be_visible(
        timeout=15_000
    )
    checklist = other_page.get_by_role("region", name="Procedural fairness")
    for label, expected in (
        ("Open the allegations letter (letter.pdf)", LETTER),
        ("Open the investigation report (report.pdf)", REPORT),
    ):
        with other_page.expect_download() as download:
            checklist.get_by_role("button", name=label).click()
        assert download.value.suggested_filename == label.split("(")[1].rstrip(")")
        with open(download.value.path(), "rb") as got:
            assert got.read() == expected
    accessible(other_page, "documents-fairness")

    # The auditor's bundle carries both and verifies offline.
    other_page.get_by_role("button", name="Sign out").click()
    sign_in(other_page, "Auditor", "DFFH")
    other_page.goto(f"/#/incidents/{incident}")
    listed = other_page.get_by_role("region", name="Documents")
    expect(listed.get_by_role("button", name="report.pdf", exact=True)).to_be_visible(
        timeout=15_000
    )
    expect(listed.get_by_role("button", name="Add the document")).to_have_count(0)  # reads only
    other_page.goto(f"/#/incidents/{incident}/audit")
    with other_page.expect_download() as download:
        other_page.get_by_role("button", name="Download the audit bundle").click()
    bundle = tmp_path / "bundle.zip"
    download.value.save_as(bundle)
    checked = subprocess.run(
        [sys.executable, "-m", "replay.bundle_check", str(bundle)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout
    assert "2 named by the events: 2 re-hashed from their bytes" in checked.stdout
