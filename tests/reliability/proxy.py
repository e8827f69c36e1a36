"""A TCP proxy for PostgreSQL that can cut a connection just after the server committed."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading


class CommitCuttingProxy:
    """Forwards 127.0.0.1:<port> to PostgreSQL. Once armed, it drops the next client
    connection the moment the server reports `COMMIT` complete, or is ready again after the
    ledger's one-statement save (a single `notification_id` column returned outside a
    transaction: committed by then), before the client hears it: the write is durable, but
    the client sees a lost connection."""

    def __init__(self, upstream_port: int = 5432) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.armed = threading.Event()
        self.cuts = 0
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()
            threading.Thread(target=self._from_server, args=(server, client), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _hang_up(source, sink)

    def _from_server(self, server: socket.socket, client: socket.socket) -> None:
        """Forward message by message (type byte, 4-byte length), watching for COMMIT."""
        buffer = b""
        saving = False  # the statement under way returns notification ids alone: a save
        try:
            while data := server.recv(65536):
                buffer += data
                while len(buffer) >= 5:
                    (length,) = struct.unpack("!I", buffer[1:5])
                    if len(buffer) < 1 + length:
                        break
                    message, buffer = buffer[: 1 + length], buffer[1 + length :]
                    kind = message[:1]
                    if kind == b"T":  # RowDescription: one field, named notification_id
                        saving = message[5:7] == b"\x00\x01" and message[7:23] == (
                            b"notification_id\x00"
                        )
                    committed = kind == b"C" and message[5:11] == b"COMMIT"
                    # ReadyForQuery, idle: an autocommit statement has committed by now.
                    committed |= saving and kind == b"Z" and message[5:6] == b"I"
                    if kind == b"Z":
                        saving = False
                    if self.armed.is_set() and committed:
                        self.armed.clear()
                        self.cuts += 1
                        raise ConnectionAbortedError("cut after commit")
                    client.sendall(message)
        except OSError:
            pass
        finally:
            _hang_up(server, client)


def _hang_up(*sockets: socket.socket) -> None:
    # shutdown(), not just close(): the other direction's thread is blocked in recv() on the
    # same socket, and only a shutdown sends FIN and wakes it.
    for s in sockets:
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
        s.close()
