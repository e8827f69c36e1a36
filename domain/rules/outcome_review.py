"""Policy §10: who may ask for an outcome review, on what grounds, and who may decide it."""

from __future__ import annotations

from collections.abc import Collection

from domain.errors import PolicyViolation
from domain.values import AllegationOutcome, OutcomeReviewResult, Ref, Requester, ReviewGround

ENTITLED = frozenset({Requester.CLIENT, Requester.GUARDIAN, Requester.SUBJECT_OF_ALLEGATION})
GROUNDS = frozenset(
    {ReviewGround.PROCEDURAL_FAIRNESS, ReviewGround.NON_ADHERENCE_TO_MINIMUM_REQUIREMENTS}
)


def require_entitled_requester(requester: Requester) -> None:
    """Only the client (or guardian) or the subject of allegation may request a review."""
    if requester not in ENTITLED:
        raise PolicyViolation(
            "outcome-review.requester-not-entitled",
            "an outcome review may be requested by the client, their guardian, or the subject "
            "of allegation",
            field="requester",
        )


def require_recognised_grounds(grounds: Collection[ReviewGround]) -> None:
    """The grounds are procedural fairness or non-adherence to minimum requirements."""
    if not grounds or set(grounds) - GROUNDS:
        raise PolicyViolation(
            "outcome-review.grounds-not-recognised",
            "the grounds for an outcome review are procedural fairness or non-adherence to the "
            "minimum requirements",
            field="grounds",
        )


def require_requester_on_record(
    requester: Requester, requester_ref: Ref, clients: Collection[Ref], subjects: Collection[Ref]
) -> None:
    """A client requests for a client on this incident; a subject for themselves."""
    known = subjects if requester == Requester.SUBJECT_OF_ALLEGATION else clients
    if requester != Requester.GUARDIAN and requester_ref not in known:
        raise PolicyViolation(
            "outcome-review.requester-not-on-record",
            f"{requester_ref} is not a {str(requester).replace('_', ' ')} on this incident",
            field="requester_ref",
        )


def require_no_review_pending(pending: bool) -> None:
    """One outcome review at a time."""
    if pending:
        raise PolicyViolation(
            "outcome-review.already-pending",
            "an outcome review is already pending",
            field="requester",
        )


def require_review_pending(pending: bool) -> None:
    """A decision answers a pending request."""
    if not pending:
        raise PolicyViolation(
            "outcome-review.none-pending",
            "no outcome review has been requested",
            field="result",
        )


def require_independent_reviewer(
    reviewer_id: str, original_decision_makers: Collection[str]
) -> None:
    """The reviewer is independent of the original decision."""
    if reviewer_id in original_decision_makers:
        raise PolicyViolation(
            "outcome-review.reviewer-not-independent",
            "the reviewer took part in the original outcome and cannot review it",
            field="actor",
        )


def require_variation_matches_result(
    result: OutcomeReviewResult, varied_outcomes: Collection[AllegationOutcome]
) -> None:
    """A varied outcome states the new findings; a confirmed one changes none."""
    if result == OutcomeReviewResult.VARIED and not varied_outcomes:
        raise PolicyViolation(
            "outcome-review.variation-required",
            "a varied outcome must state the new findings",
            field="varied_outcomes",
        )
    if result == OutcomeReviewResult.CONFIRMED and varied_outcomes:
        raise PolicyViolation(
            "outcome-review.confirmed-with-variation",
            "a confirmed outcome cannot carry new findings",
            field="varied_outcomes",
        )
