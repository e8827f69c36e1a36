"""Policy §1 and §8: Aboriginal self-determination — consultation at the key stages."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from domain.errors import PolicyViolation
from domain.values import ConsultationStage

DECISION_STAGES = (
    ConsultationStage.FOLLOW_UP,
    ConsultationStage.OUTCOME,
    ConsultationStage.CLOSURE,
)


def require_consultation_stage(stage: str) -> None:
    """A consultation names the key stage it was held at, from the policy's list."""
    if stage not in set(ConsultationStage):
        raise PolicyViolation(
            "consultation.stage-required",
            "name the stage of the consultation: " + ", ".join(ConsultationStage),
            field="stage",
        )


def consulted_for(
    stage: ConsultationStage,
    consultations: Collection[tuple[str | None, datetime]],
    decided_at: Mapping[str, datetime],
) -> datetime | None:
    """When ACSASS, an ACCO or the ACAC provider was first consulted for `stage`'s decision.

    A consultation recorded at that stage counts. One recorded before stages were named
    (`None`) counts for every decision it preceded, as it did when it was recorded. One held at
    the report stage counts for the follow-up decision when it took effect before that decision
    (or while it is still to be made): our reading (docs/policy.md), since the report stage
    carries no decision of its own and the follow-up is the first decision the advice informs.
    """
    decided = decided_at.get(stage)

    def before(at: datetime) -> bool:
        return decided is None or at <= decided

    times = [
        at
        for named, at in consultations
        if named == stage
        or (named is None and before(at))
        or (
            named == ConsultationStage.REPORT
            and stage == ConsultationStage.FOLLOW_UP
            and before(at)
        )
    ]
    return min(times) if times else None
