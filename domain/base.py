"""Pydantic event and aggregate bases on `eventsourcing`, with the per-incident hash chain."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid4

import orjson
from eventsourcing.domain import BaseAggregate, CanInitAggregate, CanMutateAggregate
from eventsourcing.utils import get_topic
from pydantic import BaseModel, ConfigDict, Field

from domain.values import Actor, Stamp, UtcDatetime

GENESIS_HASH = "0" * 64


def canonical_bytes(value: Any) -> bytes:
    """One encoding for hashing: sorted keys, orjson's fixed number and time formats."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def chain_hash(topic: str, state: dict[str, Any]) -> str:
    """SHA-256 over an event's topic and its stored JSON state, less the hash itself.

    `state` includes `prev_hash`, so each event's hash commits to the whole chain before it.
    """
    body = {k: v for k, v in state.items() if k != "hash"}
    return hashlib.sha256(canonical_bytes({"topic": topic, "event": body})).hexdigest()


class DomainEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    originator_id: UUID
    originator_version: int
    timestamp: UtcDatetime
    actor: Actor
    command_id: str | None = None
    effective_at: UtcDatetime | None = None
    reason: str | None = Field(default=None, max_length=20_000)
    prev_hash: str = GENESIS_HASH
    hash: str = ""

    def model_post_init(self, context: Any, /) -> None:
        # A new event is sealed once, when made; a loaded one keeps the hash it was stored
        # with, so verification (which reads the stored rows) sees any later edit.
        if not self.hash:
            state = self.model_dump(mode="json")
            # The stored state carries `class_version` past 1 (persistence.PydanticMapper);
            # the hash covers what is stored, so verification reads it back unchanged.
            class_version = getattr(type(self), "class_version", 1)
            if class_version > 1:
                state["class_version"] = class_version
            object.__setattr__(self, "hash", chain_hash(get_topic(type(self)), state))

    @property
    def recorded_at(self) -> datetime:
        return self.timestamp

    @property
    def happened_at(self) -> datetime:
        return self.effective_at or self.timestamp


TAggregate = TypeVar("TAggregate", bound="Aggregate")
Applier = Callable[[Any, Any], None]


def applies(event_class: type[DomainEvent]) -> Callable[[Applier], Applier]:
    """Mark a private aggregate method as the state assignments for one event class."""

    def mark(func: Applier) -> Applier:
        func.__applies__ = event_class  # type: ignore[attr-defined]
        return func

    return mark


class Aggregate(BaseAggregate[UUID]):
    """An aggregate whose events are pydantic models, applied by `@applies` methods."""

    # Keyed by the event's qualified name: the library's metaclass re-derives nested event
    # classes, so the class an applier names is a base of the class it receives.
    _appliers: ClassVar[dict[str, Applier]]
    chain_head: str

    @staticmethod
    def create_id(*_: Any, **__: Any) -> UUID:
        return uuid4()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._appliers = {
            func.__applies__.__qualname__: func
            for func in vars(cls).values()
            if callable(func) and hasattr(func, "__applies__")
        }

    class Event(DomainEvent, CanMutateAggregate[UUID]):
        def apply(self, aggregate: Any) -> None:
            type(aggregate)._appliers[type(self).__qualname__](aggregate, self)
            aggregate.chain_head = self.hash

    class Created(Event, CanInitAggregate[UUID]):
        originator_topic: str

    def _record(self, event_class: type[Event], stamp: Stamp, **payload: Any) -> None:
        """Trigger one event, stamped with who, when, and the previous link of the chain."""
        self.trigger_event(event_class, prev_hash=self.chain_head, **stamp_fields(stamp), **payload)


def stamp_fields(stamp: Stamp) -> dict[str, Any]:
    return {
        "timestamp": stamp.now,
        "actor": stamp.actor,
        "command_id": stamp.command_id,
        "effective_at": stamp.effective_at,
    }
