"""`cims projections`: run, rebuild, inspect and verify the read models; push regulator feeds."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from api.logs import configure as configure_logging
from api.settings import SERVICE_SECRETS, InsecureSecret, require_secrets, secret_bytes
from cli.output import (
    AsJson,
    BadParameter,
    CliError,
    literal,
    melbourne_iso,
    note,
    out,
    print_json,
    progress,
)
from cli.settings import feed_secret, open_ledger, settings, store
from projections.db import Db, parse_ts
from projections.regulator_feed import REGULATORS
from projections.regulator_feed import name as REGULATOR_FEED
from projections.runner import RebuildOvertaken, RebuildRefused
from projections.service import ReadModels
from projections.webhooks import (
    MovedTarget,
    UnsafeTarget,
    WebhookPusher,
    deliveries,
    move,
    require_feed,
    require_safe_url,
)
from replay.auditor import Auditor
from replay.witness import witness_from

app = typer.Typer(
    help="Read models: follow the log, rebuild, status, verify.", no_args_is_help=True
)
console = Console()


def open_read_models(only: list[str] | None = None, *, create: bool = False) -> ReadModels:
    """The read models over the configured store (named on stderr; with `create`, the store or
    its schema is created when missing, as the worker needs on a fresh database); `only`
    names the read models this process follows (all when `None`)."""
    url = store(create=create)
    ledger = open_ledger(url)
    auditor = Auditor(ledger, Db(url))
    config = settings()
    try:
        witness = witness_from(
            config.checkpoint_key.encode(),
            config.checkpoint_witness_file,
            config.checkpoint_witness_url,
        )
    except UnsafeTarget as exc:
        raise CliError(f"CIMS_CHECKPOINT_WITNESS_URL: {exc}", exit_code=2) from None
    return ReadModels(
        Db(url),
        ledger,
        feed_secret=feed_secret(),
        on_caught_up=auditor.checkpoints_when_caught_up(
            config.checkpoint_every,
            every_seconds=config.checkpoint_every_seconds,
            witness=witness,
        ),
        only=only,
    )


def refuse_known_secrets() -> None:
    """Outside development, stop (exit 2) unless the service secrets are set and strong."""
    try:
        require_secrets(settings(), *SERVICE_SECRETS)
    except InsecureSecret as exc:
        raise CliError(str(exc), exit_code=2) from None


@app.command()
def run(
    until_idle: Annotated[bool, typer.Option(help="stop at the head of the log")] = False,
    only: Annotated[
        str | None,
        typer.Option(help="follow only these read models (comma-separated): one worker each"),
    ] = None,
) -> None:
    """Follow the ledger's log and keep every read model (or those named by --only) up to date
    (the worker).

    Creates the store (or its PostgreSQL schema) if missing; outside development, refuses to
    start without strong secrets. Several workers may run on one PostgreSQL, each with its own
    --only set (or overlapping: a batch is applied under its read model's tracking-row lock, so
    never twice). An unknown name exits 2 naming the read models.
    """
    refuse_known_secrets()
    configure_logging(settings().log_format, settings().log_level)
    try:
        models = open_read_models(
            None if only is None else [n.strip() for n in only.split(",") if n.strip()],
            create=True,
        )
    except ValueError as exc:
        raise BadParameter("--only", str(exc)) from None
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
    regulator: Annotated[str, typer.Argument(help=f"the feed: {', '.join(REGULATORS)}")],
    url: Annotated[str, typer.Option(help="the regulator's webhook (https)")],
    secret: Annotated[
        str | None,
        typer.Option(
            envvar="CIMS_WEBHOOK_SECRET",
            help="Standard Webhooks key agreed with the receiver: whsec_ + base64 [required]",
        ),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", help="keep pushing; retry with exponential backoff")
    ] = False,
    allow_http_loopback: Annotated[
        bool,
        typer.Option("--allow-http-loopback", help="allow http:// to 127.0.0.1/::1/localhost"),
    ] = False,
) -> None:
    """Send a regulator's feed to its webhook from where the last delivery stopped.

    The regulator's cursor is one, whatever the URL: a URL other than the one its feed is
    delivered to is refused (exit 2) until `cims projections move-webhook` moves it. Exit 0
    when everything is delivered, 1 when the receiver refused (or redirected), 2 for a feed,
    URL or secret it will not use. With --follow it runs until stopped, logging each delivery
    and failure (JSON lines on stderr); `cims projections status` shows the failures."""
    try:
        require_feed(regulator)
        require_safe_url(url, allow_http_loopback=allow_http_loopback)
        if secret is None:  # checked after the feed and URL, so a mistake there is named first
            raise InsecureSecret("no webhook key: give --secret or set CIMS_WEBHOOK_SECRET")
        key = secret_bytes(secret)
        require_secrets(settings(), *SERVICE_SECRETS)
        require_secrets(settings().model_copy(update={"webhook_secret": secret}), "webhook_secret")
    except (UnsafeTarget, InsecureSecret) as exc:
        raise CliError(str(exc), exit_code=2) from None
    configure_logging(settings().log_format, settings().log_level)
    # The pusher keeps the feed it sends up to date, and leaves the rest to the workers.
    models = open_read_models(only=[REGULATOR_FEED])
    try:
        try:
            pusher = WebhookPusher(
                models, regulator, url, key, allow_http_loopback=allow_http_loopback
            )
        except MovedTarget as exc:
            raise CliError(str(exc), exit_code=2) from None
        if follow:
            console.print(f"pushing the {regulator} feed to {url} (Ctrl-C to stop)")
            pusher.follow(catch_up=models.catch_up)
            return
        models.catch_up()
        sent = pusher.push()
        delivery = pusher.delivery()
        console.print(f"{sent} items accepted; delivered up to cursor {delivery['cursor']}")
        if delivery["last_error"]:
            raise CliError(f"stopped: {delivery['last_error']}")
    except KeyboardInterrupt:
        pass
    finally:
        models.close()


@app.command()
def rebuild(
    name: Annotated[str | None, typer.Argument(help="one read model")] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=2,
            help="2: replay the read models in two processes at once (for two or more cores)",
        ),
    ] = 1,
) -> None:
    """Drop a read model (or all) and replay it from position 0, in batches.

    Progress on stderr, counted in log positions (with --workers 2, the first process's).
    Safe beside running followers (`cims serve`, `cims projections run`): while the rebuild
    holds a read model they leave it alone, and go on from where it ends. Exit 1, in one line,
    when another rebuild holds one of them.
    """
    models = open_read_models()
    try:
        known = [m.name for m in models.runner.models]
        if name is not None and name not in known:
            raise BadParameter("NAME", f"no read model {name!r}; one of: {', '.join(known)}")
        with progress("rebuilding", "log positions") as bar:
            task = bar.add_task("rebuild", total=None)
            models.rebuild(
                name,
                lambda done, total: bar.update(task, completed=done, total=total),
                workers=workers,
            )
    except (RebuildRefused, RebuildOvertaken) as exc:
        raise CliError(str(exc)) from None
    finally:
        models.close()
    note("rebuilt")


@app.command("move-webhook")
def move_webhook(
    regulator: Annotated[str, typer.Argument(help=f"the feed: {', '.join(REGULATORS)}")],
    url: Annotated[str, typer.Option(help="the regulator's new webhook (https)")],
    allow_http_loopback: Annotated[
        bool,
        typer.Option("--allow-http-loopback", help="allow http:// to 127.0.0.1/::1/localhost"),
    ] = False,
) -> None:
    """Deliver a regulator's feed to a new webhook URL from where delivery stopped.

    The regulator's cursor is kept: the new URL receives only what the old one had not
    accepted. Run it, then start the pusher with the new URL."""
    try:
        require_feed(regulator)
        require_safe_url(url, allow_http_loopback=allow_http_loopback)
    except UnsafeTarget as exc:
        raise CliError(str(exc), exit_code=2) from None
    db = Db(store())
    try:
        cursor = move(db, regulator, url, allow_http_loopback=allow_http_loopback)
    finally:
        db.close()
    note(f"the {regulator} feed now goes to {url}, from after cursor {cursor}")


@app.command()
def status(as_json: AsJson = False) -> None:
    """Position, lag and last error of each read model, and each regulator's webhook delivery.

    Exit 1 (the compose health check) when a read model has stopped on an event it cannot
    apply, or an event has waited for one longer than CIMS_READY_MAX_LAG_SECONDS; each reason
    is a line on stderr naming the read model, its position and the error."""
    allowed = settings().ready_max_lag_seconds
    models = open_read_models()
    try:
        health = models.health(allowed)
        sent = deliveries(models.db)
    finally:
        models.close()
    if as_json:
        print_json({**health, "max_lag_seconds_allowed": allowed, "webhooks": sent})
    else:
        _status_tables(health["read_models"], sent)
    for problem in health["problems"]:
        note(f"not ready: {problem}")
    if not health["ready"]:
        raise typer.Exit(1)


def _status_tables(rows: list[dict[str, Any]], sent: list[dict[str, Any]]) -> None:
    table = Table("read model", "position", "lag", "waited (s)", "error")
    for r in rows:
        error = f"at {r['error_position']}: {r['error']}" if r["error"] else ""
        table.add_row(
            literal(r["name"]),
            literal(r["position"]),
            literal(r["lag"]),
            literal(f"{r['lag_seconds']:.0f}"),
            literal(error),
        )
    out.print(table)
    if not sent:
        return
    hooks = Table("feed", "webhook", "cursor", "failing", "failures", "last error")
    for d in sent:
        last = ""
        if d["last_error"]:
            last = f"{d['last_error']} ({melbourne_iso(parse_ts(d['last_failure_at']))})"
        hooks.add_row(
            literal(d["regulator"]),
            literal(d["url"]),
            literal(d["cursor"]),
            literal(d["failures"]),
            literal(d["failures_total"]),
            literal(last),
        )
    out.print(hooks)


@app.command()
def verify(as_json: AsJson = False) -> None:
    """Rebuild into scratch tables and compare with the live ones; exit 1 on any difference."""
    models = open_read_models()
    try:
        differences = models.verify()
    finally:
        models.close()
    if as_json:
        print_json({"equal": not differences, "differences": differences})
    else:
        for name, found in differences.items():
            for line in found:
                out.print(literal(f"{name}: {line}"), soft_wrap=True)
    if differences:
        raise typer.Exit(1)
    note("every read model equals its rebuild")
