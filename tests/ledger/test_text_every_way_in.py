"""Text one way in accepts and a store (or a later reader) cannot hold is refused on every way in:
a command, a legacy CSV row (by line and column, the rest importing), whoever acts. NUL (which
PostgreSQL's text cannot hold), the other C0 controls and DEL, and the C1 controls (U+009B then
`2J` clears a terminal) are refused; tab and line breaks, and letters of every script, are kept.
Each on both stores."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from domain.errors import PolicyViolation
from domain.legacy_records import HeaderRefused, RowRefused, legacy_csv
from domain.rules.text import require_storable_text, require_storable_texts
from domain.values import Actor, DetailsChange, Role, Stamp
from ledger import patterns
from ledger.application import Ledger
from ledger.legacy_import import Outcome, import_rows, legacy_incident_id
from tests.factories import MANAGER, OFFICER, START, LedgerStory, report_fields
from tests.ledger.test_legacy_import import EXAMPLE, row, run
from tests.ledger.test_patterns import escalation, non_major

CONTROLS = ["\x00", "\x01", "\x1b", "\x7f", "\x80", "\x85", "\x9b"]
KEPT = ["line one\nline two", "a\ttab", "crlf\r\n", "Ngāti Wātua ✓ 日本語 \u00a0non-breaking"]


@pytest.mark.parametrize("bad", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_a_control_character_is_refused_naming_the_field_and_the_character(bad: str) -> None:
    with pytest.raises(PolicyViolation) as refused:
        require_storable_texts({"details": {"description": f"before{bad}after"}})

    assert refused.value.rule_id == "text.control-character"
    assert refused.value.field == "details.description"
    assert f"U+{ord(bad):04X}" in refused.value.message


@pytest.mark.parametrize("good", KEPT)
def test_tab_line_breaks_and_every_script_are_kept(good: str) -> None:
    require_storable_text(good, "description")
    require_storable_texts({"reason": good, "clients": [{"ref": good}]})


def test_a_report_with_nul_in_its_description_is_refused_and_nothing_is_written(
    ledger: Ledger,
) -> None:
    fields = report_fields()
    fields["details"] = fields["details"].model_copy(update={"description": "Bruise\x00 on arm"})

    with pytest.raises(PolicyViolation) as refused:
        ledger.report(stamp=Stamp(actor=MANAGER, now=START), **fields)

    assert (refused.value.rule_id, refused.value.field) == (
        "text.control-character",
        "details.description",
    )
    assert list(ledger.incident_ids()) == []


def test_a_command_with_a_c1_control_in_its_reason_is_refused_and_a_clean_one_accepted(
    ledger: Ledger,
) -> None:
    story = LedgerStory.report(ledger)

    with pytest.raises(PolicyViolation) as refused:
        story.do("record_response_plan", plan="Plan\x9b2J agreed")
    story.do("record_response_plan", plan="Plan agreed.\n\tCarer stood down.")

    assert refused.value.rule_id == "text.control-character"
    assert refused.value.field == "plan"
    assert ledger.incident(story.incident_id).version == 2


def test_who_acts_is_text_the_event_keeps_too(ledger: Ledger) -> None:
    someone = Actor(id="dora\x1b[2J", role=Role.INCIDENT_MANAGER, organisation=MANAGER.organisation)

    with pytest.raises(PolicyViolation) as refused:
        ledger.report(stamp=Stamp(actor=someone, now=START), **report_fields())

    assert refused.value.field == "actor.id"


@pytest.mark.parametrize("column", ["description", "client_ref", "organisation", "location"])
@pytest.mark.parametrize("bad", ["\x00", "\x9b"], ids=["NUL", "CSI"])
def test_a_legacy_row_with_a_control_character_is_refused_by_line_and_column_the_rest_import(
    ledger: Ledger, column: str, bad: str
) -> None:
    base = row()
    bad_row = row(legacy_id="BAD-1", **{column: f"{base.get(column) or 'x'}{bad}"})

    results = run(
        ledger, [(2, row(legacy_id="GOOD-1")), (3, bad_row), (4, row(legacy_id="GOOD-2"))]
    )

    refused = results[1]
    assert (refused.outcome, refused.line, refused.rule) == (
        Outcome.REFUSED,
        3,
        "text.control-character",
    )
    assert refused.reason is not None and refused.reason.startswith(f"{column}: holds a control")
    assert sorted(ledger.incident_ids()) == sorted(
        [legacy_incident_id("GOOD-1"), legacy_incident_id("GOOD-2")]
    )


def csv_text(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_a_140000_character_cell_is_refused_by_its_line_and_the_ten_good_rows_import(
    ledger: Ledger,
) -> None:
    good = [row(legacy_id=f"GOOD-{n}") for n in range(10)]
    huge = row(legacy_id="HUGE", description="x" * 140_000)
    text = csv_text([*good[:5], huge, *good[5:]])

    _, rows = legacy_csv(io.StringIO(text, newline=""))
    results = run(ledger, rows)

    refused = [r for r in results if r.outcome == Outcome.REFUSED]
    assert [(r.line, r.reason) for r in refused] == [
        (7, "row: has a cell longer than 131,072 characters (a column holds at most 50,000)")
    ]
    assert sum(r.outcome == Outcome.IMPORTED for r in results) == 10
    assert len(list(ledger.incident_ids())) == 10


@pytest.mark.parametrize(
    ("column", "length", "most"),
    [("description", 50_001, "50,000"), ("organisation", 201, "200"), ("legacy_id", 201, "200")],
)
def test_a_cell_longer_than_its_column_allows_is_refused_by_line_and_column(
    ledger: Ledger, column: str, length: int, most: str
) -> None:
    long = row(**{"legacy_id": "LONG", column: "y" * length})

    (result,) = run(ledger, [(2, long)])

    assert result.outcome == Outcome.REFUSED
    assert result.reason == f"{column}: is {length:,} characters long; at most {most}"


def test_a_csv_with_or_without_a_byte_order_mark_reads_the_same() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")

    plain_header, plain = legacy_csv(io.StringIO(text, newline=""))
    marked_header, marked = legacy_csv(io.StringIO("\ufeff" + text, newline=""))

    assert marked_header == plain_header and marked_header[0] == "legacy_id"
    assert list(marked) == list(plain)


def test_a_header_lacking_a_column_is_refused_naming_it() -> None:
    with pytest.raises(HeaderRefused) as refused:
        legacy_csv(io.StringIO("legacy_id,organisation\nX,Y\n"))

    assert "lacks submitted_at" in refused.value.reason


def test_import_rows_refuses_an_unreadable_row_handed_to_it(ledger: Ledger) -> None:
    (result,) = list(
        import_rows(ledger, [(5, RowRefused("row", "unreadable"))], actor=OFFICER, now=START)
    )

    assert (result.line, result.outcome, result.reason) == (5, Outcome.REFUSED, "row: unreadable")


def test_a_details_change_is_checked_like_a_report(ledger: Ledger) -> None:
    story = LedgerStory.report(ledger).later(hours=1)

    with pytest.raises(PolicyViolation) as refused:
        story.do("amend", changes=DetailsChange(location="Unit\x85 4"), reason="typo")

    assert (refused.value.rule_id, refused.value.field) == (
        "text.control-character",
        "changes.location",
    )
    assert ledger.incident(story.incident_id).version == 1


def test_an_escalation_and_a_dismissal_hold_their_reasons_to_the_rule(ledger: Ledger) -> None:
    a, b, c = (non_major(ledger, d) for d in (0, 10, 20))
    ids = [a.incident_id, b.incident_id, c.incident_id]
    stamp = Stamp(actor=MANAGER, now=START + timedelta(days=21))

    with pytest.raises(PolicyViolation) as escalated:
        patterns.escalate(
            ledger, stamp=stamp, pattern_of=ids, reason="Three\x9b2J injuries", **escalation()
        )
    with pytest.raises(PolicyViolation) as dismissed:
        patterns.dismiss(ledger, stamp=stamp, incident_ids=ids, reason="Separate\x00 injuries")

    assert (escalated.value.rule_id, escalated.value.field) == ("text.control-character", "reason")
    assert (dismissed.value.rule_id, dismissed.value.field) == ("text.control-character", "reason")
    assert len(list(ledger.incident_ids())) == 3
    assert all(ledger.incident(i).version == 1 for i in ids)


def test_an_import_run_by_someone_named_with_a_control_character_is_refused_whole(
    ledger: Ledger,
) -> None:
    someone = OFFICER.model_copy(update={"id": "dora\x00"})

    with pytest.raises(PolicyViolation) as refused:
        list(import_rows(ledger, [(2, row())], actor=someone, now=START))

    assert refused.value.field == "actor.id"
    assert list(ledger.incident_ids()) == []


def test_no_text_is_longer_than_a_records_longest_field_on_any_way_in(ledger: Ledger) -> None:
    story = LedgerStory.report(ledger)
    require_storable_text("p" * 50_000, "plan")

    with pytest.raises(PolicyViolation) as refused:
        story.do("record_response_plan", plan="p" * 50_001)
    story.do("record_response_plan", plan="p" * 50_000)

    assert (refused.value.rule_id, refused.value.field) == ("text.too-long", "plan")
    assert "50,001 characters long" in refused.value.message
    assert ledger.incident(story.incident_id).version == 2
