"""Each journey from sign-in, as a person would take it, in real Chromium; axe-core checks every
page it reaches and screenshots are kept in tests/web/artifacts/."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.web.helpers import accessible, fill_report_form, sign_in

NORTHSIDE = "Northside Community Services"
WESTGATE = "Westgate Disability Services"
EASTSIDE = "Eastside Housing"
CHILD_PROTECTION = "Child Protection North Division"


def open_worklist_row(page: Page, client: str, obligation: str) -> None:
    """Filter the worklist to one client and open the row for one obligation."""
    page.get_by_label("Client reference").fill(client)
    page.get_by_role("button", name="Apply filters").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=client, exact=True))
    row.get_by_role("link", name=obligation, exact=True).first.click()


def open_command(page: Page, title: re.Pattern[str]) -> Locator:
    """Press the "what you can do next" button whose name matches; return the form it opens."""
    page.get_by_role("region", name="What you can do next").get_by_role(
        "button", name=title
    ).click()
    form = page.get_by_role("region", name=title)
    expect(form).to_be_visible()
    return form


def fill_report(page: Page, *, impact: str) -> None:
    fill_report_form(
        page,
        program="cso",
        care_context="cso_placement",
        client="client-web-1",
        incident_type="Physical abuse",
        impact=impact,
        occurred_at="30/11/2026 08:40",
        became_aware_at="30/11/2026 9:15 am",
        location="Residential unit, lounge",
        description="Staff member <script>alert(1)</script> pushed the client.",
        regulator_category="notifiable",
    )
    page.get_by_role("button", name="Add a subject of allegation").click()
    subject = page.get_by_role("group", name="Subject of allegation 1")
    subject.get_by_label("Reference", exact=True).fill("staff-77")
    subject.get_by_label("Role").select_option("staff")


def test_reporter_sees_the_mandatory_major_refusal_at_the_impact_field(page: Page) -> None:
    sign_in(page, "Practitioner (reporter)", NORTHSIDE)
    expect(page.get_by_role("heading", name="Report an incident", level=1)).to_be_visible()
    page.get_by_role("button", name="Send report").click()  # empty: the schema's own checks
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary.get_by_role("link", name="Select program")).to_be_visible()
    accessible(page, "report-empty")

    fill_report(page, impact="non_major")
    page.get_by_role("button", name="Send report").click()
    impact_error = page.locator("#f-impact-error")  # the message the impact select names
    rules = page.request.get("/v1/rules").json()["items"]
    rule = next(r for r in rules if r["id"] == "classification.mandatory-major")
    expect(impact_error).to_contain_text(rule["message"])  # the catalogue's words
    expect(page.get_by_label("Impact")).to_have_attribute("aria-invalid", "true")
    summary.get_by_role("link", name=re.compile("major impact")).click()
    expect(page.get_by_label("Impact")).to_be_focused()
    accessible(page, "report-refused")

    # The draft survives a reload of the page.
    page.reload()
    expect(page.get_by_role("status").filter(has_text="draft was restored")).to_be_visible()
    expect(page.get_by_label("Location")).to_have_value("Residential unit, lounge")

    page.get_by_label("Impact").select_option("major")
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("heading", name=re.compile("Physical abuse"), level=1)).to_be_visible()
    # Ledger text is shown as text: the stored <script> is visible, never run.
    expect(page.get_by_text("<script>alert(1)</script>", exact=False)).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Incident report"))).to_be_visible()
    accessible(page, "incident-reported")


def test_manager_works_a_non_major_incident_from_the_worklist_to_closed(page: Page) -> None:
    sign_in(page, "Incident manager", NORTHSIDE)
    expect(page.get_by_role("heading", name="Worklist", level=1)).to_be_visible()
    expect(page.get_by_role("row").nth(1)).to_be_visible()
    accessible(page, "worklist")
    open_worklist_row(page, "client-8", "Response plan")

    expect(
        page.get_by_role("heading", name=re.compile("Inappropriate sexual behaviour"))
    ).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Response plan"))).to_be_visible()
    accessible(page, "incident-manager")
    plan = re.compile("record (the )?response plan", re.I)
    form = open_command(page, plan)
    form.get_by_role("textbox", name="Plan").fill("Client's care plan updated; staff briefed.")
    form.get_by_role("button", name=plan).click()
    expect(page.get_by_role("status").filter(has_text="recorded as version")).to_be_visible()
    expect(
        page.get_by_role("row", name=re.compile("Response plan")).get_by_text("Met", exact=True)
    ).to_be_visible()

    close = re.compile("^Close", re.I)
    form = open_command(page, close)
    form.get_by_role("textbox", name="Reason").fill("Local response complete.")
    form.get_by_role("button", name=close).click()
    expect(page.get_by_text("Closed", exact=True).first).to_be_visible()
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline.get_by_text(re.compile("Local response complete"))).to_be_visible()
    expect(
        timeline.get_by_text(re.compile(f"manager@{NORTHSIDE}, incident manager")).first
    ).to_be_visible()


def test_appointed_investigator_serves_allegations_and_records_the_outcome(page: Page) -> None:
    sign_in(page, "Investigator", WESTGATE)
    open_worklist_row(page, "client-18", "Allegations served")
    expect(page.get_by_role("heading", name=re.compile("Sexual exploitation"))).to_be_visible()
    serve = re.compile("^serve (the )?allegations", re.I)
    form = open_command(page, serve)
    form.get_by_role("checkbox", name="soa-18 (subject of allegation)").check()  # picked
    form.get_by_label("How they were served").select_option("letter_by_post")
    accessible(page, "serve-allegations")
    form.get_by_role("button", name=serve).click()
    expect(page.get_by_role("status").filter(has_text="recorded as version")).to_be_visible()
    expect(
        page.get_by_role("row", name=re.compile("Allegations served")).get_by_text(
            "Met", exact=True
        )
    ).to_be_visible()

    # The outcome waits for the subject's response (or a reasonable time): record it first.
    respond = re.compile("^record (a )?subject", re.I)
    form = open_command(page, respond)
    form.get_by_label("Subject of allegation").select_option("soa-18")
    form.get_by_role("textbox", name="Response").fill("Denies the allegation.")
    form.get_by_role("button", name=respond).click()
    expect(page.get_by_role("status").filter(has_text="recorded as version")).to_be_visible()

    record = re.compile("^record (the )?(outcome|finding)", re.I)
    form = open_command(page, record)
    outcome = form.get_by_role("group", name="Allegation outcome 1")
    outcome.get_by_label("Subject of allegation").select_option("soa-18")
    outcome.get_by_label("Incident type").select_option("Sexual exploitation - suspected")
    outcome.get_by_label("Finding").select_option("substantiated")
    outcome.get_by_label("Rationale").fill("Consistent accounts from two witnesses.")
    form.get_by_role("button", name=record).click()
    expect(page.get_by_role("status").filter(has_text="recorded as version")).to_be_visible()
    expect(
        page.get_by_role("region", name="Timeline").get_by_text(re.compile("^Outcome recorded"))
    ).to_be_visible()
    # What was recorded is in view: the finding's rationale and the subject's response.
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline.get_by_text("Consistent accounts from two witnesses.")).to_be_visible()
    expect(timeline.get_by_text("Denies the allegation.")).to_be_visible()


def test_reviewer_reads_the_procedural_fairness_checklist(page: Page) -> None:
    sign_in(page, "Reviewer", EASTSIDE)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.get_by_role("link", name="Incidents").click()
    page.get_by_role("link", name="Serious risk").click()
    checklist = page.get_by_role("region", name="Procedural fairness")
    expect(checklist.get_by_role("listitem").first).to_be_visible()
    expect(checklist.get_by_text(re.compile("Met|Not met|Pending"))).not_to_have_count(0)
    # A reviewer may not read the access log: the page does not ask (and get a refusal logged).
    assert not [url for url in asked if "/v1/access-log" in url]
    expect(page.get_by_role("region", name="Audit trail: who read this record")).to_have_count(0)
    accessible(page, "fairness")


def test_auditor_moves_the_as_of_slider_back_past_a_deadline_and_sees_it_open(page: Page) -> None:
    sign_in(page, "Auditor", "DFFH")
    expect(page.get_by_role("heading", name="Incidents", level=1)).to_be_visible()
    accessible(page, "incidents")
    page.get_by_label("Order").select_option("oldest")
    page.get_by_role("button", name="Apply filters").click()
    first = page.get_by_role("row").nth(1)  # the demo's oldest report
    expect(first).to_contain_text("Inappropriate physical treatment")
    page.get_by_role("link", name="Serious risk").click()
    reads = page.get_by_role("region", name="Audit trail: who read this record")
    expect(reads.get_by_role("row").filter(has_text="audrey.auditor").first).to_be_visible()
    page.get_by_role("link", name="Open the auditor's view").click()
    obligations = page.get_by_role("table", name=re.compile("Obligations at version"))
    row = obligations.get_by_role("row", name=re.compile("Investigation or review"))
    expect(row.get_by_text(re.compile("^Met"))).to_be_visible()
    slider = page.get_by_role("slider", name="Version")
    slider.focus()
    slider.press("Home")  # the keyboard moves a slider too
    expect(page.get_by_role("table", name="Obligations at version 1")).to_be_visible()
    row = page.get_by_role("table", name="Obligations at version 1").get_by_role(
        "row", name=re.compile("Investigation or review")
    )
    expect(row.get_by_text("Open", exact=True)).to_be_visible()

    page.get_by_role("button", name="Verify the hash chain").click()
    expect(page.get_by_text(re.compile("Verified: \\d+ events"))).to_be_visible()
    page.get_by_role("button", name="Compare").click()
    expect(page.get_by_role("table", name=re.compile("From version"))).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the audit bundle").click()
    assert download.value.suggested_filename.endswith(".zip")
    accessible(page, "auditor")


def test_department_officer_sees_the_charts_and_their_numbers(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("button", name="Sign in as Department officer, DFFH")).to_be_visible()
    accessible(page, "sign-in")
    sign_in(page, "Department officer", "DFFH")
    expect(page.get_by_role("heading", name="Statistics", level=1)).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("^Incidents by type"))).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("^Incidents by month"))).to_be_visible()
    expect(page.get_by_role("table", name="The numbers")).to_contain_text("Overdue rate")
    page.wait_for_function("() => window.Chart && Object.keys(window.Chart.instances).length >= 4")
    accessible(page, "department")


def test_regulator_reads_its_feed_paged(page: Page) -> None:
    sign_in(page, "Social Services Regulator", "ssr")
    expect(page.get_by_role("heading", name=re.compile("^Feed"), level=1)).to_be_visible()
    first = page.get_by_role("article").first
    expect(first).to_contain_text("Regulator category")
    expect(page.get_by_role("article")).to_have_count(10)
    accessible(page, "feed")
    page.get_by_role("button", name="Next page").click()
    expect(page.get_by_text("Page 2")).to_be_visible()
    expect(page.get_by_role("article").first).to_be_visible()


def test_a_stale_version_shows_what_changed_and_retries_on_the_new_one(page: Page) -> None:
    sign_in(page, "Incident manager", CHILD_PROTECTION)
    open_worklist_row(page, "client-1", "Response plan")
    expect(page.get_by_role("heading", name=re.compile("Attempted suicide"))).to_be_visible()
    voice = re.compile("^record (client voice|what the client said)", re.I)
    form = open_command(page, voice)

    # Meanwhile someone else records a notification on the same incident, through the API.
    token = page.evaluate("sessionStorage.getItem('cims.token')")
    incident_id = page.url.split("/incidents/")[1].split("?")[0]
    auth = {"Authorization": f"Bearer {token}"}
    current = page.request.get(f"/v1/incidents/{incident_id}", headers=auth).json()["version"]
    other = page.request.post(
        f"/v1/incidents/{incident_id}/notifications",
        headers={**auth, "If-Match": f'"{current}"', "Content-Type": "application/json"},
        data={"kind": "police", "recipient": "Victoria Police <Box Hill>"},
    )
    assert other.ok, other.text()

    form.get_by_label("Client", exact=True).select_option("client-1")  # picked, not typed
    form.get_by_label("Said").fill("She felt safe with her carer <b>most</b> days.")
    form.get_by_role("button", name=voice).click()
    warning = page.get_by_role("alert").filter(has_text="changed since you opened it")
    expect(warning).to_contain_text(f"version {current}; it is now at version {current + 1}")
    expect(warning).to_contain_text(re.compile("police", re.I))
    page.get_by_role("button", name=f"Submit again on version {current + 1}").click()
    expect(page.get_by_role("status").filter(has_text=f"version {current + 2}")).to_be_visible()


def test_a_retried_report_is_recorded_once(page: Page) -> None:
    """The answer to the first submission is lost on the way back; pressing Send again sends
    the same Idempotency-Key, so the server answers with the first report, not a second."""
    sign_in(page, "Practitioner (reporter)", WESTGATE)
    fill_report(page, impact="major")
    page.get_by_role("group", name="Client 1").get_by_label("Reference", exact=True).fill(
        "client-retry"
    )
    keys: list[str | None] = []

    def lose_the_answer(route: Any) -> None:
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.fetch()  # the server records the report…
            route.abort("connectionreset")  # …but its answer never arrives
        else:
            route.continue_()

    page.route("**/v1/incidents", lose_the_answer)
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("alert")).to_contain_text("could not be reached")
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("heading", name=re.compile("Physical abuse"), level=1)).to_be_visible()
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0]

    page.get_by_role("link", name="Worklist").click()
    page.get_by_label("Status").select_option("all")
    page.get_by_label("Client reference").fill("client-retry")
    page.get_by_role("button", name="Apply filters").click()
    reports = page.get_by_role("row").filter(has_text="Incident report")
    expect(reports).to_have_count(1)
