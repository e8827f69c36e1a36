"""A rebuild and a follower of the same read model never interleave: while the rebuild holds the
model the follower leaves it alone (a batch it read before the rebuild reset the model is never
applied on top of the reset), then goes on from where the rebuild ended. A second rebuild is
refused; a rebuild that stalls past its hold finds the followers have taken it back."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from ledger.application import Ledger
from projections import runner as runner_module
from projections.runner import RebuildOvertaken, RebuildRefused
from projections.service import ReadModels
from tests.factories import START, LedgerStory
from tests.projections.conftest import FEED_SECRET, six_events_in_three_incidents

pytestmark = pytest.mark.store


def six_more_events(ledger: Ledger) -> None:
    """Three more incidents, each with a response plan: positions 7 to 12."""
    for n in range(3):
        LedgerStory.report(ledger, now=START + timedelta(hours=1, minutes=n)).do(
            "record_response_plan", plan="p"
        )


class PausedRebuild:
    """A rebuild by a second process's read models (here a thread with its own connections),
    two events to a batch, that stops after its first batch until `resume()`; with `crash`,
    it dies there instead."""

    def __init__(self, rebuilder: ReadModels, *, crash: bool = False) -> None:
        self.rebuilder = rebuilder
        self.crash = crash
        self.paused = threading.Event()
        self.go = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run)

    def _progress(self, done: int, total: int) -> None:
        if not self.paused.is_set():
            self.paused.set()
            if self.crash:
                raise KeyboardInterrupt("the rebuild's process was killed")
            assert self.go.wait(60)

    def _run(self) -> None:
        try:
            self.rebuilder.rebuild(progress=self._progress)
        except BaseException as exc:
            self.error = exc

    def start(self) -> PausedRebuild:
        self.thread.start()
        assert self.paused.wait(60), self.error
        return self

    def resume(self) -> BaseException | None:
        self.go.set()
        self.thread.join(60)
        return self.error


@pytest.fixture
def rebuilder(database_url: str, ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setattr(runner_module, "REBUILD_BATCH", 2)
    models = ReadModels.open(database_url, ledger, feed_secret=FEED_SECRET)
    models.runner.batch_size = 1
    try:
        yield models
    finally:
        models.close()


def when_reading_its_next_batch(
    monkeypatch: pytest.MonkeyPatch, follower: ReadModels, do: Callable[[], object]
) -> None:
    """Run `do` once, after the follower has read its positions and the log, before it applies
    what it read: the moment a rebuild in another process may reset the read models."""
    runner = follower.runner
    read = runner._read

    def reading(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(runner, "_read", read)
        do()
        return read(*args, **kwargs)

    monkeypatch.setattr(runner, "_read", reading)


def every_position(read_models: ReadModels) -> set[int]:
    return {s["position"] for s in read_models.status()}


def test_a_follower_waits_while_a_rebuild_holds_the_read_models_then_goes_on_from_its_end(
    ledger: Ledger,
    read_models: ReadModels,
    rebuilder: ReadModels,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    six_events_in_three_incidents(ledger)
    read_models.catch_up()
    six_more_events(ledger)
    rebuild = PausedRebuild(rebuilder)

    when_reading_its_next_batch(monkeypatch, read_models, rebuild.start)
    read_models.catch_up()

    # The follower read events 7 to 12 for models at 6; the rebuild reset them and is at 2.
    assert every_position(read_models) == {2}
    assert all(s["rebuilding"] and s["error"] is None for s in read_models.status())
    with pytest.raises(RebuildRefused, match="being rebuilt by another process"):
        read_models.rebuild("audit_trail")
    read_models.catch_up()
    assert every_position(read_models) == {2}

    assert rebuild.resume() is None
    read_models.catch_up()

    assert every_position(read_models) == {12}
    assert not any(s["rebuilding"] for s in read_models.status())
    assert read_models.verify() == {}
    rows = read_models.audit_trail(incident_id=None, limit=100)
    assert sorted(r["position"] for r in rows) == list(range(1, 13))
    assert len(read_models.list_incidents(organisations=None, now=START)[0]) == 6


def test_a_batch_read_before_a_rebuild_reset_the_read_models_is_never_applied_on_top(
    ledger: Ledger,
    read_models: ReadModels,
    rebuilder: ReadModels,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    six_events_in_three_incidents(ledger)
    read_models.catch_up()
    six_more_events(ledger)
    # The rebuild dies after its first batch: its hold goes, its positions (2) stay.
    rebuild = PausedRebuild(rebuilder, crash=True)

    when_reading_its_next_batch(monkeypatch, read_models, rebuild.start)
    read_models.catch_up()

    assert isinstance(rebuild.resume(), KeyboardInterrupt)
    # Events 3 to 6 were not in the follower's batch: applying it at 2 would lose them.
    assert every_position(read_models) == {2}
    read_models.catch_up()
    assert every_position(read_models) == {12}
    assert read_models.verify() == {}
    rows = read_models.audit_trail(incident_id=None, limit=100)
    assert sorted(r["position"] for r in rows) == list(range(1, 13))


def test_a_rebuild_stalled_past_its_hold_finds_the_followers_took_it_back(
    ledger: Ledger,
    read_models: ReadModels,
    rebuilder: ReadModels,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    six_events_in_three_incidents(ledger)
    six_more_events(ledger)
    read_models.catch_up()
    monkeypatch.setattr(runner_module, "REBUILD_LEASE_SECONDS", -1.0)  # lapsed as it is taken
    rebuild = PausedRebuild(rebuilder).start()

    read_models.catch_up()

    assert every_position(read_models) == {12}
    assert not any(s["rebuilding"] for s in read_models.status())
    error = rebuild.resume()
    assert isinstance(error, RebuildOvertaken), error
    assert "followers took it back" in str(error)
    assert read_models.verify() == {}
    rows = read_models.audit_trail(incident_id=None, limit=100)
    assert sorted(r["position"] for r in rows) == list(range(1, 13))
