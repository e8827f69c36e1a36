"""Request bodies of the API: what a front end sends, validated before the domain sees it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from domain.values import (
    AllegationOutcome,
    CareContext,
    Client,
    ConsultedBody,
    Details,
    DetailsChange,
    EvidenceKind,
    FollowUpKind,
    Impact,
    IncidentType,
    NotificationKind,
    OccurredBetween,
    OutcomeReviewResult,
    Program,
    Recipient,
    Recommendation,
    RegulatorCategory,
    Requester,
    ReviewDecision,
    ReviewGround,
    ScopeExclusion,
    SubjectOfAllegation,
    UtcDatetime,
)

Text = str
# Versions and log positions are 64-bit in both stores; a larger number is refused up front.
MAX_INT = 2**62
Short = Field(min_length=1, max_length=2_000)
Long = Field(min_length=1, max_length=50_000)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReportIn(Body):
    program: Program
    care_context: CareContext
    clients: list[Client] = Field(min_length=1, max_length=50)
    types: list[IncidentType] = Field(min_length=1, max_length=19)
    impact: Impact
    occurred_at: UtcDatetime | None = None
    occurred_between: tuple[UtcDatetime, UtcDatetime] | None = None
    became_aware_at: UtcDatetime
    location: Text = Short
    description: Text = Long
    subjects_of_allegation: list[SubjectOfAllegation] = Field(default_factory=list, max_length=50)
    immediate_actions: Text = Field(default="", max_length=50_000)
    regulator_category: RegulatorCategory
    other_provider: Text | None = Field(default=None, min_length=1, max_length=200)
    historical: bool = False

    def command_args(self) -> dict[str, Any]:
        between = self.occurred_between
        return {
            "program": self.program,
            "care_context": self.care_context,
            "clients": self.clients,
            "types": self.types,
            "impact": self.impact,
            "regulator_category": self.regulator_category,
            "subjects_of_allegation": self.subjects_of_allegation,
            "details": Details(
                occurred_at=self.occurred_at,
                occurred_between=OccurredBetween(start=between[0], end=between[1])
                if between
                else None,
                became_aware_at=self.became_aware_at,
                location=self.location,
                description=self.description,
                immediate_actions=self.immediate_actions,
                other_provider=self.other_provider,
                historical=self.historical,
            ),
        }


class CommandIn(Body):
    """Every command carries the version the caller saw (or sends `If-Match`)."""

    # Strict: `true` or "1" is not a version.
    expected_version: StrictInt | None = Field(default=None, ge=0, le=MAX_INT)
    effective_at: UtcDatetime | None = Field(
        default=None, description="when it happened in the world, where that differs"
    )

    def command_args(self) -> dict[str, Any]:
        skip = {"expected_version", "effective_at"}
        return {name: getattr(self, name) for name in type(self).model_fields if name not in skip}


class Reasoned(CommandIn):
    reason: Text = Long


class AmendIn(Reasoned):
    changes: DetailsChange


class ReclassifyIn(Reasoned):
    types: list[IncidentType] | None = Field(default=None, min_length=1, max_length=19)
    impact: Impact | None = None
    regulator_category: RegulatorCategory | None = None


class ScopeAssessmentIn(Reasoned):
    in_scope: bool
    exclusion: ScopeExclusion | None = None


class ClientVoiceIn(CommandIn):
    client_ref: Text = Short
    said: Text = Long
    wanted: Text = Field(default="", max_length=50_000)


class NotificationIn(CommandIn):
    kind: NotificationKind
    recipient: Text = Short
    reference: Text | None = Field(default=None, max_length=200)


class AboriginalConsultationIn(CommandIn):
    body: ConsultedBody
    stage: Text = Short
    consulted: Text = Short
    advice: Text = Field(default="", max_length=50_000)


class DepartmentReviewIn(CommandIn):
    decision: ReviewDecision
    reason: Text | None = Field(default=None, max_length=50_000)


class FollowUpIn(Reasoned):
    kind: FollowUpKind


class AppointInvestigatorIn(CommandIn):
    investigator_ref: Text = Short
    independence_declared: bool
    declaration: Text = Long


class InvestigationPlanIn(CommandIn):
    plan: Text = Long
    lines_of_enquiry: list[Text] = Field(default_factory=list, max_length=100)


class ServeAllegationsIn(CommandIn):
    subject_refs: list[Text] = Field(min_length=1, max_length=50)
    method: Text = Field(default="in writing", min_length=1, max_length=200)


class SubjectResponseIn(CommandIn):
    subject_ref: Text = Short
    response: Text = Field(default="", max_length=50_000)
    declined: bool = False


class EvidenceIn(CommandIn):
    kind: EvidenceKind
    description: Text = Long
    source: Text = Field(default="", max_length=2_000)


class RationaleIn(CommandIn):
    rationale: Text = Long


class OutcomesIn(CommandIn):
    outcomes: list[AllegationOutcome] = Field(min_length=1, max_length=200)


class InvestigationReportIn(CommandIn):
    summary: Text = Long
    recommendations: list[Recommendation] = Field(max_length=200)


class IncidentReviewIn(CommandIn):
    what_happened: Text = Long
    contributing_factors: Text = Long
    recommendations: list[Recommendation] = Field(max_length=200)


class CommunicateOutcomeIn(CommandIn):
    recipient: Recipient
    recipient_ref: Text = Short
    in_writing: bool


class RequestOutcomeReviewIn(CommandIn):
    requester: Requester
    requester_ref: Text = Short
    grounds: list[ReviewGround] = Field(min_length=1, max_length=5)
    reason: Text | None = Field(default=None, max_length=50_000)


class DecideOutcomeReviewIn(Reasoned):
    result: OutcomeReviewResult
    varied_outcomes: list[AllegationOutcome] = Field(default_factory=list, max_length=200)


class PlanIn(CommandIn):
    plan: Text = Long


class CarerSupportPlanIn(PlanIn):
    carer_ref: Text = Short


class ExtendIn(Reasoned):
    obligation_kind: Text = Short
    new_due: UtcDatetime
    approved_by: Text = Short


class RecommendationActionIn(CommandIn):
    recommendation_id: Text = Short
    action: Text = Long


class CloseIn(Reasoned):
    not_required: dict[str, Text] = Field(default_factory=dict, max_length=20)


class CorrectionIn(Reasoned):
    corrected_version: int = Field(ge=1, le=MAX_INT)
    changes: DetailsChange


class Accepted(BaseModel):
    id: str
    version: int
    position: int | None
    event: dict[str, Any]


class ResolveLegacyTypeIn(Reasoned):
    """Resolve a split legacy type (Injury, Self-harm/attempted suicide) to a current type."""

    legacy_label: Text = Short
    incident_type: IncidentType
