"""`/readyz`, `/metrics` and `cims projections status` tell the truth: not ready past the stated
lag or when a read model has stopped on an event, naming the read model, the position and the
error (issue 23 item 5, issue 19 item 2)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.main import create_app
from api.settings import Settings
from cli.main import app as cli_app
from projections.runner import Handler
from projections.service import ReadModels
from projections.webhooks import WebhookPusher
from tests.api.conftest import Auth, Clock
from tests.api.test_contract import report
from tests.projections.conftest import replace_handler

pytestmark = pytest.mark.store
STRONG = {"CIMS_FEED_SECRET": "f" * 32, "CIMS_CHECKPOINT_KEY": "c" * 32}


@pytest.fixture
def settings(database_url: str) -> Settings:
    """As the API runs beside workers of its own: it follows no log itself."""
    return Settings(
        database_url=database_url,
        jwt_secret="test-secret-" + "x" * 32,
        feed_secret="f" * 32,
        checkpoint_key="c" * 32,
        run_projections_in_process=False,
        ready_max_lag_seconds=30,
    )


@pytest.fixture
def client(settings: Settings, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock), raise_server_exceptions=False) as c:
        yield c


def models_of(client: TestClient) -> ReadModels:
    found: ReadModels = client.app.state.services.read_models  # type: ignore[attr-defined]
    return found


def status(database_url: str, *args: str) -> Any:
    return CliRunner().invoke(
        cli_app,
        ["projections", "status", *args],
        env={"CIMS_DATABASE_URL": database_url, "CIMS_READY_MAX_LAG_SECONDS": "30", **STRONG},
    )


def test_with_no_worker_a_command_waiting_past_the_lag_makes_readyz_503_and_status_exit_1(
    client: TestClient, auth: Auth, clock: Clock, database_url: str
) -> None:
    report(client, auth)
    clock.advance(seconds=10)
    assert client.get("/readyz").status_code == 200  # behind, but within the stated lag

    clock.advance(seconds=50)
    ready = client.get("/readyz")

    assert ready.status_code == 503
    body = ready.json()
    assert ready.headers["content-type"] == "application/problem+json"
    assert body["type"].endswith("/not-ready") and body["status"] == 503
    assert body["max_lag_seconds"] == 60
    assert body["max_lag_seconds_allowed"] == 30
    assert any(
        p.startswith("incident_summary is 1 events behind at position 0") for p in body["problems"]
    )
    metrics = client.get("/metrics").text
    assert 'cims_projection_lag_seconds{read_model="incident_summary"} 60.0' in metrics
    # The worker's health check, on the wall clock: the event (logged at the test's 2025
    # clock) has waited far longer than 30 s.
    found = status(database_url)
    assert found.exit_code == 1
    assert "not ready: incident_summary is 1 events behind at position 0" in found.stderr

    models_of(client).catch_up()

    assert client.get("/readyz").status_code == 200
    assert client.get("/readyz").json()["status"] == "ready"
    assert status(database_url).exit_code == 0


def test_a_read_model_stopped_on_an_event_is_named_with_its_position_and_error_everywhere(
    client: TestClient, auth: Auth, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = models_of(client)

    def broken(handle: Handler) -> Handler:
        def refuse(*args: Any) -> None:
            raise ValueError("text fields cannot contain NUL")

        return refuse

    replace_handler(monkeypatch, models, "statistics", broken)
    report(client, auth)
    models.catch_up()

    ready = client.get("/readyz")
    assert ready.status_code == 503
    (problem,) = ready.json()["problems"]
    assert problem == "statistics stopped at position 1: ValueError: text fields cannot contain NUL"
    assert ready.json()["detail"] == problem
    metrics = client.get("/metrics").text
    assert 'cims_projection_failed{read_model="statistics"} 1.0' in metrics
    assert 'cims_projection_failed{read_model="audit_trail"} 0.0' in metrics
    assert re.search(
        r'cims_projection_failure_info\{error="ValueError: text fields cannot contain NUL",'
        r'position="1",read_model="statistics"\} 1.0',
        metrics,
    )
    found = status(database_url, "--json")
    assert found.exit_code == 1
    data = json.loads(found.stdout)
    assert data["ready"] is False
    (row,) = [r for r in data["read_models"] if r["name"] == "statistics"]
    assert row["error_position"] == 1 and "NUL" in row["error"]
    assert "not ready: statistics stopped at position 1" in found.stderr

    monkeypatch.undo()
    models.runner.failed_at.clear()
    models.catch_up()

    assert client.get("/readyz").status_code == 200
    assert "cims_projection_failure_info{" not in client.get("/metrics").text


def test_status_prints_a_table_readable_at_80_columns(
    client: TestClient, auth: Auth, database_url: str
) -> None:
    report(client, auth)
    models = models_of(client)
    models.catch_up()
    WebhookPusher(models, "ssr", "https://regulator.example/cims/webhooks/incidents", b"k" * 32)
    found = CliRunner().invoke(
        cli_app,
        ["projections", "status"],
        env={"CIMS_DATABASE_URL": database_url, "COLUMNS": "80", **STRONG},
    )

    assert found.exit_code == 0, found.output
    assert "incident_summary" in found.stdout and "ssr" in found.stdout
    assert max(len(line) for line in found.stdout.splitlines()) <= 80
