"""Pushes a regulator's feed to its webhook, in order, at least once, resuming from its cursor.

Each POST carries a page of the feed as a CloudEvents batch (`application/cloudevents-batch+json`)
signed as the Standard Webhooks specification says: `webhook-id` (the delivery, the same when a
page is sent again), `webhook-timestamp` (seconds since the epoch, when sent) and
`webhook-signature` (`v1,` + base64 HMAC-SHA256 over `id.timestamp.body`), so a receiver can
refuse a forged, altered or replayed delivery. The delivered cursor advances only after a 2xx
answer; a redirect or any other answer is a failure and the cursor stays. So a crash between
the answer and the cursor's commit re-sends that page: the receiver drops repeats by the
CloudEvents `id`, which is stable.

Only `https` URLs are pushed to (plus `http` to a loopback address when explicitly allowed, for
tests and a receiver on the same host): never `file:`, `data:`, `ftp:` or a redirect.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
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

from projections.db import ts
from projections.regulator_feed import REGULATORS
from projections.service import ReadModels

CONTENT_TYPE = "application/cloudevents-batch+json"
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


class UnsafeTarget(ValueError):
    """A feed name or webhook URL the pusher will not send to."""


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
            tx.execute(
                "CREATE TABLE IF NOT EXISTS rm_webhook_delivery (regulator TEXT NOT NULL,"
                " url TEXT NOT NULL, cursor BIGINT NOT NULL, failures INTEGER NOT NULL,"
                " last_error TEXT, updated_at TEXT, PRIMARY KEY (regulator, url))"
            )
            tx.execute(
                "INSERT INTO rm_webhook_delivery (regulator, url, cursor, failures)"
                " SELECT ?, ?, 0, 0 WHERE NOT EXISTS (SELECT 1 FROM rm_webhook_delivery"
                " WHERE regulator = ? AND url = ?)",
                [self.regulator, self.url, self.regulator, self.url],
            )

    def delivery(self) -> dict[str, object]:
        """The cursor delivered up to, consecutive failures, and the last error."""
        with self.read_models.db.transaction(write=False) as tx:
            ((cursor, failures, last_error),) = tx.execute(
                "SELECT cursor, failures, last_error FROM rm_webhook_delivery"
                " WHERE regulator = ? AND url = ?",
                [self.regulator, self.url],
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
            self._record(items[-1]["cursor"] if error is None else None, error)
            if error is not None:
                return sent
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
                self._note(f"{type(exc).__name__}: {exc}")
                failed = True
            if failed:
                sleep(backoff * random.uniform(0.5, 1.0))
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

    def _record(self, delivered: int | None, error: str | None) -> None:
        with self.read_models.db.transaction() as tx:
            if delivered is not None:
                tx.execute(
                    "UPDATE rm_webhook_delivery SET cursor = ?, failures = 0, last_error = NULL,"
                    " updated_at = ? WHERE regulator = ? AND url = ?",
                    [delivered, ts(datetime.now(UTC)), self.regulator, self.url],
                )
            else:
                tx.execute(
                    "UPDATE rm_webhook_delivery SET failures = failures + 1, last_error = ?,"
                    " updated_at = ? WHERE regulator = ? AND url = ?",
                    [error, ts(datetime.now(UTC)), self.regulator, self.url],
                )
