"""Witnesses outside the database: each checkpoint, signed, sent where the database's own
administrator cannot reach it (a file on another volume, an append-only log service's webhook).

A checkpoint in `ledger_checkpoints` catches events removed from the end of the log only while
the checkpoint itself survives; whoever can delete events can delete it too. A copy kept outside
(`cims replay verify --all --checkpoint FILE`) cannot be deleted with them. `CIMS_CHECKPOINT_
WITNESS_FILE` appends each checkpoint as one JSON line; `CIMS_CHECKPOINT_WITNESS_URL` POSTs it
(JSON, https, or http to a loopback address; no redirect followed). A witness that fails is
logged and the next checkpoint is sent as usual: the ledger never stops for a witness."""

from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from projections.webhooks import UnsafeTarget, require_safe_url
from replay.checkpoint import Checkpoint, sign

log = logging.getLogger("cims.witness")
TIMEOUT_SECONDS = 5


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass(frozen=True)
class Witness:
    """Where each checkpoint goes, signed with the checkpoint key (HMAC-SHA256)."""

    key: bytes
    file: Path | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if self.url is not None:
            require_safe_url(self.url, allow_http_loopback=True)

    @property
    def any(self) -> bool:
        return self.file is not None or self.url is not None

    def send(self, checkpoint: Checkpoint) -> None:
        """Append to the file and POST to the URL; each failure logged, none raised."""
        signed = sign(checkpoint, self.key)
        body = json.dumps(signed, sort_keys=True)
        if self.file is not None:
            try:
                with self.file.open("a", encoding="utf-8") as out:
                    out.write(body + "\n")
            except OSError as exc:
                log.warning("checkpoint witness file %s: %s", self.file, exc)
        if self.url is not None:
            request = urllib.request.Request(
                self.url,
                data=body.encode(),
                method="POST",
                headers={"Content-Type": "application/json"},
            )
            try:
                opener = urllib.request.build_opener(_NoRedirect)
                with opener.open(request, timeout=TIMEOUT_SECONDS) as answer:
                    if not 200 <= answer.status < 300:
                        log.warning("checkpoint witness %s answered %s", self.url, answer.status)
            except (OSError, ValueError) as exc:
                log.warning("checkpoint witness %s: %s", self.url, exc)


def witness_from(key: bytes, file: str | None, url: str | None) -> Witness | None:
    """The witness the settings name, or None; an unusable URL raises UnsafeTarget."""
    if not file and not url:
        return None
    return Witness(key=key, file=Path(file) if file else None, url=url or None)


__all__ = ["UnsafeTarget", "Witness", "witness_from"]
