"""What each incident command is, for `/docs` and `next_actions`: derived from the authorisation
table (`api.authorisation.ACTIONS`), the aggregate's command methods and the rule catalogue, so the
description cannot drift from what the command does."""

from __future__ import annotations

import ast
import inspect
import textwrap
from functools import cache
from types import ModuleType

from api import authorisation as authz
from domain import next_steps
from domain.incident import Incident
from domain.rules.catalogue import CATALOGUE
from ledger import application as ledger

# What each command does, as a button (and the operation's summary) would say it.
TITLES: dict[str, str] = {
    "report": "Report an incident.",
    "amend": "Amend the facts of the report.",
    "reclassify": "Reclassify the incident's types, impact or regulator category.",
    "scope-assessment": "Assess whether the incident is in CIMS scope.",
    "withdraw": "Withdraw the report.",
    "client-voice": "Record what the client said and wants.",
    "notifications": "Record that someone outside the provider was notified.",
    "guardians": "Record a client's guardian or a parent with parental responsibility.",
    "aboriginal-consultations": "Record a consultation with ACSASS, an ACCO or the ACAC provider.",
    "department-reviews": "Record the department's review of the report.",
    "follow-up": "Determine the follow-up: investigation, incident review, RCS or local response.",
    "appoint-investigator": "Appoint an independent investigator.",
    "investigation-plan": "Record the investigation plan.",
    "serve-allegations": "Serve the allegations in writing on subjects of allegation.",
    "subject-responses": "Record a subject of allegation's response.",
    "evidence": "Record evidence gathered.",
    "sufficient-evidence-rationale": "Record why the evidence at the outset is sufficient.",
    "outcomes": "Record the finding on each allegation.",
    "investigation-report": "Submit the investigation report and its recommendations.",
    "incident-review": "Complete the incident review.",
    "rcs-endorsement": "Record the Integrity team's endorsement of the RCS investigation.",
    "communicate-outcome": "Record that the outcome was communicated.",
    "request-outcome-review": "Record a request for an outcome review.",
    "appoint-outcome-reviewer": "Appoint the reviewer of a pending outcome review.",
    "decide-outcome-review": "Decide a pending outcome review.",
    "response-plan": "Record the response plan.",
    "carer-support-plan": "Record a support plan for a carer.",
    "extend": "Extend an obligation's deadline.",
    "recommendation-actions": "Record how a recommendation was actioned.",
    "close": "Close the incident.",
    "reopen": "Reopen a closed incident.",
    "corrections": "Correct an error in an earlier event.",
    "responsible-organisation": "Change the organisation responsible for the incident.",
    "resolve-legacy-type": "Resolve a split legacy type to one current incident type.",
    "supersede-document": "Mark a document on the record superseded, with the reason.",
}


def _tree(function: object) -> ast.AST:
    return ast.parse(textwrap.dedent(inspect.getsource(function)))  # type: ignore[arg-type]


def _callee(node: ast.Call, scope: dict[str, object]) -> object | None:
    """The domain function a call names: `f(...)`, `rules_module.f(...)` or `self._f(...)`."""
    func = node.func
    found: object | None = None
    if isinstance(func, ast.Name):
        found = scope.get(func.id)
    elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        owner = func.value.id
        if owner == "self" and func.attr.startswith("_") and func.attr != "_record":
            found = getattr(Incident, func.attr, None)
        elif isinstance(scope.get(owner), ModuleType):
            found = getattr(scope[owner], func.attr, None)
    is_domain = getattr(found, "__module__", "").startswith("domain.")
    return found if inspect.isfunction(found) and is_domain else None


@cache
def _rule_ids_of(function: object) -> frozenset[str]:
    """The catalogued rule ids a domain function can raise: its own string constants, and those
    of the domain functions (rules, `self._...` helpers) it calls."""
    found: set[str] = set()
    scope: dict[str, object] = getattr(function, "__globals__", {})
    for node in ast.walk(_tree(function)):
        if isinstance(node, ast.Constant) and node.value in CATALOGUE:
            found.add(node.value)
        if isinstance(node, ast.Call):
            callee = _callee(node, scope)
            if callee is not None and callee is not function:
                found |= _rule_ids_of(callee)
    return frozenset(found)


def refusals(command: str) -> list[str]:
    """The rule ids `command` can refuse with, sorted: the aggregate command's own, and the
    time rules the ledger holds every command to (`ledger.application.check_times`)."""
    found = _rule_ids_of(getattr(Incident, command))
    every_command = getattr(ledger, "check_times", None)
    if every_command is not None:
        found |= _rule_ids_of(every_command)
    return sorted(found)


@cache
def event_of(command: str) -> type[Incident.Event] | None:
    """The event class `command` records (None if it records none directly)."""
    for node in ast.walk(_tree(getattr(Incident, command))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("_record", "_create")
            and node.args
            and isinstance(node.args[0], ast.Attribute)
        ):
            found: type[Incident.Event] = getattr(Incident, node.args[0].attr)
            return found
    return None


def _records(command: str) -> str:
    event = event_of(command)
    if event is None:
        return "**What it records.** See the command's events in the history."
    return f"**What it records.** `{event.__name__}`: {inspect.getdoc(event) or ''}"


def title(name: str) -> str:
    """What command `name` does, as a sentence (its name, where no title is written yet)."""
    return TITLES.get(name) or name.replace("-", " ").capitalize() + "."


def obligations_met(command: str) -> list[str]:
    """The obligation kinds the aggregate's `command` meets."""
    return sorted(k for k, by in next_steps.MET_BY.items() if command in by)


def who_may(action: authz.Action) -> str:
    roles = ", ".join(sorted(f"`{r.value}`" for r in action.roles))
    text = f"Roles: {roles}."
    if getattr(action, "appointed_investigator", False):
        text += " Only the investigator appointed on this incident."
    if getattr(action, "appointed_reviewer", False):
        text += " Only the outcome reviewer appointed on this incident."
    if getattr(action, "reporting_organisation", False):
        text += " Only the reporting organisation or the department."
    return text + " The caller must also be able to see the incident (else 404)."


def describe(name: str, action: authz.Action) -> str:
    """The operation description of command `name`."""
    meets = obligations_met(action.command)
    rules = refusals(action.command)
    lines = [
        title(name),
        "",
        f"**Who may call it.** {who_may(action)}",
        "",
        _records(action.command),
        "",
        "**Obligations it meets.** "
        + (", ".join(f"`{k}`" for k in meets) + "." if meets else "none directly."),
        "",
        "**Rules it can refuse with** (422, `rule` names one; see `GET /v1/rules`): "
        + ", ".join(f"`{r}`" for r in rules)
        + ".",
        "",
        'Send the version you read as `expected_version` or `If-Match: "<version>"` (a stale '
        "body version is 409, a stale If-Match 412, the two disagreeing 400, neither 428). "
        "An `Idempotency-Key` makes a retry return the first answer and record nothing new.",
    ]
    return "\n".join(lines)


def describe_report() -> str:
    """The operation description of `POST /v1/incidents`."""
    roles = ", ".join(sorted(f"`{r.value}`" for r in authz.REPORTERS))
    return "\n".join(
        [
            TITLES["report"],
            "",
            f"**Who may call it.** Roles: {roles}. The incident belongs to the caller's "
            "organisation.",
            "",
            _records("report"),
            "",
            "**Obligations it meets.** `incident_report`.",
            "",
            "**Rules it can refuse with** (422): "
            + ", ".join(f"`{r}`" for r in refusals("report"))
            + ".",
            "",
            "Answers 201 with `Location` and `ETag`. An `Idempotency-Key` makes a retry return "
            "the first answer (the same incident).",
        ]
    )
