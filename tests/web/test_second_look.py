"""A second look at the front end for daily use (issue 21), with other inputs of the same kinds:
recorded facts that stay readable on a phone, documents picked rather than typed and superseded
from their own entry, the facts amended from where they stand, refusals of nested fields at
those fields, the whole record in view, what was done before, paper without forms, and no draft
kept of a form nothing was typed in. In real Chromium, as each role."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import NARROW, WIDE
from tests.web.helpers import accessible, fill_report_form, sign_in, under_investigation
from tests.web.test_practice import DEVELOPER_WORDS, command, confirmed, report_through_the_api

NORTHSIDE = "Northside Community Services"
EASTSIDE = "Eastside Housing"
STILL = b"%PDF-1.7\n% a still from the hallway camera\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
LETTER = b"%PDF-1.7\n% the letter first sent\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@pytest.fixture
def investigation(demo_store: str) -> str:
    """A Northside incident under investigation: a carer is the subject, the investigator is
    appointed, and nothing is yet served."""
    return under_investigation(demo_store, NORTHSIDE)


def token(page: Page) -> str:
    return str(page.evaluate("sessionStorage.getItem('cims.token')"))


def add_document(page: Page, incident: str, kind: str, name: str, data: bytes) -> None:
    """Add a document to the incident's record through the API, as the signed-in person."""
    auth = {"Authorization": f"Bearer {token(page)}"}
    version = page.request.get(f"/v1/incidents/{incident}", headers=auth).json()["version"]
    answer = page.request.post(
        f"/v1/incidents/{incident}/documents",
        headers={**auth, "If-Match": f'"{version}"', "Idempotency-Key": f"{incident}-{name}"},
        multipart={
            "kind": kind,
            "file": {"name": name, "mimeType": "application/pdf", "buffer": data},
        },
    )
    assert answer.ok, answer.text()


def open_incident(page: Page, incident: str, heading: str = "Physical abuse") -> None:
    page.goto(f"/#/incidents/{incident}")
    expect(page.get_by_role("heading", name=re.compile(heading), level=1)).to_be_visible()


def fits_the_phone(page: Page) -> None:
    """Nothing runs off a 390 px screen, and no recorded value is squeezed to a few letters."""
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    narrowest = page.evaluate(
        """() => Math.min(...[...document.querySelectorAll('.facts dd')]
            .filter((d) => d.textContent.trim().length > 12)
            .map((d) => d.getBoundingClientRect().width))"""
    )
    assert narrowest >= 150, narrowest


def test_what_each_step_recorded_reads_on_a_phone(page: Page) -> None:
    sign_in(page, "Auditor", "DFFH")
    page.get_by_label("Incident type").select_option("Serious risk")
    page.get_by_role("button", name="Apply filters").click()
    page.get_by_role("link", name="Serious risk").first.click()
    expect(page.get_by_role("region", name="Timeline")).to_contain_text("Outcome recorded")
    page.set_viewport_size(NARROW)
    fits_the_phone(page)
    # The auditor's obligations as they stood and the differences: cards, not wide tables.
    page.set_viewport_size(WIDE)
    page.get_by_role("link", name="Open the auditor's view").click()
    page.get_by_label("From version").fill("1")
    page.get_by_role("button", name="Compare").click()
    expect(page.get_by_role("table", name=re.compile("From version"))).to_be_visible()
    page.set_viewport_size(NARROW)
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    met = page.locator("td[data-label='Met']").first.bounding_box()
    assert met and met["x"] + met["width"] <= NARROW["width"], met
    accessible(page, "auditor-on-a-phone")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "Social Services Regulator", "ssr")
    expect(page.get_by_role("article").first).to_be_visible()
    page.set_viewport_size(NARROW)
    fits_the_phone(page)


def test_a_document_is_picked_for_a_step_and_superseded_from_its_own_entry(
    page: Page, investigation: str
) -> None:
    sign_in(page, "Investigator", NORTHSIDE)
    add_document(page, investigation, "evidence", "hallway-still.pdf", STILL)
    add_document(page, investigation, "allegations_letter", "first-letter.pdf", LETTER)
    open_incident(page, investigation)
    sent: list[Any] = []
    page.on(
        "request",
        lambda r: sent.append(json.loads(r.post_data or "{}")) if r.method == "POST" else None,
    )

    # The document a step rests on is one of those on the record, picked by what it is.
    form = command(page, "Record evidence gathered")
    document = form.get_by_role("combobox", name=re.compile("^Document"))
    expect(document.get_by_role("option", name=re.compile("hallway-still.pdf"))).to_have_count(1)
    expect(form.get_by_role("textbox", name=re.compile("^Document"))).to_have_count(0)
    form.get_by_label("Kind of evidence").select_option("cctv")
    form.get_by_label("Description").fill("A still from the hallway camera.")
    document.select_option(
        label=document.get_by_role("option", name=re.compile("hallway-still.pdf")).inner_text()
    )
    form.get_by_role("button", name="Record evidence gathered").click()
    confirmed(page)
    documents = page.get_by_role("region", name="Documents")
    listed = page.request.get(
        f"/v1/incidents/{investigation}/documents",
        headers={"Authorization": f"Bearer {token(page)}"},
    ).json()["items"]
    still = next(d for d in listed if d["file_name"] == "hallway-still.pdf")
    assert sent[-1]["document_id"] == still["document_id"]
    page.get_by_role("button", name="Sign out").click()

    # A document is superseded from its own entry, not by a typed id.
    sign_in(page, "Incident manager", NORTHSIDE)
    open_incident(page, investigation)
    actions = page.get_by_role("region", name="What you can do next")
    expect(actions.get_by_role("button", name=re.compile("superseded", re.I))).to_have_count(0)
    documents.get_by_role(
        "button", name="Mark superseded: allegations letter, first-letter.pdf"
    ).click()
    form = page.get_by_role("region", name=re.compile("superseded", re.I))
    expect(form).to_contain_text("first-letter.pdf")
    expect(form.get_by_role("textbox", name=re.compile("Document"))).to_have_count(0)
    form.get_by_label("Reason").fill("The letter went to the wrong address; a new one was sent.")
    form.get_by_role("button", name=re.compile("superseded", re.I)).click()
    confirmed(page)
    entry = documents.get_by_role("listitem").filter(has_text="first-letter.pdf")
    expect(entry).to_contain_text("Superseded: The letter went to the wrong address")
    expect(entry.get_by_role("button", name=re.compile("Mark superseded"))).to_have_count(0)
    expect(
        documents.get_by_role("button", name="Mark superseded: evidence, hallway-still.pdf")
    ).to_be_visible()

    # A correction names the step it corrects from the timeline.
    form = command(page, "Correct an error")
    step = form.get_by_role("combobox", name=re.compile("Step being corrected"))
    expect(step.get_by_role("option", name=re.compile(r"^Version 1: Reported"))).to_have_count(1)
    accessible(page, "supersede-and-pick")


def test_amending_starts_from_the_facts_and_sends_only_what_changed(page: Page) -> None:
    sign_in(page, "Incident manager", NORTHSIDE)
    incident = report_through_the_api(
        page,
        clients=[
            {"ref": "client-b1", "aboriginal": False},
            {"ref": "client-b2", "aboriginal": True, "date_of_birth": "2012-03-04"},
        ],
    )
    sent: list[Any] = []
    page.on(
        "request",
        lambda r: sent.append(json.loads(r.post_data or "{}")) if r.method == "POST" else None,
    )
    form = command(page, "Amend the facts")
    expect(form.get_by_label("Location")).to_have_value("Residential unit")
    second = form.get_by_role("group", name="Client 2")
    expect(second.get_by_label("Reference", exact=True)).to_have_value("client-b2")
    expect(second.get_by_label("Date of birth")).to_have_value("4/3/2012")
    form.get_by_label("Location").fill("Residential unit 4")
    form.get_by_label("Reason").fill("The unit number was missing.")
    form.get_by_role("button", name="Amend the facts of the report").click()
    confirmed(page)
    assert sent[-1]["changes"] == {"location": "Residential unit 4"}, sent[-1]
    details = page.get_by_role("region", name="Details")
    expect(details).to_contain_text("client-b1: not Aboriginal")
    expect(details).to_contain_text("client-b2: Aboriginal, born 4 Mar 2012")
    expect(details).to_contain_text("Residential unit 4")
    assert incident


def test_a_guardians_client_is_picked_and_a_nested_refusal_lands_at_its_field(
    page: Page,
) -> None:
    sign_in(page, "Practitioner (reporter)", EASTSIDE)
    fill_report_form(
        page,
        program="housing",
        care_context="other",
        client="client-e7",
        incident_type="Neglect",
        impact="non_major",
        occurred_at="30/11/2026 08:40",
        became_aware_at="30/11/2026 09:15",
        location="Unit 7",
        description="No heating for two days.",
        regulator_category="none",
    )
    client = page.get_by_role("group", name="Client 1")
    page.get_by_role("button", name="Add a guardian").click()
    guardian = page.get_by_role("group", name="Guardian 1")
    guardian.get_by_label("Reference", exact=True).fill("aunt-e7")
    # The guardian's client is one of the clients entered above, picked.
    picked = guardian.get_by_role("combobox", name="Client", exact=True)
    expect(picked.get_by_role("option", name="client-e7")).to_have_count(1)
    picked.select_option("client-e7")
    guardian.get_by_label("Relationship").select_option("guardian")
    # The client's reference corrected after: the guardian still names the old one.
    client.get_by_label("Reference", exact=True).fill("client-e8")
    rules = page.request.get("/v1/rules").json()["items"]
    unknown = next(r for r in rules if r["id"] == "guardian.unknown-client")
    future = next(r for r in rules if r["id"] == "time.effective-in-future")
    page.get_by_role("button", name="Send report").click()
    expect(page.locator("#f-guardians-0-client_ref-error")).to_contain_text(unknown["message"])
    picked.select_option("client-e8")

    # A date of birth after today is a fact in the future, refused at its field.
    tomorrow = datetime.now(UTC) + timedelta(days=2)
    client.get_by_label("Date of birth").fill(f"{tomorrow.day}/{tomorrow.month}/{tomorrow.year}")
    page.get_by_role("button", name="Send report").click()
    expect(page.locator("#f-clients-0-date_of_birth-error")).to_contain_text(future["message"])
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    summary.get_by_role("link").first.click()
    expect(client.get_by_label("Date of birth")).to_be_focused()
    client.get_by_label("Date of birth").fill("3/2/2011")
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("region", name="Details")).to_contain_text(
        "aunt-e7, client's legal guardian of client-e8"
    )


def test_the_whole_record_is_in_view_in_words(page: Page) -> None:
    sign_in(page, "Auditor", "DFFH")
    page.get_by_label("Incident type").select_option("Serious risk")
    page.get_by_role("button", name="Apply filters").click()
    page.get_by_role("link", name="Serious risk").first.click()
    details = page.get_by_role("region", name="Details")
    expect(details).to_contain_text("Reported by")
    # How each subject was served, who was told, who reviewed the outcome.
    expect(details).to_contain_text("letter sent by post")
    expect(
        details.get_by_role("definition").filter(has_text="(subject of allegation)")
    ).to_be_visible()
    expect(details).to_contain_text("Outcome reviewer")
    expect(details).to_contain_text("Outcome review")
    expect(details).to_contain_text("Response plan")
    fairness = page.get_by_role("region", name="Procedural fairness")
    expect(fairness).to_contain_text("letter by post")
    # Who read the record: what was read in words.
    reads = page.get_by_role("region", name="Audit trail: who read this record")
    expect(reads).to_contain_text("Incidents (in a list)")
    main = page.get_by_role("main").inner_text()
    assert not DEVELOPER_WORDS.search(main), DEVELOPER_WORDS.findall(main)
    assert not re.search(r"\b[A-Z][a-z]+:[a-z]", main), main  # "List:incidents"

    # The differences keep a person's reference as written and leave out empty groups.
    page.get_by_role("link", name="Open the auditor's view").click()
    page.get_by_label("From version").fill("1")
    page.get_by_role("button", name="Compare").click()
    table = page.get_by_role("table", name=re.compile("From version"))
    expect(
        table.get_by_role("rowheader", name=re.compile(r"^Service: soa-\d+: Method"))
    ).to_have_count(1)
    rows = table.get_by_role("row").all_inner_texts()
    assert not [r for r in rows if re.fullmatch(r"[^\t]+\tnone\tnone", r.strip())], rows
    assert not re.search(r"Follow up\b|SOA \d", table.inner_text()), table.inner_text()


def test_a_step_taken_before_says_when_and_pickers_offer_the_right_people(page: Page) -> None:
    sign_in(page, "Incident manager", NORTHSIDE)
    report_through_the_api(page, clients=[{"ref": "client-c1", "aboriginal": False}])
    form = command(page, "Record what the client said")
    form.get_by_label("Client").select_option("client-c1")
    form.get_by_label("Said", exact=True).fill("They pushed me.")
    form.get_by_role("button", name=re.compile("client said")).click()
    confirmed(page)
    notice = page.get_by_role("status").filter(has_text="recorded as version").inner_text()
    version = notice.split("version ")[-1].rstrip(".")
    actions = page.get_by_role("region", name="What you can do next")
    expect(
        actions.get_by_role(
            "button", name=re.compile(f"client said.*last recorded at version {version}")
        )
    ).to_be_visible()
    expect(actions).to_contain_text(f"Last recorded: version {version}")
    page.get_by_role("button", name="Sign out").click()

    # Who was told the outcome is one of the people of the kind chosen beside it.
    sign_in(page, "Incident manager", NORTHSIDE)
    page.get_by_role("link", name="Incidents").click()
    page.get_by_label("Incident type").select_option("Neglect")
    page.get_by_role("button", name="Apply filters").click()
    page.get_by_role("link", name="Neglect").first.click()
    form = command(page, "outcome was communicated")
    told = form.get_by_role("combobox", name="Who was told")
    expect(told.get_by_role("option", name=re.compile("subject of allegation"))).to_have_count(1)
    form.get_by_role("combobox", name="Recipient").select_option("client")
    expect(told.get_by_role("option", name=re.compile("subject of allegation"))).to_have_count(0)
    expect(told.get_by_role("option", name=re.compile(r"\(client\)"))).to_have_count(1)


def test_paper_shows_documents_by_name_and_no_form(page: Page, investigation: str) -> None:
    sign_in(page, "Investigator", NORTHSIDE)
    add_document(page, investigation, "evidence", "cctv-frame.pdf", STILL + b"%2\n")
    open_incident(page, investigation)
    documents = page.get_by_role("region", name="Documents")
    expect(documents.get_by_role("button", name="cctv-frame.pdf", exact=True)).to_be_visible()
    page.emulate_media(media="print")
    expect(page.get_by_role("form", name="Add a document")).to_be_hidden()
    expect(documents.locator(".print-only", has_text="cctv-frame.pdf")).to_be_visible()
    assert page.locator("button:visible, select:visible, input:visible").count() == 0
    assert not page.locator("details.why-date:visible").count()
    page.screenshot(path="tests/web/artifacts/incident-print-documents.png", full_page=True)


def test_a_form_nothing_was_typed_in_is_no_draft(page: Page) -> None:
    sign_in(page, "Practitioner (reporter)", NORTHSIDE)
    expect(page.get_by_role("heading", name="Report an incident", level=1)).to_be_visible()
    page.get_by_role("link", name="Incidents").click()
    page.get_by_role("link", name="Report an incident").click()
    expect(page.get_by_label("Description")).to_be_visible()
    expect(page.get_by_text("draft was restored")).to_have_count(0)
    drafts = page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('cims.draft'))")
    assert drafts == [], drafts


def test_statistics_name_months_as_a_person_does(page: Page) -> None:
    sign_in(page, "Department officer", "DFFH")
    expect(page.get_by_role("heading", name="Statistics", level=1)).to_be_visible()
    chart = page.get_by_role("img", name=re.compile("^Incidents by month reported"))
    label = chart.get_attribute("aria-label") or ""
    assert re.search(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}: \d", label), label
    assert not re.search(r"\d{4}-\d{2}", label), label
    page.get_by_text("Incidents by month reported as a table").click()
    assert not re.search(r"\d{4}-\d{2}", page.get_by_role("main").inner_text())
