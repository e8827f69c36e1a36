"""patterns: which incidents are about one client, which make a possible pattern of harm, and
which imported records still wait for a person to resolve a split legacy type?

A provider is answered from its own incidents only; the department (organisations `None`) from
every provider's, joined across providers only by the department's client identifier.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from domain.incident import Incident, Stage
from domain.policy_table import policy_at
from domain.rules.patterns import ClientOf
from domain.values import Impact
from ledger.patterns import PatternItem, suggest
from projections.base import Batch, delete_incidents
from projections.db import Tx, parse_ts, ts

name = "patterns"
_COLUMNS = (
    "incident_id, organisation, became_aware_at, submitted_at, types, legacy_types, unresolved,"
    " removed, impact, stage, outcome, linked_to, pattern_of, client_refs, department_ids,"
    " is_current, legacy_id, version"
)
_ENDED = (Stage.WITHDRAWN, Stage.OUT_OF_SCOPE)


def tables(p: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS {p}pattern_incidents (
            incident_id TEXT PRIMARY KEY, organisation TEXT NOT NULL,
            became_aware_at TEXT NOT NULL, submitted_at TEXT NOT NULL, types TEXT NOT NULL,
            legacy_types TEXT NOT NULL, unresolved TEXT NOT NULL, removed TEXT NOT NULL,
            impact TEXT NOT NULL, stage TEXT NOT NULL, outcome TEXT NOT NULL, linked_to TEXT,
            pattern_of TEXT NOT NULL, client_refs TEXT NOT NULL, department_ids TEXT NOT NULL,
            is_current INTEGER NOT NULL, legacy_id TEXT, version INTEGER NOT NULL)""",
        f"CREATE INDEX IF NOT EXISTS {p}pattern_incidents_aware ON {p}pattern_incidents"
        " (impact, became_aware_at)",
        # A provider's candidates for possible patterns (see `suggestions`).
        f"CREATE INDEX IF NOT EXISTS {p}pattern_incidents_org_aware ON {p}pattern_incidents"
        " (organisation, impact, became_aware_at)",
        f"CREATE INDEX IF NOT EXISTS {p}pattern_incidents_unresolved ON {p}pattern_incidents"
        " (unresolved, organisation)",
        f"""CREATE TABLE IF NOT EXISTS {p}pattern_clients (
            incident_id TEXT NOT NULL, organisation TEXT NOT NULL, client_ref TEXT NOT NULL,
            department_client_id TEXT, PRIMARY KEY (incident_id, client_ref))""",
        f"CREATE INDEX IF NOT EXISTS {p}pattern_clients_ref ON {p}pattern_clients"
        " (organisation, client_ref)",
        f"CREATE INDEX IF NOT EXISTS {p}pattern_clients_department ON {p}pattern_clients"
        " (department_client_id)",
        f"""CREATE TABLE IF NOT EXISTS {p}pattern_dismissals (
            dismissal_id TEXT NOT NULL, incident_id TEXT NOT NULL,
            PRIMARY KEY (dismissal_id, incident_id))""",
        f"CREATE INDEX IF NOT EXISTS {p}pattern_dismissals_incident ON {p}pattern_dismissals"
        " (incident_id)",
    ]


def rebuilt_tables(p: str) -> list[str]:
    return [f"{p}pattern_incidents", f"{p}pattern_clients", f"{p}pattern_dismissals"]


def _outcome(incident: Incident) -> list[str]:
    findings = [o.finding.value for o in incident.outcomes]
    legacy = incident.imported.outcome if incident.imported else None
    return findings or ([legacy.value] if legacy else [])


def handle(tx: Tx, p: str, batch: Batch) -> None:
    keys: list[str] = []
    rows: list[tuple[Any, ...]] = []
    clients: list[tuple[Any, ...]] = []
    dismissals: list[tuple[str, str]] = []
    for incident_id in batch.touched():
        i = batch.incident(incident_id)
        key = str(incident_id)
        keys.append(key)
        rows.append(
            (
                key,
                i.reporting_organisation,
                ts(i.details.became_aware_at),
                ts(i.submitted_at),
                json.dumps(list(i.types)),
                json.dumps(list(i.legacy_types)),
                json.dumps(i.unresolved_legacy_types),
                json.dumps(i.removed_legacy_types),
                i.impact.value,
                i.stage.value,
                json.dumps(_outcome(i)),
                str(i.linked_to_pattern) if i.linked_to_pattern else None,
                json.dumps([str(x) for x in i.pattern_of]),
                json.dumps(sorted({c.ref for c in i.clients})),
                json.dumps(sorted({c.department_client_id for c in i.clients} - {None})),
                int(i.stage not in _ENDED),
                i.imported.legacy_id if i.imported else None,
                i.version,
            )
        )
        clients += sorted(
            {(key, i.reporting_organisation, c.ref, c.department_client_id) for c in i.clients},
            key=lambda r: (r[2], r[3] or ""),
        )
        dismissals += [(str(d), key) for d in dict.fromkeys(i.pattern_dismissals)]
    for table in ("pattern_incidents", "pattern_clients", "pattern_dismissals"):
        delete_incidents(tx, f"{p}{table}", keys)
    tx.insert(f"{p}pattern_incidents", rows, _COLUMNS)
    tx.insert(f"{p}pattern_clients", clients)
    tx.insert(f"{p}pattern_dismissals", dismissals)


# ---- queries -------------------------------------------------------------------------------


def _in(values: list[str]) -> str:
    return ", ".join("?" * len(values)) or "NULL"


def _item(r: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "id": r[0],
        "organisation": r[1],
        "became_aware_at": r[2],
        "submitted_at": r[3],
        "types": json.loads(r[4]),
        "legacy_types": json.loads(r[5]),
        "unresolved_legacy_types": json.loads(r[6]),
        "removed_legacy_types": json.loads(r[7]),
        "impact": r[8],
        "stage": r[9],
        "outcome": json.loads(r[10]),
        "linked_to_pattern": r[11],
        "pattern_of": json.loads(r[12]),
        "client_refs": json.loads(r[13]),
        "department_client_ids": json.loads(r[14]),
        "legacy_id": r[16],
        "version": r[17],
    }


def _rows(tx: Tx, ids: set[str]) -> list[tuple[Any, ...]]:
    if not ids:
        return []
    names = sorted(ids)
    return tx.execute(
        f"SELECT {_COLUMNS} FROM rm_pattern_incidents WHERE incident_id IN ({_in(names)})", names
    )


def _same_client_ids(
    tx: Tx,
    organisations: set[str] | None,
    refs: set[tuple[str, str]],
    department_ids: set[str],
) -> set[str]:
    """One round of widening: incidents of the same client by ref (within its organisation) or
    by department identifier (across organisations only when `organisations` is None)."""
    found: set[str] = set()
    for organisation, ref in sorted(refs):
        found |= {
            r[0]
            for r in tx.execute(
                "SELECT incident_id FROM rm_pattern_clients WHERE organisation = ?"
                " AND client_ref = ?",
                [organisation, ref],
            )
        }
    if department_ids:
        ids = sorted(department_ids)
        sql = (
            "SELECT incident_id, organisation FROM rm_pattern_clients"
            f" WHERE department_client_id IN ({_in(ids)})"
        )
        found |= {
            r[0] for r in tx.execute(sql, ids) if organisations is None or r[1] in organisations
        }
    return found


def client_incidents(
    tx: Tx,
    *,
    organisations: set[str] | None,
    client_ref: str | None = None,
    organisation: str | None = None,
    department_client_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """One client's incidents, oldest first (by when the provider became aware), within
    [since, until]. The client is named by a ref in `organisation` or by the department's
    identifier; its other incidents are found through either, within each organisation, and
    across organisations through the department identifier only when `organisations` is None
    (the department). Nothing outside `organisations` is read into the answer."""
    refs = {(organisation, client_ref)} if client_ref and organisation else set()
    if refs and organisations is not None and organisation not in organisations:
        refs = set()
    departments = {department_client_id} if department_client_id else set()
    seen: set[str] = set()
    rows: list[tuple[Any, ...]] = []
    while True:
        widened = _same_client_ids(tx, organisations, refs, departments) - seen
        if not widened:
            break
        seen |= widened
        rows = _rows(tx, seen)
        if organisations is not None:
            rows = [r for r in rows if r[1] in organisations]
        refs = {(r[1], ref) for r in rows for ref in json.loads(r[13])}
        departments = {d for r in rows for d in json.loads(r[14])}
    low, high = ts(since), ts(until)
    kept = [r for r in rows if (low is None or r[2] >= low) and (high is None or r[2] <= high)]
    kept.sort(key=lambda r: (r[2], r[0]))
    return [_item(r) for r in kept]


def suggestions(tx: Tx, *, organisations: set[str] | None, now: datetime) -> list[dict[str, Any]]:
    """Possible patterns the caller may decide on, each naming its incidents (policy table:
    window and count in force at `now`). A provider's are built from its own incidents and
    from dismissals that named only its own incidents, so they are what they would be if no
    other provider existed."""
    policy = policy_at(now)
    since = ts(now - timedelta(days=policy.pattern_window_days))
    # The candidates, chosen in SQL (the provider's own only, off an index): a page of the
    # worklist asks this, so its cost must follow one provider's incidents, not everyone's.
    candidates = (
        "c.impact = ? AND c.became_aware_at >= ? AND c.is_current = 1 AND c.linked_to IS NULL"
    )
    params: list[Any] = [Impact.NON_MAJOR.value, since]
    if organisations is not None:
        chosen = sorted(organisations)
        candidates += f" AND c.organisation IN ({_in(chosen)})"
        params += chosen
    rows = tx.execute(f"SELECT {_COLUMNS} FROM rm_pattern_incidents c WHERE {candidates}", params)
    by_id = {r[0]: r for r in rows}
    items = [
        PatternItem(
            incident_id=UUID(r[0]),
            client=ClientOf(r[1], frozenset(json.loads(r[13])), frozenset(json.loads(r[14]))),
            became_aware_at=parse_ts(r[2]),  # type: ignore[arg-type]
            non_major=True,
            current=True,
            linked=False,
        )
        for r in rows
    ]
    found = suggest(
        items, now=now, policy=policy, dismissed=_dismissed(tx, organisations, candidates, params)
    )
    return [
        {
            "kind": "possible_pattern",
            "client_refs": list(s.client_refs),
            "department_client_ids": list(s.department_client_ids),
            "incident_ids": [str(i) for i in s.incident_ids],
            "incidents": [_item(by_id[str(i)]) for i in s.incident_ids],
            "window_days": policy.pattern_window_days,
            "min_incidents": policy.pattern_min_incidents,
            "policy_version": policy.version,
        }
        for s in found
    ]


def _dismissed(
    tx: Tx, organisations: set[str] | None, candidates: str, params: list[Any]
) -> list[frozenset[UUID]]:
    """The incident sets of every dismissal that named one of the candidates (`candidates`, a
    condition on `rm_pattern_incidents` aliased `c`, with its `params`), asked in one query
    whatever their number (no list of ids bound one by one, which a database caps)."""
    members = tx.execute(
        "SELECT d.dismissal_id, d.incident_id, i.organisation FROM rm_pattern_dismissals d"
        " JOIN rm_pattern_incidents i ON i.incident_id = d.incident_id"
        " WHERE d.dismissal_id IN (SELECT n.dismissal_id FROM rm_pattern_dismissals n"
        f" JOIN rm_pattern_incidents c ON c.incident_id = n.incident_id WHERE {candidates})",
        params,
    )
    sets: dict[str, set[UUID]] = {}
    foreign: set[str] = set()
    for dismissal_id, incident_id, organisation in members:
        sets.setdefault(dismissal_id, set()).add(UUID(incident_id))
        if organisations is not None and organisation not in organisations:
            foreign.add(dismissal_id)
    # A dismissal that named another provider's incident is not the provider's to see.
    return [frozenset(v) for k, v in sets.items() if k not in foreign]


def unresolved(
    tx: Tx, *, organisations: set[str] | None, limit: int = 100, after: str = ""
) -> list[dict[str, Any]]:
    """Imported records with a split legacy type still to be resolved, by incident id: at most
    `limit`, after `after`, chosen and limited in SQL (never every provider's rows read)."""
    where, params = "unresolved <> '[]' AND incident_id > ?", [after]
    if organisations is not None:
        chosen = sorted(organisations)
        where += f" AND organisation IN ({_in(chosen)})"
        params += chosen
    rows = tx.execute(
        f"SELECT {_COLUMNS} FROM rm_pattern_incidents WHERE {where} ORDER BY incident_id LIMIT ?",
        [*params, limit],
    )
    return [_item(r) for r in rows]
