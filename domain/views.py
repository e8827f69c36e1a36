"""The incident's state as plain JSON, for front ends and auditors alike."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from domain.incident import Incident

_json = TypeAdapter(Any)


def incident_state(incident: Incident) -> dict[str, Any]:
    """Every state attribute of the incident, JSON-ready, with its derived stage."""
    state = {
        key: value
        for key, value in vars(incident).items()
        if not key.startswith("_") and key not in ("chain_head",)
    }
    state["notified"] = {str(k): v for k, v in incident.notified.items()}
    state["communicated"] = sorted(
        [{"recipient": str(r), "ref": ref} for r, ref in incident.communicated],
        key=lambda c: (c["recipient"], c["ref"]),
    )
    state["review_pending"] = (
        None
        if incident.review_pending is None
        else {"requester": str(incident.review_pending[0]), "ref": incident.review_pending[1]}
    )
    for key in ("served", "responded", "outcome_decided_by", "carer_support_plans", "actioned"):
        state[key] = sorted(getattr(incident, key))
    state["documents"] = [d.model_dump(mode="json") for d in incident.documents.values()]
    state["id"] = str(incident.id)
    state["version"] = incident.version
    state["reported_at"] = incident.created_on
    state["modified_at"] = incident.modified_on
    state["stage"] = incident.stage.value
    state["aboriginal"] = incident.aboriginal
    state["unresolved_legacy_types"] = incident.unresolved_legacy_types
    state["removed_legacy_types"] = incident.removed_legacy_types
    return dict(_json.dump_python(state, mode="json"))
