"""Feeds the read models from the notification log in batches, each with its tracking position.

We use our own batching runner rather than the library's `ProjectionRunner`: that one commits a
transaction per event (about 1,000 events/s here) and cannot follow the SQLite recorder, which
has no `subscribe()` in 9.5.6. Here each read model reads `select_notifications` from its own
tracking position, and applies a whole batch of events and its new position in ONE transaction,
so a crash anywhere re-applies nothing twice and skips nothing. Positions may have gaps
(rolled-back inserts): only the last position actually read is recorded.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import multiprocessing
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from domain.calendar import calendar_fingerprint
from ledger.application import Ledger
from projections import (
    audit_trail,
    incident_summary,
    obligations,
    patterns,
    procedural_fairness,
    regulator_feed,
    reminders,
    statistics,
)
from projections.base import Batch, Folds
from projections.db import Db, Tx, ts

Handler = Callable[[Tx, str, Batch], None]
log = logging.getLogger("cims.projections")
# The read models whose rows hold deadlines counted in business days.
CALENDAR_MODELS = (incident_summary, obligations, procedural_fairness, statistics, reminders)
LIVE = "rm_"
SCRATCH = "rmv_"
RETRY_AFTER_ERROR_SECONDS = 5.0
# Histories of the incidents most recently seen in the log, kept between batches: the next
# event of an incident extends its history instead of reading and decoding it all again. The
# bound keeps memory flat however long the log is.
KEPT_HISTORIES = 5_000
# A rebuild has the whole log before it: larger batches, so fewer commits (each one a sync).
REBUILD_BATCH = 5_000
# How many rebuild batches (of REBUILD_BATCH events) pass between collections of the young
# generations. A collection walks every object the batches left alive (the kept histories and
# folds), so one per batch cost a seventh of a rebuild's CPU at 180k events; one per 100
# batches let peak memory grow (278 MiB at 1M events, against 248 MiB with one per 1 or 10).
COLLECT_EVERY = 10
# The advisory lock held while read-model tables are set up (an arbitrary, fixed key).
SETUP_LOCK = 0x43494D53_5245_4144 & 0x7FFF_FFFF_FFFF_FFFF
# How long a rebuild's hold on a read model lasts without a commit renewing it. Every rebuild
# batch renews it; a rebuild that died leaves its read models to the followers once it lapses.
REBUILD_LEASE_SECONDS = 60.0


class ModelHeld(Exception):
    """This read model is not ours to write just now: a rebuild holds it, or the batch was read
    from a position the model has since left (a rebuild reset it). Nothing was written; the
    follower reads the positions again and tries later."""


class RebuildOvertaken(RuntimeError):
    """A rebuild found its hold on a read model lapsed and taken over by a follower (it paused
    longer than `REBUILD_LEASE_SECONDS`); the follower goes on from the position it reached."""


class RebuildRefused(RuntimeError):
    """Another rebuild holds one of the read models asked for."""


def _db_now(tx: Tx) -> str:
    """SQL for the database's own clock in seconds since 1970: every process (and host) that
    writes a read model compares holds against the one clock."""
    if tx.postgres:
        return "EXTRACT(EPOCH FROM clock_timestamp())"
    return "((julianday('now') - 2440587.5) * 86400.0)"


def tables_digest(model: Model) -> str:
    """A fingerprint of a read model's table definitions: when a release changes them, the
    model is rebuilt rather than written into tables of the old shape. A model whose rows hold
    business-day deadlines also fingerprints the calendar: when a holiday is proclaimed (or a
    `holidays` release adds one) its open obligations are recomputed on start, the same way."""
    text = "\n".join(model.tables(LIVE))
    if model.derivation > 1:
        # The rows' derivation changed in a release, the tables' shape alone perhaps not.
        text += f"\nderivation {model.derivation}"
    if model.uses_calendar:
        text += "\ncalendar " + calendar_fingerprint()
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold Python's cyclic garbage collector off for one batch. Left on, it rescans every kept
    history again and again while a batch allocates its events: a third of a rebuild's time was
    seen going to it. Events and views hold no reference cycles to wait for."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True)
class Model:
    name: str
    tables: Callable[[str], list[str]]
    rebuilt_tables: Callable[[str], list[str]]
    handle: Handler
    uses_calendar: bool = False
    # A module's `DERIVATION`: bumped when what its rows hold is derived differently.
    derivation: int = 1


def models(feed_secret: bytes) -> list[Model]:
    return [
        Model(
            m.name,  # type: ignore[attr-defined]
            m.tables,  # type: ignore[attr-defined]
            m.rebuilt_tables,  # type: ignore[attr-defined]
            m.handle,  # type: ignore[attr-defined]
            uses_calendar=m in CALENDAR_MODELS,
            derivation=getattr(m, "DERIVATION", 1),
        )
        for m in (
            incident_summary,
            obligations,
            audit_trail,
            procedural_fairness,
            statistics,
            patterns,
            reminders,
        )
    ] + [
        Model(
            regulator_feed.name,
            regulator_feed.tables,
            regulator_feed.rebuilt_tables,
            regulator_feed.handler(feed_secret),
            derivation=regulator_feed.DERIVATION,
        ),
    ]


# The read models that append rows per event, and fold no incident of their own for most events:
# a rebuild in two processes gives them one process, and the models that replace each incident's
# rows from its fold (the heavier share) the other.
APPENDING = ("audit_trail", "regulator_feed")


def rebuild_groups(chosen: Sequence[Model], workers: int) -> list[list[Model]]:
    """The read models split among `workers` processes (at most two), the first group for the
    process that asked: each group is replayed by its own process, reading the log itself."""
    if workers < 2 or len(chosen) < 2:
        return [list(chosen)]
    folding = [m for m in chosen if m.name not in APPENDING]
    appending = [m for m in chosen if m.name in APPENDING]
    if not folding or not appending:
        half = (len(chosen) + 1) // 2
        folding, appending = list(chosen[:half]), list(chosen[half:])
    return [folding, appending]


def _rebuild_worker(
    ledger_type: type[Ledger],
    env: dict[str, str],
    database_url: str,
    feed_secret: bytes,
    names: list[str],
    lease: str,
    errors: Any,
) -> None:
    """A rebuild's second process: replay the named read models (their rows and tracking
    already reset, and held by the rebuild's `lease`) from the log, with a ledger and database
    connections of its own."""
    ledger = ledger_type(env=env)
    db = Db(database_url)
    try:
        runner = Runner(db, ledger, chosen(models(feed_secret), names))
        runner._replay(runner.models, LIVE, stop=None, lease=lease)
    except BaseException as exc:
        errors.put(f"{type(exc).__name__}: {exc}")
        raise
    finally:
        db.close()
        ledger.close()


def chosen(every: list[Model], names: Iterable[str] | None) -> list[Model]:
    """The read models named (all when `names` is None), in their usual order; an unknown name
    is a `ValueError` naming the valid ones."""
    if names is None:
        return list(every)
    wanted = set(names)
    unknown = wanted - {m.name for m in every}
    if unknown or not wanted:
        raise ValueError(
            f"no read model named {', '.join(sorted(unknown)) or '(none given)'};"
            f" the read models are {', '.join(m.name for m in every)}"
        )
    return [m for m in every if m.name in wanted]


@dataclass
class Runner:
    db: Db
    ledger: Ledger
    models: list[Model]
    batch_size: int = 500
    failed_at: dict[str, float] = field(default_factory=dict)
    _kept: OrderedDict[UUID, list[Any]] = field(default_factory=OrderedDict)
    _kept_lock: threading.Lock = field(default_factory=threading.Lock)
    # Each kept incident's obligations fold, extended batch by batch (mutated in place: so
    # one batch at a time is applied, under `_applying`).
    _folds: Folds = field(default_factory=lambda: Folds(KEPT_HISTORIES))
    _applying: threading.Lock = field(default_factory=threading.Lock)
    # The regulator feed's secret, for a rebuild's second process to build its read models
    # (`None`: a rebuild stays in this process).
    feed_secret: bytes | None = None

    # ---- set-up ------------------------------------------------------------------------------

    def setup(self) -> None:
        with self.db.transaction() as tx:
            if tx.postgres:
                # API processes and workers starting together: one sets the tables up at a
                # time (concurrent CREATE ... IF NOT EXISTS and first INSERTs collide).
                tx.execute("SELECT pg_advisory_xact_lock(?)", [SETUP_LOCK])
            tx.execute(
                "CREATE TABLE IF NOT EXISTS rm_tracking (view TEXT PRIMARY KEY,"
                " position BIGINT NOT NULL, error TEXT, error_position BIGINT, updated_at TEXT,"
                " tables TEXT)"
            )
            columns = tx.columns("rm_tracking")
            if "tables" not in columns:  # tracking kept before it was added
                tx.execute("ALTER TABLE rm_tracking ADD COLUMN tables TEXT")
            # Which rebuild holds the read model (`held_by`), until when (database clock, in
            # seconds since 1970): see `Runner.rebuild`.
            if "held_by" not in columns:
                tx.execute("ALTER TABLE rm_tracking ADD COLUMN held_by TEXT")
                tx.execute("ALTER TABLE rm_tracking ADD COLUMN held_until DOUBLE PRECISION")
            audit_trail.set_up_access_log(tx)
            for model in self.models:
                shape = tables_digest(model)
                found = tx.execute("SELECT tables FROM rm_tracking WHERE view = ?", [model.name])
                if not found:
                    tx.execute(
                        "INSERT INTO rm_tracking (view, position, tables) VALUES (?, 0, ?)",
                        [model.name, shape],
                    )
                elif found[0][0] != shape:
                    # Its tables changed shape in this release: dropped with its tracking, in
                    # one transaction, they are built again from the log as it is followed.
                    for table in model.rebuilt_tables(LIVE):
                        tx.execute(f"DROP TABLE IF EXISTS {table}")
                    tx.execute(
                        "UPDATE rm_tracking SET position = 0, error = NULL, error_position = NULL,"
                        " tables = ? WHERE view = ?",
                        [shape, model.name],
                    )
                for ddl in model.tables(LIVE):
                    tx.execute(ddl)
            if tx.postgres:
                # Wake workers on commit of new events, so they never need to poll.
                tx.execute(
                    "CREATE OR REPLACE FUNCTION rm_notify_events() RETURNS trigger"
                    " LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('cims_events', '');"
                    " RETURN NULL; END $$"
                )
                tx.execute(
                    "CREATE OR REPLACE TRIGGER rm_notify_events AFTER INSERT ON cims_events"
                    " FOR EACH STATEMENT EXECUTE FUNCTION rm_notify_events()"
                )

    # ---- processing --------------------------------------------------------------------------

    def positions(self) -> dict[str, tuple[int, str | None, int | None]]:
        with self.db.transaction(write=False) as tx:
            rows = tx.execute("SELECT view, position, error, error_position FROM rm_tracking")
        return {r[0]: (int(r[1]), r[2], r[3]) for r in rows}

    def rebuilding(self) -> set[str]:
        """The read models a rebuild holds now (its hold not lapsed)."""
        with self.db.transaction(write=False) as tx:
            rows = tx.execute(
                f"SELECT view FROM rm_tracking WHERE held_by IS NOT NULL"
                f" AND held_until >= {_db_now(tx)}"
            )
        return {r[0] for r in rows}

    def catch_up(self, *, stop: int | None = None) -> int:
        """Process every healthy read model to the head of the log (or `stop`)."""
        tracked = self.positions()
        now = time.monotonic()
        ready = [
            m
            for m in self.models
            if now - self.failed_at.get(m.name, -RETRY_AFTER_ERROR_SECONDS)
            >= RETRY_AFTER_ERROR_SECONDS
        ]
        position = {m.name: tracked[m.name][0] for m in ready}
        with self._applying:
            self._follow(ready, position, stop)
        return self.position()

    def _follow(self, ready: list[Model], position: dict[str, int], stop: int | None) -> None:
        while ready:
            start = min(position[m.name] for m in ready)
            notes = self.ledger.recorder.select_notifications(
                start=start + 1, limit=self.batch_size, stop=stop
            )
            if not notes:
                break
            with collector_paused():
                read = self._read(notes, read_from=start)
                for model in list(ready):
                    mine = read.after(position[model.name])
                    if not mine.events:
                        continue
                    began = time.perf_counter()
                    if self._apply(model, LIVE, mine):
                        position[model.name] = notes[-1].id
                        log.info(
                            "batch applied",
                            extra={
                                "read_model": model.name,
                                "first": mine.events[0][0],
                                "last": mine.events[-1][0],
                                "events": len(mine.events),
                                "ms": round((time.perf_counter() - began) * 1000, 3),
                            },
                        )
                    else:
                        ready.remove(model)

    def _apply(
        self,
        model: Model,
        prefix: str,
        read: Batch,
        *,
        rebuilding: bool = False,
        lease: str | None = None,
    ) -> bool:
        """Apply the batch's events past this model's position, with the new position, at once;
        `False` when they are not applied: the model failed (its error recorded) or is not ours
        to write just now (`ModelHeld`: a rebuild holds it; nothing recorded, try later).

        If the batch fails, it is applied again one event at a time, so the events before the
        failing one are kept and the error names the exact position that failed. `lease` is
        the rebuild's hold, when a rebuild applies it (`RebuildOvertaken` if it lapsed).
        """
        try:
            try:
                self._commit(model, prefix, read, rebuilding=rebuilding, lease=lease)
            except (ModelHeld, RebuildOvertaken):
                raise
            except Exception as exc:  # a read model's failure stops that read model only
                many = len(read.events) > 1
                failure = (
                    self._isolate(model, prefix, read, lease=lease)
                    if many
                    else (read.events[0][0], exc)
                )
                if failure is not None:
                    self._record_failure(model, prefix, *failure)
                    return False
        except ModelHeld:
            return False
        self.failed_at.pop(model.name, None)
        return True

    def _commit(
        self,
        model: Model,
        prefix: str,
        read: Batch,
        *,
        rebuilding: bool = False,
        lease: str | None = None,
    ) -> None:
        # A rebuild's batch is large and can be written again from the log: it need not wait
        # for the disk (see `Db.transaction`; a crash undoes it whole, with its position, and
        # the rebuild goes on from the position kept), and on PostgreSQL its rows go by COPY,
        # which pipeline mode does not allow. A live batch is small: pipelined, durable.
        with self.db.transaction(pipelined=not rebuilding, durable=not rebuilding) as tx:
            # Lock this read model's tracking row first: another worker that got here
            # before us has already applied some of these events, and we skip them.
            lock = " FOR UPDATE" if tx.postgres else ""
            name = self._tracking_name(model, prefix)
            now = _db_now(tx)
            ((tracked, held_by, lapsed),) = tx.execute(
                f"SELECT position, held_by, held_until < {now} FROM rm_tracking"
                f" WHERE view = ?{lock}",
                [name],
            )
            if held_by != lease:
                self._hold_not_ours(tx, model, name, held_by, bool(lapsed), lease)
            if read.read_from is not None and tracked < read.read_from:
                # Read from where the model was before a rebuild reset it: events between its
                # position now and the batch's first would be skipped for good.
                raise ModelHeld(f"{model.name} is at {tracked}, the batch from {read.read_from}")
            batch = read.after(tracked)
            if not batch.events:
                return
            model.handle(tx, prefix, batch)
            renew = "" if lease is None else f", held_until = {now} + {REBUILD_LEASE_SECONDS}"
            tx.execute(
                "UPDATE rm_tracking SET position = ?, error = NULL, error_position = NULL,"
                f" updated_at = ?{renew} WHERE view = ?",
                [batch.events[-1][0], ts(datetime.now(UTC)), name],
            )

    @staticmethod
    def _hold_not_ours(
        tx: Tx, model: Model, name: str, held_by: str | None, lapsed: bool, lease: str | None
    ) -> None:
        """The tracking row names a holder other than us (`lease`: a rebuild's, or `None`)."""
        if lease is not None:
            raise RebuildOvertaken(
                f"the rebuild of {model.name} paused for longer than its"
                f" {REBUILD_LEASE_SECONDS:g}-second hold, and the followers took it back;"
                " the read model goes on from the position the rebuild reached"
            )
        if not lapsed:
            raise ModelHeld(f"{model.name} is being rebuilt")
        # A rebuild that died (or stalled) let its hold lapse: the model goes on from the
        # position it reached, which it committed with its rows.
        tx.execute(
            "UPDATE rm_tracking SET held_by = NULL, held_until = NULL WHERE view = ?", [name]
        )

    def _isolate(
        self, model: Model, prefix: str, read: Batch, *, lease: str | None = None
    ) -> tuple[int, Exception] | None:
        """The first event that fails on its own, and its error; `None` if none does (the
        batch's failure was passing, and every event is now applied)."""
        before = read.read_from
        for position, event in read.events:
            # A fresh batch: each event sees its incident's history only up to itself.
            single = Batch([(position, event)], read.load, read_from=before).preload()
            try:
                self._commit(model, prefix, single, lease=lease)
            except (ModelHeld, RebuildOvertaken):
                raise
            except Exception as exc:
                return position, exc
            before = position
        return None

    def _record_failure(self, model: Model, prefix: str, position: int, exc: Exception) -> None:
        self.failed_at[model.name] = time.monotonic()
        log.error(
            "read model failed",
            extra={
                "read_model": self._tracking_name(model, prefix),
                "position": position,
                "error": f"{type(exc).__name__}: {exc}"[:2000],
            },
        )
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE rm_tracking SET error = ?, error_position = ?, updated_at = ?"
                " WHERE view = ?",
                [
                    f"{type(exc).__name__}: {exc}"[:2000],
                    position,
                    ts(datetime.now(UTC)),
                    self._tracking_name(model, prefix),
                ],
            )

    def _read(self, notes: Sequence[Any], *, read_from: int) -> Batch:
        """Decode a page of the log, read after position `read_from`, once, and read its
        incidents' histories, for every model."""
        events = [(n.id, self.ledger.mapper.to_domain_event(n)) for n in notes]
        return Batch(
            events, self._history, self._histories(events), folds=self._folds, read_from=read_from
        )

    def _histories(self, events: list[tuple[int, Any]]) -> dict[UUID, list[Any]]:
        """Each incident's history up to its last event in `events`: the kept history extended
        by the new events where it reaches up to them, else read from the store."""
        arrived: dict[UUID, list[Any]] = {}
        for _, event in events:
            arrived.setdefault(event.originator_id, []).append(event)
        found = {}
        with self._kept_lock:
            for incident_id, new in arrived.items():
                first, last = new[0].originator_version, new[-1].originator_version
                kept = self._kept.pop(incident_id, [])
                if last - first + 1 == len(new) and len(kept) >= first - 1:
                    history = kept[: first - 1] + new
                else:
                    history = self.ledger.incident_events(incident_id, lte=last)
                found[incident_id] = self._kept[incident_id] = history
            while len(self._kept) > KEPT_HISTORIES:
                self._kept.popitem(last=False)
        return found

    def _history(self, incident_id: UUID, version: int) -> list[Any]:
        return self.ledger.incident_events(incident_id, lte=version)

    @staticmethod
    def _tracking_name(model: Model, prefix: str) -> str:
        return model.name if prefix == LIVE else f"{prefix}{model.name}"

    def position(self) -> int:
        tracked = self.positions()
        return min((tracked[m.name][0] for m in self.models), default=0)

    def head(self) -> int:
        return self.ledger.recorder.max_notification_id() or 0

    # ---- rebuild and verify ------------------------------------------------------------------

    def rebuild(
        self,
        names: Iterable[str] | None = None,
        progress: Callable[[int, int], None] | None = None,
        *,
        workers: int = 1,
    ) -> None:
        """Take the named read models, drop their rows and tracking in one transaction, then
        replay, and let them go.

        While a rebuild holds a read model, it is the model's only writer: a follower (in an
        API process or `cims projections run`) leaves it alone and goes on from where the
        rebuild left it; a second rebuild of it is refused (`RebuildRefused`). A rebuild that
        dies lets its hold lapse after `REBUILD_LEASE_SECONDS`; one that pauses longer than
        that finds it taken back (`RebuildOvertaken`). Two writers never interleave.

        With `workers=2` (and a `feed_secret`) the read models are replayed in two processes
        at once, each reading the log and committing its own models' batches and positions
        (`rebuild_groups`); this process replays the first group, reports `progress` for it,
        and waits for the other. A failure in either is a `RuntimeError` once both have ended;
        each model keeps the position it reached."""
        chosen = self._chosen(names)
        lease = self._hold(chosen)
        try:
            self._rebuild_held(chosen, progress, workers=workers, lease=lease)
        finally:
            with self.db.transaction() as tx:
                tx.executemany(
                    "UPDATE rm_tracking SET held_by = NULL, held_until = NULL"
                    " WHERE view = ? AND held_by = ?",
                    [(model.name, lease) for model in chosen],
                )

    def _hold(self, chosen: Sequence[Model]) -> str:
        """Take the chosen read models for a rebuild, and drop their rows and tracking, in one
        transaction: from its commit until the rebuild lets go (or its hold lapses, see
        `REBUILD_LEASE_SECONDS`), no follower writes them; it waits, and goes on from where the
        rebuild left them. Returns the hold's token; `RebuildRefused` if another rebuild holds
        any of them."""
        lease = uuid4().hex
        with self.db.transaction() as tx:
            lock = " FOR UPDATE" if tx.postgres else ""
            now = _db_now(tx)
            for model in chosen:
                # The tracking row's lock waits for a follower's batch in flight to commit.
                ((held_by, lapsed),) = tx.execute(
                    f"SELECT held_by, held_until < {now} FROM rm_tracking WHERE view = ?{lock}",
                    [model.name],
                )
                if held_by is not None and not lapsed:
                    raise RebuildRefused(
                        f"{model.name} is being rebuilt by another process: wait for it to end"
                    )
            for model in chosen:
                for table in model.rebuilt_tables(LIVE):
                    tx.execute(f"DELETE FROM {table}")
                tx.execute(
                    "UPDATE rm_tracking SET position = 0, error = NULL, error_position = NULL,"
                    f" held_by = ?, held_until = {now} + {REBUILD_LEASE_SECONDS} WHERE view = ?",
                    [lease, model.name],
                )
        return lease

    def _rebuild_held(
        self,
        chosen: list[Model],
        progress: Callable[[int, int], None] | None,
        *,
        workers: int,
        lease: str,
    ) -> None:
        groups = rebuild_groups(chosen, workers if self.feed_secret is not None else 1)
        helpers = []
        for group in groups[1:]:
            # Spawned, not forked: this process may hold threads and pooled connections.
            context = multiprocessing.get_context("spawn")
            errors = context.SimpleQueue()
            helper = context.Process(
                target=_rebuild_worker,
                args=(
                    type(self.ledger),
                    dict(self.ledger.env),
                    self.db.url,
                    self.feed_secret,
                    [m.name for m in group],
                    lease,
                    errors,
                ),
                name=f"rebuild {','.join(m.name for m in group)}",
                daemon=True,
            )
            helper.start()
            helpers.append((helper, errors))
        try:
            self._replay(groups[0], LIVE, stop=None, progress=progress, lease=lease)
        finally:
            for helper, _ in helpers:
                helper.join()
        for helper, errors in helpers:
            if helper.exitcode != 0:
                reason = errors.get() if not errors.empty() else f"exit code {helper.exitcode}"
                raise RuntimeError(f"{helper.name} failed: {reason}")

    def verify(self, names: Iterable[str] | None = None) -> dict[str, list[str]]:
        """Rebuild into scratch tables up to each live position and compare, row for row."""
        differences: dict[str, list[str]] = {}
        tracked = self.positions()
        for model in self._chosen(names):
            live_position = tracked[model.name][0]
            with self.db.transaction() as tx:
                for table in model.rebuilt_tables(SCRATCH):
                    tx.execute(f"DROP TABLE IF EXISTS {table}")
                for ddl in model.tables(SCRATCH):
                    tx.execute(ddl)
                tx.execute("DELETE FROM rm_tracking WHERE view = ?", [f"{SCRATCH}{model.name}"])
                tx.execute(
                    "INSERT INTO rm_tracking (view, position) VALUES (?, 0)",
                    [f"{SCRATCH}{model.name}"],
                )
            try:
                self._replay([model], SCRATCH, stop=live_position)
                found = self._compare(model)
            finally:
                with self.db.transaction() as tx:
                    for table in model.rebuilt_tables(SCRATCH):
                        tx.execute(f"DROP TABLE IF EXISTS {table}")
                    tx.execute("DELETE FROM rm_tracking WHERE view = ?", [f"{SCRATCH}{model.name}"])
            if found:
                differences[model.name] = found
        return differences

    def _compare(self, model: Model) -> list[str]:
        found = []
        with self.db.transaction() as tx:
            for live, scratch in zip(
                model.rebuilt_tables(LIVE), model.rebuilt_tables(SCRATCH), strict=True
            ):
                a = sorted(map(repr, tx.execute(f"SELECT * FROM {live}")))
                b = sorted(map(repr, tx.execute(f"SELECT * FROM {scratch}")))
                if a != b:
                    only_live = sorted(set(a) - set(b))[:5]
                    only_rebuilt = sorted(set(b) - set(a))[:5]
                    found.append(
                        f"{live}: {len(a)} live rows, {len(b)} rebuilt;"
                        f" only live {only_live}; only rebuilt {only_rebuilt}"
                    )
        return found

    def _replay(
        self,
        chosen: Sequence[Model],
        prefix: str,
        *,
        stop: int | None,
        progress: Callable[[int, int], None] | None = None,
        lease: str | None = None,
    ) -> None:
        head = stop if stop is not None else self.head()
        start = batches = 0
        # For the whole replay: its kept histories only grow. One batch at a time (the folds).
        with self._applying, collector_paused():
            while True:
                notes = self.ledger.recorder.select_notifications(
                    start=start + 1, limit=max(self.batch_size, REBUILD_BATCH), stop=stop
                )
                if not notes:
                    break
                read = self._read(notes, read_from=start)
                for model in chosen:
                    if not self._apply(model, prefix, read, rebuilding=True, lease=lease):
                        raise RuntimeError(f"{model.name} failed rebuilding at {notes[0].id}")
                start = notes[-1].id
                batches += 1
                if batches % COLLECT_EVERY == 0:
                    gc.collect(1)  # the young generations only: what these batches left behind
                if progress is not None:
                    progress(start, head)
            # The kept histories and folds are let go (a live batch after the rebuild reads its
            # few incidents again), then the young generations are collected: what the last
            # batches left. Not a full collection: that walks every object of the process, and
            # in a long-lived process with a large heap (a test run, an API process serving
            # `verify`) it took minutes.
            with self._kept_lock:
                self._kept.clear()
            self._folds.clear()
        gc.collect(1)

    def _chosen(self, names: Iterable[str] | None) -> list[Model]:
        return chosen(self.models, names)
