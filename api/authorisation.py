"""Who may do what: one table of actions by role, and who may see which incident."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api import schemas as s
from api.problems import Problem
from domain.incident import Incident
from domain.values import Actor, Role

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


ACTIONS: dict[str, Action] = {
    "amend": Action("amend", s.AmendIn, frozenset({R.REPORTER, R.INCIDENT_MANAGER, R.ADMIN})),
    "reclassify": Action("reclassify", s.ReclassifyIn, MANAGERS),
    "scope-assessment": Action("assess_scope", s.ScopeAssessmentIn, MANAGERS),
    "withdraw": Action("withdraw", s.Reasoned, MANAGERS),
    "client-voice": Action(
        "record_client_voice",
        s.ClientVoiceIn,
        frozenset({R.REPORTER, R.INCIDENT_MANAGER, R.INVESTIGATOR}),
    ),
    "notifications": Action(
        "record_notification", s.NotificationIn, frozenset({R.REPORTER, *MANAGERS})
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
    "communicate-outcome": Action(
        "communicate_outcome",
        s.CommunicateOutcomeIn,
        frozenset({R.INCIDENT_MANAGER, R.INVESTIGATOR}),
    ),
    "request-outcome-review": Action("request_outcome_review", s.RequestOutcomeReviewIn, MANAGERS),
    "decide-outcome-review": Action(
        "decide_outcome_review", s.DecideOutcomeReviewIn, frozenset({R.REVIEWER})
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
}


def visible_organisations(actor: Actor) -> set[str] | None:
    """The organisations whose incidents the caller may see; None for all of them."""
    refuse_regulators(actor)
    return None if actor.role in SEE_ALL else {actor.organisation}


def refuse_regulators(actor: Actor) -> None:
    if actor.role == R.REGULATOR:
        raise Problem(
            403,
            "forbidden",
            "Forbidden",
            "regulators receive their feed; they do not read incident records",
        )


def require_visible(actor: Actor, incident: Incident) -> None:
    """A provider sees incidents it reported or is named responsible for; else it is a 404,
    so that an incident's existence does not leak across organisations."""
    refuse_regulators(actor)
    if actor.role in SEE_ALL or actor.id == incident.investigator_ref:
        return
    if actor.organisation in (incident.reporting_organisation, incident.details.other_provider):
        return
    raise Problem(
        404,
        "incident-not-found",
        "No such incident",
        f"no incident {incident.id} is visible to {actor.organisation}",
    )


def require_role(actor: Actor, allowed: frozenset[Role], what: str) -> None:
    if actor.role not in allowed:
        raise Problem(403, "forbidden", "Forbidden", f"role {actor.role.value} may not {what}")


def require_may_act(actor: Actor, action: Action, incident: Incident) -> None:
    require_role(actor, action.roles, action.command.replace("_", " "))
    if action.appointed_investigator and actor.id != incident.investigator_ref:
        raise Problem(
            403,
            "forbidden",
            "Forbidden",
            "only the investigator appointed on this incident may do this",
        )


def redact_department_client_ids(actor: Actor, incident: Incident, state: dict[str, Any]) -> None:
    """The department's client identifier is known to the reporting provider and the
    department; another provider named on the incident never sees it."""
    if actor.role in SEE_ALL or actor.organisation == incident.reporting_organisation:
        return
    for client in state.get("clients", ()):
        client.pop("department_client_id", None)
