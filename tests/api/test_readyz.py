"""`/readyz` tells an operator when the read models are behind or their follower reconnects."""

from __future__ import annotations

import psycopg
import pytest
from fastapi.testclient import TestClient

from projections.service import ReadModels
from tests.api.conftest import Auth
from tests.api.test_contract import report
from tests.projections.test_follower_reconnects import eventually, terminate

pytestmark = pytest.mark.store


def test_readyz_reports_the_follower_and_whether_the_read_models_are_behind(
    client: TestClient, auth: Auth, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    models: ReadModels = client.app.state.services.read_models  # type: ignore[attr-defined]
    report(client, auth)
    expected = "listening" if models.db.postgres else "polling"
    eventually(lambda: models.follower.report()["state"] == expected)
    eventually(lambda: client.get("/readyz").json()["behind"] is False)

    ready = client.get("/readyz").json()

    assert ready["status"] == "ready" and ready["follower"]["state"] == expected
    if not models.db.postgres:
        return

    def refused() -> None:
        raise psycopg.OperationalError("the server is starting up")

    monkeypatch.setattr(models, "_listen", refused)
    assert models.listener_pid is not None
    terminate(database_url, models.listener_pid)
    eventually(lambda: client.get("/readyz").json()["follower"]["state"] == "reconnecting")

    degraded = client.get("/readyz")

    assert degraded.status_code == 200 and degraded.json()["status"] == "degraded"
    assert "OperationalError" in degraded.json()["follower"]["last_error"]
