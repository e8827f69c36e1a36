"""diff: what changed in an incident between two versions or two instants, field by field."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain.ledger import Ledger
from replay.as_of import state_as_of


class Change(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str
    before: Any
    after: Any


class Diff(BaseModel):
    model_config = ConfigDict(frozen=True)

    incident_id: UUID
    from_version: int
    to_version: int
    changes: list[Change]


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat.update(_flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def diff(
    ledger: Ledger,
    incident_id: UUID,
    a: int | datetime,
    b: int | datetime,
    *,
    now: datetime | None = None,
) -> Diff:
    def at(point: int | datetime) -> Any:
        if isinstance(point, datetime):
            return state_as_of(ledger, incident_id, at=point, now=now)
        return state_as_of(ledger, incident_id, version=point)

    before, after = at(a), at(b)
    old, new = _flatten(before.state), _flatten(after.state)
    changes = [
        Change(field=key, before=old.get(key), after=new.get(key))
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key) and key not in ("modified_at",)
    ]
    return Diff(
        incident_id=incident_id,
        from_version=before.version,
        to_version=after.version,
        changes=changes,
    )
