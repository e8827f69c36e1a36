"""The command line as an operator meets it (issue 23 item 8): JSON from every command that
prints data, one-line refusals, the regulators' organisations named, histories and lists read
at 80 columns, and a dry run that writes nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ledger.application import Ledger
from tests.cli.conftest import Cims, error_lines
from tests.cli.test_cli import overdue_investigation

pytestmark = pytest.mark.store
EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "legacy_export.csv"
NARROW = {"COLUMNS": "80"}


@pytest.fixture
def legacy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return Path(shutil.copy(EXAMPLE, tmp_path / "legacy.csv"))


def test_every_command_that_prints_data_gives_json_alone_on_stdout(
    cims: Cims, legacy: Path
) -> None:
    imported = cims("import", "legacy", str(legacy), "--by", "dora", "--json")
    assert imported.exit_code == 0, imported.output
    summary = json.loads(imported.stdout)
    assert summary["counts"]["imported"] == 7 and summary["dry_run"] is False
    assert [r["line"] for r in summary["refused"]] == [9, 10, 11]
    assert summary["refused_file"] == str(legacy.with_suffix(".refused.csv"))

    unresolved = json.loads(cims("import", "unresolved", "--json").stdout)
    assert len(unresolved["items"]) == 3
    shown = cims(
        "patterns", "show", "--department-id", "1234567", "--window-days", "3650", "--json"
    )
    assert shown.exit_code == 0, shown.output
    assert len(json.loads(shown.stdout)["items"]) == 3
    suggested = cims("patterns", "suggestions", "--json")
    assert suggested.exit_code == 0 and "items" in json.loads(suggested.stdout)
    status = cims("projections", "status", "--json")
    assert {r["name"] for r in json.loads(status.stdout)["read_models"]} >= {"statistics"}
    verified = cims("projections", "verify", "--json")
    assert json.loads(verified.stdout) == {"equal": True, "differences": {}}


def test_a_dry_run_writes_no_file_and_lists_the_rows_it_would_refuse(
    cims: Cims, legacy: Path, database_url: str
) -> None:
    before = sorted(p.name for p in legacy.parent.iterdir())

    dry = cims("import", "legacy", str(legacy), "--by", "dora", "--dry-run", env=NARROW)

    assert dry.exit_code == 0, dry.output
    assert sorted(p.name for p in legacy.parent.iterdir()) == before
    assert "3 row(s) would be refused:" in dry.stdout and "line 11 CIMS-2021-000313" in dry.stdout
    as_json = json.loads(
        cims("import", "legacy", str(legacy), "--by", "d", "--dry-run", "--json").stdout
    )
    assert as_json["dry_run"] is True and as_json["refused_file"] is None
    assert sorted(p.name for p in legacy.parent.iterdir()) == before
    with Ledger.from_url(database_url) as ledger:
        assert list(ledger.incident_ids()) == []
    # On a store that exists, as much: nothing written to it, no file beside the CSV.
    cims("demo")
    with Ledger.from_url(database_url) as ledger:
        known = set(ledger.incident_ids())
    kept = sorted(p.name for p in legacy.parent.iterdir())
    assert cims("import", "legacy", str(legacy), "--by", "dora", "--dry-run").exit_code == 0
    assert sorted(p.name for p in legacy.parent.iterdir()) == kept
    with Ledger.from_url(database_url) as ledger:
        assert set(ledger.incident_ids()) == known


def test_a_token_longer_than_allowed_is_one_line_naming_the_flag(cims: Cims) -> None:
    result = cims("token", "--sub", "a", "--role", "auditor", "--org", "DFFH", "--ttl", "100000")

    assert result.exit_code == 2
    assert error_lines(result) == [
        "cims: error: --ttl: 100000 minutes is longer than a token may live: at most 720"
        " minutes (CIMS_JWT_MAX_LIFETIME_SECONDS)"
    ]
    assert "Traceback" not in result.output


def test_the_regulators_organisations_are_named_in_token_help(cims: Cims) -> None:
    helped = cims("token", "--help", env=NARROW)
    assert "ssr" in helped.stdout and "ccyp" in helped.stdout
    told = cims("token", "--sub", "r", "--role", "regulator", "--org", "Regulator")
    assert told.exit_code == 0 and "(ssr or ccyp)" in told.stderr


def test_histories_and_lists_read_at_80_columns(cims: Cims, ledger: Ledger, legacy: Path) -> None:
    story = overdue_investigation(ledger)
    cims("import", "legacy", str(legacy), "--by", "dora")

    history = cims("replay", "history", story.incident_id.hex[:8], env=NARROW)
    unresolved = cims("import", "unresolved", env=NARROW)
    pattern = cims(
        "patterns", "show", "--department-id", "1234567", "--window-days", "3650", env=NARROW
    )

    for result in (history, unresolved, pattern):
        assert result.exit_code == 0, result.output
        assert all(len(line) <= 80 for line in result.stdout.splitlines()), result.stdout
        assert "…" not in result.stdout  # nothing is cut short
    # Each event's who and what on lines of their own, whole.
    assert "  who:  mel.manager (incident_manager)" in history.stdout.splitlines()
    assert any(
        line.startswith("  what: Reported Physical abuse") for line in history.stdout.splitlines()
    )
    assert "CIMS-2020-000230" in unresolved.stdout and "Self-harm/attempted" in unresolved.stdout
    assert "Northside CSO" in pattern.stdout
