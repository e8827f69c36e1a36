"""The projection follower survives its connection: a terminated LISTEN backend (a PostgreSQL
restart, failover or idle kill) is reconnected with backoff, the log polled meanwhile."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from ledger.application import Ledger
from projections.service import ReadModels
from tests.conftest import schema_of
from tests.factories import START, LedgerStory

pytestmark = pytest.mark.store


def eventually(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def terminate(database_url: str, pid: int) -> None:
    """Terminate exactly one server process: the follower's LISTEN connection, nothing else."""
    base, _ = schema_of(database_url)
    with psycopg.connect(base, autocommit=True) as conn:
        (done,) = conn.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() or (False,)
    assert done


def report_more(ledger: Ledger, n: int, start: int = 1) -> int:
    for k in range(start, start + n):
        LedgerStory.report(ledger, now=START + timedelta(minutes=k))
    return ledger.recorder.max_notification_id() or 0


def test_the_read_models_catch_up_after_the_listen_backend_is_terminated(
    database_url: str, ledger: Ledger, read_models: ReadModels
) -> None:
    read_models.start()
    assert read_models.wait_for(report_more(ledger, 1), timeout=10)
    if not read_models.db.postgres:
        # SQLite has no LISTEN: the follower polls, and follows all the same.
        assert read_models.follower.report()["state"] == "polling"
        assert read_models.wait_for(report_more(ledger, 3, start=2), timeout=10)
        return
    eventually(lambda: read_models.follower.report()["state"] == "listening")
    first = read_models.listener_pid
    assert first is not None

    terminate(database_url, first)
    head = report_more(ledger, 3, start=2)

    assert read_models.wait_for(head, timeout=15), read_models.follower.report()
    eventually(lambda: read_models.listener_pid not in (None, first))
    eventually(lambda: read_models.follower.report()["state"] == "listening")
    # Notifications arrive on the new connection: one more event is followed at once.
    assert read_models.wait_for(report_more(ledger, 1, start=9), timeout=5)


def test_while_it_cannot_reconnect_the_follower_polls_and_says_it_is_reconnecting(
    database_url: str, ledger: Ledger, read_models: ReadModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not read_models.db.postgres:
        pytest.skip("only PostgreSQL has a LISTEN connection to lose")
    read_models.start()
    eventually(lambda: read_models.follower.report()["state"] == "listening")
    first = read_models.listener_pid
    assert first is not None
    listen = read_models._listen

    def refused() -> None:
        raise psycopg.OperationalError("the server is starting up")

    monkeypatch.setattr(read_models, "_listen", refused)
    terminate(database_url, first)

    eventually(lambda: read_models.follower.report()["state"] == "reconnecting")
    assert "OperationalError" in (read_models.follower.report()["last_error"] or "")
    assert read_models.wait_for(report_more(ledger, 2), timeout=15)  # by polling
    monkeypatch.setattr(read_models, "_listen", listen)
    eventually(lambda: read_models.follower.report()["state"] == "listening", timeout=40)
    assert read_models.listener_pid != first


def test_stopping_the_follower_ends_its_wait_for_news_at_once(
    ledger: Ledger, read_models: ReadModels
) -> None:
    # On PostgreSQL the follower waits on its LISTEN connection (a second at a time), on SQLite
    # on a poll; either way a stop (every API and CLI shutdown) must not wait for that to end.
    read_models.start()
    assert read_models.wait_for(report_more(ledger, 1), timeout=10)
    state = "listening" if read_models.db.postgres else "polling"
    eventually(lambda: read_models.follower.report()["state"] == state)
    caught_up = threading.Event()
    read_models.on_caught_up = caught_up.set
    assert caught_up.wait(timeout=10)  # the follower now begins a wait for news
    began = time.monotonic()
    read_models.stop()
    assert time.monotonic() - began < 0.5
    assert read_models.follower.report()["state"] == "stopped"
