"""The read side as the API and the CLI see it: catch up, follow the log, answer queries."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from domain.ledger import Ledger
from domain.values import Actor
from projections import (
    audit_trail,
    incident_summary,
    obligations,
    procedural_fairness,
    regulator_feed,
    statistics,
)
from projections.db import Db
from projections.runner import Runner, models


class ReadModels:
    def __init__(
        self,
        db: Db,
        ledger: Ledger,
        *,
        feed_secret: bytes,
        on_caught_up: Callable[[], object] | None = None,
    ) -> None:
        self.db = db
        # Run after each catch-up by the follower (the ledger's periodic checkpoint, say).
        self.on_caught_up = on_caught_up
        self.runner = Runner(db, ledger, models(feed_secret))
        self.runner.setup()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._poke = threading.Event()

    @classmethod
    def open(cls, database_url: str, ledger: Ledger, *, feed_secret: bytes = b"dev") -> ReadModels:
        return cls(Db(database_url), ledger, feed_secret=feed_secret)

    # ---- following the log -------------------------------------------------------------------

    def catch_up(self) -> int:
        return self.runner.catch_up()

    def position(self) -> int:
        return self.runner.position()

    def notify(self) -> None:
        """A write was committed here: wake the in-process follower now."""
        self._poke.set()

    def wait_for(self, position: int, timeout: float = 2.0) -> bool:
        """Read-your-writes: poll the tracking positions (not the library's `wait()`)."""
        deadline = time.monotonic() + timeout
        self._poke.set()
        while self.position() < position:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._follow, name="read-models", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._poke.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def run_forever(self) -> None:
        self._follow()

    def _follow(self) -> None:
        listener = self._listen()
        try:
            while not self._stop.is_set():
                try:
                    self.runner.catch_up()
                    if self.on_caught_up is not None:
                        self.on_caught_up()
                except Exception:  # the store may be down; try again shortly
                    time.sleep(0.5)
                self._wait_for_news(listener)
        finally:
            if listener is not None:
                listener.close()

    def _listen(self) -> psycopg.Connection[Any] | None:
        if not self.db.postgres:
            return None
        conn = psycopg.connect(self.db.conninfo(), autocommit=True)
        conn.execute("LISTEN cims_events")
        return conn

    def _wait_for_news(self, listener: psycopg.Connection[Any] | None) -> None:
        if listener is None:
            # SQLite has no notifications: a short poll, cut short by a local write's poke.
            self._poke.wait(0.2)
            self._poke.clear()
            return
        for _ in listener.notifies(timeout=1.0, stop_after=1):
            pass

    def status(self) -> list[dict[str, Any]]:
        head = self.runner.head()
        return [
            {
                "name": name,
                "position": pos,
                "lag": max(head - pos, 0),
                "error": error,
                "error_position": error_position,
            }
            for name, (pos, error, error_position) in sorted(self.runner.positions().items())
            if not name.startswith("rmv_")
        ]

    def rebuild(
        self, name: str | None = None, progress: Callable[[int, int], None] | None = None
    ) -> None:
        self.runner.rebuild([name] if name else None, progress)

    def verify(self) -> dict[str, list[str]]:
        return self.runner.verify()

    def close(self) -> None:
        self.stop()
        self.db.close()

    # ---- queries -----------------------------------------------------------------------------

    def list_incidents(self, **filters: Any) -> tuple[list[dict[str, Any]], str | None]:
        with self.db.transaction(write=False) as tx:
            return incident_summary.list_incidents(tx, **filters)

    def worklist(self, **filters: Any) -> tuple[list[dict[str, Any]], str | None]:
        with self.db.transaction(write=False) as tx:
            return obligations.worklist(tx, **filters)

    def procedural_fairness(self, incident_id: UUID, *, now: datetime) -> list[dict[str, Any]]:
        with self.db.transaction(write=False) as tx:
            return procedural_fairness.checks(tx, incident_id, now=now)

    def audit_trail(
        self, *, incident_id: UUID | None, after: int = 0, limit: int = 100
    ) -> list[dict[str, Any]]:
        with self.db.transaction(write=False) as tx:
            return audit_trail.trail(tx, incident_id=incident_id, after=after, limit=limit)

    def log_access(
        self, *, actor: Actor, incident_id: UUID | None, what: str, at: datetime
    ) -> None:
        with self.db.transaction() as tx:
            audit_trail.log_access(tx, actor=actor, incident_id=incident_id, what=what, at=at)

    def access_log(
        self, *, incident_id: UUID | None = None, after: int = 0, limit: int = 100
    ) -> list[dict[str, Any]]:
        with self.db.transaction(write=False) as tx:
            return audit_trail.access_log(tx, incident_id=incident_id, after=after, limit=limit)

    def feed(self, regulator: str, *, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        with self.db.transaction(write=False) as tx:
            return regulator_feed.items(tx, regulator, after=after, limit=limit)

    def statistics(self, *, organisations: set[str] | None, now: datetime) -> dict[str, Any]:
        with self.db.transaction(write=False) as tx:
            return statistics.summary(tx, organisations=organisations, now=now)
