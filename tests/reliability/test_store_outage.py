"""PostgreSQL stopped and started under the API: 503 with Retry-After while it is down, and
recovery without a restart once it is back; nothing recorded is lost."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api import problems
from api.auth import mint_token
from api.main import create_app
from api.settings import Settings
from domain.values import Role
from tests.api.conftest import OWN, report_body
from tests.conftest import IN_CI
from tests.reliability.throwaway_postgres import ThrowawayPostgres, binaries


@pytest.fixture
def cluster() -> Iterator[ThrowawayPostgres]:
    found = binaries()
    if found is None:
        if IN_CI:
            pytest.fail("CI=true and no local PostgreSQL binaries for a throwaway cluster")
        pytest.skip("no local PostgreSQL binaries to start a throwaway cluster")
    pg = ThrowawayPostgres(found)
    pg.start()
    try:
        yield pg
    finally:
        pg.remove()


def api_on(cluster: ThrowawayPostgres) -> tuple[TestClient, dict[str, str], str]:
    """A client of an API on the cluster, its headers, and a command on a new incident."""
    settings = Settings(
        database_url=cluster.url, jwt_secret="outage-" + "o" * 32, run_projections_in_process=False
    )
    headers = {
        "Authorization": "Bearer "
        + mint_token(settings, sub="m", role=Role.INCIDENT_MANAGER, org=OWN)
    }
    client = TestClient(create_app(settings), raise_server_exceptions=False)
    incident = client.post("/v1/incidents", json=report_body(), headers=headers).json()["id"]
    return client, headers, f"/v1/incidents/{incident}/notifications"


def test_the_api_answers_503_while_the_store_is_down_and_recovers_when_it_returns(
    cluster: ThrowawayPostgres,
) -> None:
    client, headers, command = api_on(cluster)

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
    incident = command.removesuffix("/notifications")
    history = client.get(f"{incident}/obligations", headers=headers).json()
    assert history["version"] == 2


def test_negative_control_an_outage_not_mapped_to_503_is_seen_as_a_500(
    cluster: ThrowawayPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the mapping of store failures to 503, the same outage must show as a 500: the
    assertions above can fail."""
    unmapped = problems._as_problem

    def as_if_unmapped(exc: Exception) -> problems.Problem:
        found = unmapped(exc)
        return (
            problems.Problem(500, "internal", "Internal error", "")
            if found.status == 503
            else found
        )

    monkeypatch.setattr(problems, "_as_problem", as_if_unmapped)
    client, headers, command = api_on(cluster)
    cluster.stop()
    down = client.post(
        command, json={"expected_version": 1, "kind": "police", "recipient": "VP"}, headers=headers
    )
    assert down.status_code == 500 and "Retry-After" not in down.headers
