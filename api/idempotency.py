"""Idempotency keys (the IETF `Idempotency-Key` header draft): a repeated command returns the
first answer and records nothing new.

A key is scoped to its principal (organisation and subject): another caller's use of the same
key is a different key. The key and a fingerprint of the parsed request are reserved by the
ledger in the same transaction as the command's events (`ledger.receipts`), so a command and its
reservation commit together; the answer to a repeat is rebuilt from the stored event. While a
keyed command is being processed in this process, a second use of its key is a 409 (in flight).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel

from api.problems import Problem
from domain.values import Actor
from ledger.receipts import CommandKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Stored:
    """An answer to a command: status, JSON body and headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def _malformed(message: str) -> Problem:
    return Problem(
        400,
        "idempotency.key-invalid",
        "Idempotency-Key is not valid",
        message,
        errors=[{"field": HEADER, "rule": "idempotency.key-invalid", "message": message}],
    )


def parse_key(raw: str | None) -> str | None:
    """The key a request sent, or None when it sent no `Idempotency-Key` header.

    Accepts the draft's structured-field string (`"abc"`) and the bare form (`abc`): 1 to 200
    visible ASCII characters (spaces allowed inside quotes). Raises a 400 problem naming the
    header when the header is present but empty or malformed."""
    if raw is None:
        return None
    value = raw.strip(" \t")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
        allowed = all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in value)
    else:
        allowed = all(0x21 <= ord(c) <= 0x7E for c in value)
    if not value.strip():
        raise _malformed("Idempotency-Key must not be empty")
    if len(value) > MAX_KEY_LENGTH:
        raise _malformed(f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters")
    if not allowed:
        raise _malformed("Idempotency-Key must be visible ASCII characters")
    return value


def fingerprint(method: str, path: str, body: BaseModel, **extra: Any) -> str:
    """SHA-256 over the canonical JSON of the parsed request: method, path (which names the
    incident and the command), the validated body and anything else that decides what the
    command does (`extra`, e.g. the expected version from `If-Match`). Re-formatting the JSON,
    reordering its keys or spelling a default out is the same request."""
    request = {
        "method": method,
        "path": path,
        "body": body.model_dump(mode="json"),
        **extra,
    }
    return hashlib.sha256(orjson.dumps(request, option=orjson.OPT_SORT_KEYS)).hexdigest()


def command_key(actor: Actor, key: str, print_: str) -> CommandKey:
    return CommandKey(
        organisation=actor.organisation, subject=actor.id, key=key, fingerprint=print_
    )


class InFlight:
    """The keyed commands this process is running now, by principal and key."""

    def __init__(self) -> None:
        self._held: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()

    @contextmanager
    def hold(self, key: CommandKey) -> Iterator[None]:
        """Mark `key` in flight while the block runs; a 409 if it already is."""
        scoped = (key.organisation, key.subject, key.key)
        with self._lock:
            if scoped in self._held:
                raise Problem(
                    409,
                    "idempotency.in-flight",
                    "A request with this Idempotency-Key is in progress",
                    "retry once the first request has been answered",
                    headers={"Retry-After": "1"},
                    errors=[
                        {
                            "field": HEADER,
                            "rule": "idempotency.in-flight",
                            "message": "the first request with this key is still in progress",
                        }
                    ],
                )
            self._held.add(scoped)
        try:
            yield
        finally:
            with self._lock:
                self._held.discard(scoped)
