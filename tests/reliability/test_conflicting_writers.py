"""200 concurrent commands on one version of one incident: exactly one wins, none is lost."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Auth, report_body

pytestmark = pytest.mark.store


def test_two_hundred_conflicting_commands_one_success_per_version_and_nothing_lost(
    client: TestClient, auth: Auth
) -> None:
    incident = client.post("/v1/incidents", json=report_body(), headers=auth()).json()["id"]
    url = f"/v1/incidents/{incident}/client-voice"

    def attempt(n: int) -> int:
        body = {"expected_version": 1, "client_ref": "client-1", "said": f"attempt {n}"}
        return client.post(url, json=body, headers=auth()).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = Counter(pool.map(attempt, range(200)))

    assert statuses == Counter({200: 1, 409: 199})
    auditor = auth("auditor", org="DFFH")
    history = client.get(f"/v1/incidents/{incident}/history", headers=auditor).json()
    assert [e["version"] for e in history["events"]] == [1, 2]
    assert client.get(f"/v1/incidents/{incident}/verify", headers=auditor).json()["ok"]
    services = client.app.state.services  # type: ignore[attr-defined]
    services.read_models.catch_up()
    assert services.read_models.verify() == {}
