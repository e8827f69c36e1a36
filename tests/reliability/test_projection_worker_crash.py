"""The projection worker (`cims projections run`, a real process) SIGKILLed again and again while
commands keep arriving: it resumes from its tracking, and the read models it leaves equal a
rebuild from the log. The control spoils one view row and the same comparison must see it."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from ledger.application import Ledger
from projections.service import ReadModels
from tests.factories import START, LedgerStory
from tests.projections.conftest import FEED_SECRET

pytestmark = pytest.mark.store

KILLS = 5
INCIDENTS_BETWEEN_KILLS = 40
CIMS = Path(sys.executable).parent / "cims"


def traffic(ledger: Ledger, round_: int) -> None:
    """Reports, each followed by two steps; a third become critical, so the feeds move too."""
    for n in range(INCIDENTS_BETWEEN_KILLS):
        at = START + timedelta(hours=round_, minutes=n)
        story = LedgerStory.report(ledger, regulator_category="notifiable", now=at).do(
            "record_client_voice", client_ref="client-1", said="I was scared"
        )
        if n % 3 == 0:
            story.do("reclassify", regulator_category="critical", reason="admitted to hospital")
        else:
            story.do("record_client_voice", client_ref="client-1", said="I feel safe now")


def test_a_worker_killed_again_and_again_resumes_and_equals_a_rebuild(
    database_url: str, ledger: Ledger, read_models: ReadModels, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "CIMS_DATABASE_URL": database_url,
        "CIMS_FEED_SECRET": FEED_SECRET.decode(),
        "CIMS_CHECKPOINT_KEY": "test-checkpoint-key-of-at-least-32-bytes",
    }
    chance = random.Random(7)
    log = (tmp_path / "worker.log").open("ab")
    at_kill = []
    for round_ in range(KILLS):
        traffic(ledger, round_)
        before = read_models.position()
        worker = subprocess.Popen([CIMS, "projections", "run"], env=env, stdout=log, stderr=log)
        if round_ % 2 == 0:  # once it is applying this round's events, a moment later
            deadline = time.monotonic() + 60
            while read_models.position() == before and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(chance.uniform(0, 0.05))
        else:  # at any moment, while starting up included
            time.sleep(chance.uniform(0.2, 1.5))
        worker.kill()
        worker.wait()
        at_kill.append(read_models.position())
    traffic(ledger, KILLS)
    # The kills were not all before the worker got going: it had applied events when killed.
    assert max(at_kill) > 0, at_kill
    finished = subprocess.run(
        [CIMS, "projections", "run", "--until-idle"], env=env, capture_output=True, timeout=120
    )
    assert finished.returncode == 0, finished.stderr.decode()[-2000:]

    head = ledger.recorder.max_notification_id()
    assert {s["name"]: s["position"] for s in read_models.status()} == {
        s["name"]: head for s in read_models.status()
    }
    assert read_models.verify() == {}  # every view equals a rebuild from the log
    for regulator in ("ssr", "ccyp"):
        ids = [item["id"] for item in read_models.feed(regulator, limit=10_000)]
        assert len(ids) == len(set(ids))  # nothing delivered twice

    # The control: the same comparison must see a view that is wrong by one row.
    with read_models.db.transaction() as tx:
        (first,) = tx.execute("SELECT MIN(position) FROM rm_audit_trail")[0]
        tx.execute("DELETE FROM rm_audit_trail WHERE position = ?", [first])
    assert "audit_trail" in read_models.verify()
