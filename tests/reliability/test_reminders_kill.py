"""The reminder worker (`cims reminders run`, a real process) SIGKILLed in the middle of a batch,
while the SMTP server holds a message it has not yet accepted: restarted, it sends every notice
once — none lost, none twice. The control is a worker that records its sends only at the end
of the batch, as a naive outbox would: killed the same way, it sends the first ones again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.reminders import Scope
from ledger.application import Ledger
from projections.db import Db
from projections.reminder_delivery import Reminders
from projections.service import ReadModels
from tests.factories import CARER, MANAGER, LedgerStory, under_investigation
from tests.projections.conftest import FEED_SECRET
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.store

NOTICES = 8
KILL_AT = 4  # the server is holding the 4th message when the worker dies
CIMS = Path(sys.executable).parent / "cims"

# The control: sends recorded at the end of the batch, not one by one.
NAIVE_WORKER = """
import sys
from projections import reminder_delivery as rd
from cli.main import app

original_settle = rd.Reminders._settle
pending = []

def later(self, key, status, at, *, error, subject=None):
    pending.append((self, key, status, at, error, subject))

def deliver(self, send, *, now, describe, limit=None):
    rd.Reminders._settle = later
    try:
        return original_deliver(self, send, now=now, describe=describe, limit=limit)
    finally:
        rd.Reminders._settle = original_settle
        for s, key, status, at, error, subject in pending:
            original_settle(s, key, status, at, error=error, subject=subject)
        pending.clear()

original_deliver = rd.Reminders.deliver
rd.Reminders.deliver = deliver
sys.argv = ["cims", "reminders", "run"]
app()
"""


def overdue_investigations(ledger: Ledger, count: int) -> None:
    """Investigations that fell overdue an hour ago (due 28 days after they were reported)."""
    reported_at = datetime.now(UTC) - timedelta(days=28, hours=1)
    for n in range(count):
        story = LedgerStory.report(
            ledger,
            now=reported_at + timedelta(seconds=n),
            types=["Physical abuse"],
            impact="major",
            subjects_of_allegation=[CARER],
            became_aware_at=reported_at - timedelta(hours=1),
            occurred_at=reported_at - timedelta(hours=2),
        )
        under_investigation(story)


def run_killed_mid_batch(
    database_url: str, ledger: Ledger, read_models: ReadModels, tmp_path: Path, command: list[str]
) -> Counter[str]:
    overdue_investigations(ledger, NOTICES)
    read_models.catch_up()
    db = Db(database_url)
    try:
        Reminders(db).subscribe(
            email="mel@northside.example",
            organisation=MANAGER.organisation,
            subject=MANAGER.id,
            scope=Scope.WORKLIST,
            actor=(MANAGER.id, MANAGER.role.value, MANAGER.organisation),
            now=datetime.now(UTC) - timedelta(days=60),
        )
    finally:
        db.close()

    smtp = SmtpServer()
    worker: list[subprocess.Popen[bytes]] = []
    killed = threading.Event()

    def kill_while_holding(n: int) -> str | None:
        # The n-th message reached the server; before it is accepted, the worker dies.
        if n == KILL_AT and not killed.is_set():
            os.kill(worker[-1].pid, signal.SIGKILL)
            killed.set()
            return "451 Aborted: the sender went away"
        return None

    smtp.before_accept = kill_while_holding
    smtp.start()
    env = {
        **os.environ,
        "CIMS_DATABASE_URL": database_url,
        "CIMS_FEED_SECRET": FEED_SECRET.decode(),
        "CIMS_CHECKPOINT_KEY": "test-checkpoint-key-of-at-least-32-bytes",
        "CIMS_SMTP_HOST": "127.0.0.1",
        "CIMS_SMTP_PORT": str(smtp.port),
        "CIMS_SMTP_STARTTLS": "false",
        "CIMS_REMINDER_POLL_SECONDS": "0.2",
        "CIMS_REMINDER_LEASE_SECONDS": "1",
        "CIMS_REMINDER_RETRY_FIRST_SECONDS": "0",
    }
    log = (tmp_path / "worker.log").open("ab")
    try:
        worker.append(subprocess.Popen(command, env=env, stdout=log, stderr=log))
        assert killed.wait(60), (tmp_path / "worker.log").read_text()
        worker[-1].wait(10)
        worker.append(subprocess.Popen(command, env=env, stdout=log, stderr=log))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ids = smtp.received.notices().message_ids()
            if len(set(ids)) >= NOTICES:
                break
            time.sleep(0.2)
        time.sleep(1.5)  # long enough for a stale lease to lapse and a duplicate to show
    finally:
        for process in worker:
            process.kill()
            process.wait(10)
        smtp.stop()
    return Counter(smtp.received.notices().message_ids())


def test_a_worker_killed_mid_batch_sends_every_notice_once(
    database_url: str, ledger: Ledger, read_models: ReadModels, tmp_path: Path
) -> None:
    sent = run_killed_mid_batch(
        database_url, ledger, read_models, tmp_path, [str(CIMS), "reminders", "run"]
    )
    assert len(sent) == NOTICES, "a notice was lost"
    assert max(sent.values()) == 1, f"sent twice: {sent}"


def test_control_a_naive_outbox_killed_the_same_way_sends_again(
    database_url: str, ledger: Ledger, read_models: ReadModels, tmp_path: Path
) -> None:
    sent = run_killed_mid_batch(
        database_url, ledger, read_models, tmp_path, [sys.executable, "-c", NAIVE_WORKER]
    )
    assert len(sent) == NOTICES
    assert max(sent.values()) > 1, "the control should have sent some notices twice"
