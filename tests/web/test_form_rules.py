"""The form renderer's own rules, run in Chromium against the server's `/openapi.json`: optional
groups and lists left empty are left out, refusals land on the form's own fields in words, and
options read as the API vocabulary describes them (issue 21, items 3 and 4)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page


@pytest.fixture
def forms(page: Page) -> Page:
    page.goto("/")
    page.evaluate(
        """async () => {
        window.form = await import('/js/form.js');
        window.fmt = await import('/js/format.js');
        window.doc = await (await fetch('/openapi.json')).json();
        window.c = doc.components.schemas;
      }"""
    )
    return page


def run(page: Page, script: str, arg: Any = None) -> Any:
    return page.evaluate(script, arg)


def test_appointing_by_reference_alone_leaves_the_other_organisations_group_out(
    forms: Page,
) -> None:
    found = run(
        forms,
        """() => {
        const s = c.AppointInvestigatorIn;
        const v = {...form.initial(s, c), investigator_ref: 'ivy', independence_declared: true,
                   declaration: 'None.'};
        return {errors: form.validate(s, v, c), body: form.toBody(s, v, c)};
      }""",
    )
    assert found["errors"] == []
    assert found["body"] == {
        "investigator_ref": "ivy",
        "independence_declared": True,
        "declaration": "None.",
    }


def test_a_reclassification_of_the_impact_alone_sends_no_types(forms: Page) -> None:
    found = run(
        forms,
        """() => {
        const s = c.ReclassifyIn;
        const v = {...form.initial(s, c), impact: 'major', reason: 'Hospital.'};
        return {errors: form.validate(s, v, c), body: form.toBody(s, v, c)};
      }""",
    )
    assert found["errors"] == []
    assert found["body"] == {"impact": "major", "reason": "Hospital."}


def test_a_nested_refusal_lands_on_the_forms_own_field_in_words(forms: Page) -> None:
    placed = run(
        forms,
        """() => form.placed([
          {field: 'details.became_aware_at', rule: 'time.effective-in-future', message: 'M'},
          {field: 'clients.0.department_client_id', rule: 'schema.string_pattern_mismatch',
           message: "String should match pattern '^[0-9]{6,10}$'"},
          {field: 'nowhere.at_all', rule: 'x.y', message: 'N'},
        ], c.ReportIn, c)""",
    )
    assert placed[0]["field"] == "became_aware_at" and placed[0]["message"] == "M"
    assert placed[1]["field"] == "clients.0.department_client_id"
    assert placed[1]["message"] == ("Department client ID is not in the right form: 6 to 10 digits")
    assert placed[2]["field"] is None  # in the summary only


def test_options_read_as_the_vocabulary_describes_them(forms: Page) -> None:
    said = run(
        forms,
        """() => [['letter_by_hand', c.ServiceMethod], ['acco', c.ConsultedBody],
                 ['cctv', c.EvidenceKind]].map(([v, s]) => fmt.optionLabel(v, s))""",
    )
    assert said == [
        "Letter handed over (written service)",
        "ACCO: an Aboriginal community-controlled organisation",
        "CCTV footage",
    ]
