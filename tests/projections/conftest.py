"""A ledger and its read models on each store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.ledger import Ledger
from projections.service import ReadModels


@pytest.fixture
def read_models(database_url: str, ledger: Ledger) -> Iterator[ReadModels]:
    models = ReadModels.open(database_url, ledger, feed_secret=b"test-secret")
    try:
        yield models
    finally:
        models.close()
