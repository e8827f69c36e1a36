"""The Incident aggregate: one CIMS incident report and every step taken on it after."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar, NoReturn
from uuid import UUID

from pydantic import Field

from domain.base import Aggregate, applies
from domain.errors import PolicyViolation
from domain.legacy_records import LegacyProvenance, LegacyRecord, LegacyStatus
from domain.policy_table import policy_named, regime_at_submission
from domain.rules import (
    appointment,
    classification,
    closure,
    consultation,
    fairness,
    follow_up,
    outcome_review,
    response,
    responsibility,
    scope,
    sequence,
)
from domain.rules import documents as document_rules
from domain.rules import legacy as legacy_rules
from domain.rules import patterns as pattern_rules
from domain.rules.closure import ObligationLike
from domain.values import (
    AllegationOutcome,
    CareContext,
    Client,
    ConsultationStage,
    ConsultedBody,
    Details,
    DetailsChange,
    DocumentKind,
    DocumentOnRecord,
    EvidenceKind,
    FollowUpKind,
    Guardian,
    GuardianRelationship,
    Impact,
    IncidentType,
    NotificationKind,
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
    Service,
    ServiceMethod,
    Stamp,
    SubjectOfAllegation,
    UtcDatetime,
    WithdrawalCategory,
)

Text = str
# The steps others depend on, as `Incident.took_effect` names them (and a refusal says them).
STEP_SCOPE = "the out-of-scope assessment"
STEP_FOLLOW_UP = "the follow-up determination"
STEP_APPOINTED = "the investigator's appointment"
STEP_EVIDENCE = "the first evidence"
STEP_RATIONALE = "the sufficient-evidence rationale"
STEP_OUTCOME = "the outcome"
STEP_ENDORSED = "the Integrity team's endorsement"
STEP_REVIEW_REQUESTED = "the outcome review request"
STEP_REVIEWER = "the outcome reviewer's appointment"
STEP_CLOSED = "the closure"


class Stage(StrEnum):
    REPORTED = "reported"
    OUT_OF_SCOPE = "out_of_scope"
    FOLLOW_UP_DETERMINED = "follow_up_determined"
    UNDER_INVESTIGATION = "under_investigation"
    UNDER_INCIDENT_REVIEW = "under_incident_review"
    OUTCOME_RECORDED = "outcome_recorded"
    OUTCOME_REVIEW = "outcome_review"
    RESPONSE = "response"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class Incident(Aggregate):
    """A client incident report and its follow-up, as CIMS policy requires."""

    # ---- the event catalogue, in lifecycle order --------------------------------------------

    class Reported(Aggregate.Created):
        """An incident that harmed a client was reported in CIMS."""

        reporting_organisation: str
        program: Program
        care_context: CareContext
        clients: tuple[Client, ...]
        types: tuple[IncidentType, ...]
        impact: Impact
        regulator_category: RegulatorCategory
        subjects_of_allegation: tuple[SubjectOfAllegation, ...]
        details: Details
        policy_version: str
        legacy_types: tuple[str, ...] = ()
        guardians: tuple[Guardian, ...] = ()
        # The report's submission instant where it is not this event's own time: a record
        # imported from the old system keeps its original one (and so its regime).
        submitted_at: UtcDatetime | None = None
        imported: LegacyProvenance | None = None
        # A new major-impact report escalating a pattern names the incidents that formed it.
        pattern_of: tuple[UUID, ...] = ()

    class DetailsAmended(Aggregate.Event):
        """Facts of the report were amended as new information came to hand."""

        changes: DetailsChange

    class Reclassified(Aggregate.Event):
        """The incident's types, impact or regulator category were reclassified."""

        types: tuple[IncidentType, ...]
        impact: Impact
        regulator_category: RegulatorCategory

    class ScopeAssessed(Aggregate.Event):
        """The incident was assessed as in or out of CIMS scope."""

        in_scope: bool
        exclusion: ScopeExclusion | None = None

    class Withdrawn(Aggregate.Event):
        """The report was withdrawn, as out of scope or as a duplicate of another incident."""

        # Absent on withdrawals recorded before their grounds were required.
        category: WithdrawalCategory | None = None
        exclusion: ScopeExclusion | None = None
        duplicate_of: UUID | None = None

    class ClientVoiceRecorded(Aggregate.Event):
        """What the client said happened and what they want was recorded."""

        client_ref: Ref
        said: Text
        wanted: Text = ""

    class NotificationRecorded(Aggregate.Event):
        """Someone outside the provider was notified (police, guardian, regulator, CCYP...)."""

        kind: NotificationKind
        recipient: Text
        reference: Text | None = None

    class GuardianRecorded(Aggregate.Event):
        """A client's guardian, or a parent with parental responsibility, was recorded."""

        guardian: Guardian

    class AboriginalConsultationRecorded(Aggregate.Event):
        """ACSASS, an ACCO or the ACAC provider was consulted about an Aboriginal client."""

        body: ConsultedBody
        # Version 1 took the stage as free text: kept as `legacy_stage` when it names none.
        stage: ConsultationStage | None = None
        consulted: Text
        advice: Text = ""
        legacy_stage: Text | None = None
        class_version: ClassVar[int] = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            text = state.get("stage")
            known = text in set(ConsultationStage)
            state["stage"] = text if known else None
            state["legacy_stage"] = None if known else text

    class DepartmentReviewRecorded(Aggregate.Event):
        """The department's CIMS officer reviewed the report."""

        decision: ReviewDecision

    class FollowUpDetermined(Aggregate.Event):
        """The follow-up was determined: investigation, incident review, RCS or local response."""

        kind: FollowUpKind

    class InvestigatorAppointed(Aggregate.Event):
        """An independent investigator was appointed and declared their independence."""

        investigator_ref: Ref
        independence_declared: bool
        declaration: Text
        # With `investigator_ref`, the principal appointed. Absent on events recorded before
        # appointees were principals: those named a subject of the appointing organisation.
        investigator_organisation: str | None = None

    class InvestigationPlanRecorded(Aggregate.Event):
        """The investigation plan and its lines of enquiry were recorded."""

        plan: Text
        lines_of_enquiry: tuple[Text, ...] = ()

    class AllegationsServed(Aggregate.Event):
        """Allegations were put in writing to each subject of allegation named."""

        subject_refs: tuple[Ref, ...]
        # Version 1 took the method as free text: kept as `legacy_method` when it names none.
        method: ServiceMethod | None = None
        legacy_method: Text | None = None
        # The letter that served them, when it is on the record (absent on older events).
        document_id: UUID | None = None
        class_version: ClassVar[int] = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            text = state.get("method")
            known = text in set(ServiceMethod)
            state["method"] = text if known else None
            state["legacy_method"] = None if known else text

    class SubjectResponseRecorded(Aggregate.Event):
        """A subject of allegation's response (or their choice not to respond) was recorded."""

        subject_ref: Ref
        response: Text
        declined: bool = False
        document_id: UUID | None = None

    class EvidenceRecorded(Aggregate.Event):
        """Evidence was gathered, including reused Child Protection interviews or CCTV."""

        kind: EvidenceKind
        description: Text
        source: Text = ""
        document_id: UUID | None = None

    class SufficientEvidenceRationaleRecorded(Aggregate.Event):
        """The evidence at the outset was judged sufficient, with the rationale why."""

        rationale: Text

    class InvestigationOutcomeRecorded(Aggregate.Event):
        """The investigation's finding on each allegation was recorded."""

        outcomes: tuple[AllegationOutcome, ...]

    class InvestigationReportSubmitted(Aggregate.Event):
        """The investigation report, with its recommendations, was submitted."""

        summary: Text
        recommendations: tuple[Recommendation, ...]
        document_id: UUID | None = None

    class IncidentReviewCompleted(Aggregate.Event):
        """The incident review was completed: what happened, why, and recommendations."""

        what_happened: Text
        contributing_factors: Text
        recommendations: tuple[Recommendation, ...]
        no_recommendations_reason: Text | None = None
        document_id: UUID | None = None

    class RcsInvestigationEndorsed(Aggregate.Event):
        """The Integrity team endorsed the RCS investigation report for lodging in CIMS."""

        endorsed_by: Text
        endorsed_on: date
        reference: Text
        document_id: UUID | None = None

    class OutcomeCommunicated(Aggregate.Event):
        """The outcome was communicated to a client, guardian or subject of allegation."""

        recipient: Recipient
        recipient_ref: Ref
        in_writing: bool

    class OutcomeReviewRequested(Aggregate.Event):
        """A review of the outcome was requested, on stated grounds."""

        requester: Requester
        requester_ref: Ref
        grounds: tuple[ReviewGround, ...]

    class OutcomeReviewerAppointed(Aggregate.Event):
        """A reviewer independent of the original decision was appointed to the pending review."""

        reviewer: Principal

    class OutcomeReviewDecided(Aggregate.Event):
        """The outcome review confirmed or varied the outcome."""

        result: OutcomeReviewResult
        varied_outcomes: tuple[AllegationOutcome, ...] = ()
        document_id: UUID | None = None

    class ResponsePlanRecorded(Aggregate.Event):
        """A response plan was recorded and integrated into case and care planning."""

        plan: Text

    class CarerSupportPlanRecorded(Aggregate.Event):
        """A support plan for a carer was recorded following the incident."""

        carer_ref: Ref
        plan: Text

    class DeadlineExtended(Aggregate.Event):
        """A deadline was extended by an approver, with the reason."""

        obligation_kind: str
        new_due: UtcDatetime
        approved_by: Text

    class RecommendationActioned(Aggregate.Event):
        """A recommendation was actioned."""

        recommendation_id: str
        action: Text

    class Closed(Aggregate.Event):
        """The incident was closed; steps not required were named with why."""

        not_required: dict[str, str] = Field(default_factory=dict)

    class Reopened(Aggregate.Event):
        """The incident was reopened."""

    class ResponsibleOrganisationChanged(Aggregate.Event):
        """The organisation responsible for the incident besides the reporting one was changed
        (or removed): which organisations see the record changed with it."""

        other_provider: str | None
        previous: str | None

    class RecordCorrected(Aggregate.Event):
        """An error in an earlier event was corrected; the original event stays as it was."""

        corrected_version: int
        changes: DetailsChange

    # ---- state -----------------------------------------------------------------------------

    reporting_organisation: str
    reporter_id: str
    program: Program
    care_context: CareContext
    clients: tuple[Client, ...]
    types: tuple[IncidentType, ...]
    impact: Impact
    regulator_category: RegulatorCategory
    subjects: tuple[SubjectOfAllegation, ...]
    details: Details
    policy_version: str
    legacy_types: tuple[str, ...]
    in_scope: bool | None
    exclusion: ScopeExclusion | None
    withdrawn: bool
    closed: bool
    client_voices: int
    notified: dict[NotificationKind, datetime]
    consultations: tuple[ConsultedBody, ...]
    department_review: ReviewDecision | None
    follow_up: FollowUpKind | None
    investigator_ref: Ref | None
    investigator: Principal | None
    outcome_reviewer: Principal | None
    independence_declared: bool
    plan_recorded: bool
    served: frozenset[Ref]
    responded: frozenset[Ref]
    evidence_count: int
    sufficient_evidence_rationale: str | None
    outcomes: tuple[AllegationOutcome, ...]
    outcome_decided_by: frozenset[str]
    report_submitted: bool
    review_completed: bool
    recommendations: tuple[Recommendation, ...]
    communicated: frozenset[tuple[Recipient, Ref]]
    review_pending: tuple[Requester, Ref] | None
    reviews_decided: int
    response_plan_recorded: bool
    carer_support_plans: frozenset[Ref]
    extensions: dict[str, datetime]
    actioned: frozenset[str]
    corrections: tuple[int, ...]
    guardians: tuple[Guardian, ...]
    service: dict[Ref, Service]
    withdrawal: WithdrawalCategory | None
    rcs_endorsed: bool
    consulted_stages: tuple[tuple[ConsultationStage | None, datetime], ...]
    decided_at: dict[str, datetime]
    # When each step another depends on first took effect (the latest, for a step that can be
    # taken again: a closure, an out-of-scope assessment, a review request or appointment).
    took_effect: dict[str, datetime]
    # Whether the report was of major impact at any point in its history (policy §11).
    ever_major: bool
    # When each subject's response took effect (the first recorded).
    responded_at: dict[Ref, datetime]

    def __init__(self) -> None:
        """State is assigned by `_reported`, so every load rebuilds it from the events alone."""

    # ---- commands --------------------------------------------------------------------------

    @classmethod
    def report(
        cls,
        *,
        program: Program,
        care_context: CareContext,
        clients: Sequence[Client],
        types: Sequence[IncidentType],
        impact: Impact,
        regulator_category: RegulatorCategory,
        subjects_of_allegation: Sequence[SubjectOfAllegation],
        details: Details,
        stamp: Stamp,
        legacy_types: Sequence[str] = (),
        guardians: Sequence[Guardian] = (),
        incident_id: Any = None,
        pattern_of: Sequence[UUID] = (),
        reason: str | None = None,
    ) -> Incident:
        scope.require_not_parental_care(care_context)
        scope.require_responsible_reporter(program, care_context)
        if not clients:
            raise_missing("report.client-required", "name at least one client", "clients")
        classification.require_types(types)
        classification.require_mandatory_major(types, impact, subjects_of_allegation)
        responsibility.require_not_the_reporter(
            details.other_provider, stamp.actor.organisation, "details.other_provider"
        )
        for n, guardian in enumerate(guardians):
            fairness.require_known_client(
                guardian.client_ref, {c.ref for c in clients}, field=f"guardians.{n}.client_ref"
            )
        between = details.occurred_between
        scope.require_times_in_order(
            details.occurred_at,
            between.start if between else None,
            between.end if between else None,
            details.became_aware_at,
            stamp.now,
        )
        # The submission instant, not awareness, chooses the regime (policy §0).
        policy = regime_at_submission(stamp.now)
        return cls._create(
            cls.Reported,
            id=incident_id,
            timestamp=stamp.now,
            actor=stamp.actor,
            command_id=stamp.command_id,
            effective_at=stamp.effective_at,
            reporting_organisation=stamp.actor.organisation,
            program=program,
            care_context=care_context,
            clients=tuple(clients),
            types=tuple(types),
            impact=impact,
            regulator_category=regulator_category,
            subjects_of_allegation=tuple(subjects_of_allegation),
            details=details,
            policy_version=policy.version,
            legacy_types=tuple(legacy_types),
            guardians=tuple(guardians),
            pattern_of=tuple(pattern_of),
            reason=reason,
        )

    def amend(self, changes: DetailsChange, reason: str, *, stamp: Stamp) -> None:
        closure.require_open(self.closed, self.withdrawn)
        closure.require_something_to_change(changes.fields(), "amend.no-change")
        responsibility.require_access_unchanged(changes)
        classification.require_reason(reason)
        self._check_changed_facts(changes, stamp)
        self._record(self.DetailsAmended, stamp, changes=changes, reason=reason)

    def reclassify(
        self,
        reason: str,
        *,
        stamp: Stamp,
        types: Sequence[IncidentType] | None = None,
        impact: Impact | None = None,
        regulator_category: RegulatorCategory | None = None,
    ) -> None:
        closure.require_open(self.closed, self.withdrawn)
        classification.require_reason(reason)
        new_types = tuple(types) if types is not None else self.types
        new_impact = impact or self.impact
        new_category = regulator_category or self.regulator_category
        classification.require_types(new_types)
        classification.require_a_change(
            (new_types, new_impact, new_category)
            != (self.types, self.impact, self.regulator_category)
        )
        classification.require_no_downgrade_below_mandatory_major(
            new_types, new_impact, self.subjects
        )
        self._record(
            self.Reclassified,
            stamp,
            types=new_types,
            impact=new_impact,
            regulator_category=new_category,
            reason=reason,
        )

    def assess_scope(
        self, in_scope: bool, reason: str, *, stamp: Stamp, exclusion: ScopeExclusion | None = None
    ) -> None:
        closure.require_open(self.closed, self.withdrawn)
        classification.require_reason(reason)
        scope.require_exclusion_named(in_scope, exclusion)
        self._record(
            self.ScopeAssessed, stamp, in_scope=in_scope, exclusion=exclusion, reason=reason
        )

    def withdraw(
        self,
        reason: str,
        *,
        stamp: Stamp,
        duplicate_of: UUID | None = None,
        duplicate: response.DuplicateTarget | None = None,
    ) -> None:
        """Withdraw the report: out of scope, or as a duplicate of `duplicate_of`, whose facts
        (`duplicate`, None when it is not on record for the caller) the ledger reads."""
        closure.require_open(self.closed, self.withdrawn)
        classification.require_reason(reason)
        closure.require_no_outcome_for_withdrawal(bool(self.outcomes))
        response.require_withdrawal_grounds(self.in_scope, self.exclusion, duplicate_of)
        response.require_other_incident(duplicate_of, self.id, duplicate)
        if duplicate_of is not None:
            response.require_live_duplicate(duplicate)
            response.require_same_clients(self.clients, self.reporting_organisation, duplicate)
        response.require_department_approval(self.ever_major, stamp.actor.role)
        category = response.withdrawal_category(self.in_scope, duplicate_of)
        if category == WithdrawalCategory.OUT_OF_SCOPE:
            self._require_after(stamp, "the withdrawal", STEP_SCOPE)
        self._record(
            self.Withdrawn,
            stamp,
            category=category,
            exclusion=self.exclusion if category == WithdrawalCategory.OUT_OF_SCOPE else None,
            duplicate_of=duplicate_of,
            reason=reason,
        )

    def record_guardian(
        self,
        client_ref: Ref,
        guardian_ref: Ref,
        relationship: GuardianRelationship,
        *,
        stamp: Stamp,
    ) -> None:
        closure.require_open(self.closed, self.withdrawn)
        fairness.require_known_client(client_ref, self._client_refs())
        require_text(guardian_ref, "guardian.ref-required", "guardian_ref")
        guardian = Guardian(ref=guardian_ref, client_ref=client_ref, relationship=relationship)
        self._record(self.GuardianRecorded, stamp, guardian=guardian)

    def record_client_voice(
        self, client_ref: Ref, said: str, *, stamp: Stamp, wanted: str = ""
    ) -> None:
        closure.require_open(self.closed, self.withdrawn)
        require_text(said, "client-voice.said-required", "said")
        fairness.require_voice_of_known_client(client_ref, self._client_refs())
        self._record(
            self.ClientVoiceRecorded, stamp, client_ref=client_ref, said=said, wanted=wanted
        )

    def record_notification(
        self, kind: NotificationKind, recipient: str, *, stamp: Stamp, reference: str | None = None
    ) -> None:
        closure.require_open(self.closed, self.withdrawn)
        require_text(recipient, "notification.recipient-required", "recipient")
        self._record(
            self.NotificationRecorded, stamp, kind=kind, recipient=recipient, reference=reference
        )

    def record_aboriginal_consultation(
        self, body: ConsultedBody, stage: str, consulted: str, *, stamp: Stamp, advice: str = ""
    ) -> None:
        closure.require_open(self.closed, self.withdrawn)
        consultation.require_consultation_stage(stage)
        require_text(consulted, "consultation.consulted-required", "consulted")
        self._record(
            self.AboriginalConsultationRecorded,
            stamp,
            body=body,
            stage=stage,
            consulted=consulted,
            advice=advice,
        )

    def record_department_review(
        self, decision: ReviewDecision, *, stamp: Stamp, reason: str | None = None
    ) -> None:
        closure.require_open(self.closed, self.withdrawn)
        if decision == ReviewDecision.MORE_INFORMATION_REQUESTED:
            classification.require_reason(reason, "department-review.request-needs-reason")
        self._record(self.DepartmentReviewRecorded, stamp, decision=decision, reason=reason)

    def determine_follow_up(self, kind: FollowUpKind, reason: str, *, stamp: Stamp) -> None:
        closure.require_open(self.closed, self.withdrawn)
        classification.require_reason(reason)
        follow_up.require_follow_up_not_started(
            self.investigator_ref is not None or self.review_completed
        )
        follow_up.require_follow_up_for_major(self.impact, kind)
        follow_up.require_investigation_where_mandatory(
            self.types, self.impact, self.subjects, kind
        )
        follow_up.require_integrity_advice_for_rcs(
            kind, self.program, self.notified.get(NotificationKind.INTEGRITY_TEAM), _at(stamp)
        )
        self._record(self.FollowUpDetermined, stamp, kind=kind, reason=reason)

    def appoint_investigator(
        self,
        independence_declared: bool,
        declaration: str,
        *,
        stamp: Stamp,
        investigator_ref: Ref | None = None,
        investigator: Principal | None = None,
    ) -> None:
        """Appoint the investigator: a principal, or a subject (`investigator_ref`) of the
        appointing organisation."""
        closure.require_open(self.closed, self.withdrawn)
        follow_up.require_investigation_follow_up(self.follow_up)
        appointment.require_investigator_replaceable(bool(self.outcomes) or self.report_submitted)
        who = appointment.appointee(investigator_ref, investigator, stamp.actor, "investigator")
        appointment.require_not_self_appointed(who, stamp.actor, "investigator")
        fairness.require_independence_declared(independence_declared)
        reporter = Principal(organisation=self.reporting_organisation, subject=self.reporter_id)
        # The refusal names the field the appointee was given in.
        named_in = "investigator_ref" if investigator is None else "investigator.subject"
        fairness.require_independent_investigator(who, reporter, self.subjects, named_in)
        follow_up.require_police_contact_before_investigation(
            follow_up.police_contact_required(self.types, self.impact),
            self.notified.get(NotificationKind.POLICE),
            _at(stamp),
        )
        follow_up.require_integrity_advice_before_investigation(
            follow_up.integrity_advice_required(self.program, self.subjects),
            self.notified.get(NotificationKind.INTEGRITY_TEAM),
            _at(stamp),
        )
        self._require_after(stamp, "the investigator's appointment", STEP_FOLLOW_UP)
        self._record(
            self.InvestigatorAppointed,
            stamp,
            investigator_ref=who.subject,
            investigator_organisation=who.organisation,
            independence_declared=independence_declared,
            declaration=declaration,
        )

    def record_investigation_plan(
        self, plan: str, *, stamp: Stamp, lines_of_enquiry: Sequence[str] = ()
    ) -> None:
        self._require_investigation_under_way()
        require_text(plan, "investigation.plan-required", "plan")
        self._require_after(stamp, "the investigation plan", STEP_APPOINTED)
        self._record(
            self.InvestigationPlanRecorded,
            stamp,
            plan=plan,
            lines_of_enquiry=tuple(lines_of_enquiry),
        )

    def serve_allegations(
        self,
        subject_refs: Sequence[Ref],
        method: ServiceMethod,
        *,
        stamp: Stamp,
        document_id: UUID | None = None,
    ) -> None:
        self._require_investigation_under_way()
        fairness.require_known_subjects(subject_refs, self._subject_refs())
        require_text(method, "fairness.service-method-required", "method")
        fairness.require_written_service(method)
        self._require_after(stamp, "service of the allegations", STEP_APPOINTED)
        document_rules.require_document_for_step("serve_allegations", document_id, self.documents)
        self._record(
            self.AllegationsServed,
            stamp,
            subject_refs=tuple(subject_refs),
            method=method,
            document_id=document_id,
        )

    def record_subject_response(
        self,
        subject_ref: Ref,
        response: str,
        *,
        stamp: Stamp,
        declined: bool = False,
        document_id: UUID | None = None,
    ) -> None:
        self._require_investigation_under_way()
        fairness.require_known_subjects([subject_ref], self._subject_refs())
        fairness.require_served_before_response(
            subject_ref, self.served, service=self.service, at=_at(stamp)
        )
        if not declined:
            require_text(response, "fairness.response-required", "response")
        self._require_after(stamp, "the response", STEP_APPOINTED)
        document_rules.require_document_for_step(
            "record_subject_response", document_id, self.documents
        )
        self._record(
            self.SubjectResponseRecorded,
            stamp,
            subject_ref=subject_ref,
            response=response,
            declined=declined,
            document_id=document_id,
        )

    def record_evidence(
        self,
        kind: EvidenceKind,
        description: str,
        *,
        stamp: Stamp,
        source: str = "",
        document_id: UUID | None = None,
    ) -> None:
        self._require_investigation_under_way()
        require_text(description, "evidence.description-required", "description")
        # No dependency on the appointment: evidence may be at hand from the outset (CCTV, a
        # Child Protection interview), and says when it was gathered.
        document_rules.require_document_for_step("record_evidence", document_id, self.documents)
        self._record(
            self.EvidenceRecorded,
            stamp,
            kind=kind,
            description=description,
            source=source,
            document_id=document_id,
        )

    def record_sufficient_evidence_rationale(self, rationale: str, *, stamp: Stamp) -> None:
        self._require_investigation_under_way()
        require_text(rationale, "investigation.rationale-required", "rationale")
        fairness.require_evidence_on_record(self.evidence_count)
        self._require_after(stamp, "the sufficient-evidence rationale", STEP_EVIDENCE)
        self._require_after(stamp, "the rationale", STEP_APPOINTED)
        self._record(self.SufficientEvidenceRationaleRecorded, stamp, rationale=rationale)

    def record_outcome(self, outcomes: Sequence[AllegationOutcome], *, stamp: Stamp) -> None:
        self._require_investigation_under_way()
        fairness.require_allegations_served(
            self.subjects,
            self.served,
            self.sufficient_evidence_rationale,
            service=self.service,
            at=_at(stamp),
            rationale_at=self.took_effect.get(STEP_RATIONALE),
        )
        fairness.require_reasonable_time_to_respond(
            self.subjects,
            self.service,
            self.responded,
            self.sufficient_evidence_rationale,
            now=_at(stamp),
            policy=policy_named(self.policy_version),
            responded_at=self.responded_at,
        )
        fairness.require_outcome_per_allegation(outcomes, self.subjects, self.types)
        self._require_after(stamp, "the outcome", STEP_APPOINTED)
        self._record(self.InvestigationOutcomeRecorded, stamp, outcomes=tuple(outcomes))

    def submit_investigation_report(
        self,
        summary: str,
        recommendations: Sequence[Recommendation],
        *,
        stamp: Stamp,
        document_id: UUID | None = None,
    ) -> None:
        self._require_investigation_under_way()
        fairness.require_outcome_recorded(bool(self.outcomes))
        follow_up.require_report_not_submitted(self.report_submitted)
        follow_up.require_plan_before_report(
            self.follow_up, self.plan_recorded, self.sufficient_evidence_rationale
        )
        require_text(summary, "investigation.summary-required", "summary")
        follow_up.require_recommendations(self.follow_up, recommendations)
        follow_up.require_rcs_endorsement(self.follow_up, self.rcs_endorsed)
        follow_up.require_unique_recommendation_ids(recommendations, self._recommendation_ids())
        self._require_after(stamp, "the investigation report", STEP_OUTCOME, STEP_ENDORSED)
        self._require_after(stamp, "the investigation report", STEP_APPOINTED)
        document_rules.require_document_for_step(
            "submit_investigation_report", document_id, self.documents
        )
        self._record(
            self.InvestigationReportSubmitted,
            stamp,
            summary=summary,
            recommendations=tuple(recommendations),
            document_id=document_id,
        )

    def complete_incident_review(
        self,
        what_happened: str,
        contributing_factors: str,
        recommendations: Sequence[Recommendation],
        *,
        stamp: Stamp,
        no_recommendations_reason: str | None = None,
        document_id: UUID | None = None,
    ) -> None:
        closure.require_open(self.closed, self.withdrawn)
        follow_up.require_incident_review_follow_up(self.follow_up)
        follow_up.require_review_not_completed(self.review_completed)
        follow_up.require_review_sections(what_happened, contributing_factors)
        follow_up.require_recommendations_or_reason(recommendations, no_recommendations_reason)
        follow_up.require_unique_recommendation_ids(recommendations, self._recommendation_ids())
        self._require_after(stamp, "the incident review", STEP_FOLLOW_UP)
        document_rules.require_document_for_step(
            "complete_incident_review", document_id, self.documents
        )
        self._record(
            self.IncidentReviewCompleted,
            stamp,
            what_happened=what_happened,
            contributing_factors=contributing_factors,
            recommendations=tuple(recommendations),
            no_recommendations_reason=no_recommendations_reason,
            document_id=document_id,
        )

    def endorse_rcs_investigation(
        self,
        endorsed_by: str,
        endorsed_on: date,
        reference: str,
        *,
        stamp: Stamp,
        document_id: UUID | None = None,
    ) -> None:
        closure.require_open(self.closed, self.withdrawn)
        follow_up.require_rcs_in_lieu(self.follow_up)
        require_text(endorsed_by, "rcs.endorsed-by-required", "endorsed_by")
        require_text(reference, "rcs.endorsement-reference-required", "reference")
        closure.require_not_after_today(endorsed_on, stamp.now, "endorsed_on")
        self._require_after(stamp, "the endorsement", STEP_FOLLOW_UP)
        document_rules.require_document_for_step(
            "endorse_rcs_investigation", document_id, self.documents
        )
        self._record(
            self.RcsInvestigationEndorsed,
            stamp,
            endorsed_by=endorsed_by,
            endorsed_on=endorsed_on,
            reference=reference,
            document_id=document_id,
        )

    def communicate_outcome(
        self, recipient: Recipient, recipient_ref: Ref, in_writing: bool, *, stamp: Stamp
    ) -> None:
        closure.require_open(self.closed, self.withdrawn)
        fairness.require_outcome_recorded(bool(self.outcomes) or self.review_completed)
        fairness.require_subjects_told_in_writing(
            self.subjects, self.served, service=self.service, at=_at(stamp)
        )
        self._require_after(stamp, "communicating the outcome", STEP_OUTCOME)
        if recipient == Recipient.GUARDIAN:
            self._require_after(
                stamp, "communicating the outcome", f"guardian {recipient_ref} on record"
            )
        known = (
            self._subject_refs()
            if recipient == Recipient.SUBJECT_OF_ALLEGATION
            else (self._client_refs())
        )
        if recipient == Recipient.GUARDIAN:
            fairness.require_recorded_guardian(recipient_ref, self._guardian_refs())
        else:
            fairness.require_recipient_known(recipient_ref, known)
        self._record(
            self.OutcomeCommunicated,
            stamp,
            recipient=recipient,
            recipient_ref=recipient_ref,
            in_writing=in_writing,
        )

    def request_outcome_review(
        self,
        requester: Requester,
        requester_ref: Ref,
        grounds: Sequence[ReviewGround],
        *,
        stamp: Stamp,
        reason: str | None = None,
    ) -> None:
        closure.require_open(self.closed, self.withdrawn)
        fairness.require_outcome_recorded(bool(self.outcomes))
        outcome_review.require_entitled_requester(requester)
        outcome_review.require_recognised_grounds(grounds)
        outcome_review.require_requester_on_record(
            requester, requester_ref, self._client_refs(), self._subject_refs()
        )
        if requester == Requester.GUARDIAN:
            guardians = self._guardian_refs()
            fairness.require_recorded_guardian(requester_ref, guardians, "requester_ref")
            self._require_after(stamp, "the review request", f"guardian {requester_ref} on record")
        outcome_review.require_no_review_pending(self.review_pending is not None)
        self._require_after(stamp, "the review request", STEP_OUTCOME)
        self._record(
            self.OutcomeReviewRequested,
            stamp,
            requester=requester,
            requester_ref=requester_ref,
            grounds=tuple(grounds),
            reason=reason,
        )

    def appoint_outcome_reviewer(
        self,
        *,
        stamp: Stamp,
        reviewer_ref: Ref | None = None,
        reviewer: Principal | None = None,
    ) -> None:
        """Appoint the reviewer of the pending outcome review: a principal, or a subject
        (`reviewer_ref`) of the appointing organisation."""
        closure.require_open(self.closed, self.withdrawn)
        outcome_review.require_review_pending(self.review_pending is not None)
        who = appointment.appointee(reviewer_ref, reviewer, stamp.actor, "reviewer")
        appointment.require_not_self_appointed(who, stamp.actor, "reviewer")
        appointment.require_independent_outcome_reviewer(
            who, self.investigator, self.outcome_decided_by
        )
        self._require_after(stamp, "the reviewer's appointment", STEP_REVIEW_REQUESTED)
        self._record(self.OutcomeReviewerAppointed, stamp, reviewer=who)

    def decide_outcome_review(
        self,
        result: OutcomeReviewResult,
        reason: str,
        *,
        stamp: Stamp,
        varied_outcomes: Sequence[AllegationOutcome] = (),
        document_id: UUID | None = None,
    ) -> None:
        closure.require_open(self.closed, self.withdrawn)
        outcome_review.require_review_pending(self.review_pending is not None)
        appointment.require_reviewer_appointed(self.outcome_reviewer)
        classification.require_reason(reason)
        outcome_review.require_independent_reviewer(
            stamp.actor.id, self.outcome_decided_by | {self.investigator_ref or ""}
        )
        outcome_review.require_variation_matches_result(result, varied_outcomes)
        self._require_after(stamp, "the review decision", STEP_REVIEW_REQUESTED, STEP_REVIEWER)
        if varied_outcomes:
            fairness.require_outcome_per_allegation(
                varied_outcomes, self.subjects, self.types, field="varied_outcomes"
            )
        document_rules.require_document_for_step(
            "decide_outcome_review", document_id, self.documents
        )
        self._record(
            self.OutcomeReviewDecided,
            stamp,
            result=result,
            varied_outcomes=tuple(varied_outcomes),
            reason=reason,
            document_id=document_id,
        )

    def record_response_plan(self, plan: str, *, stamp: Stamp) -> None:
        closure.require_open(self.closed, self.withdrawn)
        require_text(plan, "response.plan-required", "plan")
        self._record(self.ResponsePlanRecorded, stamp, plan=plan)

    def record_carer_support_plan(self, carer_ref: Ref, plan: str, *, stamp: Stamp) -> None:
        closure.require_open(self.closed, self.withdrawn)
        require_text(plan, "response.plan-required", "plan")
        require_text(carer_ref, "response.carer-required", "carer_ref")
        self._record(self.CarerSupportPlanRecorded, stamp, carer_ref=carer_ref, plan=plan)

    def extend(
        self,
        obligation_kind: str,
        new_due: datetime,
        approved_by: str,
        reason: str,
        *,
        stamp: Stamp,
        obligations: Sequence[Any],
    ) -> None:
        closure.require_open(self.closed, self.withdrawn)
        classification.require_reason(reason)
        require_text(approved_by, "extension.approver-required", "approved_by")
        current = {o.kind: o.due for o in obligations}
        if obligation_kind not in current:
            raise_missing(
                "extension.unknown-obligation",
                f"no obligation {obligation_kind!r} on this incident",
                "obligation_kind",
            )
        closure.require_later_due(new_due, current[obligation_kind], "new_due")
        self._record(
            self.DeadlineExtended,
            stamp,
            obligation_kind=obligation_kind,
            new_due=new_due,
            approved_by=approved_by,
            reason=reason,
        )

    def action_recommendation(self, recommendation_id: str, action: str, *, stamp: Stamp) -> None:
        closure.require_open(self.closed, self.withdrawn)
        follow_up.require_known_recommendation(recommendation_id, self._recommendation_ids())
        require_text(action, "recommendation.action-required", "action")
        self._require_after(stamp, "the action", f"recommendation {recommendation_id}")
        self._record(
            self.RecommendationActioned, stamp, recommendation_id=recommendation_id, action=action
        )

    def close(
        self,
        reason: str,
        *,
        stamp: Stamp,
        obligations: Sequence[ObligationLike],
        not_required: Mapping[str, str] | None = None,
    ) -> None:
        closure.require_open(self.closed, self.withdrawn)
        classification.require_reason(reason)
        waived = dict(not_required or {})
        closure.require_obligations_settled(obligations, waived)
        for o in obligations:
            if o.met_at is not None:
                sequence.require_not_before("the closure", _at(stamp), f"{o.kind} met", o.met_at)
        self._record(self.Closed, stamp, not_required=waived, reason=reason)

    def reopen(self, reason: str, *, stamp: Stamp) -> None:
        closure.require_closed(self.closed)
        classification.require_reason(reason)
        self._require_after(stamp, "reopening", STEP_CLOSED)
        self._record(self.Reopened, stamp, reason=reason)

    def change_responsible_organisation(
        self, other_provider: str | None, reason: str, *, stamp: Stamp
    ) -> None:
        """Name (or, with None, remove) the organisation responsible for the incident besides
        the reporting one. Who may do this is an access question the API answers: the
        reporting organisation or the department."""
        classification.require_reason(reason)
        responsibility.require_a_change(other_provider, self.details.other_provider)
        responsibility.require_not_the_reporter(other_provider, self.reporting_organisation)
        self._record(
            self.ResponsibleOrganisationChanged,
            stamp,
            other_provider=other_provider,
            previous=self.details.other_provider,
            reason=reason,
        )

    def correct(
        self, corrected_version: int, changes: DetailsChange, reason: str, *, stamp: Stamp
    ) -> None:
        closure.require_known_version(corrected_version, self.version)
        closure.require_something_to_change(changes.fields(), "correction.no-change")
        responsibility.require_access_unchanged(changes)
        classification.require_reason(reason)
        self._check_changed_facts(changes, stamp)
        self._record(
            self.RecordCorrected,
            stamp,
            corrected_version=corrected_version,
            changes=changes,
            reason=reason,
        )

    # ---- derived views ---------------------------------------------------------------------

    @property
    def aboriginal(self) -> bool:
        return any(c.aboriginal for c in self.clients)

    @property
    def stage(self) -> Stage:
        if self.withdrawn:
            return Stage.WITHDRAWN
        if self.closed:
            return Stage.CLOSED
        if self.in_scope is False:
            return Stage.OUT_OF_SCOPE
        if self.review_pending is not None:
            return Stage.OUTCOME_REVIEW
        if self.communicated or self.response_plan_recorded or self.report_submitted:
            return Stage.RESPONSE
        if self.outcomes or self.review_completed:
            return Stage.OUTCOME_RECORDED
        if self.follow_up == FollowUpKind.INCIDENT_REVIEW:
            return Stage.UNDER_INCIDENT_REVIEW
        if self.investigator_ref is not None:
            return Stage.UNDER_INVESTIGATION
        if self.follow_up is not None:
            return Stage.FOLLOW_UP_DETERMINED
        return Stage.REPORTED

    def _client_refs(self) -> set[Ref]:
        return {c.ref for c in self.clients}

    def _subject_refs(self) -> set[Ref]:
        return {s.ref for s in self.subjects}

    def _guardian_refs(self) -> set[Ref]:
        return {g.ref for g in self.guardians}

    def _recommendation_ids(self) -> set[str]:
        return {r.id for r in self.recommendations}

    def _require_investigation_under_way(self) -> None:
        closure.require_open(self.closed, self.withdrawn)
        follow_up.require_investigation_follow_up(self.follow_up)
        fairness.require_investigator_appointed(self.investigator_ref)

    def _require_after(self, stamp: Stamp, step: str, *prerequisites: str) -> None:
        """The step takes effect no earlier than each step it depends on took effect."""
        for prerequisite in prerequisites:
            sequence.require_not_before(
                step, _at(stamp), prerequisite, self.took_effect.get(prerequisite)
            )

    def _check_changed_facts(self, changes: DetailsChange, stamp: Stamp) -> None:
        merged = self.details.model_copy(update=changes.details_update())
        between = merged.occurred_between
        scope.require_times_in_order(
            merged.occurred_at if changes.occurred_between is None else None,
            between.start if between else None,
            between.end if between else None,
            merged.became_aware_at,
            stamp.now,
        )
        subjects = changes.subjects_of_allegation
        if subjects is not None:
            classification.require_mandatory_major(self.types, self.impact, subjects)
        if changes.clients is not None and not changes.clients:
            raise_missing("report.client-required", "name at least one client", "clients")

    # ---- appliers: assignments only, re-run on every load ----------------------------------

    @applies(Reported)
    def _reported(self, e: Reported) -> None:
        self.reporting_organisation = e.reporting_organisation
        self.reporter_id = e.actor.id
        self.program = e.program
        self.care_context = e.care_context
        self.clients = e.clients
        self.types = e.types
        self.impact = e.impact
        self.regulator_category = e.regulator_category
        self.subjects = e.subjects_of_allegation
        self.details = e.details
        self.policy_version = e.policy_version
        self.legacy_types = e.legacy_types
        self.in_scope = None
        self.exclusion = None
        self.withdrawn = False
        self.closed = False
        self.client_voices = 0
        self.notified = {}
        self.consultations = ()
        self.department_review = None
        self.follow_up = None
        self.investigator_ref = None
        self.investigator = None
        self.outcome_reviewer = None
        self.independence_declared = False
        self.plan_recorded = False
        self.served = frozenset()
        self.responded = frozenset()
        self.evidence_count = 0
        self.sufficient_evidence_rationale = None
        self.outcomes = ()
        self.outcome_decided_by = frozenset()
        self.report_submitted = False
        self.review_completed = False
        self.recommendations = ()
        self.communicated = frozenset()
        self.review_pending = None
        self.reviews_decided = 0
        self.response_plan_recorded = False
        self.carer_support_plans = frozenset()
        self.extensions = {}
        self.actioned = frozenset()
        self.corrections = ()
        self.guardians = e.guardians
        self.service = {}
        self.withdrawal = None
        self.rcs_endorsed = False
        self.consulted_stages = ()
        self.decided_at = {}
        self.took_effect = {f"guardian {g.ref} on record": e.happened_at for g in e.guardians}
        self.ever_major = e.impact == Impact.MAJOR
        self.responded_at = {}
        self.submitted_at = e.submitted_at or e.timestamp
        self.imported = e.imported
        self.pattern_of = e.pattern_of
        self.resolved_legacy_types = {}
        self.linked_to_pattern = None
        self.pattern_dismissals = ()
        self.documents = {}

    @applies(DetailsAmended)
    def _details_amended(self, e: DetailsAmended) -> None:
        self._assign_changes(e.changes)

    @applies(Reclassified)
    def _reclassified(self, e: Reclassified) -> None:
        self.types = e.types
        self.impact = e.impact
        self.regulator_category = e.regulator_category
        self.ever_major = self.ever_major or e.impact == Impact.MAJOR

    @applies(ScopeAssessed)
    def _scope_assessed(self, e: ScopeAssessed) -> None:
        self.in_scope = e.in_scope
        self.exclusion = e.exclusion
        self.took_effect = {**self.took_effect, STEP_SCOPE: e.happened_at}

    @applies(Withdrawn)
    def _withdrawn(self, e: Withdrawn) -> None:
        self.withdrawn = True
        self.withdrawal = e.category

    @applies(GuardianRecorded)
    def _guardian_recorded(self, e: GuardianRecorded) -> None:
        self.guardians = (*self.guardians, e.guardian)
        self.took_effect = {
            f"guardian {e.guardian.ref} on record": e.happened_at,
            **self.took_effect,
        }

    @applies(ClientVoiceRecorded)
    def _client_voice_recorded(self, e: ClientVoiceRecorded) -> None:
        self.client_voices += 1

    @applies(NotificationRecorded)
    def _notification_recorded(self, e: NotificationRecorded) -> None:
        self.notified = {e.kind: e.happened_at, **self.notified}

    @applies(AboriginalConsultationRecorded)
    def _aboriginal_consultation_recorded(self, e: AboriginalConsultationRecorded) -> None:
        self.consultations = (*self.consultations, e.body)
        self.consulted_stages = (*self.consulted_stages, (e.stage, e.happened_at))

    @applies(DepartmentReviewRecorded)
    def _department_review_recorded(self, e: DepartmentReviewRecorded) -> None:
        self.department_review = e.decision

    @applies(FollowUpDetermined)
    def _follow_up_determined(self, e: FollowUpDetermined) -> None:
        self.follow_up = e.kind
        # The first of each key decision is the one consultation was owed before.
        self.decided_at = {ConsultationStage.FOLLOW_UP: e.happened_at, **self.decided_at}
        self.took_effect = {STEP_FOLLOW_UP: e.happened_at, **self.took_effect}

    @applies(InvestigatorAppointed)
    def _investigator_appointed(self, e: InvestigatorAppointed) -> None:
        self.investigator_ref = e.investigator_ref
        self.investigator = Principal(
            organisation=e.investigator_organisation or e.actor.organisation,
            subject=e.investigator_ref,
        )
        self.independence_declared = e.independence_declared
        self.took_effect = {STEP_APPOINTED: e.happened_at, **self.took_effect}

    @applies(InvestigationPlanRecorded)
    def _investigation_plan_recorded(self, e: InvestigationPlanRecorded) -> None:
        self.plan_recorded = True

    @applies(AllegationsServed)
    def _allegations_served(self, e: AllegationsServed) -> None:
        self.served = self.served | set(e.subject_refs)
        how = e.method or f"legacy: {e.legacy_method}"
        served = {ref: Service(method=how, served_at=e.happened_at) for ref in e.subject_refs}
        self.service = {**served, **self.service}

    @applies(SubjectResponseRecorded)
    def _subject_response_recorded(self, e: SubjectResponseRecorded) -> None:
        self.responded = self.responded | {e.subject_ref}
        self.responded_at = {e.subject_ref: e.happened_at, **self.responded_at}

    @applies(EvidenceRecorded)
    def _evidence_recorded(self, e: EvidenceRecorded) -> None:
        self.evidence_count += 1
        self.took_effect = {STEP_EVIDENCE: e.happened_at, **self.took_effect}

    @applies(SufficientEvidenceRationaleRecorded)
    def _sufficient_evidence_rationale_recorded(
        self, e: SufficientEvidenceRationaleRecorded
    ) -> None:
        self.sufficient_evidence_rationale = e.rationale
        self.took_effect = {STEP_RATIONALE: e.happened_at, **self.took_effect}

    @applies(InvestigationOutcomeRecorded)
    def _investigation_outcome_recorded(self, e: InvestigationOutcomeRecorded) -> None:
        self.outcomes = e.outcomes
        self.outcome_decided_by = self.outcome_decided_by | {e.actor.id}
        self.decided_at = {ConsultationStage.OUTCOME: e.happened_at, **self.decided_at}
        self.took_effect = {STEP_OUTCOME: e.happened_at, **self.took_effect}

    @applies(InvestigationReportSubmitted)
    def _investigation_report_submitted(self, e: InvestigationReportSubmitted) -> None:
        self.report_submitted = True
        self.recommendations = (*self.recommendations, *e.recommendations)
        made = {f"recommendation {r.id}": e.happened_at for r in e.recommendations}
        self.took_effect = {**made, **self.took_effect}

    @applies(IncidentReviewCompleted)
    def _incident_review_completed(self, e: IncidentReviewCompleted) -> None:
        self.review_completed = True
        self.recommendations = (*self.recommendations, *e.recommendations)
        self.decided_at = {ConsultationStage.OUTCOME: e.happened_at, **self.decided_at}
        made = {f"recommendation {r.id}": e.happened_at for r in e.recommendations}
        self.took_effect = {**made, STEP_OUTCOME: e.happened_at, **self.took_effect}

    @applies(RcsInvestigationEndorsed)
    def _rcs_investigation_endorsed(self, e: RcsInvestigationEndorsed) -> None:
        self.rcs_endorsed = True
        self.took_effect = {STEP_ENDORSED: e.happened_at, **self.took_effect}

    @applies(OutcomeCommunicated)
    def _outcome_communicated(self, e: OutcomeCommunicated) -> None:
        self.communicated = self.communicated | {(e.recipient, e.recipient_ref)}

    @applies(OutcomeReviewRequested)
    def _outcome_review_requested(self, e: OutcomeReviewRequested) -> None:
        self.review_pending = (e.requester, e.requester_ref)
        self.outcome_reviewer = None  # each review is conducted by a reviewer appointed to it
        self.took_effect = {**self.took_effect, STEP_REVIEW_REQUESTED: e.happened_at}

    @applies(OutcomeReviewerAppointed)
    def _outcome_reviewer_appointed(self, e: OutcomeReviewerAppointed) -> None:
        self.outcome_reviewer = e.reviewer
        self.took_effect = {**self.took_effect, STEP_REVIEWER: e.happened_at}

    @applies(OutcomeReviewDecided)
    def _outcome_review_decided(self, e: OutcomeReviewDecided) -> None:
        self.review_pending = None
        self.reviews_decided += 1
        # A varied outcome supersedes the original here; both stay in the history.
        self.outcomes = e.varied_outcomes or self.outcomes

    @applies(ResponsePlanRecorded)
    def _response_plan_recorded(self, e: ResponsePlanRecorded) -> None:
        self.response_plan_recorded = True

    @applies(CarerSupportPlanRecorded)
    def _carer_support_plan_recorded(self, e: CarerSupportPlanRecorded) -> None:
        self.carer_support_plans = self.carer_support_plans | {e.carer_ref}

    @applies(DeadlineExtended)
    def _deadline_extended(self, e: DeadlineExtended) -> None:
        self.extensions = {**self.extensions, e.obligation_kind: e.new_due}

    @applies(RecommendationActioned)
    def _recommendation_actioned(self, e: RecommendationActioned) -> None:
        self.actioned = self.actioned | {e.recommendation_id}

    @applies(Closed)
    def _closed(self, e: Closed) -> None:
        self.closed = True
        self.decided_at = {ConsultationStage.CLOSURE: e.happened_at, **self.decided_at}
        self.took_effect = {**self.took_effect, STEP_CLOSED: e.happened_at}

    @applies(Reopened)
    def _reopened(self, e: Reopened) -> None:
        self.closed = False

    @applies(ResponsibleOrganisationChanged)
    def _responsible_organisation_changed(self, e: ResponsibleOrganisationChanged) -> None:
        self.details = self.details.model_copy(update={"other_provider": e.other_provider})

    @applies(RecordCorrected)
    def _record_corrected(self, e: RecordCorrected) -> None:
        self._assign_changes(e.changes)
        self.corrections = (*self.corrections, e.corrected_version)

    def _assign_changes(self, changes: DetailsChange) -> None:
        self.details = self.details.model_copy(update=changes.details_update())
        self.clients = changes.clients or self.clients
        self.subjects = (
            self.subjects
            if changes.subjects_of_allegation is None
            else changes.subjects_of_allegation
        )

    # ---- legacy records and patterns of harm (policy §0, §4, §5) ---------------------------

    class LegacyTypeResolved(Aggregate.Event):
        """A person resolved a split legacy type to one of the current types it became."""

        legacy_label: str
        incident_type: IncidentType

    class PatternLinked(Aggregate.Event):
        """The incident was linked to a pattern of harm, escalated as a new major incident."""

        escalated_as: UUID

    class PatternSuggestionDismissed(Aggregate.Event):
        """A person dismissed a possible pattern naming this incident, with the reason."""

        dismissal_id: UUID

    submitted_at: datetime
    imported: LegacyProvenance | None
    pattern_of: tuple[UUID, ...]
    resolved_legacy_types: dict[str, IncidentType]
    linked_to_pattern: UUID | None
    pattern_dismissals: tuple[UUID, ...]

    @classmethod
    def import_legacy(
        cls,
        record: LegacyRecord,
        *,
        stamp: Stamp,
        incident_id: UUID,
        closed_not_required: Mapping[str, str],
    ) -> Incident:
        """Bring one record of the 2018 system in: reported under its own regime (chosen by its
        original submission instant), its types mapped, closed as it was closed there (owing
        nothing: each of `closed_not_required` is recorded as not required, with why)."""
        legacy_rules.require_department_officer(stamp.actor.role)
        mappings = legacy_rules.require_labels(record.legacy_labels)
        types = tuple(dict.fromkeys(m.current for m in mappings if m.current is not None))
        scope.require_not_parental_care(record.care_context)
        scope.require_responsible_reporter(record.program, record.care_context)
        classification.require_mandatory_major(types, record.impact, record.subjects_of_allegation)
        d = record.details
        responsibility.require_not_the_reporter(
            d.other_provider, record.organisation, "other_provider"
        )
        scope.require_times_in_order(d.occurred_at, None, None, d.became_aware_at, stamp.now)
        legacy_rules.require_submitted_in_order(record.submitted_at, d.became_aware_at)
        incident = cls._create(
            cls.Reported,
            id=incident_id,
            timestamp=stamp.now,
            actor=stamp.actor,
            command_id=stamp.command_id,
            # Deadlines count from when the report was recorded: in the old system.
            effective_at=record.submitted_at,
            reporting_organisation=record.organisation,
            program=record.program,
            care_context=record.care_context,
            clients=record.clients,
            types=types,
            impact=record.impact,
            regulator_category=record.regulator_category,
            subjects_of_allegation=record.subjects_of_allegation,
            details=d,
            policy_version=regime_at_submission(record.submitted_at).version,
            legacy_types=record.legacy_labels,
            submitted_at=record.submitted_at,
            imported=record.provenance,
        )
        if record.provenance.status == LegacyStatus.CLOSED:
            incident._record(
                cls.Closed,
                stamp,
                not_required=dict(closed_not_required),
                reason=f"closed in {record.provenance.source_system} before it was imported",
            )
        return incident

    @classmethod
    def escalate_pattern(
        cls, pattern_of: Sequence[UUID], reason: str, *, stamp: Stamp, **report: Any
    ) -> Incident:
        """Report a new major-impact incident for a pattern of harm formed by `pattern_of`."""
        pattern_rules.require_several(pattern_of)
        pattern_rules.require_major(report["impact"])
        classification.require_reason(reason)
        return cls.report(stamp=stamp, pattern_of=tuple(pattern_of), reason=reason, **report)

    def resolve_legacy_type(
        self, legacy_label: str, incident_type: IncidentType, reason: str, *, stamp: Stamp
    ) -> None:
        mapping = legacy_rules.require_unresolved(legacy_label, self.unresolved_legacy_types)
        legacy_rules.require_candidate(mapping, incident_type)
        classification.require_reason(reason)
        self._record(
            self.LegacyTypeResolved,
            stamp,
            legacy_label=legacy_label,
            incident_type=incident_type,
            reason=reason,
        )

    def link_to_pattern(self, escalated_as: UUID, *, stamp: Stamp) -> None:
        pattern_rules.require_current(self.withdrawn, self.in_scope is False)
        pattern_rules.require_non_major(self.impact)
        pattern_rules.require_not_linked(self.linked_to_pattern)
        self._record(self.PatternLinked, stamp, escalated_as=escalated_as)

    def dismiss_pattern_suggestion(self, dismissal_id: UUID, reason: str, *, stamp: Stamp) -> None:
        classification.require_reason(reason)
        pattern_rules.require_not_linked(self.linked_to_pattern)
        self._record(
            self.PatternSuggestionDismissed, stamp, dismissal_id=dismissal_id, reason=reason
        )

    @property
    def unresolved_legacy_types(self) -> list[str]:
        """Split legacy types waiting for a person's choice."""
        return legacy_rules.unresolved_labels(self.legacy_types, self.resolved_legacy_types)

    @property
    def removed_legacy_types(self) -> list[str]:
        """Legacy labels that are no longer types: kept and flagged, never mapped."""
        return legacy_rules.removed_labels(self.legacy_types)

    @applies(LegacyTypeResolved)
    def _legacy_type_resolved(self, e: LegacyTypeResolved) -> None:
        self.types = tuple(dict.fromkeys((*self.types, e.incident_type)))
        self.resolved_legacy_types = {**self.resolved_legacy_types, e.legacy_label: e.incident_type}

    @applies(PatternLinked)
    def _pattern_linked(self, e: PatternLinked) -> None:
        self.linked_to_pattern = e.escalated_as

    @applies(PatternSuggestionDismissed)
    def _pattern_suggestion_dismissed(self, e: PatternSuggestionDismissed) -> None:
        self.pattern_dismissals = (*self.pattern_dismissals, e.dismissal_id)

    # ---- documents on the record (policy §7, §8, §9, §10) ---------------------------------

    class DocumentAdded(Aggregate.Event):
        """A document was added to the record: its kind, name, type, size and SHA-256."""

        document_id: UUID
        kind: DocumentKind
        file_name: str = Field(max_length=255)
        # Sniffed from the bytes, never taken from the sender.
        media_type: str = Field(max_length=200)
        size: int = Field(ge=1)
        sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
        # The step (the incident's version) the document supports, if one.
        supports_version: int | None = None

    class DocumentSuperseded(Aggregate.Event):
        """A document was superseded by a correction, with the reason; it stays on record."""

        document_id: UUID
        superseded_by: UUID | None = None

    documents: dict[UUID, DocumentOnRecord]

    def add_document(
        self,
        document_id: UUID,
        kind: DocumentKind,
        file_name: str,
        media_type: str,
        size: int,
        sha256: str,
        *,
        stamp: Stamp,
        supports_version: int | None = None,
        supersedes: UUID | None = None,
        reason: str | None = None,
    ) -> None:
        """Add a document whose bytes the ledger keeps beside this event (ledger/documents.py);
        with `supersedes`, it replaces that document, for `reason`."""
        closure.require_open(self.closed, self.withdrawn)
        document_rules.require_bytes(size)
        document_rules.require_safe_file_name(file_name)
        document_rules.require_known_step(supports_version, self.version)
        document_rules.require_not_on_record(sha256, self.documents)
        if supersedes is not None:
            document_rules.require_current_document(supersedes, self.documents, "supersedes")
            classification.require_reason(reason)
        self._record(
            self.DocumentAdded,
            stamp,
            document_id=document_id,
            kind=kind,
            file_name=file_name,
            media_type=media_type,
            size=size,
            sha256=sha256,
            supports_version=supports_version,
            reason=None if supersedes is not None else reason,
        )
        if supersedes is not None:
            self._record(
                self.DocumentSuperseded,
                stamp,
                document_id=supersedes,
                superseded_by=document_id,
                reason=reason,
            )

    def supersede_document(self, document_id: UUID, reason: str, *, stamp: Stamp) -> None:
        """Mark a document superseded (added in error, or replaced outside the ledger)."""
        closure.require_open(self.closed, self.withdrawn)
        document_rules.require_a_current_document(self.documents)
        document_rules.require_current_document(document_id, self.documents, "document_id")
        classification.require_reason(reason)
        self._record(self.DocumentSuperseded, stamp, document_id=document_id, reason=reason)

    @applies(DocumentAdded)
    def _document_added(self, e: DocumentAdded) -> None:
        self.documents = {
            **self.documents,
            e.document_id: DocumentOnRecord(
                document_id=e.document_id,
                kind=e.kind,
                sha256=e.sha256,
                supports_version=e.supports_version,
            ),
        }

    @applies(DocumentSuperseded)
    def _document_superseded(self, e: DocumentSuperseded) -> None:
        self.documents = {
            **self.documents,
            e.document_id: self.documents[e.document_id].model_copy(update={"superseded": True}),
        }


def _at(stamp: Stamp) -> datetime:
    """When the step a command records takes effect: the time it states, or now."""
    return stamp.effective_at or stamp.now


def require_text(value: str, rule_id: str, field: str) -> None:
    """Free-text facts the policy asks for are not left blank."""
    if not value or not value.strip():
        raise_missing(rule_id, f"{field} must not be blank", field)


def raise_missing(rule_id: str, message: str, field: str) -> NoReturn:
    raise PolicyViolation(rule_id, message, field=field)
