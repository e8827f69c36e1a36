"""A ledger and its read models on each store, and a way to break one read model's handler."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from ledger.application import Ledger
from projections.runner import Handler, Model
from projections.service import ReadModels
from tests.factories import START, LedgerStory

# Long enough for a worker process on PostgreSQL to accept it as CIMS_FEED_SECRET.
FEED_SECRET = b"test-feed-secret-of-at-least-32-bytes"


@pytest.fixture
def read_models(database_url: str, ledger: Ledger) -> Iterator[ReadModels]:
    models = ReadModels.open(database_url, ledger, feed_secret=FEED_SECRET)
    try:
        yield models
    finally:
        models.close()


def replace_handler(
    monkeypatch: pytest.MonkeyPatch,
    read_models: ReadModels,
    name: str,
    faulty: Callable[[Handler], Handler],
) -> None:
    """Give the named read model `faulty(its own handler)` until `monkeypatch.undo()`."""
    runner = read_models.runner
    swapped = [
        Model(m.name, m.tables, m.rebuilt_tables, faulty(m.handle)) if m.name == name else m
        for m in runner.models
    ]
    monkeypatch.setattr(runner, "models", swapped)


def six_events_in_three_incidents(ledger: Ledger) -> None:
    """Three incidents reported a minute apart, each with a response plan: positions 1 to 6."""
    for n in range(3):
        LedgerStory.report(ledger, now=START + timedelta(minutes=n)).do(
            "record_response_plan", plan="p"
        )
