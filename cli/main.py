"""The `cims` command line: serve the API, demo data, incidents, read models and replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

import typer
import uvicorn
from rich.console import Console
from rich.table import Column, Table

from api.auth import mint_token
from cli import projections, replay
from cli.demo import seed_demo
from cli.settings import database_url, open_ledger, settings
from domain.errors import IncidentNotFound
from domain.obligations import next_due
from domain.persistence import is_postgres
from domain.policy_table import MELBOURNE
from domain.values import Role
from projections.db import Db

app = typer.Typer(
    help="CIMS Ledger: Victoria's Client Incident Management System, event-sourced.",
    no_args_is_help=True,
)
incidents = typer.Typer(help="Look at incidents in the ledger.", no_args_is_help=True)
app.add_typer(incidents, name="incidents")
app.add_typer(projections.app, name="projections")
app.add_typer(replay.app, name="replay")
console = Console()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn workers (PostgreSQL only)")] = 1,
    demo_data: Annotated[bool, typer.Option("--demo", help="write demo data if empty")] = False,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs)."""
    url = database_url()
    if workers > 1 and not is_postgres(url):
        console.print("[yellow]the embedded SQLite store is one process: using 1 worker[/yellow]")
        workers = 1
    if demo_data:
        with open_ledger() as ledger:
            if next(ledger.incident_ids(), None) is None:
                written = seed_demo(ledger, now=datetime.now(UTC))
                console.print(f"demo: {written} incidents written")
    console.print(f"CIMS Ledger on http://{host}:{port} (docs at /docs), store {url}")
    uvicorn.run(
        "api.main:create_app", factory=True, host=host, port=port, workers=workers, log_level="info"
    )


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="the user's id")],
    role: Annotated[Role, typer.Option(help="the user's role")],
    org: Annotated[str, typer.Option(help="the user's organisation")],
    ttl: Annotated[int, typer.Option(help="minutes the token is valid")] = 480,
) -> None:
    """Mint a development token signed with the configured (or generated) secret."""
    print(mint_token(settings(), sub=sub, role=role, org=org, ttl=timedelta(minutes=ttl)))


@app.command()
def demo() -> None:
    """Write the synthetic demo data set (idempotent: incidents already there are kept)."""
    db = Db(database_url())
    unsafe = db.unsafe_durability()
    db.close()
    if unsafe:  # as the API: nothing is written where a crash could take it back
        console.print(f"[red]refusing to write: PostgreSQL has {', '.join(unsafe)}[/red]")
        raise typer.Exit(1)
    with open_ledger() as ledger:
        written = seed_demo(ledger, now=datetime.now(UTC))
    console.print(f"demo: {written} incident(s) written to {database_url()}")


@incidents.command("list")
def list_incidents() -> None:
    """Every incident: id, stage, types, impact and next due."""
    now = datetime.now(UTC)
    table = Table("stage", "types", "impact", "next due (Melbourne)")
    table.columns.insert(0, Column("id", no_wrap=True, min_width=36))
    with open_ledger() as ledger:
        for incident_id in ledger.incident_ids():
            incident = ledger.incident(incident_id)
            due = next_due(ledger.obligations(incident_id, now=now))
            table.add_row(
                str(incident_id),
                incident.stage.value,
                ", ".join(incident.types),
                incident.impact.value,
                _melbourne(due) if due else "—",
            )
    console.print(table)


@incidents.command("show")
def show_incident(incident_id: Annotated[UUID, typer.Argument(help="incident id")]) -> None:
    """One incident's state and its obligations."""
    now = datetime.now(UTC)
    with open_ledger() as ledger:
        try:
            incident = ledger.incident(incident_id)
        except IncidentNotFound:
            console.print(f"[red]no incident {incident_id}[/red]")
            raise typer.Exit(1) from None
        obligations = ledger.obligations(incident_id, now=now)
    console.print(f"[bold]Incident {incident_id}[/bold] — version {incident.version}")
    facts = Table(show_header=False)
    for label, value in [
        ("stage", incident.stage.value),
        ("reported by", incident.reporting_organisation),
        ("program / care", f"{incident.program.value} / {incident.care_context.value}"),
        ("types", ", ".join(incident.types)),
        ("impact", incident.impact.value),
        ("regulator", incident.regulator_category.value),
        ("Aboriginal client", "yes" if incident.aboriginal else "no"),
        ("follow-up", incident.follow_up.value if incident.follow_up else "—"),
        ("became aware", _melbourne(incident.details.became_aware_at)),
        ("policy", incident.policy_version),
    ]:
        facts.add_row(label, value)
    console.print(facts)
    table = Table("obligation", "due (Melbourne)", "status", "met at", "recorded at", "note")
    for o in obligations:
        table.add_row(
            o.kind,
            _melbourne(o.due) if o.due else "—",
            o.status.value,
            _melbourne(o.met_at) if o.met_at else "—",
            # Both instants of a backdated step, flagged, so backdating shows here too.
            (_melbourne(o.met_recorded_at) + (" (recorded late)" if o.recorded_late else ""))
            if o.met_recorded_at
            else "—",
            o.note or "",
        )
    console.print(table)


def _melbourne(moment: datetime) -> str:
    return moment.astimezone(MELBOURNE).strftime("%a %d %b %Y %H:%M")
