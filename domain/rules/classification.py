"""Policy §4 (incident types, legacy mapping) and §5 (impact)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from domain.errors import PolicyViolation
from domain.values import Impact, IncidentType, SubjectOfAllegation, SubjectRole

T = IncidentType

ABUSE_TYPES = frozenset(
    {
        T.PHYSICAL_ABUSE,
        T.SEXUAL_ABUSE,
        T.EMOTIONAL_PSYCHOLOGICAL_ABUSE,
        T.FINANCIAL_ABUSE,
        T.SEXUAL_EXPLOITATION_GROOMING,
    }
)
MANDATORY_MAJOR_TYPES = ABUSE_TYPES | {T.NEGLECT}
STAFF_OR_CARER = frozenset({SubjectRole.STAFF, SubjectRole.CARER, SubjectRole.KINSHIP_CARER})


def mandatory_major(
    types: Collection[IncidentType], subjects: Collection[SubjectOfAllegation]
) -> bool:
    """Abuse, neglect or grooming alleged against a staff member or carer must be major."""
    return bool(set(types) & MANDATORY_MAJOR_TYPES) and any(
        s.role in STAFF_OR_CARER for s in subjects
    )


def require_types(types: Collection[IncidentType]) -> None:
    """A report carries at least one of the 19 current types, each once."""
    if not types:
        raise PolicyViolation(
            "classification.type-required", "name at least one incident type", field="types"
        )
    if len(set(types)) != len(types):
        raise PolicyViolation(
            "classification.type-repeated", "an incident type is listed twice", field="types"
        )


def require_mandatory_major(
    types: Collection[IncidentType], impact: Impact, subjects: Collection[SubjectOfAllegation]
) -> None:
    """Abuse, neglect or grooming with a staff member or carer as subject must be major impact."""
    if impact != Impact.MAJOR and mandatory_major(types, subjects):
        raise PolicyViolation(
            "classification.mandatory-major",
            "abuse, neglect or sexual exploitation - grooming alleged against a staff member or "
            "carer must be classified major impact",
            field="impact",
        )


def require_no_downgrade_below_mandatory_major(
    types: Collection[IncidentType], impact: Impact, subjects: Collection[SubjectOfAllegation]
) -> None:
    """A reclassification may not take a mandatory-major incident below major."""
    if impact != Impact.MAJOR and mandatory_major(types, subjects):
        raise PolicyViolation(
            "classification.no-downgrade-below-mandatory-major",
            "this incident must stay major impact: abuse, neglect or grooming is alleged against "
            "a staff member or carer",
            field="impact",
        )


def require_reason(reason: str | None, rule_id: str = "record.reason-required") -> None:
    """A human judgement is recorded with the reason for it."""
    if reason is None or not reason.strip():
        raise PolicyViolation(rule_id, "a reason is required for this judgement", field="reason")


def require_a_change(changed: bool) -> None:
    """A reclassification changes the types or the impact."""
    if not changed:
        raise PolicyViolation(
            "classification.no-change",
            "the types and impact are as already recorded",
            field="types",
        )


@dataclass(frozen=True)
class LegacyMapping:
    """How a pre-December-2024 type label reads today."""

    legacy_label: str
    current: IncidentType | None
    candidates: tuple[IncidentType, ...]
    no_longer_a_type: bool

    @property
    def unresolved(self) -> bool:
        return self.current is None and bool(self.candidates)


_LEGACY: dict[str, tuple[IncidentType | None, tuple[IncidentType, ...]]] = {
    "Sexual exploitation": (T.SEXUAL_EXPLOITATION_GROOMING, ()),
    "Emotional and psychological trauma": (T.EMOTIONAL_PSYCHOLOGICAL_HARM, ()),
    "Injury": (None, (T.INJURY_EXPLAINED, T.INJURY_UNEXPLAINED)),
    "Self-harm/attempted suicide": (None, (T.SELF_HARM, T.ATTEMPTED_SUICIDE)),
    "Dangerous actions": (None, ()),
    "Poor quality of care": (None, ()),
}


def map_legacy_type(label: str) -> LegacyMapping:
    """Map a legacy label: renames 1:1, splits need a human choice, removed types flagged."""
    if label in _LEGACY:
        current, candidates = _LEGACY[label]
        return LegacyMapping(label, current, candidates, current is None and not candidates)
    try:
        return LegacyMapping(label, IncidentType(label), (), False)
    except ValueError:
        raise PolicyViolation(
            "classification.unknown-legacy-type",
            f"{label!r} is not a known CIMS incident type",
            field="types",
        ) from None
