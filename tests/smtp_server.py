"""A real SMTP server on loopback for the reminder tests (aiosmtpd), that can go down and
come back, and can be told to act on a given message (to kill a worker mid-send, say)."""

from __future__ import annotations

import email
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Received:
    """What the server accepted: each message with its recipients."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def notices(self) -> Received:
        """The due-soon and overdue notices alone (not the daily digests)."""
        with self.lock:
            kept = [(to, m) for to, m in self.messages if m["X-CIMS-Reminder"] != "digest"]
        return Received(kept)

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(m["Message-ID"]) for _, m in self.messages]

    def subjects(self) -> list[str]:
        with self.lock:
            return [str(m["Subject"]) for _, m in self.messages]

    def bodies(self) -> list[str]:
        with self.lock:
            return [m.get_payload(decode=True).decode() for _, m in self.messages]  # type: ignore[union-attr]


class _Handler:
    def __init__(self, received: Received, server: SmtpServer) -> None:
        self.received = received
        self.server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        before = self.server.before_accept
        if before is not None:
            answer = before(len(self.received.messages) + 1)
            if answer is not None:
                return answer  # not accepted: the message is not counted
        message = email.message_from_bytes(envelope.content)
        with self.received.lock:
            self.received.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SmtpServer:
    """`start()`, `stop()` (the port then refuses connections), `start()` again on the same
    port. `before_accept(n)` may return an SMTP reply to refuse the n-th message instead."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received = Received()
        self.before_accept: Callable[[int], str | None] | None = None
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(
            _Handler(self.received, self), hostname="127.0.0.1", port=self.port
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
