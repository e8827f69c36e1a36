"""Policy §8: the investigation's minimum requirements and procedural fairness."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from domain.calendar import business_days_after
from domain.errors import PolicyViolation
from domain.local_time import melbourne
from domain.policy_table import PolicyNumbers
from domain.values import (
    AllegationOutcome,
    IncidentType,
    Principal,
    Ref,
    Service,
    ServiceMethod,
    SubjectOfAllegation,
)


def require_investigator_appointed(investigator_ref: Ref | None) -> None:
    """Investigation steps are taken by an appointed investigator."""
    if investigator_ref is None:
        raise PolicyViolation(
            "investigation.no-investigator",
            "no investigator has been appointed",
            field="investigator_ref",
        )


def require_independence_declared(declared: bool) -> None:
    """The investigator declares they are independent of the incident."""
    if not declared:
        raise PolicyViolation(
            "fairness.independence-not-declared",
            "the investigator must declare their independence",
            field="independence_declared",
        )


def require_independent_investigator(
    investigator: Principal,
    reporter: Principal,
    subjects: Collection[SubjectOfAllegation],
    field: str = "investigator_ref",
) -> None:
    """Neither the reporter, a subject of allegation nor their line manager investigates.

    [C] The reporter is a principal (their organisation and subject); a subject of allegation
    and a line manager are named by a reference alone, so any principal of that name is
    refused, which errs on the side of independence."""
    conflicted = {s.ref for s in subjects} | {
        s.line_manager_ref for s in subjects if s.line_manager_ref
    }
    if investigator == reporter or investigator.subject in conflicted:
        raise PolicyViolation(
            "fairness.investigator-not-independent",
            "the reporter, a subject of allegation or their line manager cannot investigate",
            field=field,
        )


def require_known_subjects(refs: Collection[Ref], known: Collection[Ref]) -> None:
    """Allegations concern the subjects of allegation named on the incident."""
    unknown = sorted(set(refs) - set(known))
    if not refs or unknown:
        raise PolicyViolation(
            "fairness.unknown-subject",
            f"not a subject of allegation on this incident: {', '.join(unknown) or '(none given)'}",
            field="subject_refs",
        )


def require_served_before_response(
    subject_ref: Ref,
    served: Collection[Ref],
    *,
    service: Mapping[Ref, Service] | None = None,
    at: datetime | None = None,
) -> None:
    """A subject responds to allegations that were put to them in writing: the response is
    recorded after service, and takes effect (`at`) no earlier than the service did."""
    if subject_ref not in served:
        raise PolicyViolation(
            "fairness.response-before-service",
            "the allegations were not served on this subject in writing",
            field="subject_ref",
        )
    when = (service or {}).get(subject_ref)
    if at is not None and when is not None and at < when.served_at:
        raise PolicyViolation(
            "fairness.response-before-service",
            f"a response cannot take effect ({melbourne(at)}) before the allegations were"
            f" served on {subject_ref} in writing ({melbourne(when.served_at)})",
            field="effective_at",
        )


def _unserved(
    subjects: Collection[SubjectOfAllegation],
    served: Collection[Ref],
    service: Mapping[Ref, Service] | None,
    at: datetime | None,
) -> list[Ref]:
    """The subjects not served in writing by `at` (in the order recorded, and by when each
    service took effect)."""
    return sorted(
        s.ref
        for s in subjects
        if s.ref not in served
        or (
            at is not None
            and service is not None
            and s.ref in service
            and at < service[s.ref].served_at
        )
    )


def require_allegations_served(
    subjects: Collection[SubjectOfAllegation],
    served: Collection[Ref],
    sufficient_evidence_rationale: str | None,
    *,
    service: Mapping[Ref, Service] | None = None,
    at: datetime | None = None,
    rationale_at: datetime | None = None,
) -> None:
    """No outcome before every subject had the allegations in writing, unless the
    sufficient-evidence path was recorded with a rationale: in the order recorded, and by when
    the steps took effect (`at` is the outcome's)."""
    unserved = _unserved(subjects, served, service, at)
    relied_on = sufficient_evidence_rationale and (
        at is None or rationale_at is None or rationale_at <= at
    )
    if unserved and not relied_on:
        raise PolicyViolation(
            "fairness.allegations-not-served",
            "no outcome before the allegations were served in writing on "
            + ", ".join(unserved)
            + ("" if at is None else f" (the outcome takes effect {melbourne(at)})"),
            field="outcomes",
        )


def require_subjects_told_in_writing(
    subjects: Collection[SubjectOfAllegation],
    served: Collection[Ref],
    *,
    service: Mapping[Ref, Service] | None = None,
    at: datetime | None = None,
) -> None:
    """Even on the sufficient-evidence path, every subject is told in writing before the
    outcome is communicated (recorded before it, and taking effect no later)."""
    unserved = _unserved(subjects, served, service, at)
    if unserved:
        raise PolicyViolation(
            "fairness.subject-not-told-in-writing",
            "tell every subject of allegation in writing before communicating the outcome: "
            + ", ".join(unserved),
            field="recipient",
        )


def require_outcome_per_allegation(
    outcomes: Collection[AllegationOutcome],
    subjects: Collection[SubjectOfAllegation],
    types: Collection[IncidentType],
    field: str = "outcomes",
) -> None:
    """Each finding is on an allegation of this incident, and every subject has a finding."""
    known = {s.ref for s in subjects}
    # With no subject of allegation identified (e.g. an unexplained injury), findings name none.
    allowed: set[Ref | None] = set(known) if known else {None}
    for n, o in enumerate(outcomes):
        if o.subject_ref not in allowed or o.incident_type not in types:
            # The finding's own field: the subject named, else the incident type.
            wrong = "subject_ref" if o.subject_ref not in allowed else "incident_type"
            raise PolicyViolation(
                "investigation.outcome-unknown-allegation",
                f"no allegation of {o.incident_type} against {o.subject_ref or 'no one'} here",
                field=f"{field}.{n}.{wrong}",
            )
    keys = [(o.subject_ref, o.incident_type) for o in outcomes]
    if len(set(keys)) != len(keys):
        raise PolicyViolation(
            "investigation.outcome-repeated", "an allegation has two findings", field=field
        )
    missing = sorted(known - {o.subject_ref for o in outcomes})
    if not outcomes or missing:
        raise PolicyViolation(
            "investigation.outcome-missing",
            "record a finding for every subject of allegation: " + (", ".join(missing) or "none"),
            field=field,
        )


def require_outcome_recorded(has_outcome: bool) -> None:
    """There is an outcome to report, communicate or review."""
    if not has_outcome:
        raise PolicyViolation(
            "outcome.not-recorded", "no outcome has been recorded yet", field="outcomes"
        )


def require_recipient_known(recipient_ref: Ref, known: Collection[Ref]) -> None:
    """An outcome is communicated to a client, their guardian or a subject of this incident."""
    if recipient_ref not in known:
        raise PolicyViolation(
            "outcome.unknown-recipient",
            f"{recipient_ref} is not a client or subject of allegation on this incident",
            field="recipient_ref",
        )


def require_evidence_on_record(evidence_count: int) -> None:
    """The sufficient-evidence path rests on evidence already recorded (e.g. CCTV)."""
    if evidence_count == 0:
        raise PolicyViolation(
            "investigation.sufficient-evidence-without-evidence",
            "record the evidence (e.g. CCTV) the rationale relies on first",
            field="rationale",
        )


WRITTEN_SERVICE = frozenset(
    {
        ServiceMethod.LETTER_BY_POST,
        ServiceMethod.LETTER_BY_HAND,
        ServiceMethod.EMAIL,
        ServiceMethod.SECURE_PORTAL,
    }
)


def require_written_service(method: ServiceMethod | str) -> None:
    """The subject of allegation receives the allegations in writing: a letter (by post or by
    hand), an email or a secure portal. A verbal or phone notice is a contact, not service."""
    if method not in WRITTEN_SERVICE:
        raise PolicyViolation(
            "fairness.service-not-in-writing",
            f"{method!s} is not service in writing; serve the allegations by "
            + ", ".join(sorted(WRITTEN_SERVICE))
            + " (a verbal or phone notice is a contact and meets nothing)",
            field="method",
        )


def require_reasonable_time_to_respond(
    subjects: Collection[SubjectOfAllegation],
    service: Mapping[Ref, Service],
    responded: Collection[Ref],
    sufficient_evidence_rationale: str | None,
    *,
    now: datetime,
    policy: PolicyNumbers,
    responded_at: Mapping[Ref, datetime] | None = None,
) -> None:
    """A subject has a chance to respond: no outcome until each served subject has responded
    (or declined) or the policy table's business days have passed since service (our reading
    of policy §8; 5 business days)."""
    if sufficient_evidence_rationale:
        return
    # A response counts once it took effect: one dated after the outcome had not come by then.
    answered = {r for r in responded if responded_at is None or responded_at.get(r, now) <= now}
    waiting = sorted(
        ref
        for ref in {s.ref for s in subjects} - answered
        if ref in service
        and now
        < business_days_after(
            service[ref].served_at,
            policy.reasonable_response_business_days,
            policy.close_of_business,
        )
    )
    if waiting:
        raise PolicyViolation(
            "fairness.response-time-not-given",
            f"no outcome before {', '.join(waiting)} responded or "
            f"{policy.reasonable_response_business_days} business days passed since service",
            field="outcomes",
        )


def require_recorded_guardian(
    guardian_ref: Ref, guardians: Collection[Ref], field: str = "recipient_ref"
) -> None:
    """Only a client's guardian (or parent with parental responsibility) on record acts as one."""
    if guardian_ref not in guardians:
        raise PolicyViolation(
            "guardian.not-recorded",
            f"{guardian_ref} is not recorded as a guardian of a client on this incident;"
            " record the guardian first",
            field=field,
        )


def require_voice_of_known_client(client_ref: Ref, clients: Collection[Ref]) -> None:
    """The client's voice is recorded for a client named on the incident (policy §1)."""
    if client_ref not in clients:
        raise PolicyViolation(
            "client-voice.unknown-client",
            f"{client_ref} is not a client on this incident",
            field="client_ref",
        )


def require_known_client(
    client_ref: Ref, clients: Collection[Ref], field: str = "client_ref"
) -> None:
    """A guardian is recorded for a client named on the incident."""
    if client_ref not in clients:
        raise PolicyViolation(
            "guardian.unknown-client",
            f"{client_ref} is not a client on this incident",
            field=field,
        )
