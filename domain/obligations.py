"""What the policy requires of an incident, by when, and whether it was done: one pure function."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.calendar import business_days_after, calendar_days_after
from domain.incident import Incident
from domain.policy_table import PolicyNumbers, policy_named
from domain.rules import times
from domain.rules.consultation import consulted_for
from domain.rules.follow_up import (
    INVESTIGATIONS,
    integrity_advice_required,
    police_contact_required,
)
from domain.rules.response import carer_support_met, carer_support_required
from domain.values import (
    ConsultationStage,
    FollowUpKind,
    Impact,
    NotificationKind,
    Recipient,
    RegulatorCategory,
)


class Status(StrEnum):
    OPEN = "open"
    MET = "met"
    MET_LATE = "met_late"
    OVERDUE = "overdue"
    NOT_REQUIRED = "not_required"


SETTLED = frozenset({Status.MET, Status.MET_LATE, Status.NOT_REQUIRED})


class ObligationKind(StrEnum):
    """The obligations the policy can place on an incident (the keys of `RULES`)."""

    INCIDENT_REPORT = "incident_report"
    REGULATOR_SHORT_FORM = "regulator_short_form"
    POLICE_CONTACT = "police_contact"
    INTEGRITY_ADVICE = "integrity_advice"
    ABORIGINAL_CONSULTATION_FOLLOW_UP = "aboriginal_consultation_follow_up"
    ABORIGINAL_CONSULTATION_OUTCOME = "aboriginal_consultation_outcome"
    ABORIGINAL_CONSULTATION_CLOSURE = "aboriginal_consultation_closure"
    INVESTIGATION_OR_REVIEW = "investigation_or_review"
    CCYP_NOTICE = "ccyp_notice"
    CCYP_DETAILS = "ccyp_details"
    ALLEGATIONS_SERVED = "allegations_served"
    OUTCOME_COMMUNICATED = "outcome_communicated"
    OUTCOME_REVIEW_DECIDED = "outcome_review_decided"
    RESPONSE_PLAN = "response_plan"
    CARER_SUPPORT_PLAN = "carer_support_plan"
    RECOMMENDATIONS_ACTIONED = "recommendations_actioned"


class Obligation(BaseModel):
    """One thing the policy requires of an incident, with its deadline and how it stands."""

    model_config = ConfigDict(frozen=True)

    kind: str
    trigger: str
    trigger_version: int
    due: datetime | None
    original_due: datetime | None
    extended: bool
    met_at: datetime | None
    met_by_version: int | None
    status: Status
    waivable: bool
    note: str | None = None
    # When the step that met it was recorded, and whether that was more than the allowed
    # business days after the effective time it claims (`met_at`): backdating shows.
    met_recorded_at: datetime | None = None
    recorded_late: bool = False

    @property
    def settled(self) -> bool:
        return self.status in SETTLED


@dataclass(frozen=True)
class Rule:
    """When an obligation applies, when it is met, and when it falls due.

    `reads` names every `Incident` field `applies` and `met` read (a property by the fields
    behind it), so the fold evaluates them again only after an event that assigns one of those
    fields; `None` means unknown: evaluated after every event."""

    applies: Callable[[Incident], bool]
    met: Callable[[Incident], bool]
    due: Callable[[Incident, PolicyNumbers, datetime], datetime | None]
    waivable: bool = False
    reads: frozenset[str] | None = None


def _reads(*fields: str) -> frozenset[str]:
    return frozenset(fields)


def _aware(i: Incident) -> datetime:
    return i.details.became_aware_at


def _business_days(days: Callable[[PolicyNumbers], int]) -> Callable[..., datetime]:
    return lambda i, p, reported: business_days_after(_aware(i), days(p), p.close_of_business)


def _follow_up_due(i: Incident, p: PolicyNumbers, reported: datetime) -> datetime:
    days = (
        p.incident_review_days
        if i.follow_up == FollowUpKind.INCIDENT_REVIEW
        else (p.investigation_days)
    )
    return calendar_days_after(reported, days)


def _no_deadline(i: Incident, p: PolicyNumbers, reported: datetime) -> None:
    return None


def _outcome_told(i: Incident) -> bool:
    client_told = any(r in (Recipient.CLIENT, Recipient.GUARDIAN) for r, _ in i.communicated)
    subjects_told = {ref for r, ref in i.communicated if r == Recipient.SUBJECT_OF_ALLEGATION}
    return client_told and {s.ref for s in i.subjects} <= subjects_told


def _consultation(stage: ConsultationStage, applies: Callable[[Incident], bool]) -> Rule:
    """Aboriginal consultation owed before a key decision (policy §1, §8; our reading): due when
    the decision was recorded, and until then by the deadline the decision itself works to."""

    def due(i: Incident, p: PolicyNumbers, reported: datetime) -> datetime | None:
        decided = i.decided_at.get(stage)
        if decided is not None:
            return decided
        if stage == ConsultationStage.FOLLOW_UP:
            return business_days_after(_aware(i), p.report_business_days, p.close_of_business)
        if stage == ConsultationStage.OUTCOME:
            return _follow_up_due(i, p, reported)
        return None

    return Rule(
        applies=lambda i: i.aboriginal and applies(i),
        met=lambda i: consulted_for(stage, i.consulted_stages, i.decided_at) is not None,
        due=due,
        # `aboriginal` is a property of the clients; `applies` reads follow_up and impact.
        reads=_reads("clients", "follow_up", "impact", "consulted_stages", "decided_at"),
    )


RULES: dict[str, Rule] = {
    "incident_report": Rule(
        applies=lambda i: True,
        met=lambda i: True,
        due=_business_days(lambda p: p.report_business_days),
        reads=_reads(),
    ),
    "regulator_short_form": Rule(
        applies=lambda i: i.regulator_category == RegulatorCategory.CRITICAL,
        met=lambda i: NotificationKind.REGULATOR_SHORT_FORM in i.notified,
        due=_business_days(lambda p: p.regulator_short_form_business_days),
        reads=_reads("regulator_category", "notified"),
    ),
    "police_contact": Rule(
        applies=lambda i: police_contact_required(i.types, i.impact),
        met=lambda i: NotificationKind.POLICE in i.notified,
        due=_no_deadline,
        reads=_reads("types", "impact", "notified"),
    ),
    "integrity_advice": Rule(
        applies=lambda i: integrity_advice_required(i.program, i.subjects),
        met=lambda i: NotificationKind.INTEGRITY_TEAM in i.notified,
        due=_no_deadline,
        reads=_reads("program", "subjects", "notified"),
    ),
    "aboriginal_consultation_follow_up": _consultation(
        ConsultationStage.FOLLOW_UP, lambda i: i.follow_up is not None or i.impact == Impact.MAJOR
    ),
    "aboriginal_consultation_outcome": _consultation(
        ConsultationStage.OUTCOME,
        lambda i: i.follow_up in (*INVESTIGATIONS, FollowUpKind.INCIDENT_REVIEW),
    ),
    "aboriginal_consultation_closure": _consultation(ConsultationStage.CLOSURE, lambda i: True),
    "investigation_or_review": Rule(
        applies=lambda i: (
            i.impact == Impact.MAJOR
            or i.follow_up in (*INVESTIGATIONS, FollowUpKind.INCIDENT_REVIEW)
        ),
        met=lambda i: i.report_submitted or i.review_completed,
        due=_follow_up_due,
        reads=_reads("impact", "follow_up", "report_submitted", "review_completed"),
    ),
    "ccyp_notice": Rule(
        applies=lambda i: i.follow_up == FollowUpKind.RCS_IN_LIEU,
        met=lambda i: NotificationKind.CCYP in i.notified,
        due=_business_days(lambda p: p.rcs_ccyp_notice_business_days),
        reads=_reads("follow_up", "notified"),
    ),
    "ccyp_details": Rule(
        applies=lambda i: i.follow_up == FollowUpKind.RCS_IN_LIEU,
        met=lambda i: NotificationKind.CCYP_DETAILS in i.notified,
        due=lambda i, p, r: calendar_days_after(_aware(i), p.rcs_ccyp_details_days),
        reads=_reads("follow_up", "notified"),
    ),
    "allegations_served": Rule(
        applies=lambda i: i.follow_up in INVESTIGATIONS and bool(i.subjects),
        met=lambda i: {s.ref for s in i.subjects} <= i.served,
        due=_no_deadline,
        reads=_reads("follow_up", "subjects", "served"),
    ),
    "outcome_communicated": Rule(
        applies=lambda i: bool(i.outcomes),
        met=_outcome_told,
        due=_no_deadline,
        reads=_reads("outcomes", "communicated", "subjects"),
    ),
    "outcome_review_decided": Rule(
        applies=lambda i: i.review_pending is not None or i.reviews_decided > 0,
        met=lambda i: i.review_pending is None,
        due=_no_deadline,
        reads=_reads("review_pending", "reviews_decided"),
    ),
    "response_plan": Rule(
        applies=lambda i: True,
        met=lambda i: i.response_plan_recorded,
        due=_no_deadline,
        waivable=True,
        reads=_reads("response_plan_recorded"),
    ),
    "carer_support_plan": Rule(
        applies=lambda i: carer_support_required(i.care_context, i.subjects),
        met=lambda i: carer_support_met(i.care_context, i.subjects, i.carer_support_plans),
        due=_no_deadline,
        waivable=True,
        reads=_reads("care_context", "subjects", "carer_support_plans"),
    ),
    "recommendations_actioned": Rule(
        applies=lambda i: bool(i.recommendations),
        met=lambda i: {r.id for r in i.recommendations} <= i.actioned,
        due=_no_deadline,
        waivable=True,
        reads=_reads("recommendations", "actioned"),
    ),
}


# The `Incident` fields each kind of event assigns in its applier (beside the version, the
# timestamps and the chain head, which no rule reads). tests/domain/test_obligations_fold.py
# checks this against incident.py's appliers. An event not named here (the report, an amendment,
# a correction, any new kind) may change any field: every rule is evaluated after it.
WRITES: dict[str, frozenset[str]] = {
    "Reclassified": frozenset({"ever_major", "impact", "regulator_category", "types"}),
    "ScopeAssessed": frozenset({"exclusion", "in_scope", "took_effect"}),
    "Withdrawn": frozenset({"withdrawal", "withdrawn"}),
    "GuardianRecorded": frozenset({"guardians", "took_effect"}),
    "ClientVoiceRecorded": frozenset({"client_voices"}),
    "NotificationRecorded": frozenset({"notified"}),
    "AboriginalConsultationRecorded": frozenset({"consultations", "consulted_stages"}),
    "DepartmentReviewRecorded": frozenset({"department_review"}),
    "FollowUpDetermined": frozenset({"decided_at", "follow_up", "took_effect"}),
    "InvestigatorAppointed": frozenset(
        {"independence_declared", "investigator", "investigator_ref", "took_effect"}
    ),
    "InvestigationPlanRecorded": frozenset({"plan_recorded"}),
    "AllegationsServed": frozenset({"served", "service"}),
    "SubjectResponseRecorded": frozenset({"responded", "responded_at"}),
    "EvidenceRecorded": frozenset({"evidence_count", "took_effect"}),
    "SufficientEvidenceRationaleRecorded": frozenset(
        {"sufficient_evidence_rationale", "took_effect"}
    ),
    "InvestigationOutcomeRecorded": frozenset(
        {"decided_at", "outcome_decided_by", "outcomes", "took_effect"}
    ),
    "InvestigationReportSubmitted": frozenset(
        {"recommendations", "report_submitted", "took_effect"}
    ),
    "IncidentReviewCompleted": frozenset(
        {"decided_at", "recommendations", "review_completed", "took_effect"}
    ),
    "RcsInvestigationEndorsed": frozenset({"rcs_endorsed", "took_effect"}),
    "OutcomeCommunicated": frozenset({"communicated"}),
    "OutcomeReviewRequested": frozenset({"outcome_reviewer", "review_pending", "took_effect"}),
    "OutcomeReviewerAppointed": frozenset({"outcome_reviewer", "took_effect"}),
    "OutcomeReviewDecided": frozenset({"outcomes", "review_pending", "reviews_decided"}),
    "ResponsePlanRecorded": frozenset({"response_plan_recorded"}),
    "CarerSupportPlanRecorded": frozenset({"carer_support_plans"}),
    "DeadlineExtended": frozenset({"extensions"}),
    "RecommendationActioned": frozenset({"actioned"}),
    "Closed": frozenset({"closed", "decided_at", "took_effect"}),
    "Reopened": frozenset({"closed"}),
    "ResponsibleOrganisationChanged": frozenset({"details"}),
    "LegacyTypeResolved": frozenset({"resolved_legacy_types", "types"}),
    "PatternLinked": frozenset({"linked_to_pattern"}),
    "PatternSuggestionDismissed": frozenset({"pattern_dismissals"}),
}
_EVERY_RULE = tuple(RULES.items())


def rules_after(event_name: str) -> tuple[tuple[str, Rule], ...]:
    """The rules (kind, rule) whose `applies` or `met` an event of this kind can change: those
    reading a field its applier assigns; every rule for an event not in `WRITES`."""
    found = _RULES_AFTER.get(event_name)
    if found is None:
        writes = WRITES.get(event_name)
        found = tuple(
            (kind, rule)
            for kind, rule in _EVERY_RULE
            if writes is None or rule.reads is None or rule.reads & writes
        )
        _RULES_AFTER[event_name] = found
    return found


_RULES_AFTER: dict[str, tuple[tuple[str, Rule], ...]] = {}


def obligations(events: Iterable[Any], *, now: datetime) -> tuple[Obligation, ...]:
    """Fold an incident's events (oldest first) into its obligations as they stand at `now`.

    The same function serves the closure rule, the obligations read model and replay as of
    a moment (fed only the events recorded by then, with `now` at that moment).
    """
    return incident_with_obligations(events, now=now)[1]


def incident_with_obligations(
    events: Iterable[Any], *, now: datetime
) -> tuple[Incident | None, tuple[Obligation, ...]]:
    """The incident the events leave, and its obligations at `now`, from one fold."""
    return ObligationsFold().add(events).result(now=now)


@dataclass
class ObligationsFold:
    """The fold behind `incident_with_obligations`, resumable: `add` an incident's events in
    order, in as many calls as they arrive, and ask for the `result` at any point. The read
    side keeps one per recently seen incident, so a new event costs one step, not a refold.

    `incident` is the aggregate the events leave (mutated in place by each `add`)."""

    incident: Incident | None = None
    arose: dict[str, tuple[str, int]] = field(default_factory=dict)
    met: dict[str, tuple[datetime, int, datetime]] = field(default_factory=dict)
    waived: dict[str, str] = field(default_factory=dict)
    reported_at: datetime | None = None
    # False: evaluate every rule after every event (the plain fold, which tests compare with).
    incremental: bool = True

    @property
    def version(self) -> int:
        """The version of the last event added (0 before the first)."""
        return 0 if self.incident is None else int(self.incident.version)

    def add(self, events: Iterable[Any]) -> ObligationsFold:
        """Fold the incident's next events (oldest first) into the kept state."""
        incident, arose, met = self.incident, self.arose, self.met
        waived, reported_at = self.waived, self.reported_at
        for event in events:
            incident = event.mutate(incident)
            assert incident is not None
            reported_at = reported_at or event.happened_at
            if isinstance(event, Incident.Closed):
                waived.update(event.not_required)
            # A rule's verdicts change only with the fields it reads: the others are skipped.
            rules = rules_after(type(event).__name__) if self.incremental else _EVERY_RULE
            for kind, rule in rules:
                if kind not in arose and rule.applies(incident):
                    arose[kind] = (type(event).__name__, event.originator_version)
                if not rule.met(incident):
                    met.pop(kind, None)
                elif kind not in met:
                    met[kind] = (event.happened_at, event.originator_version, event.timestamp)
        self.incident, self.reported_at = incident, reported_at
        return self

    def result(self, *, now: datetime) -> tuple[Incident | None, tuple[Obligation, ...]]:
        """The incident so far, and its obligations as they stand at `now`."""
        incident, arose, met = self.incident, self.arose, self.met
        waived, reported_at = self.waived, self.reported_at
        if incident is None or reported_at is None:
            return incident, ()
        policy = policy_named(incident.policy_version)
        ended = incident.withdrawn or incident.in_scope is False
        result = []
        for kind, rule in RULES.items():
            if not rule.applies(incident):
                continue
            original_due = rule.due(incident, policy, reported_at)
            due = incident.extensions.get(kind, original_due)
            met_at, met_version, met_recorded_at = met.get(kind, (None, None, None))
            note = None
            if met_at is not None:
                late = original_due is not None and met_at > original_due
                status = Status.MET_LATE if late else Status.MET
            elif ended and kind != "incident_report":
                status, note = (
                    Status.NOT_REQUIRED,
                    ("incident withdrawn" if incident.withdrawn else "assessed out of scope"),
                )
            elif kind in waived:
                status, note = Status.NOT_REQUIRED, waived[kind]
            elif due is not None and now > due:
                status = Status.OVERDUE
            else:
                status = Status.OPEN
            trigger, trigger_version = arose[kind]
            result.append(
                Obligation(
                    kind=kind,
                    trigger=trigger,
                    trigger_version=trigger_version,
                    due=due,
                    original_due=original_due,
                    extended=due != original_due,
                    met_at=met_at,
                    met_by_version=met_version,
                    status=status,
                    waivable=rule.waivable,
                    note=note,
                    met_recorded_at=met_recorded_at,
                    recorded_late=(
                        met_at is not None
                        and met_recorded_at is not None
                        and times.recorded_late(met_at, met_recorded_at, policy)
                    ),
                )
            )
        return incident, tuple(result)


def next_due(items: Iterable[Obligation]) -> datetime | None:
    """The earliest deadline among obligations not yet settled."""
    pending = [o.due for o in items if o.due is not None and not o.settled]
    return min(pending) if pending else None
