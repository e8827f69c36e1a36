"""`cims import legacy` and `cims patterns` end to end, on each store."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from ledger.application import Ledger
from ledger.legacy_import import legacy_incident_id

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "legacy_export.csv"
pytestmark = pytest.mark.store
RESOLVE = ["import", "resolve"]
INJURY_EXPLAINED = ["--label", "Injury", "--type", "Injury-explained"]
ESCALATE = ["patterns", "escalate"]


@pytest.fixture
def cims(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("CIMS_DATABASE_URL", database_url)
    monkeypatch.setenv("CIMS_JWT_SECRET", "cli-secret-" + "z" * 32)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    shutil.copy(EXAMPLE, tmp_path / "legacy.csv")
    return CliRunner()


def test_import_legacy_dry_run_then_import_then_rerun(cims: CliRunner, database_url: str) -> None:
    dry = cims.invoke(app, ["import", "legacy", "legacy.csv", "--by", "dora", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing was written" in dry.output
    with Ledger.from_url(database_url) as ledger:
        assert list(ledger.incident_ids()) == []

    done = cims.invoke(app, ["import", "legacy", "legacy.csv", "--by", "dora"])
    again = cims.invoke(app, ["import", "legacy", "legacy.csv", "--by", "dora"])

    assert done.exit_code == 0 and again.exit_code == 0, done.output
    assert "│ 7        │ 0         │ 0       │ 3          │ 3       │" in done.output
    assert "│ 0        │ 7         │ 0       │ 0          │ 3       │" in again.output
    with Path("legacy.refused.csv").open() as f:
        refused = list(csv.DictReader(f))
    assert [r["line"] for r in refused] == ["9", "10", "11"]
    assert refused[0]["reason"].startswith("submitted_at:") and "offset" in refused[0]["reason"]


def test_a_file_missing_a_required_column_is_refused_whole(cims: CliRunner) -> None:
    Path("bad.csv").write_text("legacy_id,organisation\nX,Y\n")

    result = cims.invoke(app, ["import", "legacy", "bad.csv", "--by", "dora"])

    assert result.exit_code == 1 and "lacks submitted_at" in result.output


def test_resolve_a_split_type_and_escalate_and_dismiss_a_pattern(
    cims: CliRunner, database_url: str
) -> None:
    assert cims.invoke(app, ["import", "legacy", "legacy.csv", "--by", "dora"]).exit_code == 0
    target = str(legacy_incident_id("CIMS-2024-000610"))
    earlier = str(legacy_incident_id("CIMS-2019-000102"))

    listed = cims.invoke(app, ["import", "unresolved"])
    resolved = cims.invoke(
        app,
        [*RESOLVE, target[:8], *INJURY_EXPLAINED, "--reason", "The carer saw it.", "--by", "d"],
    )
    twice = cims.invoke(
        app,
        [*RESOLVE, target, *INJURY_EXPLAINED, "--reason", "again", "--by", "dora"],
    )

    assert target[:8] in listed.output and resolved.exit_code == 0, resolved.output
    assert twice.exit_code == 1 and "legacy.not-unresolved" in twice.output
    shown = cims.invoke(
        app, ["patterns", "show", "--department-id", "1234567", "--window-days", "3650"]
    )
    assert "3 incident(s)" in shown.output and target in shown.output
    Path("report.json").write_text(
        json.dumps(
            {
                "program": "cso",
                "care_context": "cso_placement",
                "clients": [
                    {"ref": "NS-0042", "aboriginal": False, "department_client_id": "1234567"}
                ],
                "types": ["Emotional/psychological harm"],
                "impact": "major",
                "occurred_at": "2024-11-18T22:00:00+11:00",
                "became_aware_at": "2024-11-19T07:30:00+11:00",
                "location": "Residential unit",
                "description": "Injuries and absences over five years.",
                "regulator_category": "none",
            }
        )
    )
    refused = cims.invoke(
        app,
        ["patterns", "escalate", target, "--report", "report.json", "--reason", "r", "--by", "d"],
    )
    escalated = cims.invoke(
        app,
        [*ESCALATE, target, earlier, "--report", "report.json", "--reason", "Absent", "--by", "d"],
    )

    assert refused.exit_code == 1 and "pattern.several-incidents" in refused.output
    assert escalated.exit_code == 0, escalated.output
    with Ledger.from_url(database_url) as ledger:
        assert ledger.incident(legacy_incident_id("CIMS-2024-000610")).linked_to_pattern
    dismissed = cims.invoke(
        app, ["patterns", "dismiss", target, earlier, "--reason", "no", "--by", "dora"]
    )
    assert dismissed.exit_code == 1 and "pattern.already-linked" in dismissed.output


def test_stored_markup_in_imported_records_is_shown_as_typed(cims: CliRunner) -> None:
    """Issue 10 §6, for the import and pattern views: `[/]` in an organisation's name, as the
    old system exported it, is text, never rich markup (it used to crash the view)."""
    with Path("legacy.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["organisation"] = "Bad [/] Org [bold]"
    with Path("marked.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    imported = cims.invoke(app, ["import", "legacy", "marked.csv", "--by", "dora"])
    listed = cims.invoke(app, ["import", "unresolved"])
    shown = cims.invoke(
        app, ["patterns", "show", "--department-id", "1234567", "--window-days", "3650"]
    )

    assert imported.exit_code == 0, imported.output
    assert listed.exit_code == 0, listed.output
    assert shown.exit_code == 0 and "Bad [/] Org [bold]" in shown.output, shown.output


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--department-id", "12"], "--department-id"),
        (["--department-id", "12345x7"], "--department-id"),
        (["--department-id", "1234567", "--window-days", "0"], "--window-days"),
    ],
)
def test_a_malformed_pattern_query_is_one_line_naming_the_flag(
    cims: CliRunner, flags: list[str], named: str
) -> None:
    result = cims.invoke(app, ["patterns", "show", *flags])

    assert result.exit_code == 2 and named in result.output, result.output
    assert "Traceback" not in result.output


FORMULA_ROW = (
    "CIMS-2019-000999,2019-05-02T10:00:00,@SUM(1+1),cso,cso_placement,\"+cmd|' /C calc'!A0\",no,"
    "Injury,non_major,2019-04-30T21:00:00+10:00,2019-05-01T09:30:00+10:00,"
    '"=HYPERLINK(""http://evil.example"",""click"")",,none,closed,,1234567\n'
)


def test_the_refused_rows_file_holds_no_live_formula(cims: CliRunner) -> None:
    header = EXAMPLE.read_text().splitlines()[0]
    Path("formulas.csv").write_text(header + "\n" + FORMULA_ROW)

    result = cims.invoke(app, ["import", "legacy", "formulas.csv", "--by", "dora"])

    assert result.exit_code == 0, result.output
    with Path("formulas.refused.csv").open(newline="") as f:
        [row] = list(csv.DictReader(f))
    assert row["description"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["client_ref"] == "'+cmd\\|' /C calc'!A0"
    assert row["organisation"] == "'@SUM(1+1)"
