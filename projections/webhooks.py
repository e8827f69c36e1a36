"""Pushes a regulator's feed to its webhook, in order, at least once, resuming from its cursor.

Each POST carries a page of the feed as a CloudEvents batch (`application/cloudevents-batch+json`)
signed with HMAC-SHA256 over the body. The delivered cursor advances only after a 2xx answer,
so a crash between the answer and the cursor's commit re-sends that page: the receiver drops
repeats by the CloudEvents `id`, which is stable.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime

from projections.db import ts
from projections.service import ReadModels

SIGNATURE_HEADER = "X-CIMS-Signature"
CONTENT_TYPE = "application/cloudevents-batch+json"


def signature(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


@dataclass
class WebhookPusher:
    read_models: ReadModels
    regulator: str
    url: str
    secret: bytes
    page: int = 100
    timeout: float = 10.0

    def __post_init__(self) -> None:
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
            error = self._post(json.dumps(items, sort_keys=True).encode())
            self._record(items[-1]["cursor"] if error is None else None, error)
            if error is not None:
                return sent
            sent += len(items)

    def _post(self, body: bytes) -> str | None:
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": CONTENT_TYPE, SIGNATURE_HEADER: signature(self.secret, body)},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
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
