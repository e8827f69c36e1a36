"""Request bodies of the API: what a front end sends, validated before the domain sees it."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from domain.obligations import ObligationKind
from domain.values import (
    NAME_MAX,
    NARRATIVE_MAX,
    REF_MAX,
    SHORT_TEXT_MAX,
    TEXT_MAX,
    AllegationOutcome,
    CareContext,
    Client,
    ConsultationStage,
    ConsultedBody,
    Details,
    DetailsChange,
    EvidenceKind,
    FollowUpKind,
    Guardian,
    GuardianRelationship,
    Impact,
    IncidentType,
    NotificationKind,
    OccurredBetween,
    OutcomeReviewResult,
    Principal,
    Program,
    Recipient,
    Recommendation,
    Ref,
    RegulatorCategory,
    Requester,
    ReviewDecision,
    ReviewGround,
    ScopeExclusion,
    ServiceMethod,
    SubjectOfAllegation,
    UtcDatetime,
)

Text = str
# Versions and log positions are 64-bit in both stores; a larger number is refused up front.
MAX_INT = 2**62
# Every string a request carries is bounded (tests/api/test_length_bounds.py checks each one).
Short = Field(min_length=1, max_length=SHORT_TEXT_MAX)
Long = Field(min_length=1, max_length=NARRATIVE_MAX)
RefField = Field(min_length=1, max_length=REF_MAX)
NameField = Field(min_length=1, max_length=NAME_MAX)
ReasonField = Field(min_length=1, max_length=TEXT_MAX)
RefText = Annotated[str, Field(min_length=1, max_length=REF_MAX)]
LineText = Annotated[str, Field(min_length=1, max_length=SHORT_TEXT_MAX)]
ReasonText = Annotated[str, Field(min_length=1, max_length=TEXT_MAX)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Request shapes of domain values whose stored form has no bound on a field: the bound applies
# to what is sent from now on, and the domain's type (which must still read every stored event)
# is what the command receives.
class SubjectOfAllegationIn(SubjectOfAllegation):
    line_manager_ref: Ref | None = Field(default=None, max_length=REF_MAX)


class AllegationOutcomeIn(AllegationOutcome):
    subject_ref: Ref | None = Field(default=None, max_length=REF_MAX)


class DetailsChangeIn(DetailsChange):
    __doc__ = DetailsChange.__doc__
    subjects_of_allegation: tuple[SubjectOfAllegationIn, ...] | None = Field(
        default=None, max_length=50
    )


_DOMAIN_TYPES: dict[type[BaseModel], type[BaseModel]] = {
    SubjectOfAllegationIn: SubjectOfAllegation,
    AllegationOutcomeIn: AllegationOutcome,
    DetailsChangeIn: DetailsChange,
}


def as_domain(value: Any) -> Any:
    """A request value as the domain's own type: the same fields, as they were set."""
    domain_type = _DOMAIN_TYPES.get(type(value))
    if domain_type is not None:
        return domain_type.model_validate(value.model_dump(exclude_unset=True))
    if isinstance(value, list | tuple):
        return [as_domain(v) for v in value]
    return value


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
    subjects_of_allegation: list[SubjectOfAllegationIn] = Field(default_factory=list, max_length=50)
    immediate_actions: Text = Field(default="", max_length=NARRATIVE_MAX)
    regulator_category: RegulatorCategory
    other_provider: Text | None = Field(default=None, min_length=1, max_length=REF_MAX)
    historical: bool = False
    guardians: list[Guardian] = Field(
        default_factory=list,
        max_length=50,
        description="Each client's guardian or parent with parental responsibility, if known.",
    )

    def command_args(self) -> dict[str, Any]:
        between = self.occurred_between
        return {
            "program": self.program,
            "care_context": self.care_context,
            "clients": self.clients,
            "types": self.types,
            "impact": self.impact,
            "regulator_category": self.regulator_category,
            "subjects_of_allegation": as_domain(self.subjects_of_allegation),
            "guardians": self.guardians,
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


# A step that rests on a document names it (`POST /v1/incidents/{id}/documents` added it).
DocumentField = Field(
    default=None,
    description="The document on this incident's record this step rests on (its letter, "
    "report or decision), if it is there.",
)


class CommandIn(Body):
    """Every command carries the version the caller saw (or sends `If-Match`)."""

    # Strict: `true` or "1" is not a version.
    expected_version: StrictInt | None = Field(default=None, ge=0, le=MAX_INT)
    effective_at: UtcDatetime | None = Field(
        default=None,
        description="When it happened in the world, where that differs from when it is recorded.",
    )

    def command_args(self) -> dict[str, Any]:
        skip = {"expected_version", "effective_at"}
        return {
            name: as_domain(getattr(self, name))
            for name in type(self).model_fields
            if name not in skip
        }

    def related_incidents(self) -> list[UUID]:
        """Other incidents the command links to: each must be visible to the caller."""
        return []


class Reasoned(CommandIn):
    reason: Text = ReasonField


class WithdrawIn(Reasoned):
    """Withdraw a report: after an out-of-scope assessment, or as a duplicate of another."""

    duplicate_of: UUID | None = Field(
        default=None,
        description="The incident this report duplicates (one you can see), by its id.",
    )

    def related_incidents(self) -> list[UUID]:
        return [self.duplicate_of] if self.duplicate_of is not None else []


class GuardianIn(CommandIn):
    """Record a client's guardian, or a parent with parental responsibility."""

    client_ref: Text = RefField
    guardian_ref: Text = RefField
    relationship: GuardianRelationship


class RcsEndorsementIn(CommandIn):
    """Record the Integrity team's endorsement of the RCS investigation report."""

    endorsed_by: Text = NameField
    endorsed_on: date
    reference: Text = RefField
    document_id: UUID | None = DocumentField


class AmendIn(Reasoned):
    changes: DetailsChangeIn


class ReclassifyIn(Reasoned):
    types: list[IncidentType] | None = Field(default=None, min_length=1, max_length=19)
    impact: Impact | None = None
    regulator_category: RegulatorCategory | None = None


class ScopeAssessmentIn(Reasoned):
    in_scope: bool
    exclusion: ScopeExclusion | None = None


class ClientVoiceIn(CommandIn):
    client_ref: Text = RefField
    said: Text = Long
    wanted: Text = Field(default="", max_length=NARRATIVE_MAX)


class NotificationIn(CommandIn):
    kind: NotificationKind
    recipient: Text = NameField
    reference: Text | None = Field(default=None, max_length=REF_MAX)


class AboriginalConsultationIn(CommandIn):
    body: ConsultedBody
    stage: ConsultationStage
    consulted: Text = NameField
    advice: Text = Field(default="", max_length=NARRATIVE_MAX)


class DepartmentReviewIn(CommandIn):
    decision: ReviewDecision
    reason: Text | None = Field(default=None, max_length=TEXT_MAX)


class FollowUpIn(Reasoned):
    kind: FollowUpKind


class AppointInvestigatorIn(CommandIn):
    """Appoint an independent investigator: name them once, as `investigator_ref` (a subject
    of your own organisation, the token `sub` they sign in with) or as `investigator`
    (`{organisation, subject}`, for an investigator of another organisation)."""

    investigator_ref: Text | None = Field(default=None, min_length=1, max_length=REF_MAX)
    investigator: Principal | None = None
    independence_declared: bool
    declaration: Text = Long


class InvestigationPlanIn(CommandIn):
    plan: Text = Long
    lines_of_enquiry: list[LineText] = Field(default_factory=list, max_length=100)


class ServeAllegationsIn(CommandIn):
    subject_refs: list[RefText] = Field(min_length=1, max_length=50)
    method: ServiceMethod = Field(
        description="In writing: a letter by post or by hand, an email or a secure portal message"
        " (telling them in person or by phone is a contact, not service, and is refused)"
    )
    document_id: UUID | None = DocumentField


class SubjectResponseIn(CommandIn):
    subject_ref: Text = RefField
    response: Text = Field(default="", max_length=NARRATIVE_MAX)
    declined: bool = False
    document_id: UUID | None = DocumentField


class EvidenceIn(CommandIn):
    kind: EvidenceKind
    description: Text = Long
    source: Text = Field(default="", max_length=SHORT_TEXT_MAX)
    document_id: UUID | None = DocumentField


class RationaleIn(CommandIn):
    rationale: Text = ReasonField


class OutcomesIn(CommandIn):
    outcomes: list[AllegationOutcomeIn] = Field(min_length=1, max_length=200)


class InvestigationReportIn(CommandIn):
    summary: Text = Long
    recommendations: list[Recommendation] = Field(max_length=200)
    document_id: UUID | None = DocumentField


class IncidentReviewIn(CommandIn):
    what_happened: Text = Long
    contributing_factors: Text = Long
    recommendations: list[Recommendation] = Field(default_factory=list, max_length=200)
    no_recommendations_reason: Text | None = Field(
        default=None, max_length=TEXT_MAX, description="Why the review makes no recommendations."
    )
    document_id: UUID | None = DocumentField


class CommunicateOutcomeIn(CommandIn):
    recipient: Recipient
    recipient_ref: Text = RefField
    in_writing: bool


class RequestOutcomeReviewIn(CommandIn):
    requester: Requester
    requester_ref: Text = RefField
    grounds: list[ReviewGround] = Field(min_length=1, max_length=5)
    reason: Text | None = Field(default=None, max_length=TEXT_MAX)


class AppointOutcomeReviewerIn(CommandIn):
    """Appoint the reviewer of a pending outcome review, independent of the original decision:
    name them once, as `reviewer_ref` (a subject of your own organisation) or as `reviewer`
    (`{organisation, subject}`). Only they, with the reviewer role, decide the review."""

    reviewer_ref: Text | None = Field(default=None, min_length=1, max_length=REF_MAX)
    reviewer: Principal | None = None


class DecideOutcomeReviewIn(Reasoned):
    result: OutcomeReviewResult
    varied_outcomes: list[AllegationOutcomeIn] = Field(default_factory=list, max_length=200)
    document_id: UUID | None = DocumentField


class SupersedeDocumentIn(Reasoned):
    """Mark a document on the record superseded (added in error, or replaced), with why."""

    document_id: UUID


class PlanIn(CommandIn):
    plan: Text = Long


class CarerSupportPlanIn(PlanIn):
    carer_ref: Text = RefField


class ExtendIn(Reasoned):
    obligation_kind: ObligationKind
    new_due: UtcDatetime
    approved_by: Text = NameField


class RecommendationActionIn(CommandIn):
    recommendation_id: Text = RefField
    action: Text = ReasonField


class CloseIn(Reasoned):
    not_required: dict[ObligationKind, ReasonText] = Field(default_factory=dict, max_length=20)


class CorrectionIn(Reasoned):
    corrected_version: int = Field(ge=1, le=MAX_INT)
    changes: DetailsChangeIn


class ResponsibleOrganisationIn(Reasoned):
    """Name the organisation responsible for the incident besides the reporting one (or
    remove it with null). It decides who sees the record, so only the reporting organisation
    or the department changes it, and the event says so in the audit trail."""

    other_provider: Text | None = Field(min_length=1, max_length=REF_MAX)


class FeedName(StrEnum):
    """The regulators' feeds (`projections.regulator_feed.REGULATORS`)."""

    SSR = "ssr"
    CCYP = "ccyp"


class Accepted(BaseModel):
    id: str
    version: int
    position: int | None
    event: dict[str, Any]


class ResolveLegacyTypeIn(Reasoned):
    """Resolve a split legacy type (Injury, Self-harm/attempted suicide) to a current type."""

    legacy_label: Text = Field(
        min_length=1, max_length=2_000, description="The split legacy type, for example Injury."
    )
    incident_type: IncidentType = Field(description="The current type a person chose for it.")
