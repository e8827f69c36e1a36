"""Who may do what: one table of actions by role, and who may see which incident.

Access follows the organisation, never a name: a caller sees an incident its organisation
reports or is responsible for (or every incident, for the department, auditors and admins);
besides those, only a principal appointed on the incident (organisation and subject) holding the
appointment's role, and only for the steps of that appointment. Every check of a caller against
an incident is a function here; nothing else compares a token's subject to a stored name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from api import schemas as s
from api.problems import Problem
from domain.errors import IncidentNotFound
from domain.incident import Incident
from domain.values import Actor, Principal, Role

R = Role
MANAGERS = frozenset({R.INCIDENT_MANAGER, R.DEPARTMENT_OFFICER})
SEE_ALL = frozenset({R.DEPARTMENT_OFFICER, R.AUDITOR, R.ADMIN})
AUDITORS = frozenset({R.AUDITOR, R.DEPARTMENT_OFFICER})
REPORTERS = frozenset({R.REPORTER, R.INCIDENT_MANAGER, R.DEPARTMENT_OFFICER, R.ADMIN})


@dataclass(frozen=True)
class Action:
    """One lifecycle command as the API exposes it."""

    command: str
    body: type[s.CommandIn]
    roles: frozenset[Role]
    # Investigation steps are taken only by the investigator appointed on the incident.
    appointed_investigator: bool = False
    # The outcome review is decided only by the reviewer appointed to it.
    appointed_reviewer: bool = False
    # Changes who sees the record: only the reporting organisation or the department.
    reporting_organisation: bool = False
    # Taken also by a principal appointed on the incident from outside the organisations
    # that see it (an investigator adding the letter or report), as a step of the appointment.
    appointees: bool = False


ACTIONS: dict[str, Action] = {
    "amend": Action("amend", s.AmendIn, frozenset({R.REPORTER, R.INCIDENT_MANAGER, R.ADMIN})),
    "reclassify": Action("reclassify", s.ReclassifyIn, MANAGERS),
    "scope-assessment": Action("assess_scope", s.ScopeAssessmentIn, MANAGERS),
    "withdraw": Action("withdraw", s.WithdrawIn, MANAGERS),
    "client-voice": Action(
        "record_client_voice",
        s.ClientVoiceIn,
        frozenset({R.REPORTER, R.INCIDENT_MANAGER, R.INVESTIGATOR}),
    ),
    "notifications": Action(
        "record_notification", s.NotificationIn, frozenset({R.REPORTER, *MANAGERS})
    ),
    "guardians": Action(
        "record_guardian", s.GuardianIn, frozenset({R.REPORTER, R.INCIDENT_MANAGER, *MANAGERS})
    ),
    "aboriginal-consultations": Action(
        "record_aboriginal_consultation",
        s.AboriginalConsultationIn,
        frozenset({R.REPORTER, R.INCIDENT_MANAGER, R.INVESTIGATOR}),
    ),
    "department-reviews": Action(
        "record_department_review", s.DepartmentReviewIn, frozenset({R.DEPARTMENT_OFFICER})
    ),
    "follow-up": Action("determine_follow_up", s.FollowUpIn, MANAGERS),
    "appoint-investigator": Action("appoint_investigator", s.AppointInvestigatorIn, MANAGERS),
    "investigation-plan": Action(
        "record_investigation_plan",
        s.InvestigationPlanIn,
        frozenset({R.INVESTIGATOR}),
        appointed_investigator=True,
    ),
    "serve-allegations": Action(
        "serve_allegations",
        s.ServeAllegationsIn,
        frozenset({R.INVESTIGATOR}),
        appointed_investigator=True,
    ),
    "subject-responses": Action(
        "record_subject_response",
        s.SubjectResponseIn,
        frozenset({R.INVESTIGATOR}),
        appointed_investigator=True,
    ),
    "evidence": Action(
        "record_evidence", s.EvidenceIn, frozenset({R.INVESTIGATOR}), appointed_investigator=True
    ),
    "sufficient-evidence-rationale": Action(
        "record_sufficient_evidence_rationale",
        s.RationaleIn,
        frozenset({R.INVESTIGATOR}),
        appointed_investigator=True,
    ),
    "outcomes": Action(
        "record_outcome", s.OutcomesIn, frozenset({R.INVESTIGATOR}), appointed_investigator=True
    ),
    "investigation-report": Action(
        "submit_investigation_report",
        s.InvestigationReportIn,
        frozenset({R.INVESTIGATOR}),
        appointed_investigator=True,
    ),
    "incident-review": Action(
        "complete_incident_review", s.IncidentReviewIn, frozenset({R.REVIEWER, R.INCIDENT_MANAGER})
    ),
    "rcs-endorsement": Action(
        "endorse_rcs_investigation", s.RcsEndorsementIn, frozenset({R.DEPARTMENT_OFFICER})
    ),
    "communicate-outcome": Action(
        "communicate_outcome",
        s.CommunicateOutcomeIn,
        frozenset({R.INCIDENT_MANAGER, R.INVESTIGATOR}),
    ),
    "request-outcome-review": Action("request_outcome_review", s.RequestOutcomeReviewIn, MANAGERS),
    "appoint-outcome-reviewer": Action(
        "appoint_outcome_reviewer", s.AppointOutcomeReviewerIn, MANAGERS
    ),
    "decide-outcome-review": Action(
        "decide_outcome_review",
        s.DecideOutcomeReviewIn,
        frozenset({R.REVIEWER}),
        appointed_reviewer=True,
    ),
    "response-plan": Action("record_response_plan", s.PlanIn, frozenset({R.INCIDENT_MANAGER})),
    "carer-support-plan": Action(
        "record_carer_support_plan", s.CarerSupportPlanIn, frozenset({R.INCIDENT_MANAGER})
    ),
    "extend": Action("extend", s.ExtendIn, MANAGERS),
    "recommendation-actions": Action(
        "action_recommendation", s.RecommendationActionIn, frozenset({R.INCIDENT_MANAGER})
    ),
    "close": Action("close", s.CloseIn, MANAGERS),
    "reopen": Action("reopen", s.Reasoned, MANAGERS),
    "corrections": Action("correct", s.CorrectionIn, frozenset({*MANAGERS, R.ADMIN})),
    "resolve-legacy-type": Action("resolve_legacy_type", s.ResolveLegacyTypeIn, MANAGERS),
    "supersede-document": Action(
        "supersede_document",
        s.SupersedeDocumentIn,
        frozenset({*MANAGERS, R.INVESTIGATOR, R.REVIEWER}),
    ),
    "responsible-organisation": Action(
        "change_responsible_organisation",
        s.ResponsibleOrganisationIn,
        MANAGERS,
        reporting_organisation=True,
    ),
}


# Adding a document (`POST /v1/incidents/{id}/documents`): those who take the steps that rest
# on one, on an incident they see or are appointed on. Auditors read; regulators never see.
ADD_DOCUMENT = Action(
    "add_document",
    s.CommandIn,
    frozenset({R.REPORTER, R.INCIDENT_MANAGER, R.DEPARTMENT_OFFICER, R.INVESTIGATOR, R.REVIEWER}),
    appointees=True,
)


def visible_organisations(actor: Actor) -> set[str] | None:
    """The organisations whose incidents the caller may see; None for all of them."""
    refuse_regulators(actor)
    return None if actor.role in SEE_ALL else {actor.organisation}


def require_bound_to_organisation(actor: Actor, department: Iterable[str]) -> None:
    """A role that sees every incident (department officer, auditor, admin) is the
    department's: held by anyone else's organisation it is refused outright (403), whatever
    the request, so a token naming another organisation reads and writes nothing."""
    if actor.role in SEE_ALL and actor.organisation not in department:
        raise Problem(
            403,
            "forbidden",
            "Forbidden",
            f"the {actor.role.value.replace('_', ' ')} role belongs to the department;"
            f" {actor.organisation} is not one of the department's organisations",
        )


def refuse_regulators(actor: Actor) -> None:
    if actor.role == R.REGULATOR:
        raise Problem(
            403,
            "forbidden",
            "Forbidden",
            "regulators receive their feed; they do not read incident records",
        )


def not_found(incident_id: UUID) -> Problem:
    """The one answer for an incident the caller may not see and for one that does not exist:
    the same bytes (apart from the id) as the store's own not-found, so a refusal tells
    nothing about whether the incident exists."""
    detail = str(IncidentNotFound(incident_id))
    return Problem(404, "incident-not-found", "No such incident", detail)


def sees_by_organisation(actor: Actor, incident: Incident) -> bool:
    """Whether the caller's organisation (or role, for those who see every incident) sees it."""
    if actor.role == R.REGULATOR:
        return False
    if actor.role in SEE_ALL:
        return True
    return actor.organisation in (incident.reporting_organisation, incident.details.other_provider)


def appointment_of(actor: Actor, incident: Incident) -> Role | None:
    """The appointment through which the caller reaches this incident, if any: the appointed
    investigator principal holding the investigator role, or the appointed outcome reviewer
    principal holding the reviewer role. The same subject in another organisation, or with
    another role, is not the appointee."""
    appointments: tuple[tuple[Role, Principal | None], ...] = (
        (R.INVESTIGATOR, incident.investigator),
        (R.REVIEWER, incident.outcome_reviewer),
    )
    for role, principal in appointments:
        if actor.role == role and principal is not None and principal.is_actor(actor):
            return role
    return None


def may_see(actor: Actor, incident: Incident) -> bool:
    """The visibility rule: by organisation, or by an appointment on this incident."""
    return sees_by_organisation(actor, incident) or appointment_of(actor, incident) is not None


def require_visible(actor: Actor, incident: Incident) -> None:
    """A provider sees incidents it reported or is named responsible for, an appointee the
    incident they are appointed on; else it is a 404, the same as for an unknown id, so that
    an incident's existence does not leak across organisations."""
    refuse_regulators(actor)
    if not may_see(actor, incident):
        raise not_found(incident.id)


def require_role(actor: Actor, allowed: frozenset[Role], what: str) -> None:
    if actor.role not in allowed:
        raise Problem(403, "forbidden", "Forbidden", f"role {actor.role.value} may not {what}")


def _forbidden(detail: str) -> Problem:
    return Problem(403, "forbidden", "Forbidden", detail)


def require_may_act(actor: Actor, action: Action, incident: Incident) -> None:
    """Whether a caller who sees the incident may issue this command on it (403 if not): its
    role; for investigation steps, the appointed investigator; for the outcome review's
    decision, the appointed reviewer; an appointee from outside the organisations that see the
    incident takes only the steps of their appointment; a change of who sees the record is for
    the reporting organisation or the department."""
    require_role(actor, action.roles, action.command.replace("_", " "))
    appointed = appointment_of(actor, incident)
    if action.appointed_investigator and appointed != R.INVESTIGATOR:
        raise _forbidden("only the investigator appointed on this incident may do this")
    if action.appointed_reviewer and appointed != R.REVIEWER:
        raise _forbidden("only the outcome reviewer appointed on this incident may do this")
    steps_of_appointment = (
        action.appointed_investigator or action.appointed_reviewer or action.appointees
    )
    if not steps_of_appointment and not sees_by_organisation(actor, incident):
        raise _forbidden("an appointee takes only the steps of their appointment")
    if actor.role == R.ADMIN and actor.organisation not in (
        incident.reporting_organisation,
        incident.details.other_provider,
    ):
        raise _forbidden("an admin reads every record but changes only their organisation's")
    if action.reporting_organisation and not (
        actor.role == R.DEPARTMENT_OFFICER or actor.organisation == incident.reporting_organisation
    ):
        raise _forbidden(
            "only the reporting organisation or the department changes who is responsible"
        )


def redact_department_client_ids(actor: Actor, incident: Incident, state: dict[str, Any]) -> None:
    """The department's client identifier is known to the reporting provider and the
    department; another provider named on the incident never sees it, nor which incidents (of
    any provider) a pattern escalation names."""
    if actor.role in SEE_ALL or actor.organisation == incident.reporting_organisation:
        return
    for client in state.get("clients", ()):
        client.pop("department_client_id", None)
    state.pop("pattern_of", None)


def may_act(actor: Actor, action: Action, incident: Incident) -> bool:
    """Whether the caller may issue this command on the incident now, by the same checks the
    command's endpoint makes (for what a front end offers; the domain's rules still apply)."""
    try:
        require_visible(actor, incident)
        require_may_act(actor, action, incident)
    except Problem:
        return False
    return True
