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

    def __init__(self, **smtp_options: Any) -> None:
        """`smtp_options` go to aiosmtpd's SMTP (`tls_context`, `require_starttls`,
        `auth_required`, `authenticator`, …)."""
        self.port = free_port()
        self.received = Received()
        self.before_accept: Callable[[int], str | None] | None = None
        self._controller: Controller | None = None
        self._options = smtp_options

    def start(self) -> None:
        self._controller = Controller(
            _Handler(self.received, self), hostname="127.0.0.1", port=self.port, **self._options
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def self_signed(directory: Any) -> tuple[str, str]:
    """A certificate and key for 127.0.0.1 (PEM files in `directory`): the server's, and the
    one CA a client is told to trust."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = f"{directory}/smtp.crt", f"{directory}/smtp.key"
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path
