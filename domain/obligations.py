"""What the policy requires of an incident, by when, and whether it was done: one pure function."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.calendar import (
    business_days_after,
    calendar_days_after,
    close_of_business,
    non_business_days_between,
)
from domain.incident import Incident
from domain.policy_table import MELBOURNE, PolicyNumbers, policy_named
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


class Unit(StrEnum):
    """How a deadline is counted."""

    BUSINESS_DAYS = "business_days_to_close_of_business"
    CALENDAR_DAYS = "calendar_days"
    AT_DECISION = "when_the_decision_is_recorded"


UNIT_WORDS = {
    Unit.BUSINESS_DAYS: "business days, to close of business",
    Unit.CALENDAR_DAYS: "calendar days, to the same time of day",
    Unit.AT_DECISION: "no later than the decision it informs",
}


class SkippedDay(BaseModel):
    """A day a business-day count passed over: a weekend day or a Victorian public holiday."""

    model_config = ConfigDict(frozen=True)

    day: date
    name: str


class ExtensionNote(BaseModel):
    """An extension of the deadline: to when, who approved it, who recorded it when, and why."""

    model_config = ConfigDict(frozen=True)

    new_due: datetime
    approved_by: str
    recorded_by: str
    recorded_at: datetime
    reason: str | None = None


class Explanation(BaseModel):
    """Why an obligation is due when it is: the whole derivation, enough to recompute it.

    `due` is `computed_due` (the count from `counts_from` in `unit`, skipping `skipped`, to
    `close_of_business` for business days) unless extended, when it is the last extension's
    `new_due`."""

    model_config = ConfigDict(frozen=True)

    rule: str
    policy_source: str
    policy_version: str
    counts_from: datetime | None = None
    counts_from_what: str | None = None
    set_by_event: str | None = None
    set_by_version: int | None = None
    unit: Unit | None = None
    count: int | None = None
    # Close of business in Melbourne, `HH:MM` (a wall-clock time, so no offset of its own).
    close_of_business: str | None = None
    skipped: tuple[SkippedDay, ...] = ()
    computed_due: datetime | None = None
    extensions: tuple[ExtensionNote, ...] = ()
    due: datetime | None = None
    text: str = ""


@dataclass(frozen=True)
class Count:
    """What a rule's deadline counts: `days` in `unit` from `start`, which is `start_is` (the
    provider becoming aware, the report, or a key decision)."""

    unit: Unit
    days: int
    start: datetime
    start_is: str


AWARE = "aware"
REPORTED = "reported"
START_WORDS = {
    AWARE: "when the provider became aware of the incident",
    REPORTED: "when the incident report was recorded",
}


def due_of(count: Count, policy: PolicyNumbers) -> datetime:
    """The instant a count falls due (the one place a deadline is computed from a count)."""
    if count.unit == Unit.BUSINESS_DAYS:
        return business_days_after(count.start, count.days, policy.close_of_business)
    if count.unit == Unit.CALENDAR_DAYS:
        return calendar_days_after(count.start, count.days)
    return count.start


def skipped_days(count: Count, due: datetime) -> tuple[SkippedDay, ...]:
    """The non-business days a business-day count passed over: every one after the start day
    up to the due day."""
    if count.unit != Unit.BUSINESS_DAYS:
        return ()
    first = count.start.astimezone(MELBOURNE).date() + timedelta(days=1)
    last = due.astimezone(MELBOURNE).date()
    return tuple(SkippedDay(day=d, name=n) for d, n in non_business_days_between(first, last))


def recompute_due(e: Explanation) -> datetime | None:
    """The due moment from an explanation alone (no calendar, no policy table): the property
    tests check it equals the obligation's `due`."""
    if e.extensions:
        return e.extensions[-1].new_due
    if e.counts_from is None or e.unit is None or e.count is None:
        return None
    local = e.counts_from.astimezone(MELBOURNE)
    if e.unit == Unit.CALENDAR_DAYS:
        later = datetime.combine(local.date() + timedelta(days=e.count), local.time(), MELBOURNE)
        return later.astimezone(e.counts_from.tzinfo)
    if e.unit == Unit.AT_DECISION:
        return e.counts_from
    skipped = {s.day for s in e.skipped}
    day, counted = local.date(), 0
    while counted < e.count:
        day += timedelta(days=1)
        counted += day not in skipped
    assert e.close_of_business is not None
    return close_of_business(day, time.fromisoformat(e.close_of_business))


EVENT_WORDS = {
    "Reported": "the report",
    "DetailsAmended": "an amendment of the report",
    "RecordCorrected": "a correction of the record",
    "FollowUpDetermined": "the follow-up determination",
    "InvestigationOutcomeRecorded": "the investigation outcome",
    "IncidentReviewCompleted": "the incident review",
    "Closed": "the closure",
}


def _set_by(e: Explanation) -> str:
    if e.set_by_event is None:
        return "."
    words = EVENT_WORDS.get(e.set_by_event, e.set_by_event)
    return f" (set by {words}, version {e.set_by_version})."


def _day(moment: datetime) -> str:
    local = moment.astimezone(MELBOURNE)
    return f"{local:%A} {local.day} {local:%B %Y}"


def _when(moment: datetime) -> str:
    local = moment.astimezone(MELBOURNE)
    return f"{local:%H:%M} on {_day(moment)}"


def explanation_text(e: Explanation) -> str:
    """The derivation in plain words (Melbourne time), for a person to read."""
    parts = []
    if e.counts_from is None or e.unit is None:
        parts.append(
            "No fixed deadline: owed as the source below says, and met (or, where the policy"
            " allows, marked not required with the reason) before the incident closes."
        )
    elif e.unit == Unit.AT_DECISION:
        parts.append(f"Due by {_when(e.counts_from)}, {e.counts_from_what}" + _set_by(e))
    else:
        assert e.computed_due is not None
        unit = "business" if e.unit == Unit.BUSINESS_DAYS else "calendar"
        parts.append(
            f"Due {_when(e.computed_due)}: {e.count} {unit} day{'s' * (e.count != 1)}"
            f" counted from {_when(e.counts_from)}, {e.counts_from_what}" + _set_by(e)
        )
        if e.unit == Unit.BUSINESS_DAYS:
            cob = e.close_of_business or ""
            parts.append(
                f"That day itself does not count; the deadline is close of business ({cob}"
                " Melbourne time) on the last business day."
            )
            parts.append(
                "Days not counted: "
                + "; ".join(f"{_day_only(s.day)} ({s.name})" for s in e.skipped)
                + "."
                if e.skipped
                else "No weekend or public holiday fell in the count."
            )
    for x in e.extensions:
        parts.append(
            f"Extended to {_when(x.new_due)}, approved by {x.approved_by}, recorded by"
            f" {x.recorded_by} at {_when(x.recorded_at)}"
            + (f", because {x.reason}." if x.reason else ".")
        )
    parts.append(f"Source: {e.policy_source} Regime: policy version {e.policy_version}.")
    return " ".join(parts)


def _day_only(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


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
    # Why it is due when it is (rule, source, start, unit, count, days skipped, extensions).
    explanation: Explanation | None = None

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
    due: Callable[[Incident, PolicyNumbers, datetime], Count | None]
    source: str
    waivable: bool = False
    reads: frozenset[str] | None = None


def _reads(*fields: str) -> frozenset[str]:
    return frozenset(fields)


def _aware(i: Incident) -> datetime:
    return i.details.became_aware_at


def _business_days(days: Callable[[PolicyNumbers], int]) -> Callable[..., Count]:
    return lambda i, p, reported: Count(Unit.BUSINESS_DAYS, days(p), _aware(i), AWARE)


def _follow_up_due(i: Incident, p: PolicyNumbers, reported: datetime) -> Count:
    days = (
        p.incident_review_days
        if i.follow_up == FollowUpKind.INCIDENT_REVIEW
        else (p.investigation_days)
    )
    return Count(Unit.CALENDAR_DAYS, days, reported, REPORTED)


def _no_deadline(i: Incident, p: PolicyNumbers, reported: datetime) -> None:
    return None


def _outcome_told(i: Incident) -> bool:
    client_told = any(r in (Recipient.CLIENT, Recipient.GUARDIAN) for r, _ in i.communicated)
    subjects_told = {ref for r, ref in i.communicated if r == Recipient.SUBJECT_OF_ALLEGATION}
    return client_told and {s.ref for s in i.subjects} <= subjects_told


def _consultation(stage: ConsultationStage, applies: Callable[[Incident], bool]) -> Rule:
    """Aboriginal consultation owed before a key decision (policy §1, §8; our reading): due when
    the decision was recorded, and until then by the deadline the decision itself works to."""

    def due(i: Incident, p: PolicyNumbers, reported: datetime) -> Count | None:
        decided = i.decided_at.get(stage)
        if decided is not None:
            return Count(Unit.AT_DECISION, 0, decided, f"decided:{stage}")
        if stage == ConsultationStage.FOLLOW_UP:
            return Count(Unit.BUSINESS_DAYS, p.report_business_days, _aware(i), AWARE)
        if stage == ConsultationStage.OUTCOME:
            return _follow_up_due(i, p, reported)
        return None

    return Rule(
        applies=lambda i: i.aboriginal and applies(i),
        met=lambda i: consulted_for(stage, i.consulted_stages, i.decided_at) is not None,
        due=due,
        source=SOURCES["aboriginal_consultation"],
        # `aboriginal` is a property of the clients; `applies` reads follow_up and impact.
        reads=_reads("clients", "follow_up", "impact", "consulted_stages", "decided_at"),
    )


# Where each obligation comes from, in the policy's words (numbers are the policy table's).
SOURCES: dict[str, str] = {
    "incident_report": "CIMS policy (from 9 December 2024; the 2018 guide before it): every"
    " incident, major or non-major, is reported in CIMS within a set number of business days of"
    " the provider becoming aware of it.",
    "regulator_short_form": "Social Services Regulator, reporting a notifiable incident: a"
    " critical incident's short form by close of business on the next business day.",
    "police_contact": "CIMS policy: allegations of sexual or physical abuse or serious neglect"
    " are reported to police before any investigation.",
    "integrity_advice": "Child Protection Manual advice 1516: Child Protection seeks the"
    " Integrity team's advice before responding to an allegation of harm in care.",
    "aboriginal_consultation": "CIMS policy principles (2024), Aboriginal self-determination,"
    " voice and cultural safety: ACSASS, an ACCO or the ACAC provider is consulted at key"
    " stages; our reading: before each key decision (docs/policy.md).",
    "investigation_or_review": "CIMS policy minimum requirements: an investigation, or an"
    " incident review, is completed within a set number of days of the incident report"
    " (calendar days is our reading, docs/policy.md).",
    "ccyp_notice": "Reportable Conduct Scheme (Commission for Children and Young People): the"
    " Commission is notified within a set number of business days of the head of the"
    " organisation becoming aware.",
    "ccyp_details": "Reportable Conduct Scheme (Commission for Children and Young People):"
    " detailed information within a set number of calendar days.",
    "allegations_served": "CIMS policy minimum requirements: each subject of allegation receives"
    " the allegations in writing before any outcome.",
    "outcome_communicated": "CIMS policy: the outcome is communicated to the client (or their"
    " guardian) and to each subject of allegation.",
    "outcome_review_decided": "CIMS policy, outcome review: a review requested by the client or"
    " the subject of allegation is decided by an independent reviewer.",
    "response_plan": "CIMS policy, after the outcome: a response plan integrated into case and"
    " care planning.",
    "carer_support_plan": "CIMS policy (2024): carer support planning follows a client incident;"
    " our reading of when it is owed is in docs/policy.md.",
    "recommendations_actioned": "CIMS policy: the recommendations of an investigation or"
    " incident review are actioned.",
}

RULES: dict[str, Rule] = {
    "incident_report": Rule(
        source=SOURCES["incident_report"],
        applies=lambda i: True,
        met=lambda i: True,
        due=_business_days(lambda p: p.report_business_days),
        reads=_reads(),
    ),
    "regulator_short_form": Rule(
        source=SOURCES["regulator_short_form"],
        applies=lambda i: i.regulator_category == RegulatorCategory.CRITICAL,
        met=lambda i: NotificationKind.REGULATOR_SHORT_FORM in i.notified,
        due=_business_days(lambda p: p.regulator_short_form_business_days),
        reads=_reads("regulator_category", "notified"),
    ),
    "police_contact": Rule(
        source=SOURCES["police_contact"],
        applies=lambda i: police_contact_required(i.types, i.impact),
        met=lambda i: NotificationKind.POLICE in i.notified,
        due=_no_deadline,
        reads=_reads("types", "impact", "notified"),
    ),
    "integrity_advice": Rule(
        source=SOURCES["integrity_advice"],
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
        source=SOURCES["investigation_or_review"],
        applies=lambda i: (
            i.impact == Impact.MAJOR
            or i.follow_up in (*INVESTIGATIONS, FollowUpKind.INCIDENT_REVIEW)
        ),
        met=lambda i: i.report_submitted or i.review_completed,
        due=_follow_up_due,
        reads=_reads("impact", "follow_up", "report_submitted", "review_completed"),
    ),
    "ccyp_notice": Rule(
        source=SOURCES["ccyp_notice"],
        applies=lambda i: i.follow_up == FollowUpKind.RCS_IN_LIEU,
        met=lambda i: NotificationKind.CCYP in i.notified,
        due=_business_days(lambda p: p.rcs_ccyp_notice_business_days),
        reads=_reads("follow_up", "notified"),
    ),
    "ccyp_details": Rule(
        source=SOURCES["ccyp_details"],
        applies=lambda i: i.follow_up == FollowUpKind.RCS_IN_LIEU,
        met=lambda i: NotificationKind.CCYP_DETAILS in i.notified,
        due=lambda i, p, r: Count(Unit.CALENDAR_DAYS, p.rcs_ccyp_details_days, _aware(i), AWARE),
        reads=_reads("follow_up", "notified"),
    ),
    "allegations_served": Rule(
        source=SOURCES["allegations_served"],
        applies=lambda i: i.follow_up in INVESTIGATIONS and bool(i.subjects),
        met=lambda i: {s.ref for s in i.subjects} <= i.served,
        due=_no_deadline,
        reads=_reads("follow_up", "subjects", "served"),
    ),
    "outcome_communicated": Rule(
        source=SOURCES["outcome_communicated"],
        applies=lambda i: bool(i.outcomes),
        met=_outcome_told,
        due=_no_deadline,
        reads=_reads("outcomes", "communicated", "subjects"),
    ),
    "outcome_review_decided": Rule(
        source=SOURCES["outcome_review_decided"],
        applies=lambda i: i.review_pending is not None or i.reviews_decided > 0,
        met=lambda i: i.review_pending is None,
        due=_no_deadline,
        reads=_reads("review_pending", "reviews_decided"),
    ),
    "response_plan": Rule(
        source=SOURCES["response_plan"],
        applies=lambda i: True,
        met=lambda i: i.response_plan_recorded,
        due=_no_deadline,
        waivable=True,
        reads=_reads("response_plan_recorded"),
    ),
    "carer_support_plan": Rule(
        source=SOURCES["carer_support_plan"],
        applies=lambda i: carer_support_required(i.care_context, i.subjects),
        met=lambda i: carer_support_met(i.care_context, i.subjects, i.carer_support_plans),
        due=_no_deadline,
        waivable=True,
        reads=_reads("care_context", "subjects", "carer_support_plans"),
    ),
    "recommendations_actioned": Rule(
        source=SOURCES["recommendations_actioned"],
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
    # The events that set what deadlines count from, for their explanations: the report (and
    # any amendment or correction of when the provider became aware), and each key decision.
    starts: dict[str, tuple[str, int]] = field(default_factory=dict)
    extended: dict[str, tuple[ExtensionNote, ...]] = field(default_factory=dict)
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
            self._note_starts(event)
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

    def _note_starts(self, event: Any) -> None:
        """Remember which event set each instant a deadline counts from."""
        at = (type(event).__name__, int(event.originator_version))
        starts = self.starts
        if isinstance(event, Incident.Reported):
            starts[REPORTED] = starts[AWARE] = at
        elif isinstance(event, Incident.DetailsAmended | Incident.RecordCorrected):
            if event.changes.became_aware_at is not None:
                starts[AWARE] = at
        elif isinstance(event, Incident.FollowUpDetermined):
            starts.setdefault(f"decided:{ConsultationStage.FOLLOW_UP}", at)
        elif isinstance(
            event, Incident.InvestigationOutcomeRecorded | Incident.IncidentReviewCompleted
        ):
            starts.setdefault(f"decided:{ConsultationStage.OUTCOME}", at)
        elif isinstance(event, Incident.Closed):
            starts.setdefault(f"decided:{ConsultationStage.CLOSURE}", at)
        elif isinstance(event, Incident.DeadlineExtended):
            note = ExtensionNote(
                new_due=event.new_due,
                approved_by=event.approved_by,
                recorded_by=f"{event.actor.id} ({event.actor.organisation})",
                recorded_at=event.timestamp,
                reason=event.reason,
            )
            kind = event.obligation_kind
            self.extended[kind] = (*self.extended.get(kind, ()), note)

    def explain(
        self,
        kind: str,
        rule: Rule,
        count: Count | None,
        due: datetime | None,
        policy: PolicyNumbers,
    ) -> Explanation:
        """The derivation of one obligation's deadline, as the fold so far gives it."""
        assert self.incident is not None
        computed = None if count is None else due_of(count, policy)
        event, version = (None, None)
        what = None
        if count is not None:
            event, version = self.starts.get(count.start_is, (None, None))
            what = START_WORDS.get(count.start_is) or ("when the decision it informs was recorded")
        extensions = self.extended.get(kind, ())
        # Only extensions that moved this deadline (an extension is refused if not later).
        explanation = Explanation(
            rule=kind,
            policy_source=rule.source,
            policy_version=self.incident.policy_version,
            counts_from=None if count is None else count.start,
            counts_from_what=what,
            set_by_event=event,
            set_by_version=version,
            unit=None if count is None else count.unit,
            count=None if count is None else count.days,
            close_of_business=(
                policy.close_of_business.strftime("%H:%M")
                if count is not None and count.unit == Unit.BUSINESS_DAYS
                else None
            ),
            skipped=() if count is None or computed is None else skipped_days(count, computed),
            computed_due=computed,
            extensions=extensions,
            due=due,
        )
        return explanation.model_copy(update={"text": explanation_text(explanation)})

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
            count = rule.due(incident, policy, reported_at)
            original_due = None if count is None else due_of(count, policy)
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
                    explanation=self.explain(kind, rule, count, due, policy),
                )
            )
        return incident, tuple(result)


def next_due(items: Iterable[Obligation]) -> datetime | None:
    """The earliest deadline among obligations not yet settled."""
    pending = [o.due for o in items if o.due is not None and not o.settled]
    return min(pending) if pending else None
