"""What can happen next on an incident: which commands its stage allows, and which command
meets each obligation.

`open_to(incident, command, ...)` runs the command's own rule functions that do not depend on
the command's arguments (an open incident, an investigation under way, an outcome to
communicate...), so a front end's buttons follow the same rules the command will apply."""

from __future__ import annotations

from collections.abc import Callable, Collection

from domain.errors import PolicyViolation
from domain.incident import Incident
from domain.rules import appointment, closure, fairness, follow_up, outcome_review
from domain.rules import documents as document_rules
from domain.rules import legacy as legacy_rules
from domain.rules.closure import ObligationLike

# The commands whose event meets each obligation (see `domain.obligations.RULES`).
MET_BY: dict[str, tuple[str, ...]] = {
    "incident_report": ("report",),
    "regulator_short_form": ("record_notification",),
    "police_contact": ("record_notification",),
    "integrity_advice": ("record_notification",),
    "aboriginal_consultation_follow_up": ("record_aboriginal_consultation",),
    "aboriginal_consultation_outcome": ("record_aboriginal_consultation",),
    "aboriginal_consultation_closure": ("record_aboriginal_consultation",),
    "investigation_or_review": ("submit_investigation_report", "complete_incident_review"),
    "ccyp_notice": ("record_notification",),
    "ccyp_details": ("record_notification",),
    "allegations_served": ("serve_allegations",),
    "outcome_communicated": ("communicate_outcome",),
    "outcome_review_decided": ("decide_outcome_review",),
    "response_plan": ("record_response_plan",),
    "carer_support_plan": ("record_carer_support_plan",),
    "recommendations_actioned": ("action_recommendation",),
}


class _Facts:
    """What a precondition may read besides the incident: the caller and the obligations."""

    def __init__(self, actor_id: str, obligations: Collection[ObligationLike]) -> None:
        self.actor_id = actor_id
        self.obligations = obligations


Check = Callable[[Incident, _Facts], None]


def _open(i: Incident, f: _Facts) -> None:
    closure.require_open(i.closed, i.withdrawn)


def _investigating(i: Incident, f: _Facts) -> None:
    closure.require_open(i.closed, i.withdrawn)
    follow_up.require_investigation_follow_up(i.follow_up)
    fairness.require_investigator_appointed(i.investigator_ref)


def _all(*checks: Check) -> Check:
    def check(i: Incident, f: _Facts) -> None:
        for each in checks:
            each(i, f)

    return check


def _unresolved(i: Incident) -> None:
    legacy_rules.require_unresolved(
        next(iter(i.unresolved_legacy_types), ""), i.unresolved_legacy_types
    )


def _subjects(i: Incident) -> set[str]:
    return {s.ref for s in i.subjects}


PRECONDITIONS: dict[str, Check] = {
    "amend": _open,
    "reclassify": _open,
    "assess_scope": _open,
    "withdraw": _all(
        _open, lambda i, f: closure.require_no_outcome_for_withdrawal(bool(i.outcomes))
    ),
    "record_client_voice": _open,
    "record_notification": _open,
    "record_aboriginal_consultation": _open,
    "record_department_review": _open,
    "determine_follow_up": _all(
        _open,
        lambda i, f: follow_up.require_follow_up_not_started(
            i.investigator_ref is not None or i.review_completed
        ),
    ),
    "appoint_investigator": _all(
        _open,
        lambda i, f: follow_up.require_investigation_follow_up(i.follow_up),
        lambda i, f: appointment.require_investigator_replaceable(
            bool(i.outcomes) or i.report_submitted
        ),
    ),
    "record_investigation_plan": _investigating,
    "serve_allegations": _all(
        _investigating,
        lambda i, f: fairness.require_known_subjects(_subjects(i), _subjects(i)),
    ),
    "record_subject_response": _all(
        _investigating,
        # Someone was served, so has something to respond to.
        lambda i, f: fairness.require_served_before_response(
            next(iter(sorted(i.served)), ""), i.served
        ),
    ),
    "record_evidence": _investigating,
    "record_sufficient_evidence_rationale": _all(
        _investigating, lambda i, f: fairness.require_evidence_on_record(i.evidence_count)
    ),
    "record_outcome": _all(
        _investigating,
        lambda i, f: fairness.require_allegations_served(
            i.subjects, i.served, i.sufficient_evidence_rationale
        ),
    ),
    "submit_investigation_report": _all(
        _investigating,
        lambda i, f: fairness.require_outcome_recorded(bool(i.outcomes)),
        lambda i, f: follow_up.require_report_not_submitted(i.report_submitted),
        lambda i, f: follow_up.require_plan_before_report(
            i.follow_up, i.plan_recorded, i.sufficient_evidence_rationale
        ),
        lambda i, f: follow_up.require_rcs_endorsement(i.follow_up, i.rcs_endorsed),
    ),
    "complete_incident_review": _all(
        _open,
        lambda i, f: follow_up.require_incident_review_follow_up(i.follow_up),
        lambda i, f: follow_up.require_review_not_completed(i.review_completed),
    ),
    "endorse_rcs_investigation": _all(
        _open, lambda i, f: follow_up.require_rcs_in_lieu(i.follow_up)
    ),
    "record_guardian": _open,
    "communicate_outcome": _all(
        _open,
        lambda i, f: fairness.require_outcome_recorded(bool(i.outcomes) or i.review_completed),
        lambda i, f: fairness.require_subjects_told_in_writing(i.subjects, i.served),
    ),
    "request_outcome_review": _all(
        _open,
        lambda i, f: fairness.require_outcome_recorded(bool(i.outcomes)),
        lambda i, f: outcome_review.require_no_review_pending(i.review_pending is not None),
    ),
    "appoint_outcome_reviewer": _all(
        _open, lambda i, f: outcome_review.require_review_pending(i.review_pending is not None)
    ),
    "decide_outcome_review": _all(
        _open,
        lambda i, f: outcome_review.require_review_pending(i.review_pending is not None),
        lambda i, f: appointment.require_reviewer_appointed(i.outcome_reviewer),
        lambda i, f: outcome_review.require_independent_reviewer(
            f.actor_id, i.outcome_decided_by | {i.investigator_ref or ""}
        ),
    ),
    "record_response_plan": _open,
    "record_carer_support_plan": _open,
    "extend": _open,
    "action_recommendation": _all(
        _open,
        # Something to action: a recommendation was made.
        lambda i, f: follow_up.require_known_recommendation(
            next((r.id for r in i.recommendations), ""), {r.id for r in i.recommendations}
        ),
    ),
    "close": _all(
        _open,
        lambda i, f: closure.require_obligations_settled(
            f.obligations,
            {o.kind: "-" for o in f.obligations if o.waivable and not o.settled},
        ),
    ),
    "reopen": lambda i, f: closure.require_closed(i.closed),
    "correct": lambda i, f: closure.require_known_version(1, i.version or 0),
    # Who is responsible can change at any stage (it decides who sees the record).
    "change_responsible_organisation": lambda i, f: None,
    # A split legacy type waits for a person, open or closed (it is the record's classification).
    "resolve_legacy_type": lambda i, f: _unresolved(i),
    "supersede_document": _all(
        _open, lambda i, f: document_rules.require_a_current_document(i.documents)
    ),
}


def open_to(
    incident: Incident,
    command: str,
    *,
    actor_id: str,
    obligations: Collection[ObligationLike],
) -> bool:
    """Whether the incident's stage lets `command` be issued now (its arguments aside)."""
    return why_not(incident, command, actor_id=actor_id, obligations=obligations) is None


def why_not(
    incident: Incident,
    command: str,
    *,
    actor_id: str,
    obligations: Collection[ObligationLike],
) -> PolicyViolation | None:
    """The refusal the incident's stage holds for `command` now, whatever its arguments; None
    if the stage allows it."""
    try:
        # A command with no stage rules written here is judged by the lifecycle alone.
        PRECONDITIONS.get(command, _open)(incident, _Facts(actor_id, obligations))
    except PolicyViolation as refused:
        return refused
    return None


def commands_meeting(kind: str) -> tuple[str, ...]:
    """The commands whose event meets obligation `kind`."""
    return MET_BY.get(kind, ())


# The key decisions an Aboriginal consultation comes before (policy §1, §8; our reading in
# `domain.obligations._consultation`): recording the decision makes the consultation due then.
DECIDES: dict[str, tuple[str, ...]] = {
    "determine_follow_up": ("aboriginal_consultation_follow_up",),
    "record_outcome": ("aboriginal_consultation_outcome",),
    "complete_incident_review": ("aboriginal_consultation_outcome",),
    "close": ("aboriginal_consultation_closure",),
}


def leaves_late(command: str, obligations: Collection[ObligationLike]) -> list[str]:
    """The owed obligations (by kind) that recording `command` now would leave late: a
    consultation still owed before the decision the command records falls due at that moment
    and is overdue as soon as it is recorded. Asked before the step, so a person can be warned."""
    owed = {o.kind for o in obligations if not o.settled}
    return [kind for kind in DECIDES.get(command, ()) if kind in owed]
