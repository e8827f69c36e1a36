"""statistics: counts by type, impact, organisation and month; time to close; overdue rates.

Months are Melbourne calendar months: an incident recorded at 09:00 on 1 April in Melbourne
counts in April, though it is still 31 March in UTC. `by_month` runs over every month from the
first to the last (zero where none were reported), so a chart of it is a true time axis.

Records imported from the old system keep their own dates and are counted apart (`imported`)
from the records made here: the old system's export gives no closing date, so a record closed
there is not counted as closed on the day it was imported, and none enters the time to close.
"""

from __future__ import annotations

import statistics as stats
from collections import Counter
from datetime import datetime
from typing import Any

from domain.local_time import melbourne_month
from domain.obligations import next_due
from projections.base import Batch, delete_incidents, visible_to
from projections.db import Tx, parse_ts, ts

name = "statistics"


def tables(p: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS {p}statistics (
            incident_id TEXT PRIMARY KEY, organisation TEXT NOT NULL, other_provider TEXT,
            impact TEXT NOT NULL, reported_month_melbourne TEXT NOT NULL, reported_at TEXT NOT NULL,
            closed_at TEXT, withdrawn INTEGER NOT NULL, next_due TEXT,
            ever_late INTEGER NOT NULL, imported INTEGER NOT NULL DEFAULT 0,
            closed INTEGER NOT NULL DEFAULT 0)""",
        f"""CREATE TABLE IF NOT EXISTS {p}statistics_types (
            incident_id TEXT NOT NULL, incident_type TEXT NOT NULL,
            PRIMARY KEY (incident_id, incident_type))""",
    ]


def rebuilt_tables(p: str) -> list[str]:
    return [f"{p}statistics", f"{p}statistics_types"]


def handle(tx: Tx, p: str, batch: Batch) -> None:
    keys, rows, types = [], [], []
    for incident_id in batch.touched():
        history = batch.history(incident_id)
        incident = batch.incident(incident_id)
        items = batch.obligations(incident_id)
        last_closed = next((e for e in reversed(history) if type(e).__name__ == "Closed"), None)
        # A record imported closed was closed in the old system, on a day its export does not
        # give: not on the day it was imported.
        closed_on_import = (
            incident.imported is not None
            and last_closed is not None
            and last_closed.timestamp == history[0].timestamp
        )
        closed_at = (
            last_closed.happened_at
            if incident.closed and last_closed is not None and not closed_on_import
            else None
        )
        reported = incident.submitted_at  # an imported record: its original submission
        key = str(incident_id)
        keys.append(key)
        rows.append(
            (
                key,
                incident.reporting_organisation,
                incident.details.other_provider,
                incident.impact.value,
                melbourne_month(reported),
                ts(reported),
                ts(closed_at),
                int(incident.withdrawn),
                ts(next_due(items)),
                int(any(o.status in ("met_late", "overdue") for o in items)),
                int(incident.imported is not None),
                int(incident.closed),
            )
        )
        types += [(key, t.value) for t in incident.types]
    delete_incidents(tx, f"{p}statistics", keys)
    delete_incidents(tx, f"{p}statistics_types", keys)
    tx.insert(f"{p}statistics", rows)
    tx.insert(f"{p}statistics_types", types)


def summary(tx: Tx, *, organisations: set[str] | None, now: datetime) -> dict[str, Any]:
    """The figures for the records made here, and (`imported`) those brought in from the old
    system, counted apart. Days to close are calendar days, from submission to closure."""
    where, params = visible_to(organisations, "organisation")
    rows = tx.execute(
        "SELECT incident_id, organisation, impact, reported_month_melbourne, reported_at,"
        " closed_at, withdrawn, next_due, ever_late, imported, closed"
        f" FROM rm_statistics WHERE {where}",
        params,
    )
    types = tx.execute("SELECT incident_id, incident_type FROM rm_statistics_types")
    made_here = [r for r in rows if not r[9]]
    imported = [r for r in rows if r[9]]
    figures = _figures(made_here, types, now=now, through=melbourne_month(now))
    figures["imported"] = {
        k: v
        for k, v in _figures(imported, types, now=now, through=None).items()
        if k in IMPORTED_FIGURES
    }
    return figures


# What is counted of imported records: no time to close (the old export gives no closing date)
# and no lateness (their deadlines ran in the old system).
IMPORTED_FIGURES = (
    "incidents",
    "by_type",
    "by_impact",
    "by_organisation",
    "by_month",
    "open",
    "closed",
)


def _figures(
    rows: list[Any], types: list[Any], *, now: datetime, through: str | None
) -> dict[str, Any]:
    visible = {r[0] for r in rows}
    now_text = ts(now)
    assert now_text is not None
    open_rows = [r for r in rows if not r[10] and not r[6]]
    overdue = [r for r in open_rows if r[7] is not None and r[7] < now_text]
    days_to_close = [
        (close - start).total_seconds() / 86400
        for r in rows
        if (close := parse_ts(r[5])) is not None and (start := parse_ts(r[4])) is not None
    ]
    return {
        "incidents": len(rows),
        "by_type": dict(Counter(t for i, t in types if i in visible)),
        "by_impact": dict(Counter(r[2] for r in rows)),
        "by_organisation": dict(Counter(r[1] for r in rows)),
        "by_month": every_month(Counter(r[3] for r in rows), through=through),
        "open": len(open_rows),
        "closed": sum(1 for r in rows if r[10] and not r[6]),
        "median_days_to_close": round(stats.median(days_to_close), 2) if days_to_close else None,
        "overdue_now": len(overdue),
        "overdue_rate": round(len(overdue) / len(open_rows), 4) if open_rows else 0.0,
        "ever_late_rate": round(sum(r[8] for r in rows) / len(rows), 4) if rows else 0.0,
    }


def every_month(counts: Counter[str], *, through: str | None = None) -> dict[str, int]:
    """`YYYY-MM` counts for every month from the first counted to the last (or to `through`,
    when later), zero where there were none, in order: a true time axis."""
    if not counts:
        return {}
    first, last = min(counts), max(counts)
    if through is not None and through > last:
        last = through
    year, month = int(first[:4]), int(first[5:7])
    months: dict[str, int] = {}
    while (key := f"{year:04d}-{month:02d}") <= last:
        months[key] = counts.get(key, 0)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
