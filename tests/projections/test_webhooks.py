"""Pushing a feed to a regulator's webhook: signed (Standard Webhooks), in order, resumed after a
refusal, never redirected, only to https (or loopback http when allowed)."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from typer.testing import CliRunner, Result

from cli.main import app as cli_app
from ledger.application import Ledger
from projections.service import ReadModels
from projections.webhooks import CONTENT_TYPE, UnsafeTarget, WebhookPusher
from tests.factories import START, LedgerStory

pytestmark = pytest.mark.store
KEY = b"k" * 32
SECRET = "whsec_" + base64.b64encode(KEY).decode()


@dataclass
class Receiver:
    """A regulator's endpoint: answers with the next of `answers` (then 200), keeps bodies."""

    url: str = ""
    answers: list[int] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    bad_requests: list[str] = field(default_factory=list)
    delivery_ids: list[str] = field(default_factory=list)
    redirect_to: str | None = None
    gets: int = 0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests += 1
            if self.headers["Content-Type"] != CONTENT_TYPE:
                state.bad_requests.append("content type")
            try:  # as a regulator verifies a delivery: the library, with our shared secret
                Webhook(SECRET).verify(body, dict(self.headers))
            except WebhookVerificationError:
                state.bad_requests.append("signature")
            state.delivery_ids.append(self.headers["webhook-id"])
            status = state.answers.pop(0) if state.answers else 200
            if status == 200:
                state.accepted += json.loads(body)
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", state.redirect_to or "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            state.gets += 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/cims"
    # A short poll: shutdown() waits for it (the default half second, at every teardown).
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
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
    pusher = WebhookPusher(read_models, "ssr", receiver.url, KEY, page=4, allow_http_loopback=True)
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
    pusher = WebhookPusher(
        read_models, "ssr", "http://127.0.0.1:9/nowhere", KEY, timeout=2, allow_http_loopback=True
    )

    assert pusher.push() == 0
    delivery = pusher.delivery()
    assert delivery["cursor"] == 0 and delivery["failures"] == 1 and delivery["last_error"]


def test_cims_projections_push_sends_the_feed_and_exits_1_when_refused(
    database_url: str, ledger: Ledger, receiver: Receiver
) -> None:
    LedgerStory.report(ledger, regulator_category="critical")
    env = {"CIMS_DATABASE_URL": database_url, "CIMS_WEBHOOK_SECRET": SECRET, **STRONG}

    def push() -> Result:
        args = ["projections", "push", "ssr", "--url", receiver.url, "--allow-http-loopback"]
        return CliRunner().invoke(cli_app, args, env=env)

    receiver.answers = [503]
    refused = push()
    assert refused.exit_code == 1 and "HTTP 503" in refused.output
    sent = push()
    assert sent.exit_code == 0, sent.output
    assert len(receiver.accepted) == 1 and receiver.bad_requests == []
    assert receiver.accepted[0]["type"].startswith("au.gov.vic.cims")


STRONG = {"CIMS_FEED_SECRET": "f" * 32, "CIMS_CHECKPOINT_KEY": "c" * 32}


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_failure_never_followed_and_the_cursor_stays(
    ledger: Ledger, read_models: ReadModels, receiver: Receiver, status: int
) -> None:
    LedgerStory.report(ledger, regulator_category="critical")
    read_models.catch_up()
    pusher = WebhookPusher(read_models, "ssr", receiver.url, KEY, allow_http_loopback=True)
    receiver.answers = [status]
    receiver.redirect_to = receiver.url + "/elsewhere"

    assert pusher.push() == 0

    assert pusher.delivery() == {"cursor": 0, "failures": 1, "last_error": f"HTTP {status}"}
    assert receiver.requests == 1 and receiver.gets == 0 and receiver.accepted == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "data:text/plain,hello",
        "ftp://127.0.0.1/feed",
        "http://regulator.example/feed",  # plain http off this host
        "http://10.0.0.1/feed",
        "https:///no-host",
        "gopher://127.0.0.1/",
    ],
)
def test_only_https_or_allowed_loopback_http_is_pushed_to(
    read_models: ReadModels, url: str
) -> None:
    with pytest.raises(UnsafeTarget):
        WebhookPusher(read_models, "ssr", url, KEY, allow_http_loopback=True)


def test_loopback_http_needs_the_explicit_allowance(
    read_models: ReadModels, receiver: Receiver
) -> None:
    with pytest.raises(UnsafeTarget):
        WebhookPusher(read_models, "ssr", receiver.url, KEY)
    WebhookPusher(read_models, "ssr", "https://regulator.example/cims", KEY)


@pytest.mark.parametrize(
    ("url", "extra"),
    [
        ("file:///etc/passwd", []),
        ("data:text/plain,hello", []),
        ("ftp://127.0.0.1/feed", []),
        ("http://127.0.0.1:9/feed", []),  # loopback http without --allow-http-loopback
    ],
)
def test_cims_projections_push_refuses_unsafe_urls_with_exit_2(
    database_url: str, url: str, extra: list[str]
) -> None:
    env = {"CIMS_DATABASE_URL": database_url, "CIMS_WEBHOOK_SECRET": SECRET, **STRONG}

    result = CliRunner().invoke(
        cli_app, ["projections", "push", "ssr", "--url", url, *extra], env=env
    )

    assert result.exit_code == 2, result.output
    assert "refusing to push" in result.output


@pytest.mark.parametrize(
    "userinfo", ["user:S3cretPass@", "user@", ":S3cretPass@", "user:S3cretPass%40x@"]
)
def test_a_webhook_url_carrying_a_user_or_password_is_refused_and_never_stored_or_shown(
    database_url: str, read_models: ReadModels, receiver: Receiver, userinfo: str
) -> None:
    url = receiver.url.replace("://", f"://{userinfo}", 1)
    env = {"CIMS_DATABASE_URL": database_url, "CIMS_WEBHOOK_SECRET": SECRET, **STRONG}

    result = CliRunner().invoke(
        cli_app, ["projections", "push", "ssr", "--url", url, "--allow-http-loopback"], env=env
    )

    assert result.exit_code == 2, result.output
    assert "user name or password" in result.output and "S3cretPass" not in result.output
    with pytest.raises(UnsafeTarget):
        WebhookPusher(read_models, "ssr", url, KEY, allow_http_loopback=True)
    WebhookPusher(read_models, "ssr", receiver.url, KEY, allow_http_loopback=True)
    with read_models.db.transaction() as tx:
        stored = tx.execute("SELECT url FROM rm_webhook_cursor")
    assert not any("S3cretPass" in row[0] or "@" in row[0] for row in stored)


def test_an_unknown_feed_name_is_refused_listing_the_valid_ones(database_url: str) -> None:
    env = {"CIMS_DATABASE_URL": database_url, "CIMS_WEBHOOK_SECRET": SECRET, **STRONG}

    result = CliRunner().invoke(
        cli_app,
        ["projections", "push", "ssrr", "--url", "https://regulator.example/cims"],
        env=env,
    )

    assert result.exit_code == 2
    assert "ssrr" in result.output and "ssr, ccyp" in result.output


def test_an_unknown_feed_is_named_before_a_missing_webhook_key(database_url: str) -> None:
    env = {"CIMS_DATABASE_URL": database_url, "CIMS_WEBHOOK_SECRET": None, **STRONG}
    args = ["projections", "push", "ssrr", "--url", "https://regulator.example/cims"]

    unknown = CliRunner().invoke(cli_app, args, env=env)
    keyless = CliRunner().invoke(cli_app, [*args[:2], "ssr", *args[3:]], env=env)

    assert unknown.exit_code == 2 and "ssr, ccyp" in unknown.output, unknown.output
    assert keyless.exit_code == 2 and "CIMS_WEBHOOK_SECRET" in keyless.output, keyless.output


def test_the_signature_carries_a_delivery_id_and_timestamp_and_a_replay_is_refused(
    ledger: Ledger, read_models: ReadModels, receiver: Receiver
) -> None:
    LedgerStory.report(ledger, regulator_category="critical")
    read_models.catch_up()
    sent: list[dict[str, str]] = []
    pusher = WebhookPusher(read_models, "ssr", receiver.url, KEY, allow_http_loopback=True)
    original = pusher._post

    def keep(delivery_id: str, body: bytes) -> str | None:
        from projections.webhooks import signed_headers

        sent.append({"body": body.decode(), **signed_headers(KEY, delivery_id, START, body)})
        return original(delivery_id, body)

    pusher._post = keep  # type: ignore[method-assign]
    receiver.answers = [503]
    pusher.push()
    pusher.push()

    assert receiver.bad_requests == []
    # The same page sent again is the same delivery, so the receiver can drop the repeat.
    assert len(receiver.delivery_ids) == 2 and len(set(receiver.delivery_ids)) == 1
    assert receiver.delivery_ids[0] == "ssr-1-1"
    # A delivery captured and replayed later (here: signed at START, long ago) is refused.
    old = sent[0]
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(old["body"], {k: v for k, v in old.items() if k != "body"})
    # An altered body is refused too.
    fresh = WebhookPusher(read_models, "ssr", receiver.url, KEY, allow_http_loopback=True)
    from datetime import UTC, datetime

    from projections.webhooks import signed_headers

    headers = signed_headers(KEY, "ssr-1-1", datetime.now(UTC), b"[]")
    Webhook(SECRET).verify(b"[]", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(b"[{}]", headers)
    assert fresh.delivery()["cursor"] == 1


def test_follow_retries_with_exponential_backoff_until_delivered(
    ledger: Ledger, read_models: ReadModels, receiver: Receiver
) -> None:
    LedgerStory.report(ledger, regulator_category="critical")
    pusher = WebhookPusher(read_models, "ssr", receiver.url, KEY, allow_http_loopback=True)
    receiver.answers = [503, 502, 500]
    waits: list[float] = []

    pusher.follow(
        catch_up=read_models.catch_up,
        stop=lambda: len(receiver.accepted) == 1,
        first_backoff=1.0,
        sleep=waits.append,
    )

    assert receiver.requests == 4 and len(receiver.accepted) == 1
    assert pusher.delivery() == {"cursor": 1, "failures": 0, "last_error": None}
    # Three failures: waits drawn from [0.5, 1], [1, 2], [2, 4] seconds, then an idle wait.
    assert 0.5 <= waits[0] <= 1 < waits[1] <= 2 < waits[2] <= 4
    assert len(waits) == 4


def test_follow_survives_a_store_error_and_goes_on(
    ledger: Ledger, read_models: ReadModels, receiver: Receiver
) -> None:
    LedgerStory.report(ledger, regulator_category="critical")
    pusher = WebhookPusher(read_models, "ssr", receiver.url, KEY, allow_http_loopback=True)
    calls = {"n": 0}

    def flaky_catch_up() -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("store unreachable")
        return read_models.catch_up()

    waits: list[float] = []
    pusher.follow(
        catch_up=flaky_catch_up, stop=lambda: len(receiver.accepted) == 1, sleep=waits.append
    )

    assert len(receiver.accepted) == 1 and calls["n"] == 2


def test_cims_projections_push_follow_runs_as_a_service_until_stopped(
    database_url: str, ledger: Ledger, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    LedgerStory.report(ledger, regulator_category="critical")
    env = {"CIMS_DATABASE_URL": database_url, "CIMS_WEBHOOK_SECRET": SECRET, **STRONG}
    original = WebhookPusher.follow

    def until_delivered(self: WebhookPusher, **kwargs: Any) -> None:
        deadline = time.monotonic() + 20
        original(
            self,
            **kwargs,
            stop=lambda: bool(receiver.accepted) or time.monotonic() > deadline,
            idle=0.05,
        )

    monkeypatch.setattr(WebhookPusher, "follow", until_delivered)
    args = [
        "projections",
        "push",
        "ssr",
        "--url",
        receiver.url,
        "--allow-http-loopback",
        "--follow",
    ]

    result = CliRunner().invoke(cli_app, args, env=env)

    assert result.exit_code == 0, result.output
    assert len(receiver.accepted) == 1
