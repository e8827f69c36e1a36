"""Policy §8 and §10: who is appointed to investigate or review, named as a principal."""

from __future__ import annotations

from collections.abc import Collection

from domain.errors import PolicyViolation
from domain.values import Actor, Principal, Ref


def appointee(
    ref: Ref | None, principal: Principal | None, appointing: Actor, field: str
) -> Principal:
    """The principal an appointment names. [C] An appointment that names only a subject (a
    `*_ref`) names a subject of the appointing organisation; one that names a principal names
    that organisation's subject. Exactly one of the two is given."""
    if (ref is None) == (principal is None):
        raise PolicyViolation(
            "appointment.appointee-required",
            f"name the appointee once: either {field}_ref (a subject of your organisation) or "
            f"{field} ({{organisation, subject}})",
            field=field,
        )
    if principal is not None:
        return principal
    assert ref is not None
    if not ref.strip():
        raise PolicyViolation(
            "appointment.appointee-required", f"{field}_ref must not be blank", field=f"{field}_ref"
        )
    return Principal(organisation=appointing.organisation, subject=ref)


def require_not_self_appointed(appointee: Principal, appointing: Actor, field: str) -> None:
    """The investigator is independent of the incident (policy §8) and the outcome reviewer of
    the original decision (policy §10). [C] So the manager who appoints does not appoint
    themselves: someone else is answerable for the choice."""
    if appointee.is_actor(appointing):
        raise PolicyViolation(
            "appointment.self-appointment",
            "you cannot appoint yourself; appoint someone independent",
            field=field,
        )


def require_investigator_replaceable(outcome_recorded: bool) -> None:
    """The investigator is answerable for the investigation's outcome (policy §8). [C] So an
    investigator may be replaced (a conflict found late, say) only until an outcome is recorded;
    after that the appointment stands, and an error in it is a correction, not a new
    appointment."""
    if outcome_recorded:
        raise PolicyViolation(
            "appointment.investigator-after-outcome",
            "an outcome is recorded: the investigator who reached it cannot be replaced now; "
            "record a correction if the appointment was wrong",
            field="investigator",
        )


def require_independent_outcome_reviewer(
    reviewer: Principal, investigator: Principal | None, decision_makers: Collection[str]
) -> None:
    """The reviewer must meet the minimum requirements for who may conduct a review: independent
    of the original decision (policy §10). So not the investigator, nor anyone who recorded
    the outcome under review."""
    # Who recorded an outcome is kept by subject alone: any organisation's subject of that
    # name is refused, which errs on the side of independence.
    if reviewer == investigator or reviewer.subject in decision_makers:
        raise PolicyViolation(
            "outcome-review.reviewer-not-independent",
            "the reviewer took part in the original outcome and cannot review it",
            field="reviewer",
        )


def require_reviewer_appointed(reviewer: Principal | None) -> None:
    """An outcome review is decided by the reviewer appointed to conduct it (policy §10)."""
    if reviewer is None:
        raise PolicyViolation(
            "outcome-review.no-reviewer",
            "no outcome reviewer has been appointed for the pending review",
            field="reviewer",
        )
