"""Document bytes: kept in the ledger's own database beside the events that name them.

A document's bytes are content-addressed: rows of (SHA-256, chunk number, up to 1 MiB of bytes)
in `<events table>_document_chunks` (`stored_document_chunks` on SQLite, `cims_document_chunks`
on PostgreSQL). They are inserted by the same transaction as the `Incident.DocumentAdded` event
that names their hash (the recorders below extend the receipts' recorders: a save that carries
`documents=` writes their chunks first), so there is never an event without its bytes or bytes
without an event. Nothing updates or deletes a chunk; the same bytes added twice (to two
incidents) are stored once. The event's hash covers the document's SHA-256 and size, so the
chain covers the bytes, and `replay.verify` re-hashes them.

An upload arrives through a `Spool`: written to a temporary file as it comes, hashed and
counted as it goes (memory stays at one piece of the request at a time), refused as soon as it
is past the size limit, its type sniffed from its first bytes (`puremagic`), and the temporary
file removed whatever happens. A download reads one chunk at a time.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import tempfile
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import puremagic
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.utils import retry

from domain.rules import documents as rules
from ledger.receipts import ReceiptPostgresRecorder, ReceiptSQLiteRecorder

CHUNK_BYTES = 1024 * 1024
CHUNKS_SUFFIX = "_document_chunks"
# Enough of a file's start for every signature puremagic and the markup check look at.
HEAD_BYTES = 64 * 1024
# What the sender's name or type can never be taken for: it says nothing.
UNSPECIFIC = frozenset({"application/octet-stream", "binary/octet-stream", ""})
# A text file is sniffed as text/plain; a sender's more particular text type agrees with it,
# but never one a browser would render (HTML, XML, SVG): those are checked byte for byte.
RENDERED = frozenset({"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml"})
# The start of a document a browser would render as markup (the WHATWG MIME Sniffing standard's
# "unknown type" patterns for HTML and XML), after any leading white space or byte order mark.
MARKUP = re.compile(
    rb"^(?:\xef\xbb\xbf)?[\t\n\x0c\r ]*<(?:!doctype html|html|head|script|iframe|h1|div|font"
    rb"|table|a|style|title|b|body|br|p|!--|\?xml|svg)(?:[\t\n\x0c\r >/]|$)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Limits:
    """What the ledger keeps (`CIMS_DOCUMENT_MAX_BYTES`, `CIMS_DOCUMENT_TYPES`)."""

    max_bytes: int
    allowed_types: frozenset[str]


@dataclass(frozen=True)
class Upload:
    """A received document, spooled to `path`, checked and hashed, waiting to be saved."""

    path: Path
    file_name: str
    media_type: str
    size: int
    sha256: str

    def chunks(self) -> Iterator[bytes]:
        """The bytes, 1 MiB at a time, from the spool file."""
        with self.path.open("rb") as f:
            while piece := f.read(CHUNK_BYTES):
                yield piece


def sniff(head: bytes, file_name: str) -> str:
    """The media type of a file from its first bytes (`puremagic`'s signatures; among
    signatures equally sure, the one the name's extension names), markup a browser would
    render as `text/html`, other UTF-8 text as `text/plain`; `application/octet-stream` for
    anything else."""
    extension = Path(file_name).suffix.lower()
    try:
        # Never with the name: puremagic would then answer from the extension alone.
        found = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        found = []
    typed = [m for m in found if m.mime_type]
    if typed:
        best = max(m.confidence for m in typed)
        top = [m for m in typed if m.confidence == best]
        named = [m for m in top if m.extension.lower() == extension]
        return str((named or top)[0].mime_type)
    if MARKUP.match(head):
        return "text/html"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the end of the head is still text.
            if exc.start < len(head) - 3:
                return "application/octet-stream"
        return "text/plain"
    return "application/octet-stream"


def declared_type(file_name: str, content_type: str | None) -> str | None:
    """What the sender says the file is: the part's own type when it names one, else the type
    its name's extension stands for; None when neither says anything."""
    given = (content_type or "").split(";")[0].strip().lower()
    if given not in UNSPECIFIC:
        return given
    guessed = mimetypes.guess_type(file_name, strict=False)[0]
    return guessed.lower() if guessed else None


def agreeing(declared: str | None, sniffed: str) -> str | None:
    """`declared`, unless the bytes bear it out (then None: nothing to contradict)."""
    if declared is None or declared == sniffed:
        return None
    if sniffed == "text/plain" and declared.startswith("text/") and declared not in RENDERED:
        return None  # a CSV or Markdown file is text; its bytes cannot say more
    return declared


class Spool:
    """One upload's bytes on their way in (see the module's docstring); a context manager that
    removes its temporary file on the way out, whether the document was saved or not."""

    def __init__(self, limits: Limits, directory: str | None = None) -> None:
        self.limits = limits
        handle, name = tempfile.mkstemp(prefix="cims-upload-", dir=directory)
        self.path = Path(name)
        self._file = os.fdopen(handle, "wb")
        self._sha = hashlib.sha256()
        self._head = bytearray()
        self.size = 0

    def write(self, data: bytes) -> None:
        """Take the next piece of the file. Raises `PolicyViolation("document.too-large")` as
        soon as the file is past the limit."""
        self.size += len(data)
        rules.require_within_size(self.size, self.limits.max_bytes)
        if len(self._head) < HEAD_BYTES:
            self._head += data[: HEAD_BYTES - len(self._head)]
        self._sha.update(data)
        self._file.write(data)

    def finish(self, file_name: str, content_type: str | None = None) -> Upload:
        """The checked upload: not empty, a safe name, its type sniffed from its bytes and
        agreeing with what the sender says it is, and a type the ledger keeps. Each refusal is
        a `PolicyViolation` naming its rule."""
        self._file.close()
        rules.require_bytes(self.size)
        rules.require_safe_file_name(file_name)
        media_type = sniff(bytes(self._head), file_name)
        rules.require_declared_type_agrees(
            agreeing(declared_type(file_name, content_type), media_type), media_type
        )
        rules.require_allowed_type(media_type, self.limits.allowed_types)
        return Upload(self.path, file_name, media_type, self.size, self._sha.hexdigest())

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> Spool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.discard()


def spool_bytes(data: bytes, file_name: str, limits: Limits, **kw: Any) -> Spool:
    """A spool holding `data` whole (for tests and the command line's small files)."""
    spool = Spool(limits, **kw)
    for start in range(0, max(len(data), 1), CHUNK_BYTES):
        spool.write(data[start : start + CHUNK_BYTES])
    return spool


def _documents(kwargs: dict[str, Any]) -> Sequence[Upload]:
    return kwargs.get("documents") or ()


class DocumentSQLiteRecorder(ReceiptSQLiteRecorder):
    """The receipts' SQLite recorder, also writing the chunks of a save's documents in its
    transaction, and reading them back."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        self.chunks_table_name = events_table_name.removesuffix("_events") + CHUNKS_SUFFIX
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {self.chunks_table_name} ("
            "sha256 TEXT NOT NULL, chunk_no INTEGER NOT NULL, bytes BLOB NOT NULL, "
            "PRIMARY KEY (sha256, chunk_no)) WITHOUT ROWID",
        ]

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Which bytes are kept already is asked before the write transaction: a read inside it
        # would make SQLite refuse to upgrade it to a write ("database is locked") whenever
        # another connection wrote in between. A document stored meanwhile by another save is
        # inserted again, and ignored.
        documents = [d for d in _documents(kwargs) if self.read_chunk(d.sha256, 0) is None]
        return super().insert_events(stored_events, **{**kwargs, "documents": documents})

    def _insert_events(
        self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        for upload in _documents(kwargs):
            for n, piece in enumerate(upload.chunks()):
                c.execute(
                    f"INSERT OR IGNORE INTO {self.chunks_table_name} VALUES (?, ?, ?)",
                    (upload.sha256, n, piece),
                )
        return super()._insert_events(c, stored_events, **kwargs)

    def read_chunk(self, sha256: str, chunk_no: int) -> bytes | None:
        """One chunk of a document's bytes, or None past its last."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT bytes FROM {self.chunks_table_name} WHERE sha256 = ? AND chunk_no = ?",
                (sha256, chunk_no),
            )
            row = c.fetchone()
        return None if row is None else bytes(row[0])

    def document_hashes(self) -> list[str]:
        """The SHA-256 of every document whose bytes are kept."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT sha256 FROM {self.chunks_table_name} WHERE chunk_no = 0")
            return [str(r[0]) for r in c.fetchall()]


class DocumentPostgresRecorder(ReceiptPostgresRecorder):
    """The receipts' PostgreSQL recorder; a save with documents inserts their chunks, then
    calls the events-and-receipts function, in one transaction on one connection."""

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        name = events_table_name.removesuffix("_events") + CHUNKS_SUFFIX
        self.check_identifier_length(name)
        self.chunks_table = f"{_quoted(self.datastore.schema)}.{_quoted(name)}"
        self.create_chunks_statement = (
            f"CREATE TABLE IF NOT EXISTS {self.chunks_table} ("
            "sha256 text NOT NULL, chunk_no integer NOT NULL, bytes bytea NOT NULL, "
            "PRIMARY KEY (sha256, chunk_no))"
        )

    def _create_table(self, curs: Any) -> None:
        super()._create_table(curs)
        curs.execute(self.create_chunks_statement, prepare=False)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """As the receipts' recorder; with `kwargs["documents"]`, their chunks first, in the
        same transaction (see the module's docstring)."""
        documents = _documents(kwargs)
        ids: Sequence[int] | None
        if not documents:
            ids = super().insert_events(stored_events, **kwargs)
        else:
            ids = self._insert_with_documents(stored_events, documents, kwargs)
        return ids

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _insert_with_documents(
        self,
        stored_events: Sequence[StoredEvent],
        documents: Sequence[Upload],
        kwargs: dict[str, Any],
    ) -> Sequence[int]:
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            for upload in documents:
                curs.execute(
                    f"SELECT 1 FROM {self.chunks_table} WHERE sha256 = %s AND chunk_no = 0",
                    (upload.sha256,),
                )
                if curs.fetchone() is not None:
                    continue  # the same bytes are kept already
                for n, piece in enumerate(upload.chunks()):
                    curs.execute(
                        f"INSERT INTO {self.chunks_table} VALUES (%s, %s, %s)"
                        " ON CONFLICT DO NOTHING",
                        (upload.sha256, n, piece),
                    )
            curs.execute(self.insert_function_statement, self.insert_params(stored_events, kwargs))
            return [row["notification_id"] for row in curs.fetchall()]

    def read_chunk(self, sha256: str, chunk_no: int) -> bytes | None:
        """One chunk of a document's bytes, or None past its last."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                f"SELECT bytes FROM {self.chunks_table} WHERE sha256 = %s AND chunk_no = %s",
                (sha256, chunk_no),
            )
            row = curs.fetchone()
        return None if row is None else bytes(row["bytes"])

    def document_hashes(self) -> list[str]:
        """The SHA-256 of every document whose bytes are kept."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(f"SELECT sha256 FROM {self.chunks_table} WHERE chunk_no = 0")
            return [str(r["sha256"]) for r in curs.fetchall()]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def stored_chunks(recorder: Any, sha256: str) -> Iterator[bytes]:
    """A document's bytes as stored, chunk by chunk (one chunk in memory at a time)."""
    n = 0
    while (piece := recorder.read_chunk(sha256, n)) is not None:
        yield piece
        n += 1


def rehash(recorder: Any, sha256: str) -> tuple[str, int]:
    """The SHA-256 and size of a document's bytes as stored now."""
    digest, size = hashlib.sha256(), 0
    for piece in stored_chunks(recorder, sha256):
        digest.update(piece)
        size += len(piece)
    return digest.hexdigest(), size


def allowed(types: Collection[str]) -> frozenset[str]:
    return frozenset(t.strip().lower() for t in types if t.strip())
