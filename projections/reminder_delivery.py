"""Reminder subscriptions, the outbox of notices owed, and their delivery by email.

- Subscriptions are an append-only log (`rm_reminder_subscription_log`): each subscribing and
  each ending is a row with who did it and when; the subscriptions in force are folded from it.
- The scheduler (`schedule`) asks `domain.reminders` which notices are owed now, from the
  reminders read model and the clock, and inserts each into the outbox under its key. The key is
  the table's primary key, so however many workers run and however often they restart, a notice
  is queued once.
- The sender (`deliver`) claims pending notices one at a time under a lease (an `UPDATE` that
  only one worker can win), checks that each is still owed (met, withdrawn or extended since:
  cancelled, not sent), sends it over SMTP and records it sent in its own transaction. A worker
  killed before the server accepted a message leaves it pending; its lease lapses and it is sent
  again. The one window left is a kill between the server's acceptance and that commit: the
  message then goes twice, with the same `Message-ID` (derived from the key), which mail
  systems use to drop repeats.
- Failures: a refused connection, a temporary (4xx) answer, or a refusal of the ledger itself
  (its login, its sender address, TLS) retries with exponential backoff and jitter, for as long
  as it takes; a permanent (5xx) refusal of the address or the message marks the notice failed.
  Both are counted in `status()`.
"""

from __future__ import annotations

import hashlib
import random
import smtplib
import ssl
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import orjson

from domain.calendar import business_days_after
from domain.policy_table import MELBOURNE, policy_at
from domain.reminders import (
    Notice,
    OwedObligation,
    Scope,
    Subscription,
    Threshold,
    digests_owed,
    end_of_week,
    notices_owed,
    when_due,
)
from projections import reminders as reminders_model
from projections.base import serial_key
from projections.db import Db, Tx, parse_ts, ts
from projections.service import ReadModels

PENDING, SENT, FAILED, CANCELLED = "pending", "sent", "failed", "cancelled"


def tables(tx: Tx) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS rm_reminder_subscription_log (
            seq {serial_key(tx)}, subscription_id TEXT NOT NULL, action TEXT NOT NULL,
            email TEXT NOT NULL, organisation TEXT NOT NULL, subject TEXT NOT NULL,
            scope TEXT NOT NULL, actor_id TEXT NOT NULL, actor_role TEXT NOT NULL,
            actor_organisation TEXT NOT NULL, at TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS rm_reminder_outbox (
            key TEXT PRIMARY KEY, subscription_id TEXT NOT NULL, email TEXT NOT NULL,
            organisation TEXT NOT NULL, subject_of TEXT NOT NULL, threshold TEXT NOT NULL,
            items TEXT NOT NULL, queued_at TEXT NOT NULL, status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT NOT NULL,
            claimed_until TEXT, last_error TEXT, sent_at TEXT, message_subject TEXT)""",
        "CREATE INDEX IF NOT EXISTS rm_reminder_outbox_pending"
        " ON rm_reminder_outbox (status, next_attempt_at)",
        "CREATE INDEX IF NOT EXISTS rm_reminder_outbox_person"
        " ON rm_reminder_outbox (organisation, subject_of, queued_at)",
    ]


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how notices are sent."""

    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    sender: str = "cims-reminders@localhost"
    timeout: float = 10.0
    ca_file: str | None = None  # trust this CA (a private relay's) instead of the system's


@dataclass(frozen=True)
class ReminderSettings:
    """When notices are owed and how they are retried."""

    lead_business_days: int = 1
    digest_at: time = time(7, 30)
    public_url: str = "http://127.0.0.1:8000"
    lease_seconds: float = 60.0
    first_retry_seconds: float = 30.0
    max_retry_seconds: float = 3600.0
    batch: int = 50


class SubscriptionNotFound(LookupError):
    """No subscription in force with that id that the caller may end."""


class Reminders:
    """Subscriptions and the outbox, in the ledger's own database beside the read models."""

    def __init__(self, db: Db, settings: ReminderSettings | None = None) -> None:
        self.db = db
        self.settings = settings or ReminderSettings()
        with db.transaction() as tx:
            for statement in tables(tx):
                tx.execute(statement)

    # ---- subscriptions ---------------------------------------------------------------------

    def subscribe(
        self,
        *,
        email: str,
        organisation: str,
        subject: str,
        scope: Scope,
        actor: tuple[str, str, str],
        now: datetime,
    ) -> str:
        """Record a subscription (its id is returned) made by `actor` (id, role, organisation)."""
        subscription_id = str(uuid.uuid4())
        self._log(subscription_id, "subscribed", email, organisation, subject, scope, actor, now)
        return subscription_id

    def end(
        self,
        subscription_id: str,
        *,
        actor: tuple[str, str, str],
        may_end: Callable[[Subscription], bool],
        now: datetime,
    ) -> Subscription:
        """Record the end of a subscription in force that `may_end` allows the actor to end, and
        give it; `SubscriptionNotFound` otherwise (another organisation's is as unknown as a
        missing one)."""
        found = {s.id: s for s in self.subscriptions()}.get(subscription_id)
        if found is None or not may_end(found):
            raise SubscriptionNotFound(subscription_id)
        self._log(
            found.id,
            "ended",
            found.email,
            found.organisation,
            found.subject,
            found.scope,
            actor,
            now,
        )
        return found

    def _log(
        self,
        subscription_id: str,
        action: str,
        email: str,
        organisation: str,
        subject: str,
        scope: Scope,
        actor: tuple[str, str, str],
        now: datetime,
    ) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO rm_reminder_subscription_log (subscription_id, action, email,"
                " organisation, subject, scope, actor_id, actor_role, actor_organisation, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    subscription_id,
                    action,
                    email,
                    organisation,
                    subject,
                    scope.value,
                    *actor,
                    ts(now),
                ],
            )

    def subscriptions(self, organisation: str | None = None) -> list[Subscription]:
        """The subscriptions in force (of one organisation, when named), oldest first."""
        with self.db.transaction(write=False) as tx:
            rows = tx.execute(
                "SELECT subscription_id, action, email, organisation, subject, scope, at"
                " FROM rm_reminder_subscription_log ORDER BY seq"
            )
        live: dict[str, Subscription] = {}
        for sid, action, email, org, subject, scope, at in rows:
            if action == "ended":
                live.pop(sid, None)
            else:
                since = parse_ts(at)
                assert since is not None
                live[sid] = Subscription(sid, email, org, subject, Scope(scope), since)
        return [s for s in live.values() if organisation is None or s.organisation == organisation]

    def subscription_log(self, organisation: str) -> list[dict[str, Any]]:
        """Every subscribing and ending of an organisation's subscriptions: who, when, what."""
        with self.db.transaction(write=False) as tx:
            rows = tx.execute(
                "SELECT subscription_id, action, email, subject, scope, actor_id, actor_role,"
                " actor_organisation, at FROM rm_reminder_subscription_log"
                " WHERE organisation = ? ORDER BY seq",
                [organisation],
            )
        names = (
            "subscription_id",
            "action",
            "email",
            "subject",
            "scope",
            "actor_id",
            "actor_role",
            "actor_organisation",
            "at",
        )
        return [dict(zip(names, row, strict=True)) for row in rows]

    # ---- scheduling --------------------------------------------------------------------------

    def schedule(self, *, now: datetime) -> int:
        """Queue every notice owed now, as the reminders read model stands; how many were new.
        The caller makes sure the read model has caught up with the log first (`run_once`)."""
        subscriptions = self.subscriptions()
        if not subscriptions:
            return 0
        cob = policy_at(now).close_of_business
        horizon = max(
            business_days_after(now, self.settings.lead_business_days, cob),
            end_of_week(now.astimezone(MELBOURNE).date()),
        )
        with self.db.transaction(write=False) as tx:
            owed = reminders_model.owed_by(tx, until=horizon)
        notices = notices_owed(
            subscriptions,
            owed,
            now=now,
            lead_business_days=self.settings.lead_business_days,
            cob=cob,
        ) + digests_owed(subscriptions, owed, now=now, at=self.settings.digest_at)
        return self._queue(notices, now=now)

    def _queue(self, notices: Iterable[Notice], *, now: datetime) -> int:
        rows = [
            (
                n.key,
                n.subscription.id,
                n.subscription.email,
                n.subscription.organisation,
                n.subscription.subject,
                n.threshold.value,
                orjson.dumps([_item(o) for o in n.obligations]).decode(),
                ts(now),
                PENDING,
                ts(now),
            )
            for n in notices
        ]
        if not rows:
            return 0
        new = 0
        with self.db.transaction() as tx:
            conflict = "ON CONFLICT (key) DO NOTHING"
            for row in rows:
                inserted = tx.execute(
                    "INSERT INTO rm_reminder_outbox (key, subscription_id, email, organisation,"
                    " subject_of, threshold, items, queued_at, status, next_attempt_at)"
                    f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) {conflict} RETURNING key",
                    row,
                )
                new += len(inserted)
        return new

    # ---- delivery ----------------------------------------------------------------------------

    def deliver(
        self,
        send: Callable[[EmailMessage], None],
        *,
        now: Callable[[], datetime],
        describe: Callable[[str], str],
        limit: int | None = None,
    ) -> dict[str, int]:
        """Send pending notices whose time has come, one claimed at a time; counts by outcome."""
        counts = {SENT: 0, FAILED: 0, CANCELLED: 0, "retrying": 0}
        for _ in range(limit or self.settings.batch):
            claimed = self._claim(now())
            if claimed is None:
                break
            outcome = self._deliver_one(claimed, send, now=now, describe=describe)
            counts[outcome] += 1
        return counts

    def _claim(self, now: datetime) -> dict[str, Any] | None:
        lease = ts(now + timedelta(seconds=self.settings.lease_seconds))
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT key FROM rm_reminder_outbox WHERE status = ? AND next_attempt_at <= ?"
                " AND (claimed_until IS NULL OR claimed_until < ?)"
                " ORDER BY next_attempt_at, key LIMIT 1"
                + (" FOR UPDATE SKIP LOCKED" if tx.postgres else ""),
                [PENDING, ts(now), ts(now)],
            )
            if not rows:
                return None
            (key,) = rows[0]
            tx.execute(
                "UPDATE rm_reminder_outbox SET claimed_until = ? WHERE key = ?", [lease, key]
            )
            (row,) = tx.execute(
                "SELECT key, email, threshold, items, attempts FROM rm_reminder_outbox"
                " WHERE key = ?",
                [key],
            )
        return dict(zip(("key", "email", "threshold", "items", "attempts"), row, strict=True))

    def _deliver_one(
        self,
        claimed: dict[str, Any],
        send: Callable[[EmailMessage], None],
        *,
        now: Callable[[], datetime],
        describe: Callable[[str], str],
    ) -> str:
        threshold = Threshold(claimed["threshold"])
        items = [_owed(i) for i in orjson.loads(claimed["items"])]
        if threshold is not Threshold.DIGEST and not self._still_owed(items[0]):
            self._settle(claimed["key"], CANCELLED, now(), error=None)
            return CANCELLED
        message = compose(
            key=claimed["key"],
            to=claimed["email"],
            threshold=threshold,
            items=items,
            now=now(),
            settings=self.settings,
            describe=describe,
        )
        try:
            send(message)
        except smtplib.SMTPRecipientsRefused as exc:
            return self._failed(claimed, exc, now(), permanent=_permanent(exc))
        except smtplib.SMTPDataError as exc:  # the message itself refused
            return self._failed(claimed, exc, now(), permanent=500 <= exc.smtp_code < 600)
        except (OSError, smtplib.SMTPException) as exc:
            # The server unreachable, or refusing us (our login, our sender, TLS): the
            # operator's to fix, and every notice waits for it rather than being lost.
            return self._failed(claimed, exc, now(), permanent=False)
        self._settle(claimed["key"], SENT, now(), error=None, subject=str(message["Subject"]))
        return SENT

    def _still_owed(self, item: OwedObligation) -> bool:
        with self.db.transaction(write=False) as tx:
            rows = tx.execute(
                "SELECT 1 FROM rm_reminder_obligations WHERE incident_id = ? AND kind = ?"
                " AND due = ?",
                [item.incident_id, item.kind, ts(item.due)],
            )
        return bool(rows)

    def _failed(
        self, claimed: dict[str, Any], exc: BaseException, at: datetime, *, permanent: bool
    ) -> str:
        error = f"{type(exc).__name__}: {exc}"[:500]
        if permanent:
            self._settle(claimed["key"], FAILED, at, error=error)
            return FAILED
        attempts = claimed["attempts"] + 1
        delay = min(
            self.settings.first_retry_seconds * 2 ** (attempts - 1),
            self.settings.max_retry_seconds,
        ) * random.uniform(0.8, 1.0)
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE rm_reminder_outbox SET attempts = ?, next_attempt_at = ?,"
                " claimed_until = NULL, last_error = ? WHERE key = ?",
                [attempts, ts(at + timedelta(seconds=delay)), error, claimed["key"]],
            )
        return "retrying"

    def _settle(
        self, key: str, status: str, at: datetime, *, error: str | None, subject: str | None = None
    ) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE rm_reminder_outbox SET status = ?, sent_at = ?, claimed_until = NULL,"
                " attempts = attempts + 1, last_error = COALESCE(?, last_error),"
                " message_subject = ? WHERE key = ?",
                [status, ts(at), error, subject, key],
            )

    # ---- reading -----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Counts by status, how many pending notices have failed at least once, the oldest
        pending notice's queue time and the latest error."""
        with self.db.transaction(write=False) as tx:
            counts: dict[str, int] = dict(
                tx.execute("SELECT status, COUNT(*) FROM rm_reminder_outbox GROUP BY status")
            )
            (retrying,) = tx.execute(
                "SELECT COUNT(*) FROM rm_reminder_outbox WHERE status = ? AND attempts > 0",
                [PENDING],
            )[0]
            (oldest,) = tx.execute(
                "SELECT MIN(queued_at) FROM rm_reminder_outbox WHERE status = ?", [PENDING]
            )[0]
            latest = tx.execute(
                "SELECT last_error, key FROM rm_reminder_outbox WHERE last_error IS NOT NULL"
                " ORDER BY next_attempt_at DESC LIMIT 1"
            )
        return {
            "pending": counts.get(PENDING, 0),
            "sent": counts.get(SENT, 0),
            "failed": counts.get(FAILED, 0),
            "cancelled": counts.get(CANCELLED, 0),
            "retrying": retrying,
            "oldest_pending_queued_at": oldest,
            "last_error": latest[0][0] if latest else None,
            "subscriptions": len(self.subscriptions()),
        }

    def sent_to(self, organisation: str, subject: str, *, limit: int = 100) -> list[dict[str, Any]]:
        """The notices queued for one person (newest first): what, when, and how each went."""
        with self.db.transaction(write=False) as tx:
            rows = tx.execute(
                "SELECT key, threshold, items, queued_at, status, sent_at, message_subject,"
                " attempts, last_error FROM rm_reminder_outbox"
                " WHERE organisation = ? AND subject_of = ? ORDER BY queued_at DESC, key"
                " LIMIT ?",
                [organisation, subject, limit],
            )
        names = (
            "key",
            "threshold",
            "items",
            "queued_at",
            "status",
            "sent_at",
            "subject",
            "attempts",
            "last_error",
        )
        found = []
        for row in rows:
            item = dict(zip(names, row, strict=True))
            item["items"] = orjson.loads(item["items"])
            found.append(item)
        return found


def _item(o: OwedObligation) -> dict[str, Any]:
    return {
        "incident_id": o.incident_id,
        "kind": o.kind,
        "organisation": o.organisation,
        "other_provider": o.other_provider,
        "due": ts(o.due),
        "named": sorted(list(n) for n in o.named),
    }


def _owed(item: dict[str, Any]) -> OwedObligation:
    due = parse_ts(item["due"])
    assert due is not None
    return OwedObligation(
        incident_id=item["incident_id"],
        kind=item["kind"],
        organisation=item["organisation"],
        other_provider=item["other_provider"],
        due=due,
        named=frozenset((o, s) for o, s in item["named"]),
    )


def _permanent(exc: smtplib.SMTPRecipientsRefused) -> bool:
    return all(500 <= code < 600 for code, _ in exc.recipients.values())


def short_id(incident_id: str) -> str:
    """The first eight characters of an incident's id: enough to find it, nothing about it."""
    return incident_id[:8]


HEADINGS = {
    Threshold.DUE_SOON: "Due soon",
    Threshold.OVERDUE: "Overdue",
    Threshold.DIGEST: "Due this week and overdue",
}


def compose(
    *,
    key: str,
    to: str,
    threshold: Threshold,
    items: list[OwedObligation],
    now: datetime,
    settings: ReminderSettings,
    describe: Callable[[str], str],
) -> EmailMessage:
    """The email for one notice. Data-minimised: each line is an incident's short id, the
    obligation (the policy's words), its due moment in Melbourne time with how far off it is,
    and a link to the incident; never a client's reference, a name or a description."""
    lines = []
    for o in items:
        link = f"{settings.public_url.rstrip('/')}/#/incidents/{o.incident_id}"
        lines += [
            f"Incident {short_id(o.incident_id)}: {describe(o.kind)}",
            f"  Due {when_due(o, now=now)}",
            f"  {link}",
            "",
        ]
    if threshold is Threshold.DIGEST:
        subject = f"CIMS reminders: {len(items)} due this week or overdue"
    else:
        o = items[0]
        subject = f"CIMS {HEADINGS[threshold].lower()}: incident {short_id(o.incident_id)}"
    message = EmailMessage()
    message["Subject"] = subject
    message["To"] = to
    message["Date"] = format_datetime(now.astimezone(UTC))
    # The same notice always has the same Message-ID: a repeat after a crash is recognisable.
    message["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@cims-ledger>"
    message["X-CIMS-Reminder"] = threshold.value
    intro = f"{HEADINGS[threshold]}. Sign in to see the incident and record what was done."
    footer = "You receive this because you subscribed to CIMS Ledger reminders."
    message.set_content("\n".join([intro, "", *lines, footer]) + "\n")
    return message


def smtp_sender(settings: SmtpSettings) -> Callable[[EmailMessage], None]:
    """A function sending one message over SMTP: STARTTLS (the certificate verified against
    the system's CAs, or `ca_file`) when set, then log in when credentials are given. Raises
    smtplib's errors and OSError as the server answers."""

    def send(message: EmailMessage) -> None:
        if message["From"] is None:
            message["From"] = settings.sender
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=settings.ca_file))
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            smtp.send_message(message)

    return send


@dataclass
class Cycle:
    """What one round of the reminder worker did."""

    queued: int
    sent: int
    failed: int
    cancelled: int
    retrying: int
    lag: int


def reminders_lag(read_models: ReadModels) -> int:
    """How many log positions the reminders read model is behind the log's head."""
    lag: int = next(s["lag"] for s in read_models.status() if s["name"] == reminders_model.name)
    return lag


def run_once(
    read_models: ReadModels,
    reminders: Reminders,
    send: Callable[[EmailMessage], None],
    *,
    clock: Callable[[], datetime],
    describe: Callable[[str], str],
) -> Cycle:
    """One round: queue what is owed (only from a read model that has caught up with the log,
    so nothing met a moment ago is reminded of), then send what is due to go."""
    lag = reminders_lag(read_models)
    queued = reminders.schedule(now=clock()) if lag == 0 else 0
    counts = reminders.deliver(send, now=clock, describe=describe)
    return Cycle(queued, counts[SENT], counts[FAILED], counts[CANCELLED], counts["retrying"], lag)
