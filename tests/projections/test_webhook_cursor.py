"""A regulator's delivery cursor belongs to the regulator, not to a URL: a new URL gets nothing
already delivered, and only once an operator has moved the feed to it; failures of a following
pusher show in its log, in `cims projections status` and in `/metrics` (issue 23 item 5)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from api.main import create_app
from api.settings import Settings
from cli.main import app as cli_app
from ledger.application import Ledger
from projections.service import ReadModels
from projections.webhooks import MovedTarget, WebhookPusher, deliveries
from tests.factories import LedgerStory
from tests.projections.test_webhooks import KEY, SECRET, Receiver, receiver  # noqa: F401

pytestmark = pytest.mark.store
STRONG = {"CIMS_FEED_SECRET": "f" * 32, "CIMS_CHECKPOINT_KEY": "c" * 32}


def cims(database_url: str, *args: str) -> Result:
    env = {"CIMS_DATABASE_URL": database_url, "CIMS_WEBHOOK_SECRET": SECRET, **STRONG}
    return CliRunner().invoke(cli_app, list(args), env=env)


@pytest.fixture
def second(receiver: Receiver) -> Any:  # noqa: F811
    """Another regulator endpoint (a new URL for the same regulator)."""
    from tests.projections import test_webhooks

    generator = test_webhooks.receiver.__wrapped__()  # type: ignore[attr-defined]
    found = next(generator)
    yield found
    next(generator, None)


def test_pushing_to_a_new_url_resends_nothing_and_needs_an_explicit_move(
    database_url: str,
    ledger: Ledger,
    read_models: ReadModels,
    receiver: Receiver,  # noqa: F811
    second: Receiver,
) -> None:
    for _ in range(3):
        LedgerStory.report(ledger, regulator_category="critical")
    read_models.catch_up()
    first = WebhookPusher(read_models, "ssr", receiver.url, KEY, allow_http_loopback=True)
    assert first.push() == 3

    with pytest.raises(MovedTarget, match="cims projections move-webhook ssr --url"):
        WebhookPusher(read_models, "ssr", second.url, KEY, allow_http_loopback=True)
    refused = cims(
        database_url, "projections", "push", "ssr", "--url", second.url, "--allow-http-loopback"
    )
    assert refused.exit_code == 2 and second.requests == 0
    assert "move-webhook" in refused.stderr and "Traceback" not in refused.output

    moved = cims(
        database_url,
        "projections",
        "move-webhook",
        "ssr",
        "--url",
        second.url,
        "--allow-http-loopback",
    )
    assert moved.exit_code == 0, moved.output
    assert "from after cursor 3" in moved.stderr
    pusher = WebhookPusher(read_models, "ssr", second.url, KEY, allow_http_loopback=True)
    assert pusher.push() == 0 and second.requests == 0  # nothing is sent again

    LedgerStory.report(ledger, regulator_category="critical")
    read_models.catch_up()
    assert pusher.push() == 1
    assert [item["cursor"] for item in second.accepted] == [4]
    assert receiver.requests == 1  # the old URL got only the first page


def test_the_old_per_url_cursors_are_brought_over_to_the_regulator(
    read_models: ReadModels,
    receiver: Receiver,  # noqa: F811
) -> None:
    with read_models.db.transaction() as tx:
        tx.execute(
            "CREATE TABLE rm_webhook_delivery (regulator TEXT NOT NULL, url TEXT NOT NULL,"
            " cursor BIGINT NOT NULL, failures INTEGER NOT NULL, last_error TEXT,"
            " updated_at TEXT, PRIMARY KEY (regulator, url))"
        )
        tx.execute(
            "INSERT INTO rm_webhook_delivery VALUES"
            " ('ssr', 'https://old.example/a', 7, 0, NULL, '2025-01-01T00:00:00.000000Z'),"
            " ('ssr', ?, 21, 2, 'HTTP 500', '2025-02-01T00:00:00.000000Z'),"
            " ('ccyp', 'https://ccyp.example/a', 5, 0, NULL, NULL)",
            [receiver.url],
        )

    pusher = WebhookPusher(read_models, "ssr", receiver.url, KEY, allow_http_loopback=True)

    assert pusher.delivery() == {"cursor": 21, "failures": 2, "last_error": "HTTP 500"}
    found = {d["regulator"]: (d["url"], d["cursor"]) for d in deliveries(read_models.db)}
    assert found == {"ssr": (receiver.url, 21), "ccyp": ("https://ccyp.example/a", 5)}
    with read_models.db.transaction(write=False) as tx:
        gone = tx.execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = ?"
            " AND table_schema = current_schema()"
            if tx.postgres
            else "SELECT COUNT(*) FROM sqlite_master WHERE name = ?",
            ["rm_webhook_delivery"],
        )
    assert gone[0][0] == 0  # the per-URL table is gone


def test_a_following_pusher_logs_counts_and_shows_its_failures(
    database_url: str,
    ledger: Ledger,
    read_models: ReadModels,
    receiver: Receiver,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    LedgerStory.report(ledger, regulator_category="critical")
    receiver.answers = [500] * 6
    pusher = WebhookPusher(read_models, "ssr", receiver.url, KEY, allow_http_loopback=True)

    with caplog.at_level(logging.INFO, logger="cims.webhooks"):
        pusher.follow(
            catch_up=read_models.catch_up,
            stop=lambda: receiver.requests >= 6,
            sleep=lambda _: None,
        )

    failed = [r for r in caplog.records if r.getMessage() == "delivery failed"]
    assert len(failed) == 6
    assert failed[-1].__dict__["error"] == "HTTP 500" and failed[-1].__dict__["failures"] == 6
    assert failed[0].__dict__["regulator"] == "ssr" and failed[0].__dict__["url"] == receiver.url
    retries = [r for r in caplog.records if r.getMessage() == "retrying"]
    assert len(retries) == 6 and "retry_in_seconds" in retries[0].__dict__

    shown = cims(database_url, "projections", "status", "--json")
    (hook,) = json.loads(shown.stdout)["webhooks"]
    assert hook["failures"] == 6 and hook["failures_total"] == 6
    assert hook["last_error"] == "HTTP 500" and hook["cursor"] == 0
    table = cims(database_url, "projections", "status")
    assert "HTTP 500" in table.stdout

    settings = Settings(
        database_url=database_url,
        jwt_secret="j" * 32,
        feed_secret="f" * 32,
        checkpoint_key="c" * 32,
        run_projections_in_process=False,
    )
    with TestClient(create_app(settings)) as client:
        metrics = client.get("/metrics").text
    assert 'cims_webhook_consecutive_failures{regulator="ssr"} 6.0' in metrics
    assert 'cims_webhook_failures{regulator="ssr"} 6.0' in metrics

    receiver.answers = []
    with caplog.at_level(logging.INFO, logger="cims.webhooks"):
        assert pusher.push() == 1
    (delivered,) = [r for r in caplog.records if r.getMessage() == "delivered"]
    assert delivered.__dict__["items"] == 1 and delivered.__dict__["cursor"] == 1
    (hook,) = deliveries(read_models.db)
    assert hook["failures"] == 0 and hook["failures_total"] == 6 and hook["delivered_total"] == 1
