"""reminders: which obligations are still owed, by when, and who is named on each incident.

The reminder worker reads this with the clock: an owed obligation turns due-soon or overdue with
no new event, so only what events settle (met, not required, withdrawn, closed) is stored here;
the threshold a notice is for is told at query time. Rows are replaced per incident from its
fold, so an extension that moves a due moment replaces the row with the new due moment.
"""

from __future__ import annotations

from datetime import datetime

import orjson

from domain.reminders import OwedObligation
from projections.base import Batch, delete_incidents
from projections.db import Tx, parse_ts, ts

name = "reminders"
_COLUMNS = "incident_id, kind, organisation, other_provider, due, named"


def tables(p: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS {p}reminder_obligations (
            incident_id TEXT NOT NULL, kind TEXT NOT NULL, organisation TEXT NOT NULL,
            other_provider TEXT, due TEXT NOT NULL, named TEXT NOT NULL,
            PRIMARY KEY (incident_id, kind))""",
        f"CREATE INDEX IF NOT EXISTS {p}reminder_obligations_due ON {p}reminder_obligations (due)",
    ]


def rebuilt_tables(p: str) -> list[str]:
    return [f"{p}reminder_obligations"]


def handle(tx: Tx, p: str, batch: Batch) -> None:
    keys, rows = [], []
    for incident_id in batch.touched():
        incident = batch.incident(incident_id)
        keys.append(str(incident_id))
        if incident.withdrawn or incident.closed:
            continue  # nothing is owed on a withdrawn or closed incident
        named = sorted(
            [p.organisation, p.subject]
            for p in (incident.investigator, incident.outcome_reviewer)
            if p is not None
        )
        for o in batch.obligations(incident_id):
            if o.settled or o.due is None:
                continue
            rows.append(
                (
                    str(incident_id),
                    o.kind,
                    incident.reporting_organisation,
                    incident.details.other_provider,
                    ts(o.due),
                    orjson.dumps(named).decode(),
                )
            )
    delete_incidents(tx, f"{p}reminder_obligations", keys)
    tx.insert(f"{p}reminder_obligations", rows, _COLUMNS)


def owed_by(tx: Tx, *, until: datetime) -> list[OwedObligation]:
    """Every owed obligation due before `until`, soonest first."""
    rows = tx.execute(
        f"SELECT {_COLUMNS} FROM rm_reminder_obligations WHERE due < ?"
        " ORDER BY due, incident_id, kind",
        [ts(until)],
    )
    found = []
    for incident_id, kind, organisation, other_provider, due, named in rows:
        due_at = parse_ts(due)
        assert due_at is not None
        found.append(
            OwedObligation(
                incident_id=incident_id,
                kind=kind,
                organisation=organisation,
                other_provider=other_provider,
                due=due_at,
                named=frozenset((o, s) for o, s in orjson.loads(named)),
            )
        )
    return found
