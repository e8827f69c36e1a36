"""incident_summary: what is the current stage, type, impact, owner of each incident?"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from domain.obligations import next_due
from projections.base import Batch, delete_incidents, page_of_either
from projections.db import Tx, ts

name = "incident_summary"

_COLUMNS = (
    "incident_id, reporting_organisation, other_provider, stage, types, impact,"
    " regulator_category, program, aboriginal, follow_up, reported_at, became_aware_at,"
    " occurred_at, version, next_due, position"
)


def tables(p: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS {p}incident_summary (
            incident_id TEXT PRIMARY KEY, reporting_organisation TEXT NOT NULL,
            other_provider TEXT, stage TEXT NOT NULL, types TEXT NOT NULL, impact TEXT NOT NULL,
            regulator_category TEXT NOT NULL, program TEXT NOT NULL, aboriginal INTEGER NOT NULL,
            follow_up TEXT, reported_at TEXT NOT NULL, became_aware_at TEXT NOT NULL,
            occurred_at TEXT, version INTEGER NOT NULL, next_due TEXT, position BIGINT NOT NULL)""",
        f"CREATE INDEX IF NOT EXISTS {p}incident_summary_list ON {p}incident_summary"
        " (reported_at, incident_id)",
        f"CREATE INDEX IF NOT EXISTS {p}incident_summary_org ON {p}incident_summary"
        " (reporting_organisation, stage)",
        f"CREATE INDEX IF NOT EXISTS {p}incident_summary_reporter ON {p}incident_summary"
        " (reporting_organisation, reported_at, incident_id)",
        # One per filter, each ending in the list's order, so a filtered page is an index range.
        *(
            f"CREATE INDEX IF NOT EXISTS {p}incident_summary_{column} ON {p}incident_summary"
            f" ({column}, reported_at, incident_id)"
            for column in ("stage", "impact", "aboriginal", "other_provider")
        ),
        f"CREATE INDEX IF NOT EXISTS {p}incident_summary_due ON {p}incident_summary (next_due)",
        f"""CREATE TABLE IF NOT EXISTS {p}incident_types (
            incident_id TEXT NOT NULL, incident_type TEXT NOT NULL, reported_at TEXT NOT NULL,
            PRIMARY KEY (incident_id, incident_type))""",
        f"CREATE INDEX IF NOT EXISTS {p}incident_types_type ON {p}incident_types"
        " (incident_type, reported_at, incident_id)",
        # What the list's `search` and `assigned` read, lower case: the client references and
        # the appointees as `|a|b|`, and the words of the description and location.
        f"""CREATE TABLE IF NOT EXISTS {p}incident_search (
            incident_id TEXT PRIMARY KEY, clients TEXT NOT NULL, assigned TEXT NOT NULL,
            words TEXT NOT NULL)""",
    ]


def rebuilt_tables(p: str) -> list[str]:
    return [f"{p}incident_summary", f"{p}incident_types", f"{p}incident_search"]


def handle(tx: Tx, p: str, batch: Batch) -> None:
    last_position = {e.originator_id: pos for pos, e in batch.events}
    keys, rows, types, search = [], [], [], []
    for incident_id in batch.touched():
        incident = batch.incident(incident_id)
        d = incident.details
        due = next_due(batch.obligations(incident_id))
        key = str(incident_id)
        keys.append(key)
        reported_at = ts(incident.submitted_at)
        rows.append(
            (
                key,
                incident.reporting_organisation,
                d.other_provider,
                incident.stage.value,
                json.dumps(list(incident.types)),
                incident.impact.value,
                incident.regulator_category.value,
                incident.program.value,
                int(incident.aboriginal),
                incident.follow_up.value if incident.follow_up else None,
                reported_at,
                ts(d.became_aware_at),
                ts(d.occurred_at or (d.occurred_between.start if d.occurred_between else None)),
                incident.version,
                ts(due),
                last_position[incident_id],
            )
        )
        types += [(key, t.value, reported_at) for t in incident.types]
        search.append(
            (
                key,
                _bars(c.ref for c in incident.clients),
                _bars(_appointees(incident)),
                f"{d.description}\n{d.location}".lower(),
            )
        )
    # The batch's incidents are replaced at once: a few statements per batch, not four each.
    delete_incidents(tx, f"{p}incident_summary", keys)
    delete_incidents(tx, f"{p}incident_types", keys)
    tx.insert(f"{p}incident_summary", rows, _COLUMNS)
    tx.insert(f"{p}incident_types", types)
    delete_incidents(tx, f"{p}incident_search", keys)
    tx.insert(f"{p}incident_search", search)


def _bars(values: Any) -> str:
    return "|" + "|".join(str(v).lower() for v in values) + "|"


def _appointees(incident: Any) -> list[str]:
    """Who is appointed to the incident, as `organisation/subject`: the investigator and the
    outcome reviewer."""
    found = []
    if incident.investigator is not None:
        found.append(f"{incident.investigator.organisation}/{incident.investigator.subject}")
    elif incident.investigator_ref:
        found.append(f"{incident.reporting_organisation}/{incident.investigator_ref}")
    if incident.outcome_reviewer is not None:
        reviewer = incident.outcome_reviewer
        found.append(f"{reviewer.organisation}/{reviewer.subject}")
    return found


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _cursor(row: tuple[Any, ...]) -> str:
    return base64.urlsafe_b64encode(f"{row[10]}|{row[0]}".encode()).decode()


def _uncursor(cursor: str) -> tuple[str, str]:
    reported_at, _, incident_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
    return reported_at, incident_id


def list_incidents(
    tx: Tx,
    *,
    organisations: set[str] | None,
    now: datetime,
    stage: str | None = None,
    incident_type: str | None = None,
    type: str | None = None,  # the name for `incident_type`
    impact: str | None = None,
    organisation: str | None = None,
    overdue: bool | None = None,
    aboriginal: bool | None = None,
    cursor: str | None = None,
    limit: int = 50,
    oldest_first: bool = False,
    search: str | None = None,
    assigned_to: tuple[str, str] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first (or oldest first), keyset-paged; `organisations` limits to what the caller
    may see. `organisation` matches part of either organisation's name, in any case; `search`
    finds an incident by the start of its id, a client reference (whole, any case) or words of
    its description or location (every word, any case); `assigned_to` (organisation, subject):
    the incidents that person is appointed to as investigator or outcome reviewer."""
    incident_type = incident_type or type
    where: list[str] = ["1 = 1"]
    params: list[Any] = []
    for column, value in (("stage", stage), ("impact", impact)):
        if value is not None:
            where.append(f"s.{column} = ?")
            params.append(value)
    if organisation is not None:
        part = f"%{_like(organisation.lower())}%"
        where.append(
            "(LOWER(s.reporting_organisation) LIKE ? ESCAPE '\\'"
            " OR LOWER(s.other_provider) LIKE ? ESCAPE '\\')"
        )
        params += [part, part]
    if search is not None and search.strip():
        text = search.strip().lower()
        words = text.split()
        where.append(
            "(s.incident_id LIKE ? ESCAPE '\\' OR s.incident_id IN (SELECT incident_id FROM"
            " rm_incident_search WHERE clients LIKE ? ESCAPE '\\' OR ("
            + " AND ".join("words LIKE ? ESCAPE '\\'" for _ in words)
            + ")))"
        )
        params += [f"{_like(text)}%", f"%|{_like(text)}|%", *(f"%{_like(w)}%" for w in words)]
    if assigned_to is not None:
        where.append(
            "s.incident_id IN (SELECT incident_id FROM rm_incident_search"
            " WHERE assigned LIKE ? ESCAPE '\\')"
        )
        params.append(f"%|{_like('/'.join(assigned_to).lower())}|%")
    if aboriginal is not None:
        where.append("s.aboriginal = ?")
        params.append(int(aboriginal))
    if overdue is not None:
        # The next deadline is kept on the row, so "overdue" is judged against the clock now.
        where.append(
            "(s.next_due IS NOT NULL AND s.next_due < ?)"
            if overdue
            else "(s.next_due IS NULL OR s.next_due >= ?)"
        )
        params.append(ts(now))
    # With a type, the pages come from that type's index range (it holds the list's order), the
    # summary joined to each row; so a page costs the same however common the type is.
    o = "t" if incident_type is not None else "s"
    source = "rm_incident_summary s"
    if incident_type is not None:
        source = "rm_incident_types t JOIN rm_incident_summary s ON s.incident_id = t.incident_id"
        where.append("t.incident_type = ?")
        params.append(incident_type)
    if cursor:
        reported_at, incident_id = _uncursor(cursor)
        past = ">" if oldest_first else "<"
        where.append(
            f"({o}.reported_at {past} ? OR ({o}.reported_at = ? AND {o}.incident_id {past} ?))"
        )
        params += [reported_at, reported_at, incident_id]
    columns = ", ".join(f"s.{c}" for c in _COLUMNS.split(", "))
    way = "ASC" if oldest_first else "DESC"
    order = f"ORDER BY {o}.reported_at {way}, {o}.incident_id {way} LIMIT ?"
    filters = " AND ".join(where)
    if organisations is None:
        sql = f"SELECT {columns} FROM {source} WHERE {filters} {order}"
        arguments = [*params, limit + 1]
    else:
        sql, arguments = page_of_either(
            f"SELECT {columns} FROM {source}",
            ("s.reporting_organisation", "s.other_provider"),
            organisations,
            filters,
            [*params, limit + 1],
            order,
            f"ORDER BY reported_at {way}, incident_id {way} LIMIT ?",
        )
    rows = tx.execute(sql, arguments)
    page = rows[:limit]
    items = [_item(r, now) for r in page]
    return items, _cursor(page[-1]) if len(rows) > limit else None


def _item(r: tuple[Any, ...], now: datetime) -> dict[str, Any]:
    return {
        "id": r[0],
        "reporting_organisation": r[1],
        "other_provider": r[2],
        "stage": r[3],
        "types": json.loads(r[4]),
        "impact": r[5],
        "regulator_category": r[6],
        "program": r[7],
        "aboriginal": bool(r[8]),
        "follow_up": r[9],
        "reported_at": r[10],
        "became_aware_at": r[11],
        "occurred_at": r[12],
        "version": r[13],
        "next_due": r[14],
        "overdue": r[14] is not None and r[14] < ts(now),
    }
