"""diff: what changed in an incident between two versions or two instants, field by field."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ledger.application import Ledger
from replay.as_of import state_as_of

if TYPE_CHECKING:
    from replay.snapshots import FoldCache


class Change(BaseModel):
    """One field that differs: `before` is None when it was `added`, `after` when `removed`."""

    model_config = ConfigDict(frozen=True)

    field: str
    before: Any
    after: Any
    change: Literal["added", "removed", "changed"] = Field(
        default="changed",
        description="`added` (absent before), `removed` (absent after) or `changed`.",
    )


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


_ABSENT = object()


def _emptied_or_filled(key: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
    """An object that was `{}` and now has fields (or the reverse) is not itself added or
    removed: its fields are, and they are listed one by one."""
    inside = key + "."
    return (
        old.get(key, _ABSENT) == {} and key not in new and any(k.startswith(inside) for k in new)
    ) or (new.get(key, _ABSENT) == {} and key not in old and any(k.startswith(inside) for k in old))


def diff(
    ledger: Ledger,
    incident_id: UUID,
    a: int | datetime,
    b: int | datetime,
    *,
    now: datetime | None = None,
    folds: FoldCache | None = None,
) -> Diff:
    """The fields that differ between the states at `a` and `b` (versions or instants), from
    `folds` when given (the same states, from kept snapshots), else by folding plainly."""

    def at(point: int | datetime) -> Any:
        if isinstance(point, datetime):
            if folds is not None:
                return folds.state_as_of(incident_id, at=point, now=now)
            return state_as_of(ledger, incident_id, at=point, now=now)
        if folds is not None:
            return folds.state_as_of(incident_id, version=point)
        return state_as_of(ledger, incident_id, version=point)

    before, after = at(a), at(b)
    old, new = _flatten(before.state), _flatten(after.state)
    changes = [
        Change(
            field=key,
            before=old.get(key),
            after=new.get(key),
            change="added" if key not in old else "removed" if key not in new else "changed",
        )
        for key in sorted(old.keys() | new.keys())
        if old.get(key, _ABSENT) != new.get(key, _ABSENT)
        and key not in ("modified_at",)
        and not _emptied_or_filled(key, old, new)
    ]
    return Diff(
        incident_id=incident_id,
        from_version=before.version,
        to_version=after.version,
        changes=changes,
    )
