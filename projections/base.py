"""What every read model is given: a batch of events from the log, and each incident's history."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from domain.incident import Incident
from domain.obligations import Obligation, ObligationsFold, incident_with_obligations
from projections.db import Tx

Event = Any
History = Callable[[UUID, int], list[Event]]


@dataclass
class Batch:
    """Events read from the notification log, in order, with their positions.

    `history(id)` is the incident's events up to the last of them in this batch, so a view
    built from it reflects exactly the log up to the batch's end, on a live run and a rebuild.
    `read_from` is the position the batch was read after: it holds every event of the log past
    it, up to its last (`None`: not known, as in a batch a test makes by hand). A read model
    whose tracking is below it would skip events, and must not take the batch.
    """

    events: list[tuple[int, Event]]
    load: History
    _cache: dict[UUID, list[Event]] = field(default_factory=dict)
    # Folded once per batch and shared by every read model that needs them.
    _folded: dict[UUID, tuple[Incident, tuple[Obligation, ...]]] = field(default_factory=dict)
    _touched: dict[UUID, int] | None = None
    # Folds kept by the runner between batches (see `Folds`): extended by this batch's events
    # instead of folding each history again from its first event.
    folds: Folds | None = None
    read_from: int | None = None

    def touched(self) -> dict[UUID, int]:
        """Each incident in the batch, with the last version of it the batch holds."""
        if self._touched is None:
            self._touched = {e.originator_id: e.originator_version for _, e in self.events}
        return self._touched

    def history(self, incident_id: UUID) -> list[Event]:
        if incident_id not in self._cache:
            self._cache[incident_id] = self.load(incident_id, self.touched()[incident_id])
        return self._cache[incident_id]

    def incident(self, incident_id: UUID) -> Incident:
        return self._fold(incident_id)[0]

    def obligations(self, incident_id: UUID) -> tuple[Obligation, ...]:
        """As they stood when the batch's last event of the incident was recorded."""
        return self._fold(incident_id)[1]

    def _fold(self, incident_id: UUID) -> tuple[Incident, tuple[Obligation, ...]]:
        if incident_id not in self._folded:
            history = self.history(incident_id)
            if self.folds is None:
                incident, owed = incident_with_obligations(history, now=history[-1].timestamp)
            else:
                fold = self.folds.up_to(incident_id, history)
                incident, owed = fold.result(now=history[-1].timestamp)
            assert incident is not None
            self._folded[incident_id] = (incident, owed)
        return self._folded[incident_id]

    def preload(self) -> Batch:
        """Read every touched incident's history now, before a write transaction opens: the
        ledger's own connections are never waited on while the read models hold a lock."""
        for incident_id in self.touched():
            self.history(incident_id)
        return self

    def after(self, position: int) -> Batch:
        """The events past `position`, sharing the histories already read."""
        if not self.events or position < self.events[0][0]:
            return self  # the usual case: none of these events is applied yet
        return Batch(
            [(p, e) for p, e in self.events if p > position],
            self.load,
            self._cache,
            self._folded,
            folds=self.folds,
            read_from=None if self.read_from is None else max(self.read_from, position),
        )


class Folds:
    """The obligations folds of the incidents most recently seen, kept between batches.

    `up_to(id, history)` gives the fold of exactly `history` (an incident's events from its
    first): the kept fold extended by the events it has not seen, or a new one when the kept
    fold is past the history's end (a rebuild or a retry reading older events). A fold is
    mutated in place, so one runner must not apply two batches at once (the runner holds a
    lock while it applies)."""

    def __init__(self, bound: int) -> None:
        self.bound = bound
        self._kept: OrderedDict[UUID, ObligationsFold] = OrderedDict()

    def clear(self) -> None:
        """Forget every kept fold."""
        self._kept.clear()

    def up_to(self, incident_id: UUID, history: list[Event]) -> ObligationsFold:
        fold = self._kept.pop(incident_id, None)
        last = history[-1].originator_version
        if fold is None or fold.version > last:
            fold = ObligationsFold()
        fold.add(history[fold.version :])
        assert fold.version == last, (fold.version, last)
        self._kept[incident_id] = fold
        while len(self._kept) > self.bound:
            self._kept.popitem(last=False)
        return fold


class ReadModel(Protocol):
    """One read model: its tables (named with a prefix, so a rebuild can go to scratch tables),
    how a batch of events updates them, and which of them a rebuild replaces."""

    name: str

    def tables(self, p: str) -> list[str]: ...

    def rebuilt_tables(self, p: str) -> list[str]: ...

    def handle(self, tx: Tx, p: str, batch: Batch) -> None: ...


# SQLite's bound on `?` parameters in one statement is 32,766 (999 before 3.32): stay well under.
_IN_CHUNK = 500


def delete_incidents(tx: Tx, table: str, keys: Sequence[str]) -> None:
    """Delete every row of these incidents (by the `incident_id` column) from `table`, in a few
    statements rather than one per incident: one on PostgreSQL (`= ANY`), one per 500 ids on
    SQLite. `keys` are incident ids as text; an empty list deletes nothing."""
    if not keys:
        return
    if tx.postgres:
        tx.execute(f"DELETE FROM {table} WHERE incident_id = ANY(?)", [list(keys)])
        return
    for start in range(0, len(keys), _IN_CHUNK):
        chunk = keys[start : start + _IN_CHUNK]
        marks = ", ".join("?" * len(chunk))
        tx.execute(f"DELETE FROM {table} WHERE incident_id IN ({marks})", chunk)


def serial_key(tx: Tx) -> str:
    return "BIGSERIAL PRIMARY KEY" if tx.postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"


def visible_to(organisations: set[str] | None, reporter_column: str) -> tuple[str, list[str]]:
    """SQL keeping the incidents these organisations reported or are named responsible for
    (`None`: every incident)."""
    if organisations is None:
        return "1 = 1", []
    names = sorted(organisations)
    marks = ", ".join("?" * len(names)) or "NULL"
    return f"({reporter_column} IN ({marks}) OR other_provider IN ({marks}))", names + names


def page_of_either(
    select: str,
    columns: tuple[str, str],
    names: Iterable[str],
    filters: str,
    params: Sequence[Any],
    order: str,
    outer_order: str,
) -> tuple[str, list[Any]]:
    """SQL and arguments for a page of the rows whose first or second of `columns` is one of
    `names` (reported by an organisation, or naming it responsible), in `order`.

    `order` ends `LIMIT ?` and `params` ends with its limit (page size + 1); `outer_order`
    orders the merged halves by the output column names and ends `LIMIT ?` too. Each half is a
    range of its own index in that order, so a page costs the same however many rows an
    organisation has; one `OR` across both columns sorted all of them (half a second at a
    million incidents). `UNION` drops a row both halves hold."""
    chosen = sorted(names)
    marks = ", ".join("?" * len(chosen)) or "NULL"
    halves = [
        f"SELECT * FROM ({select} WHERE {column} IN ({marks}) AND {filters} {order}) AS half{n}"
        for n, column in enumerate(columns)
    ]
    half = [*chosen, *params]
    return f"{halves[0]} UNION {halves[1]} {outer_order}", [*half, *half, params[-1]]
