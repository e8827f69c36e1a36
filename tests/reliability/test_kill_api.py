"""`kill -9` of the API process under a load of commands: every acknowledged command survives."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from api.auth import mint_token
from api.settings import Settings
from domain.values import Role
from ledger.application import Ledger
from tests.api.conftest import OWN, report_body
from tests.conftest import schema_of

SECRET = "kill-test-secret-" + "k" * 32


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_api(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CIMS_DATABASE_URL": url,
        "CIMS_JWT_SECRET": SECRET,
        # A served API outside development refuses to start with known secrets.
        "CIMS_FEED_SECRET": "test-feed-secret-of-at-least-32-bytes",
        "CIMS_CHECKPOINT_KEY": "test-checkpoint-key-of-at-least-32-bytes",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--port", str(port)],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"the API did not start: {log.read_text()[-2000:]}")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_every_acknowledged_report_survives_a_kill_9_of_the_api(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "api.log"
    token = mint_token(Settings(jwt_secret=SECRET), sub="load", role=Role.INCIDENT_MANAGER, org=OWN)
    acknowledged: dict[str, str] = {}
    api = start_api(database_url, port, log)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        for n in range(400):
            if n == 60:
                # No warning, and a few milliseconds into the next request, so one is in flight.
                threading.Timer(0.003, os.kill, (api.pid, signal.SIGKILL)).start()
            key = f"load-{n}"
            try:
                response = client.post(
                    "/v1/incidents",
                    json=report_body(),
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
                )
            except httpx.HTTPError:
                break  # the process is gone; what was acknowledged must be there
            if response.status_code == 201:
                acknowledged[key] = response.json()["id"]
    api.wait(timeout=10)
    assert len(acknowledged) >= 60

    api = start_api(database_url, port, log)
    try:
        assert lost(database_url, acknowledged) == set()  # zero acknowledged loss
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            retry = client.post(
                "/v1/incidents",
                json=report_body(),
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "load-0"},
            )
        assert retry.status_code == 201 and retry.json()["id"] == acknowledged["load-0"]
    finally:
        api.terminate()
        api.wait(timeout=10)

    # The control: the same check must see a loss. Take one acknowledged report out by SQL.
    gone = acknowledged["load-7"]
    base, schema = schema_of(database_url)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DELETE FROM {schema}.cims_events WHERE originator_id = %s", [gone])
    assert lost(database_url, acknowledged) == {gone}


def lost(url: str, acknowledged: dict[str, str]) -> set[str]:
    """The acknowledged incidents the store does not hold."""
    ledger = Ledger.from_url(url)
    try:
        return set(acknowledged.values()) - set(map(str, ledger.incident_ids()))
    finally:
        ledger.close()
