"""`cims fairness ID`: the procedural-fairness checklist of an investigation, for reviewers.

The checklist is the domain's own (`domain.procedural_fairness`), the same the API and the audit
bundle give, judged now from the incident's events alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich import box
from rich.table import Column, Table
from rich.text import Text

from cli.access import log_read
from cli.incidents import resolve
from cli.output import AsJson, literal, note, out, print_json
from cli.settings import open_ledger, store
from domain.procedural_fairness import Verdict, procedural_fairness

STYLE = {
    Verdict.PASS: "green",
    Verdict.FAIL: "bold red",
    Verdict.PENDING: "yellow",
    Verdict.MET_LATE_WITH_EXTENSION: "yellow",
    Verdict.NOT_APPLICABLE: "dim",
}


def fairness(
    incident: Annotated[str, typer.Argument(help="incident id, or its first 8 characters")],
    as_json: AsJson = False,
) -> None:
    """The procedural-fairness checklist of an investigation, for reviewers.

    Each check of policy §8 and §10, its verdict and the versions that evidence it; exit 0
    whatever the verdicts.
    """
    url = store()
    with open_ledger(url) as ledger:
        incident_id = resolve(ledger, incident)
        checks = procedural_fairness(ledger.incident_events(incident_id), now=datetime.now(UTC))
    log_read(url, incident_id, "procedural-fairness")
    if as_json:
        print_json([c.model_dump(mode="json") for c in checks])
        return
    if not checks:
        note(
            f"incident {incident_id} has no investigation: the checklist applies once an"
            " investigation is determined (policy §8)"
        )
        return
    table = Table(
        Column("check", ratio=3),
        Column("verdict", no_wrap=True),
        Column("evidence", no_wrap=True),
        Column("detail", ratio=4),
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    for c in checks:
        table.add_row(
            literal(c.check.replace("_", " ")),
            Text(c.verdict.value.replace("_", " "), style=STYLE.get(c.verdict, "")),
            literal(", ".join(f"v{v}" for v in c.evidence_versions) or "—"),
            literal(c.detail),
        )
    out.print(Text(f"Procedural fairness — incident {incident_id}", style="bold"))
    out.print(table)
