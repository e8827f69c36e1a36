"""`cims projections`: run, rebuild, inspect and verify the read models; push regulator feeds."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from cli.settings import database_url, feed_secret, open_ledger, settings
from projections.db import Db
from projections.service import ReadModels
from projections.webhooks import WebhookPusher
from replay.auditor import Auditor

app = typer.Typer(
    help="Read models: follow the log, rebuild, status, verify.", no_args_is_help=True
)
console = Console()


def open_read_models() -> ReadModels:
    ledger = open_ledger()
    auditor = Auditor(ledger, Db(database_url()))
    every = settings().checkpoint_every
    return ReadModels(
        Db(database_url()),
        ledger,
        feed_secret=feed_secret(),
        on_caught_up=(lambda: auditor.checkpoint_if_due(every)) if every > 0 else None,
    )


@app.command()
def run(
    until_idle: Annotated[bool, typer.Option(help="stop at the head of the log")] = False,
) -> None:
    """Follow the ledger's log and keep every read model up to date."""
    models = open_read_models()
    try:
        if until_idle:
            position = models.catch_up()
            console.print(f"read models at position {position}")
            return
        console.print("following the ledger (Ctrl-C to stop)")
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
    """Drop a read model (or all) and replay it from position 0, in batches."""
    models = open_read_models()
    try:
        with Progress(
            TextColumn("rebuilding"), BarColumn(), MofNCompleteColumn(), console=console
        ) as progress:
            task = progress.add_task("rebuild", total=None)
            models.rebuild(
                name, lambda done, total: progress.update(task, completed=done, total=total)
            )
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    finally:
        models.close()
    console.print("rebuilt")


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
            r["name"],
            str(r["position"]),
            str(r["lag"]),
            r["error"] or "",
            str(r["error_position"] or ""),
        )
    console.print(table)


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
            console.print(f"[red]{name}[/red]: {line}")
    if differences:
        raise typer.Exit(1)
    console.print("every read model equals its rebuild")
