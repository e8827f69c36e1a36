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
from api.logs import configure as configure_logging
from api.preflight import UnsafeStore, require_durable_store, require_safe_settings
from api.settings import InsecureSecret, development_sign_in
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
from cli.output import BadParameter, CliError, note
from cli.settings import open_ledger, settings, store
from cli.store import describe
from cli.tls import tls_files
from demo.dataset import seed_demo
from domain.values import Role
from ledger.persistence import is_postgres
from projections.db import Db
from projections.regulator_feed import REGULATORS

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

    Refuses to start (one line naming the setting, exit 2) before anything is served: with a
    missing, development or short secret on PostgreSQL, with no token configuration there
    (`CIMS_JWT_SECRET`, `CIMS_JWKS_URL` or `CIMS_OIDC_ISSUER`), or when PostgreSQL could lose
    an acknowledged command. Logs are JSON lines on stderr (`CIMS_LOG_FORMAT`).
    """
    certfile, keyfile = tls_files(ssl_certfile, ssl_keyfile)
    config = settings()
    try:
        require_safe_settings(config)
    except InsecureSecret as exc:
        raise CliError(str(exc), exit_code=2) from None
    url = store(create=True)
    try:
        require_durable_store(url)
    except UnsafeStore as exc:
        raise CliError(str(exc), exit_code=2) from None
    if workers > 1 and not is_postgres(url):
        note("the embedded SQLite store is one process: using 1 worker")
        workers = 1
    if demo_data:
        with open_ledger(url) as ledger:
            if next(ledger.incident_ids(), None) is None:
                written = seed_demo(ledger, now=datetime.now(UTC))
                note(f"demo: {written} incidents written")
    if development_sign_in(config):
        note(
            "development sign-in is on: anyone who reaches this server may mint a token for"
            " any role (POST /v1/dev/token); " + DEV_SIGN_IN_WHY[config.dev_sign_in is True]
        )
    scheme = "https" if certfile else "http"
    note(f"CIMS Ledger on {scheme}://{host}:{port} (docs at /docs)")
    configure_logging(config.log_format, config.log_level)
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,  # configured above, and by each worker's `create_app`
        access_log=False,  # the app writes its own request lines (api/logs.py)
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
    )


DEV_SIGN_IN_WHY = {
    True: "CIMS_DEV_SIGN_IN=true",
    False: "the embedded store with no token configuration (CIMS_DEV_SIGN_IN=false turns it off)",
}


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="the user's id")],
    role: Annotated[Role, typer.Option(help="the user's role")],
    org: Annotated[
        str,
        typer.Option(
            help="the user's organisation; a regulator's is its feed's name: "
            + " or ".join(REGULATORS)
        ),
    ],
    ttl: Annotated[int, typer.Option(help="minutes the token is valid", min=1)] = 480,
) -> None:
    """Mint a development token signed with the configured (or generated) secret.

    A regulator (`--role regulator`) reads its own feed: its organisation
    is `ssr` (the Social Services Regulator) or `ccyp` (the Commission for
    Children and Young People). A token may live at most
    CIMS_JWT_MAX_LIFETIME_SECONDS (12 hours by default)."""
    config = settings()
    longest = config.jwt_max_lifetime_seconds
    if ttl * 60 > longest:
        raise BadParameter(
            "--ttl",
            f"{ttl} minutes is longer than a token may live: at most {longest // 60} minutes"
            " (CIMS_JWT_MAX_LIFETIME_SECONDS)",
        )
    if role == Role.REGULATOR and org.lower() not in REGULATORS:
        note(
            f"note: a regulator's organisation names its feed ({' or '.join(REGULATORS)});"
            f" with {org!r} this token reads no feed"
        )
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
