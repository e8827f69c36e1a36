"""`cims reminders`: one-line refusal without an SMTP server; status as a health check."""

from __future__ import annotations

import json

from tests.cli.conftest import Cims, error_lines


def test_run_without_an_smtp_server_is_refused_in_one_line(cims: Cims) -> None:
    result = cims("reminders", "run", "--once")
    assert result.exit_code == 2
    assert error_lines(result) == ["cims: error: refusing to start: CIMS_SMTP_HOST is not set"]


def test_status_reports_the_outbox_and_exits_0_when_nothing_fails(cims: Cims) -> None:
    assert cims("demo").exit_code == 0
    assert cims("projections", "run", "--until-idle").exit_code == 0
    result = cims("reminders", "status", "--json")
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["pending"] == 0 and found["read_model_lag"] == 0
    table = cims("reminders", "status", env={"COLUMNS": "80"})
    assert "Waiting to be sent" in table.stdout and "_" not in table.stdout
