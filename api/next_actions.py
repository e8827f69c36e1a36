"""What this caller may do next on an incident, and which command meets each obligation.

`next_actions` asks the same authorisation function every command asks
(`authorisation.require_may_act`) and the domain's stage preconditions
(`domain.next_steps.open_to`), so a front end's buttons follow the rules the commands apply."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from api import authorisation as authz
from api.command_docs import event_of, title
from domain import next_steps
from domain.incident import Incident
from domain.obligations import Obligation
from domain.values import Actor

# Domain command -> its name in the API (`report` is `POST /v1/incidents`).
_API_NAME = {action.command: name for name, action in authz.ACTIONS.items()} | {"report": "report"}


def met_by(kind: str) -> list[str]:
    """The API commands (names under `/v1/incidents/{id}/`) that meet obligation `kind`."""
    return [_API_NAME[c] for c in next_steps.commands_meeting(kind) if c in _API_NAME]


_ROLE_WORDS = {
    "reporter": "a practitioner",
    "incident_manager": "the incident manager",
    "department_officer": "a department officer",
    "investigator": "an investigator",
    "reviewer": "a reviewer",
    "admin": "an administrator",
}
_ROLE_ORDER = list(_ROLE_WORDS)


def who_acts(command: str) -> str:
    """Who may issue `command`, in words: "the appointed investigator", "the incident manager or
    a department officer" (from the authorisation table)."""
    action = authz.ACTIONS[command]
    if action.appointed_investigator:
        return "the appointed investigator"
    if action.appointed_reviewer:
        return "the appointed outcome reviewer"
    roles = sorted((r.value for r in action.roles), key=_ROLE_ORDER.index)
    words = [_ROLE_WORDS[r] for r in roles if r != "admin"]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def obligations_out(obligations: Sequence[Obligation]) -> list[dict[str, Any]]:
    """The obligations as the API shows them: each with the commands that meet it and who may
    issue each (`acted_by`: [{command, title, who}])."""
    return [
        {
            **o.model_dump(mode="json"),
            "met_by": met_by(o.kind),
            "acted_by": [
                {"command": c, "title": title(c), "who": who_acts(c)}
                for c in met_by(o.kind)
                if c in authz.ACTIONS
            ],
        }
        for o in obligations
    ]


def _records(command: str) -> str | None:
    event = event_of(command)
    return event.__name__ if event is not None else None


def next_actions(
    actor: Actor, incident: Incident, obligations: Sequence[Obligation]
) -> list[dict[str, Any]]:
    """The commands `actor` may issue on `incident` now, each with the open obligations it can
    meet; in the authorisation table's order."""
    open_kinds = [o.kind for o in obligations if not o.settled]
    found = []
    for name, action in authz.ACTIONS.items():
        if not authz.may_act(actor, action, incident):
            continue
        if not next_steps.open_to(
            incident, action.command, actor_id=actor.id, obligations=obligations
        ):
            continue
        found.append(
            {
                "command": name,
                "method": "POST",
                "href": f"/v1/incidents/{incident.id}/{name}",
                "title": title(name),
                "schema": action.body.__name__,
                "meets": [k for k in open_kinds if name in met_by(k)],
                "leaves_late": next_steps.leaves_late(action.command, obligations),
                "records": _records(action.command),
            }
        )
    return found
