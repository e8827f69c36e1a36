"""Truncation is bounded in time: a checkpoint at least every CIMS_CHECKPOINT_EVERY_SECONDS while
the log grows, each sent to a witness outside the database, which catches the newest events cut
off even when the stored checkpoints are deleted with them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from ledger.application import Ledger
from projections.db import parse_ts
from replay.auditor import Auditor
from replay.checkpoint import load_signed
from replay.witness import UnsafeTarget, Witness
from tests.factories import START
from tests.replay.test_replay import auditor, investigated, sql  # noqa: F401

pytestmark = pytest.mark.store
KEY = b"k" * 32


def test_a_growing_log_is_checkpointed_once_the_interval_passes_whatever_the_count(
    ledger: Ledger,
    auditor: Auditor,  # noqa: F811
) -> None:
    investigated(ledger)
    first = auditor.checkpoints.take_if_due(auditor.rows, 1000, every_seconds=60)
    assert first is not None  # nothing kept yet: the first is taken at once
    taken = parse_ts(first.created_at)
    assert taken is not None

    def due(after: float) -> Any:
        return auditor.checkpoints.take_if_due(
            auditor.rows, 1000, every_seconds=60, now=taken + timedelta(seconds=after)
        )

    assert due(120) is None  # the log has not grown: nothing to seal
    investigated(ledger, now=START + timedelta(hours=1))
    assert due(30) is None  # grown, but within the interval
    second = due(61)
    assert second is not None and second.event_count == 14
    assert auditor.checkpoints.take_if_due(auditor.rows, 1000, every_seconds=0) is None


def test_each_checkpoint_goes_to_the_witness_file_which_catches_a_truncated_log(
    ledger: Ledger,
    auditor: Auditor,  # noqa: F811
    tmp_path: Path,
) -> None:
    witness = Witness(key=KEY, file=tmp_path / "witness.jsonl")
    investigated(ledger)
    last = investigated(ledger, now=START + timedelta(hours=1))
    assert auditor.checkpoint_if_due(1000, every_seconds=60, witness=witness) is not None

    kept = [load_signed(json.loads(line), KEY) for line in witness.file.read_text().splitlines()]  # type: ignore[union-attr]
    # Whoever cuts the newest event off the log deletes the stored checkpoints with it.
    newest = max(r.version for r in auditor.rows.of_incident(last.incident_id))
    sql(
        auditor,
        "DELETE FROM {table} WHERE originator_id = {id} AND originator_version = ?",
        [last.incident_id, newest],
    )
    sql(auditor, "DELETE FROM ledger_checkpoints", [])

    assert auditor.verify_all().ok  # the database alone no longer shows it
    found = auditor.verify_all(kept_elsewhere=kept)
    assert not found.ok and "removed or altered" in (found.checkpoint_problem or "")


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    # A short poll: shutdown() waits for it (the default half second).
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/witness", got
    finally:
        server.shutdown()


def test_each_checkpoint_is_posted_signed_to_the_witness_url(
    ledger: Ledger,
    auditor: Auditor,  # noqa: F811
    receiver: tuple[str, list[dict[str, Any]]],
) -> None:
    url, got = receiver
    investigated(ledger)

    taken = auditor.checkpoint(Witness(key=KEY, url=url))

    assert [load_signed(g, KEY) for g in got] == [taken]
    assert datetime.now(UTC) - parse_ts(taken.created_at) < timedelta(minutes=1)  # type: ignore[operator]


def test_a_witness_url_with_credentials_or_plain_http_elsewhere_is_refused() -> None:
    for url in ("http://user:pw@127.0.0.1/w", "http://witness.example/w", "file:///tmp/w"):
        with pytest.raises(UnsafeTarget):
            Witness(key=KEY, url=url)
