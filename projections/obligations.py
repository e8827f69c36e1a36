"""obligations: what is due, overdue, met late — per organisation, per incident."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from domain.obligations import Status
from projections.base import Batch, delete_incidents, page_of_either
from projections.db import Tx, ts

name = "obligations"
_COLUMNS = (
    "incident_id, kind, organisation, other_provider, trigger, due, original_due, extended,"
    " met_at, settled_status, note, met_recorded_at, recorded_late, clients, explanation"
)


def tables(p: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS {p}obligations (
            incident_id TEXT NOT NULL, kind TEXT NOT NULL, organisation TEXT NOT NULL,
            other_provider TEXT, trigger TEXT NOT NULL, due TEXT, original_due TEXT,
            extended INTEGER NOT NULL, met_at TEXT, settled_status TEXT, note TEXT,
            met_recorded_at TEXT, recorded_late INTEGER NOT NULL DEFAULT 0,
            clients TEXT NOT NULL DEFAULT '', explanation TEXT,
            PRIMARY KEY (incident_id, kind))""",
        f"CREATE INDEX IF NOT EXISTS {p}obligations_due ON {p}obligations"
        " (settled_status, due, incident_id, kind)",
        # The worklist's order, per organisation (every status), and over what is still owed
        # (open and overdue, the usual question) for everyone and per organisation: a page is
        # read off an index, not sorted from all the rows. The partial ones hold only
        # unsettled obligations, so they stay small.
        *(
            f"CREATE INDEX IF NOT EXISTS {p}obligations{name} ON {p}obligations"
            f" ({column}COALESCE(due, '9999'), incident_id, kind){where}"
            for name, column, where in (
                ("_org", "organisation, ", ""),
                ("_provider", "other_provider, ", ""),
                ("_pending", "", " WHERE settled_status IS NULL"),
                ("_pending_org", "organisation, ", " WHERE settled_status IS NULL"),
                ("_pending_provider", "other_provider, ", " WHERE settled_status IS NULL"),
            )
        ),
    ]


def rebuilt_tables(p: str) -> list[str]:
    return [f"{p}obligations"]


def handle(tx: Tx, p: str, batch: Batch) -> None:
    keys, rows = [], []
    for incident_id in batch.touched():
        incident = batch.incident(incident_id)
        keys.append(str(incident_id))
        for o in batch.obligations(incident_id):
            # Only settled statuses are stored; open and overdue are told apart at query time
            # against the clock, so an obligation turns overdue with no new event.
            settled = o.status.value if o.settled else None
            rows.append(
                (
                    str(incident_id),
                    o.kind,
                    incident.reporting_organisation,
                    incident.details.other_provider,
                    o.trigger,
                    ts(o.due),
                    ts(o.original_due),
                    int(o.extended),
                    ts(o.met_at),
                    settled,
                    o.note,
                    ts(o.met_recorded_at),
                    int(o.recorded_late),
                    _client_refs(incident.clients),
                    # Why it is due when it is, as JSON (the domain's `Explanation`).
                    o.explanation.model_dump_json() if o.explanation else None,
                )
            )
    delete_incidents(tx, f"{p}obligations", keys)
    tx.insert(f"{p}obligations", rows, _COLUMNS)


def _client_refs(clients: Any) -> str:
    """The incident's client references as one `|a|b|` string, for the worklist's client filter."""
    return "|" + "|".join(c.ref for c in clients) + "|"


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def status_now(settled_status: str | None, due: str | None, now: datetime) -> Status:
    if settled_status is not None:
        return Status(settled_status)
    now_text = ts(now)
    assert now_text is not None
    return Status.OVERDUE if due is not None and due < now_text else Status.OPEN


def worklist(
    tx: Tx,
    *,
    organisations: set[str] | None,
    now: datetime,
    status: str | None = None,
    organisation: str | None = None,
    incident_id: str | None = None,
    kind: str | None = None,
    client: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> tuple[list[dict[str, Any]], str | None]:
    """Obligations soonest due first (undated ones last), filtered and keyset-paged."""
    where: list[str] = ["1 = 1"]
    params: list[Any] = []
    # Whose obligations: those of incidents reported by, or naming responsible, one of these.
    whose = organisations if organisations is not None else None
    if organisation is not None:
        if whose is None:
            whose = {organisation}
        else:
            where.append("(organisation = ? OR other_provider = ?)")
            params += [organisation, organisation]
    if incident_id is not None:
        where.append("incident_id = ?")
        params.append(incident_id)
    if kind is not None:
        where.append("kind = ?")
        params.append(kind)
    if client is not None:
        where.append("clients LIKE ? ESCAPE '\\'")
        params.append(f"%|{_like_literal(client)}|%")
    if status == Status.OVERDUE:
        where.append("settled_status IS NULL AND due < ?")
        params.append(ts(now))
    elif status == Status.OPEN:
        where.append("settled_status IS NULL AND (due IS NULL OR due >= ?)")
        params.append(ts(now))
    elif status == "needs_action":
        # Open or overdue: soonest due first puts the overdue ones first.
        where.append("settled_status IS NULL")
    elif status is not None:
        where.append("settled_status = ?")
        params.append(status)
    sort_key = "COALESCE(due, '9999')"
    if cursor:
        key, incident, kind = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        where.append(
            f"({sort_key} > ? OR ({sort_key} = ? AND (incident_id > ? OR"
            " (incident_id = ? AND kind > ?))))"
        )
        params += [key, key, incident, incident, kind]
    select = f"SELECT {_COLUMNS}, {sort_key} AS sort_key FROM rm_obligations"
    order = f"ORDER BY {sort_key}, incident_id, kind LIMIT ?"
    filters = " AND ".join(where)
    if whose is None:
        sql, arguments = f"{select} WHERE {filters} {order}", [*params, limit + 1]
    else:
        sql, arguments = page_of_either(
            select,
            ("organisation", "other_provider"),
            whose,
            filters,
            [*params, limit + 1],
            order,
            "ORDER BY sort_key, incident_id, kind LIMIT ?",
        )
    rows = tx.execute(sql, arguments)
    page = rows[:limit]
    items = [
        {
            "incident_id": r[0],
            "kind": r[1],
            "organisation": r[2],
            "trigger": r[4],
            "due": r[5],
            "original_due": r[6],
            "extended": bool(r[7]),
            "met_at": r[8],
            "status": status_now(r[9], r[5], now).value,
            "note": r[10],
            "met_recorded_at": r[11],
            "recorded_late": bool(r[12]),
            "clients": [ref for ref in r[13].strip("|").split("|") if ref],
            "explanation": json.loads(r[14]) if r[14] else None,
        }
        for r in page
    ]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = base64.urlsafe_b64encode(f"{last[15]}|{last[0]}|{last[1]}".encode()).decode()
    return items, next_cursor
