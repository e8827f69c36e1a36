"""Pushing a feed to a regulator's webhook: signed, in order, resumed after a refusal."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from cli.main import app as cli_app
from domain.ledger import Ledger
from projections.service import ReadModels
from projections.webhooks import CONTENT_TYPE, SIGNATURE_HEADER, WebhookPusher, signature
from tests.factories import START, LedgerStory

pytestmark = pytest.mark.store
SECRET = b"webhook-secret"


@dataclass
class Receiver:
    """A regulator's endpoint: answers with the next of `answers` (then 200), keeps bodies."""

    url: str = ""
    answers: list[int] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    bad_requests: list[str] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests += 1
            if self.headers["Content-Type"] != CONTENT_TYPE:
                state.bad_requests.append("content type")
            if self.headers[SIGNATURE_HEADER] != signature(SECRET, body):
                state.bad_requests.append("signature")
            status = state.answers.pop(0) if state.answers else 200
            if status == 200:
                state.accepted += json.loads(body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/cims"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def test_a_refused_push_is_resent_and_every_item_arrives_once_in_order(
    ledger: Ledger, read_models: ReadModels, receiver: Receiver
) -> None:
    for n in range(3):
        LedgerStory.report(
            ledger, regulator_category="notifiable", now=START + timedelta(hours=n)
        ).do("reclassify", regulator_category="critical", reason="hospital")
    read_models.catch_up()
    pusher = WebhookPusher(read_models, "ssr", receiver.url, SECRET, page=4)
    receiver.answers = [200, 503]

    assert pusher.push() == 4  # the first page; the second is refused
    assert pusher.delivery() == {"cursor": 4, "failures": 1, "last_error": "HTTP 503"}

    assert pusher.push() == 2
    assert pusher.push() == 0
    expected = read_models.feed("ssr", limit=1000)
    assert receiver.accepted == expected and len(expected) == 6
    assert pusher.delivery()["failures"] == 0
    assert receiver.bad_requests == []
    assert receiver.requests == 3  # nothing is sent when there is nothing new


def test_an_unreachable_webhook_is_recorded_and_nothing_is_lost(
    ledger: Ledger, read_models: ReadModels
) -> None:
    LedgerStory.report(ledger, regulator_category="critical")
    read_models.catch_up()
    pusher = WebhookPusher(read_models, "ssr", "http://127.0.0.1:9/nowhere", SECRET, timeout=2)

    assert pusher.push() == 0
    delivery = pusher.delivery()
    assert delivery["cursor"] == 0 and delivery["failures"] == 1 and delivery["last_error"]


def test_cims_projections_push_sends_the_feed_and_exits_1_when_refused(
    database_url: str, ledger: Ledger, receiver: Receiver
) -> None:
    LedgerStory.report(ledger, regulator_category="critical")
    env = {"CIMS_DATABASE_URL": database_url, "CIMS_WEBHOOK_SECRET": SECRET.decode()}

    def push() -> Result:
        args = ["projections", "push", "ssr", "--url", receiver.url]
        return CliRunner().invoke(cli_app, args, env=env)

    receiver.answers = [503]
    refused = push()
    assert refused.exit_code == 1 and "HTTP 503" in refused.output
    sent = push()
    assert sent.exit_code == 0, sent.output
    assert len(receiver.accepted) == 1 and receiver.bad_requests == []
    assert receiver.accepted[0]["type"].startswith("au.gov.vic.cims")
