"""The production path scaled out on one PostgreSQL: two API processes and two projection
workers (each following a subset of the read models), with conflicting writers through both
APIs. Exactly one command wins per version; no acknowledged command is lost or recorded twice;
versions are continuous and the chains verify; the read models, written by two processes,
equal a rebuild; each feed item is delivered once. The controls spoil the store and the feed
and the same checks must see it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from uuid import UUID

import httpx
import psycopg
import pytest

from api.auth import mint_token
from api.settings import Settings
from domain.values import Role
from ledger.application import Ledger
from projections.db import Db
from projections.runner import models
from projections.service import ReadModels
from replay.auditor import Auditor
from tests.api.conftest import OWN, report_body
from tests.conftest import schema_of
from tests.projections.conftest import FEED_SECRET
from tests.reliability.test_kill_api import SECRET, free_port

INCIDENTS = 8
VERSIONS = 4  # contested steps on each incident after its report
WRITERS = 4  # attempts at each (incident, version), split across the two APIs
# Every read model, split between two workers (halves of the list, whatever it holds).
NAMES = [m.name for m in models(FEED_SECRET)]
WORKERS = (",".join(NAMES[: len(NAMES) // 2]), ",".join(NAMES[len(NAMES) // 2 :]))
CIMS = Path(sys.executable).parent / "cims"
UVICORN = [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory"]
ENV = {
    "CIMS_JWT_SECRET": SECRET,
    "CIMS_FEED_SECRET": FEED_SECRET.decode(),
    "CIMS_CHECKPOINT_KEY": "test-checkpoint-key-of-at-least-32-bytes",
    # The read models are the workers' alone: the APIs only write and answer.
    "CIMS_RUN_PROJECTIONS_IN_PROCESS": "false",
    # Checkpoints often, so both workers race to take the same one.
    "CIMS_CHECKPOINT_EVERY": "20",
}


def start(args: list[str], url: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        env={**os.environ, **ENV, "CIMS_DATABASE_URL": url},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def wait_healthy(ports: list[int], processes: list[subprocess.Popen[bytes]], log: Path) -> None:
    deadline = time.monotonic() + 30
    waiting = set(ports)
    while waiting and time.monotonic() < deadline:
        for port in list(waiting):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    waiting.discard(port)
            except httpx.HTTPError:
                pass
        if any(p.poll() is not None for p in processes):
            break
        time.sleep(0.1)
    assert not waiting, f"an API did not start: {log.read_text()[-3000:]}"


def lost_or_twice(
    ledger: Ledger, reported: dict[str, UUID], won: dict[tuple[UUID, int], tuple[str, int]]
) -> list[str]:
    """Every way the store differs from what was acknowledged: a report or a won command
    missing, recorded twice or at another version or position, a gap in versions, an event
    nobody was told of."""
    found = []
    stored_ids = set(ledger.incident_ids())
    for key, incident in reported.items():
        if incident not in stored_ids:
            found.append(f"report {key} ({incident}) lost")
    for incident in reported.values():
        # The store as it is now, not what this ledger read of it before (the controls below
        # remove a row behind its back, which the ledger's kept histories assume never happens).
        events = list(ledger.events.get(incident))
        versions = [e.originator_version for e in events]
        if versions != list(range(1, len(versions) + 1)):
            found.append(f"{incident}: versions {versions} not continuous")
        said = [getattr(e, "said", None) for e in events[1:]]
        for text, n in Counter(said).items():
            if n > 1:
                found.append(f"{incident}: {text!r} recorded {n} times")
        for e in events[1:]:
            if (incident, e.originator_version - 1) not in won:
                found.append(f"{incident}: version {e.originator_version} never acknowledged")
    for (incident, version), (text, _position) in won.items():
        events = list(ledger.events.get(incident, gt=version, lte=version + 1))
        if not events or getattr(events[0], "said", None) != text:
            found.append(f"{incident}: acknowledged {text!r} not at version {version + 1}")
    return found


def feed_delivered_once(models: ReadModels, reported: dict[str, UUID]) -> list[str]:
    """Each feed item once: unique ids, and one `reported` item per notifiable incident."""
    found = []
    for regulator in ("ssr", "ccyp"):
        ids = [item["id"] for item in models.feed(regulator, limit=100_000)]
        found += [f"{regulator}: {i} twice" for i, n in Counter(ids).items() if n > 1]
    reports = Counter(
        item["data"]["incident"]
        for item in models.feed("ssr", limit=100_000)
        if item["type"].endswith(".reported")
    )
    if reports != Counter(str(i) for i in reported.values()):
        found.append(f"ssr reports {dict(reports)} != one per incident")
    return found


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_apis_and_two_workers_on_one_database_lose_and_duplicate_nothing(
    database_url: str, ledger: Ledger, read_models: ReadModels, tmp_path: Path
) -> None:
    log = tmp_path / "processes.log"
    ports = [free_port(), free_port()]
    apis = [
        start(
            [*UVICORN, "--port", str(port)],
            database_url,
            log,
        )
        for port in ports
    ]
    workers = [
        start([str(CIMS), "projections", "run", "--only", only], database_url, log)
        for only in WORKERS
    ]
    processes = apis + workers
    try:
        wait_healthy(ports, processes, log)
        token = mint_token(
            Settings(jwt_secret=SECRET), sub="load", role=Role.INCIDENT_MANAGER, org=OWN
        )
        clients = [
            httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                timeout=10,
                headers={"Authorization": f"Bearer {token}"},
                limits=httpx.Limits(max_connections=16),
            )
            for port in ports
        ]
        reported: dict[str, UUID] = {}
        for n in range(INCIDENTS):
            key = f"report-{n}"
            response = clients[n % 2].post(
                "/v1/incidents", json=report_body(), headers={"Idempotency-Key": key}
            )
            assert response.status_code == 201, response.text
            reported[key] = UUID(response.json()["id"])

        won: dict[tuple[UUID, int], tuple[str, int]] = {}
        statuses: dict[tuple[UUID, int], Counter[int]] = defaultdict(Counter)

        def attempt(incident: UUID, version: int, writer: int) -> None:
            text = f"{incident} v{version} writer {writer}"
            response = clients[writer % 2].post(
                f"/v1/incidents/{incident}/client-voice",
                json={"expected_version": version, "client_ref": "client-1", "said": text},
                headers={"Idempotency-Key": f"{incident}-{version}-{writer}"},
            )
            statuses[incident, version][response.status_code] += 1
            if response.status_code == 200:
                body = response.json()
                assert body["version"] == version + 1, body
                won[incident, version] = (text, body["position"])

        with ThreadPoolExecutor(max_workers=16) as pool:
            for version in range(1, VERSIONS + 1):  # a wave of writers at each version
                wave = [
                    pool.submit(attempt, incident, version, writer)
                    for incident in reported.values()
                    for writer in range(WRITERS)
                ]
                for future in wave:
                    future.result()
        for client in clients:
            client.close()

        # Exactly one winner per version; every other writer told of the conflict.
        for key, counted in statuses.items():
            assert counted[200] == 1 and set(counted) <= {200, 409, 412}, (key, counted)
        assert len(won) == INCIDENTS * VERSIONS
        assert lost_or_twice(ledger, reported, won) == []
        head = ledger.recorder.max_notification_id()
        assert head is not None
        with psycopg.connect(schema_of(database_url)[0]) as conn:
            schema = schema_of(database_url)[1]
            (stored,) = conn.execute(f"SELECT count(*) FROM {schema}.cims_events").fetchone()
        assert stored == INCIDENTS * (1 + VERSIONS)
        verification = Auditor(ledger, Db(database_url)).verify_all()
        assert verification.ok and verification.events_checked == stored, verification

        # Both workers reach the head, each for its own read models.
        deadline = time.monotonic() + 30
        while read_models.position() < head and time.monotonic() < deadline:
            time.sleep(0.1)
        status = {s["name"]: (s["position"], s["error"]) for s in read_models.status()}
        assert status == {name: (head, None) for name in status}, status
        assert all(p.poll() is None for p in processes), log.read_text()[-3000:]
        # No process stumbled (setting tables up together, taking one checkpoint twice...).
        assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=15)

    assert read_models.verify() == {}  # two workers' read models equal one rebuild
    assert feed_delivered_once(read_models, reported) == []

    # The controls: the same checks must see a lost event and an item delivered twice.
    base, schema = schema_of(database_url)
    victim = next(iter(reported.values()))
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(
            f"DELETE FROM {schema}.cims_events WHERE originator_id = %s"
            " AND originator_version = %s",
            [victim, VERSIONS + 1],
        )
    assert lost_or_twice(ledger, reported, won) == [
        f"{victim}: acknowledged {won[victim, VERSIONS][0]!r} not at version {VERSIONS + 1}"
    ]
    with read_models.db.transaction() as tx:
        (item,) = tx.execute(
            "SELECT item FROM rm_regulator_feed WHERE regulator = 'ssr' ORDER BY position LIMIT 1"
        )[0]
        again = json.loads(item) | {"id": "ssr-999999"}
        tx.execute("INSERT INTO rm_regulator_feed VALUES ('ssr', 999999, ?)", [json.dumps(again)])
    assert feed_delivered_once(read_models, reported) != []
    assert "regulator_feed" in read_models.verify()
