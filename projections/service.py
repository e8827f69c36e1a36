"""The read side as the API and the CLI see it: catch up, follow the log, answer queries."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

import psycopg

from ledger.application import Ledger

# Aliased: the query methods below take the read models' own names.
from projections import audit_trail as trail_model
from projections import incident_summary as summary_model
from projections import obligations as obligations_model
from projections import patterns as patterns_model
from projections import procedural_fairness as fairness_model
from projections import regulator_feed as feed_model
from projections import statistics as statistics_model
from projections.db import Db, Tx, parse_ts
from projections.runner import Runner, chosen, models

# The follower's reconnection to PostgreSQL: first wait, longest wait, and how often it polls
# the log meanwhile.
FIRST_RECONNECT_SECONDS = 0.5
MAX_RECONNECT_SECONDS = 30.0
POLL_WHILE_RECONNECTING_SECONDS = 1.0
# With a LISTEN connection, the follower catches up at least this often even when no news
# comes, and waits on the connection in slices this short, so that `stop()` ends it at once
# rather than up to a second later (every API and CLI shutdown on PostgreSQL waited for it).
LISTEN_SECONDS = 1.0
LISTEN_SLICE_SECONDS = 0.05
P = ParamSpec("P")
R = TypeVar("R")


def _in_transaction(
    query: Callable[Concatenate[Tx, P], R], *, write: bool = False
) -> Callable[Concatenate[ReadModels, P], R]:
    """A method running `query` in a transaction of its own, with the query's own signature."""

    def method(self: ReadModels, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.db.transaction(write=write) as tx:
            return query(tx, *args, **kwargs)

    method.__name__ = query.__name__
    method.__doc__ = query.__doc__
    return method


def _close_quietly(conn: psycopg.Connection[Any] | None) -> None:
    if conn is not None:
        # A dead connection may fail to close; it is dropped all the same.
        with contextlib.suppress(Exception):
            conn.close()


@dataclass
class FollowerHealth:
    """How the in-process follower stands, for `/readyz`."""

    running: bool = False
    # On PostgreSQL: "listening" for notifications, or "reconnecting" (polling meanwhile).
    listener: str | None = None
    failing: bool = False
    last_error: str | None = None
    caught_up_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def listening(self) -> None:
        with self._lock:
            self.listener = "listening"

    def reconnecting(self, exc: BaseException) -> None:
        with self._lock:
            self.listener = "reconnecting"
            self.last_error = f"{type(exc).__name__}: {exc}"[:500]

    def caught_up(self) -> None:
        with self._lock:
            self.running, self.failing = True, False
            self.caught_up_at = time.monotonic()

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            self.running, self.failing = True, True
            self.last_error = f"{type(exc).__name__}: {exc}"[:500]

    def stopped(self) -> None:
        with self._lock:
            self.running, self.listener = False, None

    def report(self) -> dict[str, Any]:
        """`state`: stopped, listening, polling (SQLite), reconnecting (polling meanwhile) or
        failing (the store refuses); the last error; seconds since it last caught up."""
        with self._lock:
            if not self.running:
                state = "stopped"
            elif self.failing:
                state = "failing"
            else:
                state = self.listener or "polling"
            since = self.caught_up_at
            return {
                "state": state,
                "last_error": self.last_error,
                "seconds_since_caught_up": (
                    None if since is None else round(time.monotonic() - since, 3)
                ),
            }


class ReadModels:
    """The read models over one ledger: following its log, and answering queries from them."""

    def __init__(
        self,
        db: Db,
        ledger: Ledger,
        *,
        feed_secret: bytes,
        on_caught_up: Callable[[], object] | None = None,
        only: Iterable[str] | None = None,
    ) -> None:
        """`only` names the read models this process follows (one worker per read model, say);
        `None` follows them all. Queries and `position()` still see every read model's
        tracking, whoever follows it. An unknown name is a `ValueError` naming the valid ones."""
        self.db = db
        # Run after each catch-up by the follower (the ledger's periodic checkpoint, say).
        self.on_caught_up = on_caught_up
        every = models(feed_secret)
        self.runner = Runner(db, ledger, chosen(every, only), feed_secret=feed_secret)
        self.runner.setup()
        # Read-your-writes waits for every read model, including those other workers follow.
        self._all = [m.name for m in every]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._poke = threading.Event()
        self.follower = FollowerHealth()
        # The server process behind the LISTEN connection (PostgreSQL), for operators and tests.
        self.listener_pid: int | None = None

    @classmethod
    def open(cls, database_url: str, ledger: Ledger, *, feed_secret: bytes = b"dev") -> ReadModels:
        return cls(Db(database_url), ledger, feed_secret=feed_secret)

    # ---- following the log -------------------------------------------------------------------

    def catch_up(self) -> int:
        return self.runner.catch_up()

    def position(self) -> int:
        """The lowest tracking position of every read model (followed here or elsewhere)."""
        tracked = self.runner.positions()
        return min((tracked[name][0] for name in self._all if name in tracked), default=0)

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
        """Catch up whenever news arrives, for as long as the follower runs. On PostgreSQL the
        news comes by LISTEN; when that connection is lost (a restart, a failover, an idle
        kill) the follower polls and reconnects with exponential backoff, never giving up."""
        listener: psycopg.Connection[Any] | None = None
        backoff = FIRST_RECONNECT_SECONDS
        next_attempt = 0.0
        try:
            while not self._stop.is_set():
                if self.db.postgres and listener is None and time.monotonic() >= next_attempt:
                    try:
                        listener = self._listen()
                        backoff = FIRST_RECONNECT_SECONDS
                        self.follower.listening()
                    except Exception as exc:  # PostgreSQL not (yet) back: poll meanwhile
                        next_attempt = time.monotonic() + backoff * random.uniform(0.5, 1.0)
                        self.follower.reconnecting(exc)
                        backoff = min(backoff * 2, MAX_RECONNECT_SECONDS)
                try:
                    self.runner.catch_up()
                    self.follower.caught_up()
                    if self.on_caught_up is not None:
                        self.on_caught_up()
                except Exception as exc:  # the store may be down; try again shortly
                    self.follower.failed(exc)
                    self._stop.wait(0.5)
                try:
                    self._wait_for_news(listener)
                except Exception as exc:  # the LISTEN connection was lost
                    _close_quietly(listener)
                    listener = None
                    next_attempt = time.monotonic() + backoff * random.uniform(0.5, 1.0)
                    self.follower.reconnecting(exc)
        finally:
            _close_quietly(listener)
            self.follower.stopped()

    def _listen(self) -> psycopg.Connection[Any] | None:
        if not self.db.postgres:
            return None
        conn = psycopg.connect(self.db.conninfo(), autocommit=True, connect_timeout=5)
        try:
            conn.execute("LISTEN cims_events")
        except BaseException:
            conn.close()
            raise
        self.listener_pid = conn.info.backend_pid
        return conn

    def _wait_for_news(self, listener: psycopg.Connection[Any] | None) -> None:
        if listener is None:
            # No notifications (SQLite, or a lost listener): a short poll, cut short by a local
            # write's poke.
            self._poke.wait(0.2 if not self.db.postgres else POLL_WHILE_RECONNECTING_SECONDS)
            self._poke.clear()
            return
        deadline = time.monotonic() + LISTEN_SECONDS
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            for _ in listener.notifies(timeout=min(remaining, LISTEN_SLICE_SECONDS), stop_after=1):
                return

    def status(self, *, now: datetime | None = None) -> list[dict[str, Any]]:
        """Each read model: `name`, `position`, `lag` (events logged past it), `lag_seconds`
        (how long the oldest of those has waited, by `now`: since it was recorded, or since the
        read model last applied a batch if that is later, as an event may carry an earlier
        time than it was written at; 0 when none waits), and the `error` that stopped it with
        its `error_position` (both null while it is healthy), and `rebuilding` (a rebuild holds it:
        followers leave it alone until the rebuild ends)."""
        now = now or datetime.now(UTC)
        head = self.runner.head()
        held = self.runner.rebuilding()
        with self.db.transaction(write=False) as tx:
            applied: dict[str, str | None] = {
                r[0]: r[1] for r in tx.execute("SELECT view, updated_at FROM rm_tracking")
            }
        waiting: dict[tuple[int, str | None], float] = {}  # read models often share one
        rows = []
        for name, (pos, error, error_position) in sorted(self.runner.positions().items()):
            if name.startswith("rmv_"):
                continue
            lag = max(head - pos, 0)
            since = (pos, applied.get(name))
            if lag and since not in waiting:
                waiting[since] = self._waited(*since, now=now)
            rows.append(
                {
                    "name": name,
                    "position": pos,
                    "lag": lag,
                    "lag_seconds": waiting[since] if lag else 0.0,
                    "error": error,
                    "error_position": error_position,
                    "rebuilding": name in held,
                }
            )
        return rows

    def _waited(self, position: int, applied_at: str | None, *, now: datetime) -> float:
        notes = self.runner.ledger.recorder.select_notifications(start=position + 1, limit=1)
        if not notes:
            return 0.0
        event: Any = self.runner.ledger.mapper.to_domain_event(notes[0])
        began: datetime = event.timestamp
        applied = parse_ts(applied_at)
        if applied is not None:
            began = max(began, applied)
        return round(max((now - began).total_seconds(), 0.0), 3)

    def health(self, max_lag_seconds: float, *, now: datetime | None = None) -> dict[str, Any]:
        """`{ready, problems, read_models}`: not ready when a read model has stopped on an
        event it cannot apply, or an event has waited for one longer than `max_lag_seconds`;
        each problem is one sentence naming the read model, its position and the error or
        the wait."""
        rows = self.status(now=now)
        problems = []
        for r in rows:
            if r["error"]:
                problems.append(
                    f"{r['name']} stopped at position {r['error_position']}: {r['error']}"
                )
            elif r["lag_seconds"] > max_lag_seconds:
                problems.append(
                    f"{r['name']} is {r['lag']} events behind at position {r['position']},"
                    f" the oldest waiting {r['lag_seconds']:.0f} s (more than {max_lag_seconds:g})"
                )
        return {"ready": not problems, "problems": problems, "read_models": rows}

    def rebuild(
        self,
        name: str | None = None,
        progress: Callable[[int, int], None] | None = None,
        *,
        workers: int = 1,
    ) -> None:
        """Rebuild one read model (or all) from the log; `workers=2` replays them in two
        processes at once (see `Runner.rebuild`), for a rebuild of several on two cores."""
        self.runner.rebuild([name] if name else None, progress, workers=workers)

    def verify(self) -> dict[str, list[str]]:
        return self.runner.verify()

    def close(self) -> None:
        self.stop()
        self.db.close()

    # ---- queries: each read model's own query, in one transaction of its own --------------

    list_incidents = _in_transaction(summary_model.list_incidents)
    worklist = _in_transaction(obligations_model.worklist)
    procedural_fairness = _in_transaction(fairness_model.checks)
    audit_trail = _in_transaction(trail_model.trail)
    # An access the log cannot record raises: the read it describes must not go ahead.
    log_access = _in_transaction(trail_model.log_access, write=True)
    log_accesses = _in_transaction(trail_model.log_accesses, write=True)
    access_log = _in_transaction(trail_model.access_log)
    feed = _in_transaction(feed_model.items)
    statistics = _in_transaction(statistics_model.summary)
    client_incidents = _in_transaction(patterns_model.client_incidents)
    pattern_suggestions = _in_transaction(patterns_model.suggestions)
    unresolved_legacy_types = _in_transaction(patterns_model.unresolved)
