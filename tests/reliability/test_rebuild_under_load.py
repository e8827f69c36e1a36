"""`cims projections rebuild`, again and again, while a real `cims serve` (its follower in the
process) takes a steady load of reports: the rebuild and the follower never write one read model
at once, so no row is lost. Afterwards `cims projections verify` passes and every acknowledged
incident is in every read model that lists incidents. (Before the rebuild held its read models,
a follower's batch read before the reset was applied on top of it: 113 of 450 incidents were
left.) The control removes one row by SQL, and the same checks must see it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from api.auth import mint_token
from api.settings import Settings
from domain.values import Role
from ledger.application import Ledger
from projections.service import ReadModels
from tests.api.conftest import OWN, report_body
from tests.projections.conftest import FEED_SECRET
from tests.reliability.test_kill_api import SECRET, free_port

pytestmark = pytest.mark.store

BEFORE = 150  # reports in the log before the first rebuild
MOST = 3_000  # reports sent while the rebuilds run, at most (the load stops with them)
PAUSE = 0.1  # seconds each writer waits between reports: the load is steady, not a flood
REBUILDS = 3
WRITERS = 3
CIMS = Path(sys.executable).parent / "cims"


def environment(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "CIMS_DATABASE_URL": url,
        "CIMS_JWT_SECRET": SECRET,
        "CIMS_FEED_SECRET": FEED_SECRET.decode(),
        "CIMS_CHECKPOINT_KEY": "test-checkpoint-key-of-at-least-32-bytes",
    }


def serve(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [CIMS, "serve", "--port", str(port)],
        env=environment(url),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"cims serve did not start: {log.read_text()[-2000:]}")


class Load:
    """`WRITERS` threads sharing `count` reports between them, one at a time each with a pause
    between, until they are sent or `stop()`; the ids of those acknowledged."""

    def __init__(self, port: int, count: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.token = mint_token(
            Settings(jwt_secret=SECRET), sub="load", role=Role.INCIDENT_MANAGER, org=OWN
        )
        self.left = count
        self.lock = threading.Lock()
        self.acknowledged: list[str] = []
        self.refused: list[str] = []
        self.stopped = False
        self.threads = [threading.Thread(target=self._write) for _ in range(WRITERS)]

    def _write(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base, timeout=30, headers=headers) as client:
            while True:
                with self.lock:
                    if self.left == 0 or self.stopped:
                        return
                    self.left -= 1
                response = client.post("/v1/incidents", json=report_body())
                with self.lock:
                    if response.status_code == 201:
                        self.acknowledged.append(response.json()["id"])
                    else:
                        self.refused.append(f"{response.status_code} {response.text[:300]}")
                time.sleep(PAUSE)

    def start(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def stop(self) -> Load:
        with self.lock:
            self.stopped = True
        return self

    def wait(self) -> Load:
        for thread in self.threads:
            thread.join(300)
        return self


def incidents_in_each_read_model(read_models: ReadModels) -> dict[str, int]:
    """How many incidents each read model that lists incidents holds."""
    queries = {
        "incident_summary": "SELECT COUNT(*) FROM rm_incident_summary",
        "audit_trail": "SELECT COUNT(DISTINCT incident_id) FROM rm_audit_trail",
        "statistics": "SELECT COUNT(*) FROM rm_statistics",
        "patterns": "SELECT COUNT(DISTINCT incident_id) FROM rm_pattern_incidents",
        # One item for each report (each is notifiable).
        "regulator_feed": "SELECT COUNT(*) FROM rm_regulator_feed WHERE regulator = 'ssr'",
    }
    with read_models.db.transaction(write=False) as tx:
        return {name: tx.execute(sql)[0][0] for name, sql in queries.items()}


def caught_up(read_models: ReadModels, ledger: Ledger) -> None:
    """Wait for the API's follower to reach the head of the log."""
    head = ledger.recorder.max_notification_id()
    deadline = time.monotonic() + 120
    while read_models.position() < head and time.monotonic() < deadline:
        time.sleep(0.2)
    assert read_models.position() == head, read_models.status()


def test_rebuilds_beside_a_serving_follower_under_load_lose_no_read_model_row(
    database_url: str, ledger: Ledger, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    api = serve(database_url, port, log)
    read_models = ReadModels.open(database_url, ledger, feed_secret=FEED_SECRET)
    request.addfinalizer(read_models.close)
    try:
        acknowledged = Load(port, BEFORE).start().wait().acknowledged
        load = Load(port, MOST).start()
        rebuilt, written = [], []
        for _ in range(REBUILDS):
            rebuilt.append(
                subprocess.run(
                    [CIMS, "projections", "rebuild"],
                    env=environment(database_url),
                    capture_output=True,
                    timeout=300,
                )
            )
            written.append(len(load.acknowledged))
        load.stop().wait()
        acknowledged += load.acknowledged
        assert load.refused == []
        assert [r.returncode for r in rebuilt] == [0] * REBUILDS, rebuilt[-1].stderr[-2000:]
        # The rebuilds ran while the load did: reports were acknowledged between them.
        assert 0 < written[0] < written[1] < written[2] < MOST, written
        caught_up(read_models, ledger)
    finally:
        api.terminate()
        api.wait(timeout=30)
    total = len(acknowledged)
    assert total > BEFORE and len(set(acknowledged)) == total

    verified = subprocess.run(
        [CIMS, "projections", "verify"],
        env=environment(database_url),
        capture_output=True,
        timeout=300,
    )
    assert verified.returncode == 0, verified.stdout.decode()[-3000:]
    counts = incidents_in_each_read_model(read_models)
    assert counts == dict.fromkeys(counts, total)
    listed, cursor = read_models.list_incidents(
        organisations={OWN}, now=datetime.now(UTC), limit=MOST + BEFORE
    )
    assert cursor is None
    assert {row["id"] for row in listed} == set(acknowledged)

    # The control: one incident's audit-trail rows removed; the same checks see it.
    with read_models.db.transaction() as tx:
        tx.execute("DELETE FROM rm_audit_trail WHERE incident_id = ?", [acknowledged[7]])
    spoilt = subprocess.run(
        [CIMS, "projections", "verify"],
        env=environment(database_url),
        capture_output=True,
        timeout=300,
    )
    assert spoilt.returncode == 1
    assert b"audit_trail" in spoilt.stdout
    assert incidents_in_each_read_model(read_models)["audit_trail"] == total - 1
