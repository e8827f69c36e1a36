"""Procedural fairness of an investigation, check by check, from its events (policy §8, §10)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.calendar import business_days_after
from domain.incident import Incident
from domain.local_time import melbourne
from domain.obligations import Obligation, Status, obligations
from domain.policy_table import policy_named
from domain.rules import times
from domain.rules.consultation import consulted_for
from domain.rules.follow_up import INVESTIGATIONS
from domain.values import ConsultationStage, FollowUpKind, Recipient


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    PENDING = "pending"
    WARN = "warn"
    MET_LATE_WITH_EXTENSION = "met_late_with_extension"
    NOT_APPLICABLE = "not_applicable"


class Check(BaseModel):
    """One fairness requirement, the event that evidences it, and the verdict."""

    model_config = ConfigDict(frozen=True)

    check: str
    verdict: Verdict
    evidence_versions: tuple[int, ...] = ()
    detail: str = ""
    # The events the verdict rests on, named in the order of `evidence_versions`.
    evidence_events: tuple[str, ...] = ()
    # The last evidencing step's effective and recorded instants, and whether any evidencing
    # step was recorded more than the allowed business days after its effective time.
    effective_at: datetime | None = None
    recorded_at: datetime | None = None
    recorded_late: bool = False


def procedural_fairness(events: Iterable[Any], *, now: datetime) -> tuple[Check, ...]:
    """The reviewer's checklist for an incident's investigation or incident review; empty if
    neither was determined. An incident review puts no allegation to a subject, so the checks
    of service, response and the investigator's independence are not applicable to it (our
    reading, docs/policy.md); its timeframe, client voice, Aboriginal consultation and telling
    the client are checked as an investigation's are.

    Every sequence is judged in the order the steps were recorded and by when they took effect:
    a step dated before the one it depends on fails as one recorded before it does."""
    history = list(events)
    incident: Incident | None = None
    served_at: dict[str, int] = {}
    responded: dict[str, int] = {}
    told: dict[tuple[Recipient, str], int] = {}
    first_outcome: int | None = None
    outcome_at: datetime | None = None
    served_when: dict[str, datetime] = {}
    responded_when: dict[str, datetime] = {}
    first_voice: tuple[int, datetime] | None = None
    appointed_by: tuple[int, str] | None = None
    appointed: int | None = None
    consulted: list[int] = []
    reviews: list[tuple[int, str]] = []
    for e in history:
        incident = e.mutate(incident)
        v = e.originator_version
        if isinstance(e, Incident.AllegationsServed):
            served_at.update({ref: v for ref in e.subject_refs if ref not in served_at})
            served_when.update({r: e.happened_at for r in e.subject_refs if r not in served_when})
        elif isinstance(e, Incident.SubjectResponseRecorded):
            responded.setdefault(e.subject_ref, v)
            responded_when.setdefault(e.subject_ref, e.happened_at)
        elif (
            isinstance(e, Incident.InvestigationOutcomeRecorded | Incident.IncidentReviewCompleted)
            and first_outcome is None
        ):
            first_outcome, outcome_at = v, e.happened_at
        elif isinstance(e, Incident.ClientVoiceRecorded) and first_voice is None:
            first_voice = (v, e.happened_at)
        elif isinstance(e, Incident.InvestigatorAppointed):
            appointed_by = (v, e.actor.id)
            appointed = v if e.independence_declared else appointed
        elif isinstance(e, Incident.AboriginalConsultationRecorded):
            consulted.append(v)
        elif isinstance(e, Incident.OutcomeCommunicated):
            told.setdefault((e.recipient, e.recipient_ref), v)
        elif isinstance(e, Incident.OutcomeReviewDecided):
            reviews.append((v, e.result.value))
    if incident is None or incident.follow_up not in (
        *INVESTIGATIONS,
        FollowUpKind.INCIDENT_REVIEW,
    ):
        return ()
    subjects = [s.ref for s in incident.subjects]
    owed = obligations(history, now=now)
    moments = Moments(served=served_when, responded=responded_when, outcome=outcome_at)
    if incident.follow_up == FollowUpKind.INCIDENT_REVIEW:
        checks = _incident_review_checks(
            incident, first_voice, first_outcome, outcome_at, owed, consulted
        )
        checks += (_outcome_communicated([], told, first_outcome),)
        checks += (_not_for_review("outcome_review"),)
    else:
        checks = (
            _served_before_outcome(subjects, served_at, first_outcome, moments, incident),
            _chance_to_respond(subjects, served_at, responded, first_outcome, moments, incident),
            _client_voice_before_outcome(first_voice, first_outcome, outcome_at),
            Check(
                check="investigator_independence_declared",
                verdict=Verdict.PASS if appointed else Verdict.PENDING,
                evidence_versions=(appointed,) if appointed else (),
            ),
            _appointer_not_line_manager(appointed_by, incident),
            _timeframe(owed),
            _aboriginal_consultation(incident, consulted, owed),
            _outcome_communicated(subjects, told, first_outcome),
            _review_rights(incident, reviews),
        )
    names = {e.originator_version: type(e).__name__ for e in history}
    policy = policy_named(incident.policy_version)
    return tuple(
        _with_times(
            c.model_copy(update={"evidence_events": tuple(names[v] for v in c.evidence_versions)}),
            history,
            policy,
        )
        for c in checks
    )


NOT_FOR_REVIEW = "an incident review puts no allegation to a subject of allegation"


def _not_for_review(name: str) -> Check:
    detail = (
        "an outcome review is of an investigation's findings"
        if name == "outcome_review"
        else NOT_FOR_REVIEW
    )
    return Check(check=name, verdict=Verdict.NOT_APPLICABLE, detail=detail)


def _incident_review_checks(
    i: Incident,
    voice: tuple[int, datetime] | None,
    completed: int | None,
    completed_at: datetime | None,
    owed: tuple[Obligation, ...],
    consulted: list[int],
) -> tuple[Check, ...]:
    """The checklist of an incident review, in the investigation checklist's order."""
    return (
        _not_for_review("allegations_served_in_writing_before_outcome"),
        _not_for_review("response_recorded_or_chance_given"),
        _client_voice_before_outcome(voice, completed, completed_at),
        _not_for_review("investigator_independence_declared"),
        _not_for_review("investigator_not_appointed_by_line_manager"),
        _timeframe(owed),
        _aboriginal_consultation(i, consulted, owed),
    )


class Moments(BaseModel):
    """When each subject was served and responded, and when the outcome was recorded."""

    served: dict[str, datetime]
    responded: dict[str, datetime]
    outcome: datetime | None


def _with_times(check: Check, history: list[Any], policy: Any) -> Check:
    steps = [history[v - 1] for v in check.evidence_versions if 0 < v <= len(history)]
    if not steps:
        return check
    last = max(steps, key=lambda e: e.originator_version)
    late = any(
        e.effective_at is not None and times.recorded_late(e.effective_at, e.timestamp, policy)
        for e in steps
    )
    return check.model_copy(
        update={
            "effective_at": last.happened_at,
            "recorded_at": last.timestamp,
            "recorded_late": late,
        }
    )


def _served_before_outcome(
    subjects: list[str],
    served_at: dict[str, int],
    first_outcome: int | None,
    at: Moments,
    i: Incident,
) -> Check:
    """Each subject had the allegations in writing before the outcome, recorded before it and
    taking effect no later: how and when is shown, and a service recorded as free text before
    the written means were listed is a warning."""
    name = "allegations_served_in_writing_before_outcome"
    if not subjects:
        return Check(check=name, verdict=Verdict.NOT_APPLICABLE, detail="no subject of allegation")
    versions = tuple(sorted(served_at[s] for s in subjects if s in served_at))
    how = "; ".join(
        f"{s}: {_method_words(i.service[s].method)} at {melbourne(i.service[s].served_at)}"
        for s in subjects
        if s in i.service
    )
    unwritten = [s for s in subjects if s in i.service and i.service[s].method.startswith("legacy")]
    late = [
        s
        for s in subjects
        if first_outcome
        and (
            served_at.get(s, 10**9) > first_outcome
            or (at.outcome is not None and s in at.served and at.served[s] > at.outcome)
        )
    ]
    if first_outcome is None:
        verdict = Verdict.PASS if len(versions) == len(subjects) else Verdict.PENDING
    elif late and i.sufficient_evidence_rationale:
        verdict = Verdict.PASS
        how = "sufficient evidence at the outset; subjects told in writing after. " + how
    else:
        verdict = Verdict.FAIL if late else Verdict.PASS
        how = f"not served before the outcome: {', '.join(late)}. {how}" if late else how
    if unwritten and verdict == Verdict.PASS:
        verdict = Verdict.WARN
        how += f". Not recorded as a written means: {', '.join(unwritten)}"
    return Check(check=name, verdict=verdict, evidence_versions=versions, detail=how)


def _chance_to_respond(
    subjects: list[str],
    served_at: dict[str, int],
    responded: dict[str, int],
    outcome: int | None,
    at: Moments,
    i: Incident,
) -> Check:
    """Each subject had a reasonable time to respond before the outcome (policy §8; the
    business days are the policy table's, our reading), and no response came after it."""
    name = "response_recorded_or_chance_given"
    if not subjects:
        return Check(check=name, verdict=Verdict.NOT_APPLICABLE, detail="no subject of allegation")
    given = [s for s in subjects if s in served_at]
    evidence = tuple(sorted({served_at[s] for s in given} | {responded[s] for s in responded}))
    evidence += (outcome,) if outcome else ()
    if outcome is None or at.outcome is None:
        silent = [s for s in given if s not in responded]
        return Check(
            check=name,
            verdict=Verdict.PASS if len(given) == len(subjects) else Verdict.PENDING,
            evidence_versions=evidence,
            detail=f"served, no response recorded: {', '.join(silent)}" if silent else "",
        )
    if i.sufficient_evidence_rationale:
        return Check(
            check=name,
            verdict=Verdict.PASS,
            evidence_versions=evidence,
            detail="sufficient evidence at the outset",
        )
    policy = policy_named(i.policy_version)
    days = policy.reasonable_response_business_days
    faults = []
    for s in given:
        answered = at.responded.get(s)
        if answered is not None and answered < at.served[s]:
            faults.append(f"{s}: response dated {melbourne(answered)}, before service")
        if s in responded and responded[s] > outcome:
            faults.append(f"{s}: response recorded after the outcome")
        elif answered is not None and answered > at.outcome:
            faults.append(f"{s}: response dated after the outcome")
            answered = None
        elif answered is None and at.outcome < business_days_after(
            at.served[s], days, policy.close_of_business
        ):
            faults.append(
                f"{s}: outcome within {days} business days of service, no response recorded"
            )
    return Check(
        check=name,
        verdict=Verdict.FAIL if faults else Verdict.PASS,
        evidence_versions=tuple(sorted(set(evidence))),
        detail="; ".join(faults),
    )


def _client_voice_before_outcome(
    voice: tuple[int, datetime] | None, outcome: int | None, outcome_at: datetime | None
) -> Check:
    """Prioritise client voice (policy §1): what the client said is on record before the
    outcome."""
    name = "client_voice_before_outcome"
    # Before the outcome both in the order recorded and by when each took effect.
    if voice is not None and (
        outcome is None
        or (voice[0] < outcome and outcome_at is not None and voice[1] <= outcome_at)
    ):
        return Check(check=name, verdict=Verdict.PASS, evidence_versions=(voice[0],))
    if outcome is None:
        return Check(check=name, verdict=Verdict.PENDING, detail="no client voice recorded yet")
    return Check(
        check=name,
        verdict=Verdict.WARN,
        evidence_versions=(outcome,),
        detail="no client voice was recorded before the outcome",
    )


def _appointer_not_line_manager(appointed: tuple[int, str] | None, i: Incident) -> Check:
    """The investigator was not appointed by a subject's line manager (policy §8 independence)."""
    name = "investigator_not_appointed_by_line_manager"
    if appointed is None:
        return Check(check=name, verdict=Verdict.PENDING, detail="no investigator appointed")
    version, appointer = appointed
    managed = sorted(s.ref for s in i.subjects if s.line_manager_ref == appointer)
    return Check(
        check=name,
        verdict=Verdict.FAIL if managed else Verdict.PASS,
        evidence_versions=(version,),
        detail=f"appointed by {appointer}, line manager of {', '.join(managed)}" if managed else "",
    )


def _timeframe(owed: tuple[Obligation, ...]) -> Check:
    due = next((o for o in owed if o.kind == "investigation_or_review"), None)
    verdict = {
        None: Verdict.NOT_APPLICABLE,
        Status.MET: Verdict.PASS,
        Status.OPEN: Verdict.PENDING,
        Status.OVERDUE: Verdict.FAIL,
        Status.NOT_REQUIRED: Verdict.NOT_APPLICABLE,
        Status.MET_LATE: Verdict.FAIL,
    }[due.status if due else None]
    if (
        due is not None
        and due.status == Status.MET_LATE
        and due.extended
        and due.due
        and (due.met_at and due.met_at <= due.due)
    ):
        verdict = Verdict.MET_LATE_WITH_EXTENSION
    return Check(
        check="completed_within_28_days",
        verdict=verdict,
        evidence_versions=(due.met_by_version,) if due and due.met_by_version else (),
        detail=f"due {melbourne(due.due)}" if due and due.due else "",
    )


def _aboriginal_consultation(
    i: Incident, consulted: list[int], owed: tuple[Obligation, ...]
) -> Check:
    """ACSASS, an ACCO or the ACAC provider was consulted before each key decision."""
    name = "acsass_or_acco_consulted"
    if not i.aboriginal:
        return Check(check=name, verdict=Verdict.NOT_APPLICABLE, detail="no Aboriginal client")
    stages = [o for o in owed if o.kind.startswith("aboriginal_consultation_")]
    missed = []
    for o in stages:
        decided = i.decided_at.get(ConsultationStage(_stage(o)))
        when = consulted_for(ConsultationStage(_stage(o)), i.consulted_stages, i.decided_at)
        if decided is not None and (when is None or when > decided):
            missed.append(_stage(o))
    if missed:
        return Check(
            check=name,
            verdict=Verdict.FAIL,
            evidence_versions=tuple(consulted),
            detail="decided without consulting first: " + ", ".join(map(_decision, missed)),
        )
    waiting = [_stage(o) for o in stages if not o.settled]
    return Check(
        check=name,
        verdict=Verdict.PENDING if waiting else Verdict.PASS,
        evidence_versions=tuple(consulted),
        detail=f"consultation owed before {', '.join(map(_decision, waiting))}" if waiting else "",
    )


def _stage(o: Obligation) -> str:
    return o.kind.removeprefix("aboriginal_consultation_")


def _decision(stage: str) -> str:
    """A consultation stage as the decision it comes before: "follow_up" is "the follow-up"."""
    return "the " + stage.replace("_", "-")


def _method_words(method: str) -> str:
    """How allegations were served, in words ("letter_by_post" is "letter by post"); a legacy
    record's free text as it was written."""
    return method if method.startswith("legacy") else method.replace("_", " ")


def _outcome_communicated(
    subjects: list[str], told: dict[tuple[Recipient, str], int], outcome: int | None
) -> Check:
    name = "outcome_communicated_to_client_and_subject"
    if outcome is None:
        return Check(check=name, verdict=Verdict.PENDING, detail="no outcome yet")
    client = [v for (r, _), v in told.items() if r in (Recipient.CLIENT, Recipient.GUARDIAN)]
    subject = {ref: v for (r, ref), v in told.items() if r == Recipient.SUBJECT_OF_ALLEGATION}
    missing = [s for s in subjects if s not in subject] + ([] if client else ["client"])
    return Check(
        check=name,
        verdict=Verdict.PENDING if missing else Verdict.PASS,
        evidence_versions=tuple(sorted(client + list(subject.values()))),
        detail=f"not yet told: {', '.join(missing)}" if missing else "",
    )


def _review_rights(incident: Incident, reviews: list[tuple[int, str]]) -> Check:
    name = "outcome_review"
    if incident.review_pending is not None:
        return Check(check=name, verdict=Verdict.PENDING, detail="review requested, undecided")
    if reviews:
        return Check(
            check=name,
            verdict=Verdict.PASS,
            evidence_versions=tuple(v for v, _ in reviews),
            detail="; ".join(f"review {result}" for _, result in reviews),
        )
    return Check(check=name, verdict=Verdict.NOT_APPLICABLE, detail="no review requested")
