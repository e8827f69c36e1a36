"""Procedural fairness of an investigation, check by check, from its events (policy §8, §10)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.incident import Incident
from domain.obligations import Status, obligations
from domain.policy_table import policy_named
from domain.rules import times
from domain.rules.follow_up import INVESTIGATIONS
from domain.values import Recipient


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    PENDING = "pending"
    MET_LATE_WITH_EXTENSION = "met_late_with_extension"
    NOT_APPLICABLE = "not_applicable"


class Check(BaseModel):
    """One fairness requirement, the event that evidences it, and the verdict."""

    model_config = ConfigDict(frozen=True)

    check: str
    verdict: Verdict
    evidence_versions: tuple[int, ...] = ()
    detail: str = ""
    # The last evidencing step's effective and recorded instants, and whether any evidencing
    # step was recorded more than the allowed business days after its effective time.
    effective_at: datetime | None = None
    recorded_at: datetime | None = None
    recorded_late: bool = False


def procedural_fairness(events: Iterable[Any], *, now: datetime) -> tuple[Check, ...]:
    """The reviewer's checklist for an incident's investigation; empty if none was determined."""
    history = list(events)
    incident: Incident | None = None
    served_at: dict[str, int] = {}
    responded: dict[str, int] = {}
    told: dict[tuple[Recipient, str], int] = {}
    first_outcome: int | None = None
    appointed: int | None = None
    consulted: list[int] = []
    reviews: list[tuple[int, str]] = []
    for e in history:
        incident = e.mutate(incident)
        v = e.originator_version
        if isinstance(e, Incident.AllegationsServed):
            served_at.update({ref: v for ref in e.subject_refs if ref not in served_at})
        elif isinstance(e, Incident.SubjectResponseRecorded):
            responded.setdefault(e.subject_ref, v)
        elif isinstance(e, Incident.InvestigationOutcomeRecorded) and first_outcome is None:
            first_outcome = v
        elif isinstance(e, Incident.InvestigatorAppointed) and e.independence_declared:
            appointed = v
        elif isinstance(e, Incident.AboriginalConsultationRecorded):
            consulted.append(v)
        elif isinstance(e, Incident.OutcomeCommunicated):
            told.setdefault((e.recipient, e.recipient_ref), v)
        elif isinstance(e, Incident.OutcomeReviewDecided):
            reviews.append((v, e.result.value))
    if incident is None or incident.follow_up not in INVESTIGATIONS:
        return ()
    subjects = [s.ref for s in incident.subjects]
    checks = (
        _served_before_outcome(subjects, served_at, first_outcome, incident),
        _chance_to_respond(subjects, served_at, responded),
        Check(
            check="investigator_independence_declared",
            verdict=Verdict.PASS if appointed else Verdict.PENDING,
            evidence_versions=(appointed,) if appointed else (),
        ),
        _timeframe(history, now),
        _aboriginal_consultation(incident.aboriginal, consulted, first_outcome),
        _outcome_communicated(subjects, told, first_outcome),
        _review_rights(incident, reviews),
    )
    policy = policy_named(incident.policy_version)
    return tuple(_with_times(c, history, policy) for c in checks)


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
    subjects: list[str], served_at: dict[str, int], first_outcome: int | None, i: Incident
) -> Check:
    name = "allegations_served_in_writing_before_outcome"
    if not subjects:
        return Check(check=name, verdict=Verdict.NOT_APPLICABLE, detail="no subject of allegation")
    versions = tuple(sorted(served_at[s] for s in subjects if s in served_at))
    late = [s for s in subjects if first_outcome and served_at.get(s, 10**9) > first_outcome]
    if first_outcome is None:
        verdict = Verdict.PASS if len(versions) == len(subjects) else Verdict.PENDING
        return Check(check=name, verdict=verdict, evidence_versions=versions)
    if late and i.sufficient_evidence_rationale:
        return Check(
            check=name,
            verdict=Verdict.PASS,
            evidence_versions=versions,
            detail="sufficient evidence at the outset; subjects told in writing after",
        )
    return Check(
        check=name,
        verdict=Verdict.FAIL if late else Verdict.PASS,
        evidence_versions=versions,
        detail=f"not served before the outcome: {', '.join(late)}" if late else "",
    )


def _chance_to_respond(
    subjects: list[str], served_at: dict[str, int], responded: dict[str, int]
) -> Check:
    name = "response_recorded_or_chance_given"
    if not subjects:
        return Check(check=name, verdict=Verdict.NOT_APPLICABLE, detail="no subject of allegation")
    given = [s for s in subjects if s in served_at]
    silent = [s for s in given if s not in responded]
    return Check(
        check=name,
        verdict=Verdict.PASS if len(given) == len(subjects) else Verdict.PENDING,
        evidence_versions=tuple(sorted(responded.get(s, served_at[s]) for s in given)),
        detail=f"served, no response recorded: {', '.join(silent)}" if silent else "",
    )


def _timeframe(history: list[Any], now: datetime) -> Check:
    due = next(
        (o for o in obligations(history, now=now) if o.kind == "investigation_or_review"), None
    )
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
        detail=f"due {due.due.isoformat()}" if due and due.due else "",
    )


def _aboriginal_consultation(aboriginal: bool, consulted: list[int], outcome: int | None) -> Check:
    name = "acsass_or_acco_consulted"
    if not aboriginal:
        return Check(check=name, verdict=Verdict.NOT_APPLICABLE, detail="no Aboriginal client")
    if consulted:
        return Check(check=name, verdict=Verdict.PASS, evidence_versions=tuple(consulted))
    return Check(
        check=name,
        verdict=Verdict.FAIL if outcome else Verdict.PENDING,
        detail="Aboriginal client; no consultation recorded",
    )


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
