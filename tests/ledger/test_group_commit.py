"""Group commit: saves queued behind a commit go in one batch; a conflict is resolved one by one."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from ledger.group_commit import GroupCommit


class Conflict(Exception):
    pass


class Store:
    """Writes items; the first write blocks until released, so the others queue behind it."""

    def __init__(self, refuse: set[int] | None = None) -> None:
        self.release = threading.Event()
        self.transactions: list[list[int]] = []
        self.refuse = refuse or set()

    def many(self, items: Sequence[int]) -> list[str]:
        if self.refuse & set(items):
            raise Conflict
        self.transactions.append(list(items))
        return [f"ok {i}" for i in items]

    def one(self, item: int) -> str:
        if not self.transactions:
            self.release.wait(5)
        if item in self.refuse:
            raise Conflict(item)
        self.transactions.append([item])
        return f"ok {item}"


def _save_all(
    commits: GroupCommit[int, str], items: range, store: Store, failure: type[Exception] = Conflict
) -> dict[int, object]:
    """Save the first item, and the rest while it is being committed; each save's answer."""
    answers: dict[int, object] = {}

    def save(i: int) -> None:
        try:
            answers[i] = commits.save(i)
        except failure as exc:
            answers[i] = exc

    first = threading.Thread(target=save, args=(items[0],))
    first.start()
    time.sleep(0.05)  # the first save is now the leader, blocked in its commit
    rest = [threading.Thread(target=save, args=(i,)) for i in items[1:]]
    for t in rest:
        t.start()
    time.sleep(0.1)  # every other save is queued behind it
    store.release.set()
    for t in [first, *rest]:
        t.join(5)
    return answers


def test_saves_that_queue_behind_a_commit_are_written_in_one_transaction() -> None:
    store = Store()
    commits = GroupCommit(store.many, store.one, conflict=Conflict)
    answers = _save_all(commits, range(10), store)
    assert answers == {i: f"ok {i}" for i in range(10)}
    assert store.transactions == [[0], list(range(1, 10))]
    assert (commits.batches, commits.saves) == (2, 10)


def test_a_conflict_in_a_batch_is_written_one_by_one_and_only_its_own_save_fails() -> None:
    store = Store(refuse={4})
    commits = GroupCommit(store.many, store.one, conflict=Conflict)
    answers = _save_all(commits, range(8), store)
    assert isinstance(answers.pop(4), Conflict)
    assert answers == {i: f"ok {i}" for i in range(8) if i != 4}
    assert store.transactions == [[0], *([i] for i in (1, 2, 3, 5, 6, 7))]


def test_a_store_failure_fails_the_whole_batch_without_retrying_each() -> None:
    store = Store()
    calls: list[Sequence[int]] = []

    def down(items: Sequence[int]) -> list[str]:
        calls.append(items)
        raise OSError("store down")

    commits = GroupCommit(down, store.one, conflict=Conflict)
    answers = _save_all(commits, range(5), store, failure=OSError)
    assert answers[0] == "ok 0"
    assert all(isinstance(answers[i], OSError) for i in range(1, 5))
    assert calls == [[1, 2, 3, 4]]


@pytest.mark.parametrize("max_batch", [1, 3])
def test_a_leader_whose_save_is_past_the_batch_limit_writes_again_until_its_own_is_done(
    max_batch: int,
) -> None:
    store = Store()
    commits = GroupCommit(store.many, store.one, conflict=Conflict, max_batch=max_batch)
    answers = _save_all(commits, range(7), store)
    assert answers == {i: f"ok {i}" for i in range(7)}
    assert sorted(i for t in store.transactions for i in t) == list(range(7))
    assert all(len(t) <= max_batch for t in store.transactions)
