"""Policy §5 (major impact needs follow-up), §5a (police, Integrity team), §7 (RCS), §8-9."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from domain.errors import PolicyViolation
from domain.local_time import melbourne
from domain.rules.classification import ABUSE_TYPES
from domain.values import (
    FollowUpKind,
    Impact,
    IncidentType,
    Program,
    Recommendation,
    SubjectOfAllegation,
    SubjectRole,
)

INVESTIGATIONS = frozenset({FollowUpKind.INVESTIGATION, FollowUpKind.RCS_IN_LIEU})
T = IncidentType


def investigation_mandatory(
    types: Collection[IncidentType], impact: Impact, subjects: Collection[SubjectOfAllegation]
) -> bool:
    """Major abuse by staff, abuse between clients, neglect, unexplained injury: investigate."""
    if impact != Impact.MAJOR:
        return False
    abuse = bool(set(types) & ABUSE_TYPES)
    roles = {s.role for s in subjects}
    return (
        (abuse and SubjectRole.STAFF in roles)
        or (abuse and SubjectRole.CLIENT in roles)
        or T.NEGLECT in types
        or T.INJURY_UNEXPLAINED in types
    )


def police_contact_required(types: Collection[IncidentType], impact: Impact) -> bool:
    """Sexual or physical abuse, or serious (major) neglect, is reported to police first."""
    return bool({T.SEXUAL_ABUSE, T.PHYSICAL_ABUSE} & set(types)) or (
        T.NEGLECT in types and impact == Impact.MAJOR
    )


def integrity_advice_required(program: Program, subjects: Collection[SubjectOfAllegation]) -> bool:
    """Child Protection seeks Integrity team advice on any allegation of harm in care."""
    return program == Program.CHILD_PROTECTION and any(
        s.role != SubjectRole.CLIENT for s in subjects
    )


def require_follow_up_for_major(impact: Impact, kind: FollowUpKind) -> None:
    """A major-impact incident needs an investigation or an incident review."""
    if impact == Impact.MAJOR and kind == FollowUpKind.LOCAL_RESPONSE:
        raise PolicyViolation(
            "follow-up.major-needs-investigation-or-review",
            "a major-impact incident needs an investigation or an incident review",
            field="kind",
        )


def require_investigation_where_mandatory(
    types: Collection[IncidentType],
    impact: Impact,
    subjects: Collection[SubjectOfAllegation],
    kind: FollowUpKind,
) -> None:
    """Where §5 mandates an investigation, an incident review does not suffice."""
    if kind not in INVESTIGATIONS and investigation_mandatory(types, impact, subjects):
        raise PolicyViolation(
            "follow-up.investigation-mandatory",
            "a major-impact allegation of abuse against staff, abuse between clients, neglect or "
            "unexplained injury must be investigated",
            field="kind",
        )


def require_follow_up_not_started(started: bool) -> None:
    """The follow-up cannot be changed once an investigator or review has started on it."""
    if started:
        raise PolicyViolation(
            "follow-up.already-started",
            "the follow-up is under way; it cannot be redetermined",
            field="kind",
        )


def require_police_contact_before_investigation(
    required: bool, police_notified_at: datetime | None, at: datetime | None = None
) -> None:
    """Police are told of sexual or physical abuse or serious neglect before investigating:
    the report to police takes effect no later than the investigation starts (`at`)."""
    if required and (police_notified_at is None or (at is not None and at < police_notified_at)):
        raise PolicyViolation(
            "follow-up.police-contact-before-investigation",
            "record the report to police before the investigation starts"
            + _dated(police_notified_at, at),
            field="notifications",
        )


def require_integrity_advice_before_investigation(
    required: bool, advised_at: datetime | None, at: datetime | None = None
) -> None:
    """Child Protection seeks Integrity team advice before any investigation starts (taking
    effect no later than the investigation starts, `at`)."""
    if required and (advised_at is None or (at is not None and at < advised_at)):
        raise PolicyViolation(
            "follow-up.integrity-advice-before-investigation",
            "record the Integrity team's advice before the investigation starts"
            + _dated(advised_at, at),
            field="notifications",
        )


def require_integrity_advice_for_rcs(
    kind: FollowUpKind, program: Program, advised_at: datetime | None, at: datetime | None = None
) -> None:
    """Child Protection puts an RCS investigation in lieu of CIMS's on the Integrity team's
    advice (manual 1516). Our reading (§7): another provider has the choice itself (the 2024
    summary: providers "will have the choice"); the Integrity team's step is Child
    Protection's."""
    if kind != FollowUpKind.RCS_IN_LIEU or program != Program.CHILD_PROTECTION:
        return
    if advised_at is None or (at is not None and at < advised_at):
        raise PolicyViolation(
            "rcs.integrity-advice-required",
            "Child Protection puts an RCS investigation in lieu only on the Integrity team's"
            " advice, recorded first" + _dated(advised_at, at),
            field="kind",
        )


def _dated(prerequisite_at: datetime | None, at: datetime | None) -> str:
    if prerequisite_at is None or at is None:
        return ""
    return f" (it took effect {melbourne(prerequisite_at)}, after {melbourne(at)})"


def require_investigation_follow_up(kind: FollowUpKind | None) -> None:
    """Investigation steps need an investigation (or RCS in lieu) to have been determined."""
    if kind not in INVESTIGATIONS:
        raise PolicyViolation(
            "investigation.not-determined",
            "no investigation has been determined for this incident",
            field="follow_up",
        )


def require_incident_review_follow_up(kind: FollowUpKind | None) -> None:
    """An incident review is completed only where one was determined."""
    if kind != FollowUpKind.INCIDENT_REVIEW:
        raise PolicyViolation(
            "review.not-determined",
            "no incident review has been determined for this incident",
            field="follow_up",
        )


def require_recommendations(
    kind: FollowUpKind | None, recommendations: Collection[Recommendation]
) -> None:
    """An investigation report has recommendations; an RCS report a Recommendations section."""
    if recommendations:
        return
    if kind == FollowUpKind.RCS_IN_LIEU:
        raise PolicyViolation(
            "rcs.recommendations-section-required",
            "an RCS investigation lodged in lieu must contain a Recommendations section",
            field="recommendations",
        )
    raise PolicyViolation(
        "investigation.recommendations-required",
        "an investigation report must make recommendations",
        field="recommendations",
    )


def require_review_sections(what_happened: str, contributing_factors: str) -> None:
    """An incident review says what happened and why, and the contributing factors."""
    if not what_happened.strip() or not contributing_factors.strip():
        raise PolicyViolation(
            "review.sections-required",
            "an incident review covers what happened and why, and the contributing factors",
            field="what_happened",
        )


def require_unique_recommendation_ids(
    recommendations: Collection[Recommendation], existing: Collection[str]
) -> None:
    """Each recommendation has its own id, so its actioning can be tracked."""
    ids = [r.id for r in recommendations]
    if len(set(ids)) != len(ids) or set(ids) & set(existing):
        raise PolicyViolation(
            "recommendation.id-repeated",
            "each recommendation needs an id not used before on this incident",
            field="recommendations",
        )


def require_known_recommendation(rec_id: str, known: Collection[str]) -> None:
    """Only a recommendation made in a report or review can be actioned."""
    if rec_id not in known:
        raise PolicyViolation(
            "recommendation.unknown",
            f"no recommendation {rec_id!r} was made on this incident",
            field="recommendation_id",
        )


def require_plan_before_report(
    kind: FollowUpKind | None, plan_recorded: bool, sufficient_evidence_rationale: str | None
) -> None:
    """An investigation follows a plan recorded before its report, unless the evidence at the
    outset was judged sufficient (an RCS investigation follows the RCS process instead)."""
    if kind == FollowUpKind.RCS_IN_LIEU or plan_recorded or sufficient_evidence_rationale:
        return
    raise PolicyViolation(
        "investigation.plan-before-report",
        "record the investigation plan (or the sufficient-evidence rationale) before the report",
        field="summary",
    )


def require_report_not_submitted(submitted: bool) -> None:
    """An investigation report is submitted once; an error in it is corrected, not resubmitted."""
    if submitted:
        raise PolicyViolation(
            "investigation.report-already-submitted",
            "the investigation report was already submitted; record a correction instead",
            field="summary",
        )


def require_review_not_completed(completed: bool) -> None:
    """An incident review completes once; an error in it is corrected, not completed again."""
    if completed:
        raise PolicyViolation(
            "review.already-completed",
            "the incident review was already completed; record a correction instead",
            field="what_happened",
        )


def require_recommendations_or_reason(
    recommendations: Collection[Recommendation], no_recommendations_reason: str | None
) -> None:
    """An incident review carries recommendations, or says explicitly why it makes none."""
    reason = (no_recommendations_reason or "").strip()
    if bool(recommendations) == bool(reason):
        raise PolicyViolation(
            "review.recommendations-or-reason",
            "an incident review makes recommendations, or gives no_recommendations_reason"
            " (not both)",
            field="recommendations",
        )


def require_rcs_in_lieu(kind: FollowUpKind | None) -> None:
    """Only an RCS investigation determined in lieu of CIMS's is endorsed for lodging."""
    if kind != FollowUpKind.RCS_IN_LIEU:
        raise PolicyViolation(
            "rcs.not-in-lieu",
            "no RCS investigation in lieu was determined for this incident",
            field="follow_up",
        )


def require_rcs_endorsement(kind: FollowUpKind | None, endorsed: bool) -> None:
    """An RCS investigation report is submitted into CIMS once endorsed by the Integrity team."""
    if kind == FollowUpKind.RCS_IN_LIEU and not endorsed:
        raise PolicyViolation(
            "rcs.endorsement-required",
            "the Integrity team's endorsement of the RCS investigation is not recorded;"
            " it cannot stand in lieu until endorsed",
            field="summary",
        )
