"""The `cims` command line: serve the API, demo data, incidents, read models and replay.

Every command names its store on stderr first; results go to stdout (tables, or JSON with
`--json`), progress and errors to stderr; an error is one line and a non-zero exit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from api.auth import mint_token
from cli import (
    backup,
    documents,
    import_legacy,
    incidents,
    patterns,
    projections,
    reminders,
    replay,
)
from cli.fairness import fairness
from cli.group import CimsGroup
from cli.output import CliError, note
from cli.settings import open_ledger, settings, store
from cli.store import describe
from cli.tls import tls_files
from demo.dataset import seed_demo
from domain.values import Role
from ledger.persistence import is_postgres
from projections.db import Db

app = typer.Typer(
    cls=CimsGroup,
    help="CIMS Ledger: Victoria's Client Incident Management System, event-sourced.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(incidents.app, name="incidents")
app.add_typer(documents.app, name="documents")
app.add_typer(projections.app, name="projections")
app.add_typer(replay.app, name="replay")
app.add_typer(import_legacy.app, name="import")
app.add_typer(patterns.app, name="patterns")
app.add_typer(reminders.app, name="reminders")
app.command("fairness")(fairness)
app.command("backup")(backup.backup)
app.command("restore")(backup.restore)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn workers (PostgreSQL only)", min=1)] = 1,
    demo_data: Annotated[bool, typer.Option("--demo", help="write demo data if empty")] = False,
    ssl_certfile: Annotated[
        Path | None, typer.Option(help="PEM certificate (chain) to serve https")
    ] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option(help="its PEM private key")] = None,
    proxy_headers: Annotated[
        bool, typer.Option(help="believe X-Forwarded-* from trusted proxies")
    ] = True,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            help="trusted proxies: addresses, networks or *",
            envvar="FORWARDED_ALLOW_IPS",  # uvicorn's own variable, as before this option
        ),
    ] = "127.0.0.1,::1",
) -> None:
    """Serve the HTTP API (OpenAPI at /docs); creates the store (or its schema) if missing.

    https: --ssl-certfile and --ssl-keyfile, or a TLS proxy named in --forwarded-allow-ips.
    """
    certfile, keyfile = tls_files(ssl_certfile, ssl_keyfile)
    url = store(create=True)
    if workers > 1 and not is_postgres(url):
        note("the embedded SQLite store is one process: using 1 worker")
        workers = 1
    if demo_data:
        with open_ledger(url) as ledger:
            if next(ledger.incident_ids(), None) is None:
                written = seed_demo(ledger, now=datetime.now(UTC))
                note(f"demo: {written} incidents written")
    scheme = "https" if certfile else "http"
    note(f"CIMS Ledger on {scheme}://{host}:{port} (docs at /docs)")
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
    )


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="the user's id")],
    role: Annotated[Role, typer.Option(help="the user's role")],
    org: Annotated[str, typer.Option(help="the user's organisation")],
    ttl: Annotated[int, typer.Option(help="minutes the token is valid", min=1)] = 480,
) -> None:
    """Mint a development token signed with the configured (or generated) secret."""
    config = settings()
    note(f"store: {describe(config.database_url)}")
    if config.jwt_secret:
        note("signing with CIMS_JWT_SECRET")
    else:
        kept = config.secret_file().absolute()
        fresh = "" if kept.exists() else " (new: only a server started beside it accepts it)"
        note(f"signing with the development secret in {kept}{fresh}")
    print(mint_token(config, sub=sub, role=role, org=org, ttl=timedelta(minutes=ttl)))


@app.command()
def demo() -> None:
    """Write the synthetic demo data set (idempotent); creates the store if missing.

    Incidents already there are kept; a missing SQLite file or PostgreSQL schema is created.
    """
    url = store(create=True)
    db = Db(url)
    try:
        unsafe = db.unsafe_durability()
    finally:
        db.close()
    if unsafe:  # as the API: nothing is written where a crash could take it back
        raise CliError(f"refusing to write: PostgreSQL has {', '.join(unsafe)}")
    with open_ledger(url) as ledger:
        written = seed_demo(ledger, now=datetime.now(UTC))
    note(f"demo: {written} incident(s) written")
