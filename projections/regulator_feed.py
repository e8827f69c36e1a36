"""regulator_feed: data-minimised, ordered, resumable feeds for the SSR and for CCYP.

Each item is a CloudEvents 1.0 object. The cursor is the event's position in the ledger's
notification log, so it is stable across rebuilds. Client and subject references are
pseudonymised per regulator with HMAC-SHA256, and no description or free text leaves.

A client reference is only its provider's: the same reference at two providers is two children.
So a client's pseudonym is keyed on the department client id where the report gives one (the
same child across providers, as the department knows them), and otherwise on the reporting
provider and its reference; a subject of allegation's on the provider and its reference. The
same secret gives the same pseudonyms on every rebuild.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from domain.incident import Incident
from domain.rules.follow_up import INVESTIGATIONS
from domain.values import Client, FollowUpKind, RegulatorCategory
from projections.base import Batch
from projections.db import Tx, ts

name = "regulator_feed"
# 2: pseudonyms per provider and reference (or department client id), not per reference alone.
DERIVATION = 2
REGULATORS = ("ssr", "ccyp")
SOURCE = "urn:cims-ledger"
_SSR_EVENTS = {
    "Reported": "reported",
    "Reclassified": "reclassified",
    "InvestigationOutcomeRecorded": "outcome",
    "OutcomeReviewDecided": "outcome_reviewed",
    "IncidentReviewCompleted": "outcome",
    "Closed": "closed",
    "Withdrawn": "withdrawn",
}
_CCYP_EVENTS = {
    "FollowUpDetermined": "rcs_investigation_started",
    "InvestigationOutcomeRecorded": "rcs_findings",
    "InvestigationReportSubmitted": "rcs_report_lodged",
    "Closed": "closed",
    "Withdrawn": "withdrawn",
}

_SENT = frozenset(_SSR_EVENTS) | frozenset(_CCYP_EVENTS)


def tables(p: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS {p}regulator_feed (
            regulator TEXT NOT NULL, position BIGINT NOT NULL, item TEXT NOT NULL,
            PRIMARY KEY (regulator, position))""",
    ]


def rebuilt_tables(p: str) -> list[str]:
    return [f"{p}regulator_feed"]


class Pseudonymiser:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def __call__(self, regulator: str, ref: str | None) -> str | None:
        if ref is None:
            return None
        return hmac.new(self._secret, f"{regulator}:{ref}".encode(), hashlib.sha256).hexdigest()

    def client(self, regulator: str, organisation: str, client: Client) -> str:
        """One pseudonym per child: the department client id's where given, else the
        provider's reference's, within that provider."""
        if client.department_client_id:
            key = ["client", "department", client.department_client_id]
        else:
            key = ["client", organisation, client.ref]
        return self._keyed(regulator, key)

    def subject(self, regulator: str, organisation: str, ref: str | None) -> str | None:
        """One pseudonym per subject of allegation, within the provider whose reference it is."""
        return None if ref is None else self._keyed(regulator, ["subject", organisation, ref])

    def _keyed(self, regulator: str, key: list[str]) -> str:
        # JSON, so no organisation or reference can spell another key by containing a colon.
        text = json.dumps([regulator, *key], separators=(",", ":"))
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()


def handler(secret: bytes) -> Any:
    pseudonym = Pseudonymiser(secret)

    def handle(tx: Tx, p: str, batch: Batch) -> None:
        wanted = {(e.originator_id, e.originator_version): position for position, e in batch.events}
        # Only these kinds of event are ever sent: an incident with none in the batch is skipped,
        # and an incident's history is folded only as far as its last one.
        sent = {
            e.originator_id: e.originator_version
            for _, e in batch.events
            if type(e).__name__ in _SENT
        }
        rows = []
        for incident_id in batch.touched():
            last_sent = sent.get(incident_id)
            if last_sent is None:
                continue
            # One pass over the history: the state as each event of the batch left it.
            incident: Incident | None = None
            for e in batch.history(incident_id):
                if e.originator_version > last_sent:
                    break
                was_notifiable = incident is not None and _notifiable(incident)
                incident = e.mutate(incident)
                position = wanted.get((incident_id, e.originator_version))
                if position is None:
                    continue
                assert incident is not None
                for regulator in _feeds_for(incident, e, was_notifiable=was_notifiable):
                    item = _item(regulator, position, e, incident, pseudonym)
                    rows.append((regulator, position, json.dumps(item, sort_keys=True)))
        tx.insert(f"{p}regulator_feed", sorted(rows))

    return handle


def _notifiable(incident: Incident) -> bool:
    return incident.regulator_category in (RegulatorCategory.CRITICAL, RegulatorCategory.NOTIFIABLE)


def _feeds_for(incident: Incident, e: Any, *, was_notifiable: bool) -> list[str]:
    kind = type(e).__name__
    feeds = []
    # The SSR, once told of an incident, is also told when it is reclassified out of its remit.
    downgraded = kind == "Reclassified" and was_notifiable
    if (_notifiable(incident) or downgraded) and kind in _SSR_EVENTS:
        feeds.append("ssr")
    rcs = incident.follow_up == FollowUpKind.RCS_IN_LIEU
    if (
        rcs
        and kind in _CCYP_EVENTS
        and (kind != "FollowUpDetermined" or e.kind == FollowUpKind.RCS_IN_LIEU)
    ):
        feeds.append("ccyp")
    return feeds


def _item(
    regulator: str, position: int, e: Any, i: Incident, pseudonym: Pseudonymiser
) -> dict[str, Any]:
    names = _SSR_EVENTS if regulator == "ssr" else _CCYP_EVENTS
    d = i.details
    org = i.reporting_organisation
    data: dict[str, Any] = {
        "incident": str(i.id),
        "version": e.originator_version,
        "organisation": i.reporting_organisation,
        "program": i.program.value,
        "types": list(i.types),
        "impact": i.impact.value,
        "regulator_category": i.regulator_category.value,
        "became_aware_at": ts(d.became_aware_at),
        "occurred_at": ts(d.occurred_at),
        "historical": d.historical,
        "clients": [
            {"pseudonym": pseudonym.client(regulator, org, c), "aboriginal": c.aboriginal}
            for c in i.clients
        ],
        "subjects_of_allegation": [
            {"pseudonym": pseudonym.subject(regulator, org, s.ref), "role": s.role.value}
            for s in i.subjects
        ],
        "stage": i.stage.value,
        # Why a report was withdrawn, by category only (out of scope, duplicate): no reason text.
        "withdrawal": i.withdrawal.value if i.withdrawal else None,
        "investigated": i.follow_up in INVESTIGATIONS,
        "findings": [
            {
                "subject": pseudonym.subject(regulator, org, o.subject_ref),
                "type": o.incident_type.value,
                "finding": o.finding.value,
            }
            for o in i.outcomes
        ],
    }
    if i.pattern_of:
        # The incidents a pattern escalation names go out as pseudonyms only: a regulator can
        # tell a pattern's incidents apart, not which incident records they are.
        data["pattern_of"] = [pseudonym(regulator, f"incident:{x}") for x in i.pattern_of]
    return {
        "specversion": "1.0",
        "id": f"{regulator}-{position}",
        "source": f"{SOURCE}/{regulator}",
        "type": f"au.gov.vic.cims.incident.{names[type(e).__name__]}",
        "time": ts(e.timestamp),
        "subject": str(i.id),
        "datacontenttype": "application/json",
        "data": data,
    }


def items(tx: Tx, regulator: str, *, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    rows = tx.execute(
        "SELECT position, item FROM rm_regulator_feed WHERE regulator = ? AND position > ?"
        " ORDER BY position LIMIT ?",
        [regulator, after, limit],
    )
    return [{"cursor": r[0], **json.loads(r[1])} for r in rows]
