"""Stored form of events: orjson JSON of the pydantic state, upcast by class version on load."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from pydantic import BaseModel

from ledger.persistence import OrjsonTranscoder, PydanticMapper, store_env


class Note(BaseModel):
    """A stand-in event whose second version added a field."""

    class_version: ClassVar[int] = 2
    originator_id: UUID
    originator_version: int
    text: str
    words: int

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["words"] = len(state["text"].split())


def test_an_event_stored_at_version_one_is_upcast_when_read() -> None:
    mapper = PydanticMapper(OrjsonTranscoder())
    stored_v1 = StoredEvent(
        originator_id=uuid4(),
        originator_version=1,
        topic=f"{__name__}:Note",
        state=b'{"originator_id":"%s","originator_version":1,'
        b'"text":"served in writing"}' % str(uuid4()).encode(),
    )

    note = mapper.to_domain_event(stored_v1)

    assert isinstance(note, Note) and note.words == 3


def test_the_current_version_is_written_and_read_back_unchanged() -> None:
    mapper = PydanticMapper(OrjsonTranscoder())
    note = Note(originator_id=uuid4(), originator_version=1, text="a b", words=2)

    stored = mapper.to_stored_event(note)  # type: ignore[arg-type]

    assert mapper.decode_state(stored)["class_version"] == 2
    assert mapper.to_domain_event(stored) == note


def test_database_urls_map_onto_the_library_settings() -> None:
    sqlite = store_env("sqlite:///:memory:")
    postgres = store_env("postgresql://u:p%40ss@db.example:6543/cims?schema=tenant_a")

    assert sqlite["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    assert postgres["POSTGRES_PASSWORD"] == "p@ss" and postgres["POSTGRES_PORT"] == "6543"
    assert postgres["POSTGRES_SCHEMA"] == "tenant_a"
    assert "POSTGRES_ENABLE_DB_FUNCTIONS" not in postgres
    with pytest.raises(ValueError):
        store_env("mysql://db/cims")
