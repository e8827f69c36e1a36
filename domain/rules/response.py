"""Policy §11 (after the outcome: carer support planning) and withdrawal of a report."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from uuid import UUID

from domain.errors import PolicyViolation
from domain.values import (
    CareContext,
    Client,
    Ref,
    Role,
    ScopeExclusion,
    SubjectOfAllegation,
    SubjectRole,
    WithdrawalCategory,
)

C = CareContext
HOME_BASED_CARE = frozenset(
    {
        C.CP_KINSHIP,
        C.CP_RESPITE,
        C.CSO_FOSTER_CARE,
        C.CSO_KINSHIP_CARE,
        C.CSO_PERMANENT_CARE,
        # Recorded before foster was told from residential: read as home-based, so a carer's
        # support is planned, or waived at closure with the reason (e.g. residential care).
        C.CSO_PLACEMENT,
    }
)
CARER_ROLES = frozenset({SubjectRole.CARER, SubjectRole.KINSHIP_CARER})


def home_based_care(care_context: CareContext) -> bool:
    """Kinship, foster, respite and permanent care are home-based; residential care staffed by
    employees is not."""
    return care_context in HOME_BASED_CARE


def carers_subject_of_allegation(subjects: Collection[SubjectOfAllegation]) -> set[Ref]:
    return {s.ref for s in subjects if s.role in CARER_ROLES}


def carer_support_required(
    care_context: CareContext, subjects: Collection[SubjectOfAllegation]
) -> bool:
    """Carer support planning follows a client incident (2024 policy, §11; our reading): every
    in-scope incident where the client was in home-based care at the time, and every incident
    with a carer as subject of allegation."""
    return home_based_care(care_context) or bool(carers_subject_of_allegation(subjects))


def carer_support_met(
    care_context: CareContext,
    subjects: Collection[SubjectOfAllegation],
    planned_for: Collection[Ref],
) -> bool:
    """Each carer subject of allegation has a plan; in home-based care, at least one carer does."""
    carers = carers_subject_of_allegation(subjects)
    if not carers <= set(planned_for):
        return False
    return bool(planned_for) or not home_based_care(care_context)


def withdrawal_category(
    in_scope: bool | None, duplicate_of: UUID | None
) -> WithdrawalCategory | None:
    if duplicate_of is not None:
        return WithdrawalCategory.DUPLICATE
    if in_scope is False:
        return WithdrawalCategory.OUT_OF_SCOPE
    return None


def require_withdrawal_grounds(
    in_scope: bool | None, exclusion: ScopeExclusion | None, duplicate_of: UUID | None
) -> None:
    """A report is not withdrawn to make it go away (our reading of §3, §11): a withdrawal rests
    on an out-of-scope assessment naming its exclusion, or on the incident it duplicates."""
    if duplicate_of is None and not (in_scope is False and exclusion is not None):
        raise PolicyViolation(
            "withdrawal.grounds-required",
            "a report is withdrawn only after an out-of-scope assessment naming its exclusion,"
            " or as a duplicate of another incident (duplicate_of)",
            field="duplicate_of",
        )


@dataclass(frozen=True)
class DuplicateTarget:
    """What withdrawing a report as a duplicate needs to know of the incident it names: the
    ledger reads that incident and passes these facts in (as closure gets its obligations)."""

    withdrawn: bool
    reporting_organisation: str
    clients: tuple[Client, ...]


def same_client(a: Client, a_organisation: str, b: Client, b_organisation: str) -> bool:
    """Two reports name the same client: the same department client id where both give one,
    else the same provider's same client reference (a reference is only its provider's)."""
    if a.department_client_id and b.department_client_id:
        return a.department_client_id == b.department_client_id
    return a_organisation == b_organisation and a.ref == b.ref


def require_other_incident(
    duplicate_of: UUID | None, incident_id: UUID, target: DuplicateTarget | None
) -> None:
    """The incident a report duplicates is another incident on record, visible to the caller."""
    if duplicate_of is None:
        return
    if duplicate_of == incident_id:
        raise PolicyViolation(
            "withdrawal.duplicate-of-itself",
            "an incident cannot duplicate itself",
            field="duplicate_of",
        )
    if target is None:
        raise PolicyViolation(
            "withdrawal.duplicate-not-found",
            f"no incident {duplicate_of} is on record for you to link to",
            field="duplicate_of",
        )


def require_live_duplicate(target: DuplicateTarget | None) -> None:
    """A duplicate points at a report that is itself live: one already withdrawn cannot carry
    the incident on (so no two reports can each be withdrawn as the other's duplicate)."""
    if target is not None and target.withdrawn:
        raise PolicyViolation(
            "withdrawal.duplicate-withdrawn",
            "the report named as the original was itself withdrawn; name the live report"
            " about this incident",
            field="duplicate_of",
        )


def require_same_clients(
    clients: Collection[Client], organisation: str, target: DuplicateTarget | None
) -> None:
    """A duplicate is about the same client(s): every client of the report withdrawn is a
    client of the report it duplicates, so no client's report vanishes with it."""
    if target is None:
        return
    missing = sorted(
        c.ref
        for c in clients
        if not any(
            same_client(c, organisation, t, target.reporting_organisation) for t in target.clients
        )
    )
    if missing:
        raise PolicyViolation(
            "withdrawal.duplicate-other-client",
            "the report named as the original is not about the same client(s): "
            + ", ".join(missing),
            field="duplicate_of",
        )


def require_department_approval(ever_major: bool, actor_role: Role) -> None:
    """A report of major impact at any point in its history is withdrawn only with the
    department's approval: a department officer withdraws it (our reading of §11)."""
    if ever_major and actor_role != Role.DEPARTMENT_OFFICER:
        raise PolicyViolation(
            "withdrawal.major-needs-department-approval",
            "a report that was of major impact at any point is withdrawn only by (with the"
            " approval of) a department officer",
            field="reason",
        )
