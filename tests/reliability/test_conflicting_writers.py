"""200 concurrent commands on one version of one incident: exactly one wins, none is lost."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from ledger.application import Histories
from tests.api.conftest import Auth, report_body
from tests.conftest import schema_of

pytestmark = pytest.mark.store


READERS_HELD_TOGETHER = 8


def conflicting_writers(
    client: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch, writers: int = 200
) -> tuple[str, Counter]:
    """A new incident, and the statuses of `writers` commands all sent at its version 1.

    Each command, having read the incident, waits until seven others have read it too: the
    race is certain, not left to the scheduler, so every wave of writers holds the same stale
    version when it writes. The API process's kept histories are turned off for it: a command
    decided on them reads nothing first, so no barrier would hold it (that path's races are
    tested in tests/ledger/test_ledger_cache.py and, across processes, in test_scale_out)."""
    incident = client.post("/v1/incidents", json=report_body(), headers=auth()).json()["id"]
    url = f"/v1/incidents/{incident}/client-voice"
    ledger = client.app.state.services.ledger  # type: ignore[attr-defined]
    read, together = ledger.incident_events, threading.Barrier(READERS_HELD_TOGETHER)

    def read_then_wait(*args: Any, **kwargs: Any) -> Any:
        events = read(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):  # the last, smaller wave
            together.wait(timeout=2)
        return events

    monkeypatch.setattr(ledger, "incident_events", read_then_wait)
    monkeypatch.setattr(ledger, "histories", Histories(0))

    def attempt(n: int) -> int:
        body = {"expected_version": 1, "client_ref": "client-1", "said": f"attempt {n}"}
        return client.post(url, json=body, headers=auth()).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = Counter(pool.map(attempt, range(writers)))
    monkeypatch.setattr(ledger, "incident_events", read)
    return incident, statuses


def test_two_hundred_conflicting_commands_one_success_per_version_and_nothing_lost(
    client: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident, statuses = conflicting_writers(client, auth, monkeypatch)

    assert statuses == Counter({200: 1, 409: 199})
    auditor = auth("auditor", org="DFFH")
    history = client.get(f"/v1/incidents/{incident}/history", headers=auditor).json()
    assert [e["version"] for e in history["events"]] == [1, 2]
    assert client.get(f"/v1/incidents/{incident}/verify", headers=auditor).json()["ok"]
    services = client.app.state.services  # type: ignore[attr-defined]
    services.read_models.catch_up()
    assert services.read_models.verify() == {}


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_negative_control_without_the_stores_unique_key_several_writers_win(
    client: TestClient, auth: Auth, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The single winner rests on the (incident, version) key, not on timing: without it the
    same harness must see more than one success for one version."""
    base, schema = schema_of(database_url)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"ALTER TABLE {schema}.cims_events DROP CONSTRAINT cims_events_pkey")

    _, statuses = conflicting_writers(client, auth, monkeypatch, writers=64)

    assert statuses[200] > 1, statuses
