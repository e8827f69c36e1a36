"""Policy §2 (who reports) and §3 (what is out of scope)."""

from __future__ import annotations

from datetime import datetime

from domain.errors import PolicyViolation
from domain.values import CareContext, Program, ScopeExclusion

_CHILD_PROTECTION_CARE = {
    CareContext.CP_KINSHIP,
    CareContext.CP_PRACTITIONER,
    CareContext.CP_RESPITE,
}
_CSO_CARE = {CareContext.CSO_PLACEMENT, CareContext.CSO_CASE_CONTRACTED}


def require_not_parental_care(care_context: CareContext) -> None:
    """Incidents while a child is in the care of a parent are out of scope."""
    if care_context == CareContext.PARENT:
        raise PolicyViolation(
            "scope.parental-care",
            "incidents while the child is in the care of a parent are out of CIMS scope",
            field="care_context",
        )


def require_responsible_reporter(program: Program, care_context: CareContext) -> None:
    """Child Protection reports for care it approved; the CSO for its placements and cases."""
    if care_context in _CHILD_PROTECTION_CARE and program != Program.CHILD_PROTECTION:
        raise PolicyViolation(
            "responsibility.child-protection-reports",
            f"for care context {care_context.value} Child Protection is the responsible reporter",
            field="program",
        )
    if care_context in _CSO_CARE and program != Program.CSO:
        raise PolicyViolation(
            "responsibility.cso-reports",
            f"for care context {care_context.value} the community service organisation reports",
            field="program",
        )


def require_exclusion_named(in_scope: bool, exclusion: ScopeExclusion | None) -> None:
    """An out-of-scope finding names the exclusion of §3 it rests on; an in-scope one names none."""
    if not in_scope and exclusion is None:
        raise PolicyViolation(
            "scope.exclusion-required",
            "an out-of-scope assessment must name the policy exclusion it relies on",
            field="exclusion",
        )
    if in_scope and exclusion is not None:
        raise PolicyViolation(
            "scope.exclusion-contradicts",
            "an in-scope assessment cannot name an exclusion",
            field="exclusion",
        )


def require_times_in_order(
    occurred_at: datetime | None,
    occurred_from: datetime | None,
    occurred_to: datetime | None,
    became_aware_at: datetime,
    now: datetime,
) -> None:
    """Harm happens before anyone becomes aware of it (that neither lies in the future is the
    time rule every command passes: domain/rules/times.py)."""
    if occurred_at is None and occurred_from is None:
        raise PolicyViolation(
            "report.occurrence-required",
            "give occurred_at, or occurred_between for a historical disclosure",
            field="occurred_at",
        )
    if occurred_at is not None and occurred_from is not None:
        raise PolicyViolation(
            "report.occurrence-ambiguous",
            "give occurred_at or occurred_between, not both",
            field="occurred_between",
        )
    if occurred_from is not None and occurred_to is not None and occurred_from > occurred_to:
        raise PolicyViolation(
            "report.period-reversed",
            "occurred_between starts after it ends",
            field="occurred_between",
        )
    earliest = occurred_at or occurred_from
    if earliest is not None and earliest > became_aware_at:
        raise PolicyViolation(
            "report.aware-before-occurred",
            "became_aware_at is earlier than the incident occurred",
            field="became_aware_at",
        )
