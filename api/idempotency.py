"""Idempotency keys: a repeated POST returns the first response and records nothing new."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from api.problems import Problem
from projections.db import Db, ts


@dataclass(frozen=True)
class Stored:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


class IdempotencyStore:
    """Keys are scoped by the caller's organisation; kept in the ledger's own database."""

    def __init__(self, db: Db) -> None:
        self.db = db
        with db.transaction() as tx:
            tx.execute(
                "CREATE TABLE IF NOT EXISTS api_idempotency (scope TEXT NOT NULL,"
                " idem_key TEXT NOT NULL, fingerprint TEXT NOT NULL, status INTEGER NOT NULL,"
                " body TEXT NOT NULL, headers TEXT NOT NULL, created_at TEXT NOT NULL,"
                " PRIMARY KEY (scope, idem_key))"
            )

    def recall(self, scope: str, key: str, print_: str) -> Stored | None:
        with self.db.transaction(write=False) as tx:
            rows = tx.execute(
                "SELECT fingerprint, status, body, headers FROM api_idempotency"
                " WHERE scope = ? AND idem_key = ?",
                [scope, key],
            )
        if not rows:
            return None
        stored_print, status, body, headers = rows[0]
        if stored_print != print_:
            raise Problem(
                422,
                "idempotency-key-reused",
                "Idempotency-Key reused",
                "this Idempotency-Key was used with a different request",
                errors=[
                    {
                        "field": "Idempotency-Key",
                        "rule": "idempotency.key-reused",
                        "message": "same key, different request",
                    }
                ],
            )
        return Stored(int(status), json.loads(body), json.loads(headers))

    def remember(self, scope: str, key: str, print_: str, stored: Stored) -> None:
        with self.db.transaction() as tx:
            if tx.postgres:
                # Not waiting for this row's flush halves the fsyncs per command, and losing it
                # in a crash loses nothing: the event it answers for is already durable and
                # carries the key as its command id, so a retry is still answered as the same
                # success by the ledger itself (`Ledger._already_recorded`).
                tx.execute("SET LOCAL synchronous_commit TO OFF")
            exists = tx.execute(
                "SELECT 1 FROM api_idempotency WHERE scope = ? AND idem_key = ?", [scope, key]
            )
            if not exists:
                tx.execute(
                    "INSERT INTO api_idempotency VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        scope,
                        key,
                        print_,
                        stored.status,
                        json.dumps(stored.body),
                        json.dumps(stored.headers),
                        ts(datetime.now(UTC)),
                    ],
                )
