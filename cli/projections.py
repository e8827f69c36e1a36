"""`cims projections`: run, rebuild, inspect and verify the read models; push regulator feeds."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from cli.output import BadParameter, err, literal, note, out
from cli.settings import feed_secret, open_ledger, settings, store
from projections.db import Db
from projections.service import ReadModels
from projections.webhooks import WebhookPusher
from replay.auditor import Auditor

app = typer.Typer(
    help="Read models: follow the log, rebuild, status, verify.", no_args_is_help=True
)
console = Console()


def open_read_models(*, create: bool = False) -> ReadModels:
    """The read models over the configured store (named on stderr; with `create`, the store or
    its schema is created when missing, as the worker needs on a fresh database)."""
    url = store(create=create)
    ledger = open_ledger(url)
    auditor = Auditor(ledger, Db(url))
    every = settings().checkpoint_every
    return ReadModels(
        Db(url),
        ledger,
        feed_secret=feed_secret(),
        on_caught_up=(lambda: auditor.checkpoint_if_due(every)) if every > 0 else None,
    )


@app.command()
def run(
    until_idle: Annotated[bool, typer.Option(help="stop at the head of the log")] = False,
) -> None:
    """Follow the ledger's log and keep every read model up to date (the worker).

    Creates the store (or its PostgreSQL schema) if missing.
    """
    models = open_read_models(create=True)
    try:
        if until_idle:
            position = models.catch_up()
            note(f"read models at position {position}")
            return
        note("following the ledger (Ctrl-C to stop)")
        models.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        models.close()


@app.command()
def push(
    regulator: Annotated[str, typer.Argument(help="ssr or ccyp")],
    url: Annotated[str, typer.Option(help="the regulator's webhook")],
    secret: Annotated[
        str, typer.Option(envvar="CIMS_WEBHOOK_SECRET", help="HMAC key agreed with the receiver")
    ],
) -> None:
    """Send a regulator's feed to its webhook from where the last delivery stopped."""
    models = open_read_models()
    try:
        models.catch_up()
        pusher = WebhookPusher(models, regulator, url, secret.encode())
        sent = pusher.push()
        delivery = pusher.delivery()
        console.print(f"{sent} items accepted; delivered up to cursor {delivery['cursor']}")
        if delivery["last_error"]:
            console.print(f"[red]stopped: {delivery['last_error']}[/red]")
            raise typer.Exit(1)
    finally:
        models.close()


@app.command()
def rebuild(name: Annotated[str | None, typer.Argument(help="one read model")] = None) -> None:
    """Drop a read model (or all) and replay it from position 0, in batches.

    Progress on stderr, counted in log positions.
    """
    models = open_read_models()
    try:
        known = [m.name for m in models.runner.models]
        if name is not None and name not in known:
            raise BadParameter("NAME", f"no read model {name!r}; one of: {', '.join(known)}")
        with Progress(
            TextColumn("rebuilding"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("log positions"),
            console=err,
        ) as progress:
            task = progress.add_task("rebuild", total=None)
            models.rebuild(
                name, lambda done, total: progress.update(task, completed=done, total=total)
            )
    finally:
        models.close()
    note("rebuilt")


@app.command()
def status() -> None:
    """Position, lag and last error of each read model."""
    models = open_read_models()
    try:
        rows = models.status()
    finally:
        models.close()
    table = Table("read model", "position", "lag", "error", "error at")
    for r in rows:
        table.add_row(
            literal(r["name"]),
            literal(r["position"]),
            literal(r["lag"]),
            literal(r["error"] or ""),
            literal(r["error_position"] or ""),
        )
    out.print(table)


@app.command()
def verify() -> None:
    """Rebuild into scratch tables and compare with the live ones; exit 1 on any difference."""
    models = open_read_models()
    try:
        differences = models.verify()
    finally:
        models.close()
    for name, found in differences.items():
        for line in found:
            out.print(literal(f"{name}: {line}"), soft_wrap=True)
    if differences:
        raise typer.Exit(1)
    note("every read model equals its rebuild")
