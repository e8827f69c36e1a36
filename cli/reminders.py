"""`cims reminders`: the worker that emails what is due soon and overdue, and its status."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Annotated, Any

import typer
from rich.table import Table

from api.settings import ReminderSettings as ReminderConfig
from api.vocabulary import ENUMS
from cli.output import CliError, note, out, print_json
from cli.projections import open_read_models
from cli.settings import store
from domain.policy_table import MELBOURNE
from projections.db import Db
from projections.reminder_delivery import (
    Reminders,
    ReminderSettings,
    SmtpSettings,
    reminders_lag,
    run_once,
    smtp_sender,
)

app = typer.Typer(help="Reminders by email: the worker and its status.", no_args_is_help=True)
# Past this many log positions behind, the reminders read model is too stale to judge from.
STATUS_LAG_LIMIT = 1000


def describe(kind: str) -> str:
    """An obligation in the policy's words (the API vocabulary's description)."""
    return ENUMS["ObligationKind"].get(kind, kind.replace("_", " "))


def _config() -> ReminderConfig:
    return ReminderConfig()


def _reminder_settings(config: ReminderConfig) -> ReminderSettings:
    return ReminderSettings(
        lead_business_days=config.reminder_lead_business_days,
        digest_at=config.reminder_digest_time,
        public_url=config.public_url,
        lease_seconds=config.reminder_lease_seconds,
        first_retry_seconds=config.reminder_retry_first_seconds,
        max_retry_seconds=config.reminder_retry_max_seconds,
    )


def _sender(config: ReminderConfig) -> Callable[[EmailMessage], None]:
    if not config.smtp_host:
        raise CliError("refusing to start: CIMS_SMTP_HOST is not set", exit_code=2)
    if config.smtp_username and not config.smtp_password:
        raise CliError(
            "refusing to start: CIMS_SMTP_USERNAME is set without CIMS_SMTP_PASSWORD", exit_code=2
        )
    return smtp_sender(
        SmtpSettings(
            host=config.smtp_host,
            port=config.smtp_port,
            username=config.smtp_username,
            password=config.smtp_password,
            starttls=config.smtp_starttls,
            sender=config.smtp_from,
            timeout=config.smtp_timeout_seconds,
            ca_file=config.smtp_ca_file,
        )
    )


def _line(event: str, **fields: Any) -> None:
    """One JSON line on stderr per round that did something, and per failure."""
    note(json.dumps({"event": event, "at": datetime.now(UTC).isoformat(), **fields}))


@app.command()
def run(
    once: Annotated[bool, typer.Option(help="one round, then stop")] = False,
) -> None:
    """Email what is owed, for as long as it runs (the `reminders` service): each round queues
    the due-soon and overdue notices and the 07:30 business-day digest owed now (once each, however
    many workers run) and sends what is due to go, retrying with backoff while the SMTP server
    is unreachable. Needs CIMS_SMTP_HOST; the read models must be followed by another process
    (`cims serve` or `cims projections run`)."""
    config = _config()
    send = _sender(config)
    models = open_read_models()
    reminders = Reminders(models.db, _reminder_settings(config))
    try:
        while True:
            try:
                cycle = run_once(
                    models, reminders, send, clock=lambda: datetime.now(UTC), describe=describe
                )
            except Exception as exc:  # the store may be down: say so, try again next round
                _line("reminders.round-failed", error=f"{type(exc).__name__}: {exc}")
            else:
                if cycle.queued or cycle.sent or cycle.failed or cycle.retrying or cycle.cancelled:
                    _line("reminders.round", **vars(cycle))
                if cycle.retrying or cycle.failed:
                    _line("reminders.delivery-failed", **reminders.status())
            if once:
                return
            time.sleep(config.reminder_poll_seconds)
    except KeyboardInterrupt:
        return
    finally:
        models.close()


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The outbox (pending, sent, failed for good, cancelled; pending ones that are retrying;
    the oldest pending notice and the latest error), the subscriptions in force and how far the
    reminders read model is behind the log. Exits 1 while deliveries are failing and being
    retried, or when the read model is more than 1,000 events behind (a health check), else 0;
    a notice refused for good (a bad address) is counted and logged, not a health failure."""
    url = store()
    db = Db(url)
    try:
        found = Reminders(db).status()
    finally:
        db.close()
    models = open_read_models()
    try:
        found["read_model_lag"] = reminders_lag(models)
    finally:
        models.close()
    if as_json:
        print_json(found)
    else:
        table = Table("", "", show_header=False, box=None)
        labels = {
            "subscriptions": "Subscriptions in force",
            "pending": "Waiting to be sent",
            "retrying": "… of which failing and retrying",
            "sent": "Sent",
            "failed": "Refused for good",
            "cancelled": "Cancelled (met or extended first)",
            "oldest_pending_queued_at": "Oldest waiting since",
            "last_error": "Latest error",
            "read_model_lag": "Read model behind the log by (events)",
        }
        for key, label in labels.items():
            value = found[key]
            if key == "oldest_pending_queued_at" and value:
                value = (
                    datetime.fromisoformat(value)
                    .astimezone(MELBOURNE)
                    .strftime("%d/%m/%Y %H:%M Melbourne")
                )
            table.add_row(label, "—" if value is None else str(value))
        out.print(table)
    if found["retrying"] > 0 or found["read_model_lag"] > STATUS_LAG_LIMIT:
        raise typer.Exit(1)
