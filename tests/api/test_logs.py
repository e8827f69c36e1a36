"""Structured logs: a line for each request (id, principal, route, status, latency), for each
batch a worker applies and each read model that stops, rendered as JSON (issue 23 item 5)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.logs import configure
from domain.values import Role
from ledger.application import Ledger
from projections.runner import Handler
from projections.service import ReadModels
from tests.api.conftest import Auth, report_body
from tests.factories import LedgerStory
from tests.projections.conftest import read_models, replace_handler  # noqa: F401


def lines(caplog: pytest.LogCaptureFixture, logger: str, message: str) -> list[dict[str, Any]]:
    return [r.__dict__ for r in caplog.records if r.name == logger and r.getMessage() == message]


@pytest.mark.store
def test_each_request_is_logged_with_its_id_principal_route_status_and_latency(
    client: TestClient, auth: Auth, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="cims.http"):
        made = client.post(
            "/v1/incidents",
            json=report_body(),
            headers=auth(Role.INCIDENT_MANAGER, **{"X-Request-ID": "trace-42"}),
        )
        anonymous = client.get("/v1/incidents", headers={"X-Request-ID": "not a token\x7f"})

    assert made.status_code == 201 and made.headers["x-request-id"] == "trace-42"
    assert anonymous.status_code == 401
    given = anonymous.headers["x-request-id"]
    assert len(given) == 32 and given != "not a token"  # a plain token of ours instead
    (line,) = [x for x in lines(caplog, "cims.http", "request") if x["request_id"] == "trace-42"]
    assert line["method"] == "POST" and line["route"] == "/v1/incidents"
    assert line["status"] == 201 and line["latency_ms"] > 0
    assert line["principal"] == "incident_manager-1" and line["role"] == "incident_manager"
    assert line["organisation"] == "Northside CSO"
    (refused,) = [x for x in lines(caplog, "cims.http", "request") if x["request_id"] == given]
    assert refused["status"] == 401 and refused["principal"] is None
    assert refused["route"] == "/v1/incidents"


@pytest.mark.store
def test_a_worker_logs_each_batch_and_a_read_model_that_stops(
    ledger: Ledger,
    read_models: ReadModels,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(handle: Handler) -> Handler:
        def refuse(*args: Any) -> None:
            raise ValueError("cannot hold this")

        return refuse

    replace_handler(monkeypatch, read_models, "statistics", broken)
    LedgerStory.report(ledger).do("record_response_plan", plan="p")

    with caplog.at_level(logging.INFO, logger="cims.projections"):
        read_models.catch_up()

    applied = {x["read_model"]: x for x in lines(caplog, "cims.projections", "batch applied")}
    assert applied["audit_trail"]["first"] == 1 and applied["audit_trail"]["last"] == 2
    assert applied["audit_trail"]["events"] == 2 and "ms" in applied["audit_trail"]
    assert "statistics" not in applied
    (stopped,) = lines(caplog, "cims.projections", "read model failed")
    assert stopped["read_model"] == "statistics" and stopped["position"] == 1
    assert stopped["error"] == "ValueError: cannot hold this"


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers, root.level = handlers, level
    logging.getLogger("uvicorn.access").disabled = False


def test_services_log_one_json_object_a_line_on_stderr(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure("json", "info")

    logging.getLogger("cims.http").info("request", extra={"request_id": "r1", "status": 200})
    logging.getLogger("cims.projections").debug("not shown at info")

    (line,) = capsys.readouterr().err.splitlines()
    found = json.loads(line)
    assert found["event"] == "request" and found["request_id"] == "r1" and found["status"] == 200
    assert found["level"] == "info" and found["logger"] == "cims.http"
    assert found["timestamp"].endswith("Z")
