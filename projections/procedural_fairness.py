"""procedural_fairness: for each investigation, was each fairness requirement met, and where?"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.procedural_fairness import Verdict, procedural_fairness
from domain.rules.follow_up import INVESTIGATIONS
from domain.values import FollowUpKind
from projections.base import Batch, delete_incidents
from projections.db import Tx, ts

name = "procedural_fairness"
# The follow-ups a checklist is kept for: investigations and, since issue 20, incident reviews.
CHECKED = (*INVESTIGATIONS, FollowUpKind.INCIDENT_REVIEW)
# Bumped when the rows' derivation changes with the same tables: the digest changes, so a
# running deployment rebuilds the model on start (2: incident reviews, dates as well as order;
# 3: how a subject was served and the decision a consultation is owed before, in words).
DERIVATION = 3


def tables(p: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS {p}procedural_fairness (
            incident_id TEXT NOT NULL, seq INTEGER NOT NULL, check_name TEXT NOT NULL,
            verdict TEXT NOT NULL, evidence_versions TEXT NOT NULL, detail TEXT NOT NULL,
            due TEXT, effective_at TEXT, recorded_at TEXT,
            recorded_late INTEGER NOT NULL DEFAULT 0, evidence_events TEXT NOT NULL,
            PRIMARY KEY (incident_id, seq))""",
    ]


def rebuilt_tables(p: str) -> list[str]:
    return [f"{p}procedural_fairness"]


def handle(tx: Tx, p: str, batch: Batch) -> None:
    keys: list[str] = []
    rows: list[tuple[Any, ...]] = []
    for incident_id in batch.touched():
        history = batch.history(incident_id)
        # No investigation or review, no checklist: the batch's shared fold says so.
        investigated = batch.incident(incident_id).follow_up in CHECKED
        checks = procedural_fairness(history, now=history[-1].timestamp) if investigated else ()
        due = next(
            (o.due for o in batch.obligations(incident_id) if o.kind == "investigation_or_review"),
            None,
        )
        keys.append(str(incident_id))
        rows += [
            (
                str(incident_id),
                n,
                c.check,
                c.verdict.value,
                json.dumps(c.evidence_versions),
                c.detail,
                ts(due) if c.check == "completed_within_28_days" else None,
                ts(c.effective_at),
                ts(c.recorded_at),
                int(c.recorded_late),
                json.dumps(c.evidence_events),
            )
            for n, c in enumerate(checks)
        ]
    delete_incidents(tx, f"{p}procedural_fairness", keys)
    tx.insert(f"{p}procedural_fairness", rows)


def checks(tx: Tx, incident_id: UUID, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Each fairness check of the incident's investigation, as it stands at `now`."""
    rows = tx.execute(
        "SELECT check_name, verdict, evidence_versions, detail, due, effective_at, recorded_at,"
        " recorded_late, evidence_events FROM rm_procedural_fairness"
        " WHERE incident_id = ? ORDER BY seq",
        [str(incident_id)],
    )
    now_text = ts(now or datetime.now(UTC))
    assert now_text is not None
    return [
        {
            "check": r[0],
            # A pending timeframe is missed once its due date passes, with no new event.
            "verdict": Verdict.FAIL.value
            if r[1] == Verdict.PENDING and r[4] and r[4] < now_text
            else r[1],
            "evidence_versions": json.loads(r[2]),
            "evidence_events": json.loads(r[8]),
            "detail": r[3],
            "effective_at": r[5],
            "recorded_at": r[6],
            "recorded_late": bool(r[7]),
        }
        for r in rows
    ]
