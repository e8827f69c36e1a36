"""How events are stored: pydantic state as orjson bytes, and a database URL as library settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

import orjson
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import BaseModel


class OrjsonTranscoder(Transcoder):
    """Event state is already JSON-ready (pydantic's JSON mode): orjson just writes it."""

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def decode(self, data: bytes) -> Any:
        return orjson.loads(data)


class PydanticMapper(Mapper[Any]):
    """Maps pydantic events to stored events, upcasting old class versions on the way back."""

    def to_stored_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        state = cast(BaseModel, domain_event).model_dump(mode="json")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(type(domain_event)),
            state=self._seal(self.transcoder.encode(state)),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        cls = resolve_topic(stored_event.topic)
        data = self._open(stored_event)
        if getattr(cls, "class_version", 1) == 1 and b'"class_version"' not in data:
            # Nothing to upcast: pydantic reads the JSON itself, in one pass.
            return cast(DomainEventProtocol[Any], cls.model_validate_json(data))
        state = cast(dict[str, Any], self.transcoder.decode(data))
        stored_version = state.pop("class_version", 1)
        for version in range(stored_version, getattr(cls, "class_version", 1)):
            getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        return cast(DomainEventProtocol[Any], cls(**state))

    def decode_state(self, stored_event: StoredEvent) -> dict[str, Any]:
        """The stored JSON state exactly as written, before any upcasting."""
        return cast(dict[str, Any], self.transcoder.decode(self._open(stored_event)))

    def _open(self, stored_event: StoredEvent) -> bytes:
        data = stored_event.state
        if self.cipher:
            data = self.cipher.decrypt(data)
        if self.compressor:
            data = self.compressor.decompress(data)
        return data

    def _seal(self, data: bytes) -> bytes:
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return data


DEFAULT_DATABASE_URL = "sqlite:///./cims.db"


def store_env(database_url: str) -> dict[str, str]:
    """The `eventsourcing` settings for a `sqlite:///path` or `postgresql://` database URL."""
    base = {
        "TRANSCODER_TOPIC": get_topic(OrjsonTranscoder),
        "MAPPER_TOPIC": get_topic(PydanticMapper),
    }
    url = urlsplit(database_url)
    if url.scheme == "sqlite":
        path = database_url.removeprefix("sqlite:///") or "cims.db"
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return base | {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            # The library's recorder, plus the command receipts and document bytes written in
            # its transaction.
            "APPLICATION_RECORDER_TOPIC": "ledger.documents:DocumentSQLiteRecorder",
            "SQLITE_DBNAME": path if path != ":memory:" else "file::memory:?cache=shared",
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    if url.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return (
            base
            | {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "APPLICATION_RECORDER_TOPIC": "ledger.documents:DocumentPostgresRecorder",
                "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
                "POSTGRES_HOST": url.hostname or "127.0.0.1",
                "POSTGRES_PORT": str(url.port or 5432),
                "POSTGRES_USER": unquote(url.username or "postgres"),
                "POSTGRES_PASSWORD": unquote(url.password or ""),
                "POSTGRES_POOL_SIZE": "5",
                "POSTGRES_MAX_OVERFLOW": "10",
                # Also how long a request waits for a pooled connection: past it, a 503, not a hang.
                "POSTGRES_CONNECT_TIMEOUT": "1",
                # A finite lock wait turns a stuck writer into an error instead of a hang; the
                # table lock itself keeps the notification log in commit order (design.md §2).
                "POSTGRES_LOCK_TIMEOUT": "5",
            }
            | _schema(url.query)
        )
    msg = f"unsupported database URL scheme {url.scheme!r}: use sqlite:/// or postgresql://"
    raise ValueError(msg)


def _schema(query: str) -> dict[str, str]:
    """`?schema=NAME` keeps the ledger's tables in their own schema (tests, tenants)."""
    schema = parse_qs(query).get("schema")
    return {"POSTGRES_SCHEMA": schema[0]} if schema else {}


def is_postgres(database_url: str) -> bool:
    return urlsplit(database_url).scheme.startswith("postgres")
