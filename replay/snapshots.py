"""State as of a version or an instant, from folds kept between calls (per process, in memory).

`state_as_of` folds an incident's events from the first; at 2,000 events that is tens of
milliseconds, most of it decoding the stored rows and running the obligation rules once per
event. This cache keeps, per incident, a snapshot of the fold (`ObligationsFold`, pickled) after
every `every` events, and the stored rows it was folded from. A call reads the incident's rows
again (cheap: no decoding), and a snapshot counts only while every row before it is, byte for
byte, the row it was folded from; then only the events after it are decoded and folded.

Why the answer is the plain fold's (`replay.as_of.state_as_of`, which a property test checks):
- decoding is a pure function of a row's topic and stored bytes, and folding of the events, so
  a fold of the first k rows is valid for as long as those k rows are unchanged — an edited row
  (events are never edited, but an auditor must see it if one was) invalidates every snapshot
  after it, and a row that no longer decodes fails here as it fails in the plain fold, since
  every row not seen before is decoded, whichever version is asked for;
- a snapshot is pickled bytes: each call unpickles its own copy, so nothing a caller gets (or
  a fold mutates) is shared with the cache or with another call;
- an instant picks the events recorded by then; when the recorded times of an incident do not
  increase with its versions, those are not a prefix, and the plain fold answers.
"""

from __future__ import annotations

import copy
import pickle
import threading
from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any
from uuid import UUID

from domain.errors import IncidentNotFound
from domain.obligations import ObligationsFold
from replay import as_of
from replay.as_of import StateAsOf
from replay.store import EventRows

# A snapshot every 32 events: a call folds at most 31 events past one (well under a
# millisecond), and taking them costs under a tenth of the first fold.
EVERY = 32
# Stored rows remembered across incidents, least recently used dropped first: ~0.6 KB each
# (the stored bytes, kept to compare), so about 12 MB per process.
KEEP_ROWS = 20_000


@dataclass(frozen=True)
class _Known:
    """What one incident's rows were when last read, and the folds taken from them."""

    rows: list[tuple[str, bytes]]  # (topic, stored state) of versions 1..n, in order
    stamps: list[datetime]  # each of those events' recorded time (`timestamp`)
    snapshots: dict[int, Any]  # k -> the frozen fold of the first k events (k: every
    # `every` events, and the last one)


class FoldCache:
    """`state_as_of` with snapshots of the fold kept between calls; safe across threads."""

    def __init__(self, rows: EventRows, *, every: int = EVERY, keep_rows: int = KEEP_ROWS) -> None:
        self.rows = rows
        self.every = every
        self.keep_rows = keep_rows
        self._known: OrderedDict[UUID, _Known] = OrderedDict()
        self._kept = 0
        self._lock = threading.Lock()

    def state_as_of(
        self,
        incident_id: UUID,
        *,
        at: datetime | None = None,
        version: int | None = None,
        now: datetime | None = None,
    ) -> StateAsOf:
        """Exactly `replay.as_of.state_as_of(ledger, incident_id, ...)`: the same state, the
        same errors (`ValueError`, `PolicyViolation`, `IncidentNotFound`, a row's decoding
        error) in the same order."""
        as_of.check_request(at=at, version=version, now=now)
        stored = self.rows.states_of(incident_id)
        if not stored:
            raise IncidentNotFound(incident_id)
        with self._lock:
            known = self._known.get(incident_id)
        same = 0 if known is None else _common_prefix(known.rows, stored)
        # Every row not seen before is decoded, asked for or not: one that no longer decodes
        # fails here as in the plain fold (which decodes them all).
        fresh = [
            self.rows.decode_event(incident_id, n, *stored[n]) for n in range(same, len(stored))
        ]
        stamps = [*(known.stamps[:same] if known else ()), *(e.timestamp for e in fresh)]

        if version is not None:
            if not 1 <= version <= len(stored):
                raise ValueError(f"incident {incident_id} has versions 1 to {len(stored)}")
            count, moment = version, stamps[version - 1]
        else:
            assert at is not None
            if at.tzinfo is None:
                raise ValueError("the instant needs an offset, e.g. 2025-03-04T12:00:00+11:00")
            if any(b < a for a, b in pairwise(stamps)):
                # The events recorded by `at` need not be the first few: fold them plainly.
                return as_of.state_as_of(self.rows.ledger, incident_id, at=at, now=now)
            count, moment = bisect_right(stamps, at), at
            if count == 0:
                raise ValueError(f"incident {incident_id} was not yet reported at {at.isoformat()}")

        valid = {k: s for k, s in known.snapshots.items() if k <= same} if known else {}
        start = max((k for k in valid if k <= count), default=0)
        fold = _thaw(valid[start]) if start else ObligationsFold()
        taken: dict[int, Any] = {}
        n = start
        while n < count:
            upto = min(count, (n // self.every + 1) * self.every)
            fold.add(
                [
                    fresh[i - same]
                    if i >= same
                    else self.rows.decode_event(incident_id, i, *stored[i])
                    for i in range(n, upto)
                ]
            )
            n = upto
            # Every `every` events, and at the last event (the version asked for most).
            if (n % self.every == 0 or n == len(stored)) and n not in valid:
                taken[n] = _freeze(fold)
        incident, owed = fold.result(now=moment)
        assert incident is not None
        # A snapshot off the `every` grid is kept only while it is at the last event.
        kept = {k: s for k, s in valid.items() if k % self.every == 0 or k == len(stored)}
        self._remember(incident_id, _Known(stored, stamps, kept | taken))
        return StateAsOf.of(incident_id, incident, moment, owed)

    def _remember(self, incident_id: UUID, known: _Known) -> None:
        with self._lock:
            earlier = self._known.pop(incident_id, None)
            if earlier is not None:
                self._kept -= len(earlier.rows)
            if len(known.rows) > self.keep_rows:
                return
            self._known[incident_id] = known
            self._kept += len(known.rows)
            while self._kept > self.keep_rows:
                _, dropped = self._known.popitem(last=False)
                self._kept -= len(dropped.rows)

    def clear(self) -> None:
        """Forget every kept fold (they are never stale; this only frees the memory)."""
        with self._lock:
            self._known.clear()
            self._kept = 0


def _freeze(fold: ObligationsFold) -> Any:
    """A copy of the fold no one can change: its pickle, or (should the fold ever hold
    something pickle cannot write) a deep copy that `_thaw` copies again."""
    try:
        return pickle.dumps(fold, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return _Copied(copy.deepcopy(fold))


def _thaw(frozen: Any) -> ObligationsFold:
    """A fold of one's own from `_freeze`'s copy."""
    if isinstance(frozen, _Copied):
        return copy.deepcopy(frozen.fold)
    folded: ObligationsFold = pickle.loads(frozen)  # our own bytes, never input
    return folded


@dataclass(frozen=True)
class _Copied:
    fold: ObligationsFold


def _common_prefix(kept: list[Any], stored: list[Any]) -> int:
    """How many leading rows are the same in both (compared by value: topic and bytes)."""
    n = min(len(kept), len(stored))
    if kept[:n] == stored[:n]:
        return n
    return next(i for i in range(n) if kept[i] != stored[i])
