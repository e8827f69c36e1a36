"""Policy §0 and §4: records of the 2018 system brought into the ledger.

A record keeps the instant it was submitted (and so the regime it was reported under). Its types
map as the policy says: renames one to one; a split type waits, unresolved, for a person's choice;
a removed type is kept as its legacy label and flagged, never turned into a current type.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from domain.errors import PolicyViolation
from domain.rules.classification import LegacyMapping, map_legacy_type
from domain.values import IncidentType, Role


def require_department_officer(role: Role) -> None:
    """The old system's records are brought in by the department, which held them."""
    if role != Role.DEPARTMENT_OFFICER:
        raise PolicyViolation(
            "legacy.department-only", "only a department officer imports legacy records"
        )


def require_labels(labels: Collection[str]) -> list[LegacyMapping]:
    """A legacy record names at least one incident type, each once, each a known label."""
    if not labels:
        raise PolicyViolation(
            "legacy.type-required", "name at least one incident type", field="incident_types"
        )
    if len(set(labels)) != len(labels):
        raise PolicyViolation(
            "legacy.type-repeated", "an incident type is listed twice", field="incident_types"
        )
    return [map_legacy_type(label) for label in labels]


def require_submitted_in_order(submitted_at: datetime, became_aware_at: datetime) -> None:
    """A report is submitted after the provider became aware (the one time rule of
    `rules/times.py` refuses a submission in the future)."""
    if submitted_at < became_aware_at:
        raise PolicyViolation(
            "legacy.submitted-before-aware",
            "submitted_at is earlier than became_aware_at",
            field="submitted_at",
        )


def unresolved_labels(
    legacy_labels: Collection[str], resolved: Mapping[str, IncidentType]
) -> list[str]:
    """The split legacy labels still waiting for a person's choice."""
    found = []
    for label in legacy_labels:
        mapping = _mapping(label)
        if label not in resolved and mapping is not None and mapping.unresolved:
            found.append(label)
    return found


def removed_labels(legacy_labels: Collection[str]) -> list[str]:
    """Legacy labels that are no longer types: kept, flagged, never mapped."""
    return [
        label
        for label in legacy_labels
        if (m := _mapping(label)) is not None and m.no_longer_a_type
    ]


def require_unresolved(label: str, unresolved: Collection[str]) -> LegacyMapping:
    """Only a split legacy type still unresolved on this incident is resolved."""
    if label not in unresolved:
        raise PolicyViolation(
            "legacy.not-unresolved",
            f"{label!r} is not an unresolved legacy type of this incident",
            field="legacy_label",
        )
    return map_legacy_type(label)


def require_candidate(mapping: LegacyMapping, chosen: IncidentType) -> None:
    """A split type resolves to one of the current types it was split into."""
    if chosen not in mapping.candidates:
        options = " or ".join(mapping.candidates)
        raise PolicyViolation(
            "legacy.not-a-candidate",
            f"{mapping.legacy_label!r} resolves to {options}, not {chosen.value!r}",
            field="incident_type",
        )


def _mapping(label: str) -> LegacyMapping | None:
    try:
        return map_legacy_type(label)
    except PolicyViolation:
        return None
