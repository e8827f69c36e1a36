"""Pushes a regulator's feed to its webhook, in order, at least once, resuming from its cursor.

Each POST carries a page of the feed as a CloudEvents batch (`application/cloudevents-batch+json`)
signed as the Standard Webhooks specification says: `webhook-id` (the delivery, the same when a
page is sent again), `webhook-timestamp` (seconds since the epoch, when sent) and
`webhook-signature` (`v1,` + base64 HMAC-SHA256 over `id.timestamp.body`), so a receiver can
refuse a forged, altered or replayed delivery. The delivered cursor advances only after a 2xx
answer; a redirect or any other answer is a failure and the cursor stays. So a crash between
the answer and the cursor's commit re-sends that page: the receiver drops repeats by the
CloudEvents `id`, which is stable.

The delivered cursor belongs to the regulator, not to a URL: one row per feed in
`rm_webhook_cursor` names the URL it is delivered to. A pusher started with another URL is
refused (`MovedTarget`); moving a feed to a new URL is an operator's explicit step (`move`,
`cims projections move-webhook`), which keeps the cursor, so nothing is sent twice.

Each delivery and each failure is logged (`cims.webhooks`), and counted in the row (consecutive
failures, and failures and items delivered in all) for `cims projections status` and the API's
`/metrics`.

Only `https` URLs are pushed to (plus `http` to a loopback address when explicitly allowed, for
tests and a receiver on the same host): never `file:`, `data:`, `ftp:` or a redirect.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook

from projections.db import Db, Tx, ts
from projections.regulator_feed import REGULATORS
from projections.service import ReadModels

CONTENT_TYPE = "application/cloudevents-batch+json"
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
TABLE = "rm_webhook_cursor"
# Before the cursor belonged to the regulator: one row per (regulator, URL).
OLD_TABLE = "rm_webhook_delivery"
# The advisory lock held while the table is set up or moved from the old one (arbitrary, fixed).
SETUP_LOCK = 0x43494D53_5745_4248 & 0x7FFF_FFFF_FFFF_FFFF
log = logging.getLogger("cims.webhooks")


class UnsafeTarget(ValueError):
    """A feed name or webhook URL the pusher will not send to."""


class MovedTarget(ValueError):
    """The feed is delivered to another URL: moving it is an explicit step (`move`)."""


def set_up(tx: Tx) -> None:
    """The cursor table, one row per regulator; rows of the per-URL table kept before it are
    brought over (each regulator's most recently used URL, with its cursor) and that table
    dropped, in this one transaction."""
    if tx.postgres:
        tx.execute("SELECT pg_advisory_xact_lock(?)", [SETUP_LOCK])
    tx.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} (regulator TEXT PRIMARY KEY, url TEXT NOT NULL,"
        " cursor BIGINT NOT NULL, failures INTEGER NOT NULL, failures_total BIGINT NOT NULL,"
        " delivered_total BIGINT NOT NULL, last_error TEXT, last_failure_at TEXT,"
        " delivered_at TEXT, updated_at TEXT)"
    )
    if not _exists(tx, OLD_TABLE):
        return
    latest: dict[str, tuple[Any, ...]] = {}
    for row in tx.execute(
        f"SELECT regulator, url, cursor, failures, last_error, updated_at FROM {OLD_TABLE}"
    ):
        kept = latest.get(row[0])
        if kept is None or (row[5] or "", row[2]) > (kept[5] or "", kept[2]):
            latest[row[0]] = tuple(row)
    for regulator, url, cursor, failures, last_error, updated_at in latest.values():
        tx.execute(
            f"INSERT INTO {TABLE} (regulator, url, cursor, failures, failures_total,"
            " delivered_total, last_error, updated_at) SELECT ?, ?, ?, ?, ?, 0, ?, ?"
            f" WHERE NOT EXISTS (SELECT 1 FROM {TABLE} WHERE regulator = ?)",
            [regulator, url, cursor, failures, failures, last_error, updated_at, regulator],
        )
    tx.execute(f"DROP TABLE {OLD_TABLE}")


def _exists(tx: Tx, table: str) -> bool:
    if tx.postgres:
        return bool(tx.execute("SELECT to_regclass(?) IS NOT NULL", [table])[0][0])
    found = tx.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [table])
    return bool(found)


def deliveries(db: Db) -> list[dict[str, Any]]:
    """Each regulator's delivery: `regulator`, `url`, `cursor` (the feed item delivered up
    to), `failures` (consecutive, 0 once a delivery succeeds), `failures_total`,
    `delivered_total` (items), `last_error`, `last_failure_at`, `delivered_at` (UTC ISO
    text); none before a pusher has run."""
    columns = (
        "regulator, url, cursor, failures, failures_total, delivered_total, last_error,"
        " last_failure_at, delivered_at"
    )
    with db.transaction(write=False) as tx:
        if not _exists(tx, TABLE):
            return []
        rows = tx.execute(f"SELECT {columns} FROM {TABLE} ORDER BY regulator")
    names = [c.strip() for c in columns.split(",")]
    return [dict(zip(names, row, strict=True)) for row in rows]


def move(db: Db, regulator: str, url: str, *, allow_http_loopback: bool = False) -> int:
    """Deliver `regulator`'s feed to `url` from now on, from the cursor already delivered
    (nothing is sent again); the operator's explicit step. Returns that cursor."""
    require_feed(regulator)
    require_safe_url(url, allow_http_loopback=allow_http_loopback)
    with db.transaction() as tx:
        set_up(tx)
        found = tx.execute(f"SELECT url, cursor FROM {TABLE} WHERE regulator = ?", [regulator])
        if not found:
            _insert(tx, regulator, url)
            return 0
        tx.execute(
            f"UPDATE {TABLE} SET url = ?, failures = 0, last_error = NULL, updated_at = ?"
            " WHERE regulator = ?",
            [url, ts(datetime.now(UTC)), regulator],
        )
    log.warning(
        "moved",
        extra={"regulator": regulator, "from_url": found[0][0], "url": url, "cursor": found[0][1]},
    )
    return int(found[0][1])


def _insert(tx: Tx, regulator: str, url: str) -> None:
    tx.execute(
        f"INSERT INTO {TABLE} (regulator, url, cursor, failures, failures_total,"
        " delivered_total, updated_at) VALUES (?, ?, 0, 0, 0, 0, ?)",
        [regulator, url, ts(datetime.now(UTC))],
    )


def require_feed(regulator: str) -> None:
    """The feed is one the ledger keeps."""
    if regulator not in REGULATORS:
        raise UnsafeTarget(f"no feed named {regulator!r}; the feeds are: {', '.join(REGULATORS)}")


def require_safe_url(url: str, *, allow_http_loopback: bool = False) -> None:
    """`https` with a host; `http` only to a loopback address, and only when allowed; never a
    user name or password in the URL (urllib would not send them, and the URL is stored and
    printed: the message does not repeat it)."""
    parts = urlsplit(url)
    if "@" in parts.netloc:
        raise UnsafeTarget(
            "refusing to push to a URL with a user name or password in it (user:password@host):"
            " the receiver checks the webhook signature, so give the URL without them"
        )
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and allow_http_loopback and _loopback(host):
        return
    allowed = "https" + (", or http to a loopback address," if allow_http_loopback else "")
    raise UnsafeTarget(f"refusing to push to {url!r}: only {allowed} with a host is allowed")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def signed_headers(
    secret: bytes, delivery_id: str, sent_at: datetime, body: bytes
) -> dict[str, str]:
    """The Standard Webhooks headers for one delivery of `body`."""
    sent_at = sent_at.astimezone(UTC)
    return {
        ID_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(int(sent_at.timestamp())),
        SIGNATURE_HEADER: Webhook(secret).sign(delivery_id, sent_at, body.decode()),
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is answered as it is: a failure, never followed (that would turn the POST into a
    bodiless GET elsewhere, with the signature forwarded, and count the page delivered)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener() -> urllib.request.OpenerDirector:
    # Built by hand, not `build_opener()`: no file:, data: or ftp: handler, no redirects.
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
        _NoRedirects(),
    ):
        opener.add_handler(handler)
    return opener


@dataclass
class WebhookPusher:
    read_models: ReadModels
    regulator: str
    url: str
    secret: bytes
    page: int = 100
    timeout: float = 10.0
    allow_http_loopback: bool = False
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        require_feed(self.regulator)
        require_safe_url(self.url, allow_http_loopback=self.allow_http_loopback)
        self._opener = _opener()
        with self.read_models.db.transaction() as tx:
            set_up(tx)
            found = tx.execute(
                f"SELECT url, cursor FROM {TABLE} WHERE regulator = ?", [self.regulator]
            )
            if not found:
                _insert(tx, self.regulator, self.url)
            elif found[0][0] != self.url:
                raise MovedTarget(
                    f"the {self.regulator} feed is delivered to {found[0][0]} (up to cursor"
                    f" {found[0][1]}); to deliver it to {self.url} from there, run"
                    f" `cims projections move-webhook {self.regulator} --url {self.url}` first"
                )

    def delivery(self) -> dict[str, object]:
        """The cursor delivered up to, consecutive failures, and the last error."""
        with self.read_models.db.transaction(write=False) as tx:
            ((cursor, failures, last_error),) = tx.execute(
                f"SELECT cursor, failures, last_error FROM {TABLE} WHERE regulator = ?",
                [self.regulator],
            )
        return {"cursor": int(cursor), "failures": int(failures), "last_error": last_error}

    def push(self) -> int:
        """Send every item past the delivered cursor, page by page; stop at the first refusal.
        Returns how many items the receiver accepted."""
        sent = 0
        while True:
            cursor = self.delivery()["cursor"]
            assert isinstance(cursor, int)
            items = self.read_models.feed(self.regulator, after=cursor, limit=self.page)
            if not items:
                return sent
            # The same page sent again is the same delivery: the receiver may drop it by id.
            delivery_id = f"{self.regulator}-{items[0]['cursor']}-{items[-1]['cursor']}"
            error = self._post(delivery_id, json.dumps(items, sort_keys=True).encode())
            self._record(items[-1]["cursor"] if error is None else None, error, len(items))
            if error is not None:
                log.warning(
                    "delivery failed",
                    extra={
                        "regulator": self.regulator,
                        "url": self.url,
                        "delivery_id": delivery_id,
                        "error": error,
                        "failures": self.delivery()["failures"],
                    },
                )
                return sent
            log.info(
                "delivered",
                extra={
                    "regulator": self.regulator,
                    "url": self.url,
                    "delivery_id": delivery_id,
                    "items": len(items),
                    "cursor": items[-1]["cursor"],
                },
            )
            sent += len(items)

    def follow(
        self,
        *,
        catch_up: Callable[[], object] | None = None,
        stop: Callable[[], bool] = lambda: False,
        idle: float = 2.0,
        first_backoff: float = 1.0,
        max_backoff: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Push for as long as `stop()` is false: every `idle` seconds when all is delivered;
        after a failure, again after an exponentially growing, jittered wait (capped)."""
        backoff = first_backoff
        while not stop():
            try:
                if catch_up is not None:
                    catch_up()
                self.push()
                failed = self.delivery()["failures"] != 0
            except Exception as exc:  # the store may be down: the same backoff, then again
                log.warning(
                    "push failed",
                    extra={"regulator": self.regulator, "url": self.url, "error": repr(exc)},
                )
                self._note(f"{type(exc).__name__}: {exc}")
                failed = True
            if failed:
                wait = backoff * random.uniform(0.5, 1.0)
                log.info(
                    "retrying",
                    extra={"regulator": self.regulator, "retry_in_seconds": round(wait, 3)},
                )
                sleep(wait)
                backoff = min(backoff * 2, max_backoff)
            else:
                backoff = first_backoff
                sleep(idle)

    def _note(self, error: str) -> None:
        # The store itself may be what failed: then the note is lost, and tried after backoff.
        with contextlib.suppress(Exception):
            self._record(None, error[:2000])

    def _post(self, delivery_id: str, body: bytes) -> str | None:
        headers = {"Content-Type": CONTENT_TYPE}
        headers.update(signed_headers(self.secret, delivery_id, self.clock(), body))
        request = urllib.request.Request(self.url, data=body, method="POST", headers=headers)
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                status = int(answer.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError) as exc:
            return f"{type(exc).__name__}: {exc}"[:2000]
        return None if 200 <= status < 300 else f"HTTP {status}"

    def _record(self, delivered: int | None, error: str | None, items: int = 0) -> None:
        now = ts(datetime.now(UTC))
        with self.read_models.db.transaction() as tx:
            if delivered is not None:
                tx.execute(
                    f"UPDATE {TABLE} SET cursor = ?, failures = 0, last_error = NULL,"
                    " delivered_total = delivered_total + ?, delivered_at = ?, updated_at = ?"
                    " WHERE regulator = ?",
                    [delivered, items, now, now, self.regulator],
                )
            else:
                tx.execute(
                    f"UPDATE {TABLE} SET failures = failures + 1,"
                    " failures_total = failures_total + 1, last_error = ?, last_failure_at = ?,"
                    " updated_at = ? WHERE regulator = ?",
                    [error, now, now, self.regulator],
                )
