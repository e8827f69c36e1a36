"""PostgreSQL stopped and started under the API: 503 with Retry-After while it is down, and
recovery without a restart once it is back; nothing recorded is lost."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.auth import mint_token
from api.main import create_app
from api.settings import Settings
from domain.values import Role
from tests.api.conftest import OWN, report_body
from tests.reliability.throwaway_postgres import ThrowawayPostgres, binaries


@pytest.fixture
def cluster() -> Iterator[ThrowawayPostgres]:
    found = binaries()
    if found is None:
        pytest.skip("no local PostgreSQL binaries to start a throwaway cluster")
    pg = ThrowawayPostgres(found)
    pg.start()
    try:
        yield pg
    finally:
        pg.remove()


def test_the_api_answers_503_while_the_store_is_down_and_recovers_when_it_returns(
    cluster: ThrowawayPostgres,
) -> None:
    settings = Settings(
        database_url=cluster.url, jwt_secret="outage-" + "o" * 32, run_projections_in_process=False
    )
    headers = {
        "Authorization": "Bearer "
        + mint_token(settings, sub="m", role=Role.INCIDENT_MANAGER, org=OWN)
    }
    client = TestClient(create_app(settings), raise_server_exceptions=False)
    incident = client.post("/v1/incidents", json=report_body(), headers=headers).json()["id"]
    command = f"/v1/incidents/{incident}/notifications"

    cluster.stop()
    stopped_at = time.monotonic()
    down = client.post(
        command, json={"expected_version": 1, "kind": "police", "recipient": "VP"}, headers=headers
    )
    first_answer = time.monotonic() - stopped_at
    ready = client.get("/readyz")

    assert down.status_code == 503 and ready.status_code == 503
    assert first_answer < 10, f"the first request in the outage took {first_answer:.1f} s"
    assert down.headers["Retry-After"] and down.headers["content-type"] == (
        "application/problem+json"
    )

    cluster.start()
    back_at = time.monotonic()
    while True:
        up = client.post(
            command,
            json={"expected_version": 1, "kind": "police", "recipient": "VP"},
            headers=headers,
        )
        if up.status_code != 503 or time.monotonic() - back_at > 5:
            break
        time.sleep(0.2)

    assert up.status_code == 200, up.text  # within 5 s of the database returning
    history = client.get(f"/v1/incidents/{incident}/obligations", headers=headers).json()
    assert history["version"] == 2
