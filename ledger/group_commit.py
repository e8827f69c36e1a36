"""Group commit: saves that arrive together are written in one transaction, one commit, one fsync.

The store's table lock lets one transaction append at a time (that is what keeps the log in
commit order), so concurrent writers queue for it. Instead of each waiting its turn for a
transaction of its own, whoever finds no commit under way becomes the leader: it takes every
save queued so far and writes them at once, while the saves that arrive meanwhile queue for the
next leader. A batch that cannot be written whole (one save in it lost a race) is written again
one save at a time, so each save gets its own answer and no save pays for another's conflict.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Slot(Generic[T, R]):
    item: T
    done: bool = False
    result: R | None = None
    error: BaseException | None = field(default=None, repr=False)


class GroupCommit(Generic[T, R]):
    def __init__(
        self,
        write_many: Callable[[Sequence[T]], Sequence[R]],
        write_one: Callable[[T], R],
        *,
        conflict: type[BaseException],
        max_batch: int = 64,
    ) -> None:
        self._write_many = write_many
        self._write_one = write_one
        self._conflict = conflict
        self._max_batch = max_batch
        self._queue: list[_Slot[T, R]] = []
        self._leading = False
        self._turn = threading.Condition()
        self.batches = 0  # transactions written; beside `saves`, how well saves were grouped
        self.saves = 0

    def save(self, item: T) -> R:
        slot: _Slot[T, R] = _Slot(item)
        with self._turn:
            self._queue.append(slot)
        while True:
            with self._turn:
                while self._leading and not slot.done:
                    self._turn.wait()
                if slot.done:
                    break
                self._leading = True
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
            try:
                self._write(batch)
            finally:
                with self._turn:
                    self._leading = False
                    self._turn.notify_all()
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _write(self, batch: list[_Slot[T, R]]) -> None:
        self.batches += 1
        self.saves += len(batch)
        if len(batch) > 1:
            try:
                results = self._write_many([slot.item for slot in batch])
            except self._conflict:
                pass  # written again one by one below, so each save gets its own answer
            except BaseException as exc:  # the store failed: every save in the batch failed
                for slot in batch:
                    slot.error, slot.done = exc, True
                return
            else:
                for slot, result in zip(batch, results, strict=True):
                    slot.result, slot.done = result, True
                return
        for slot in batch:
            try:
                slot.result = self._write_one(slot.item)
            except BaseException as exc:
                slot.error = exc
            slot.done = True
