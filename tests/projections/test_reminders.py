"""Reminders fire, once, over a real SMTP server on loopback, on each store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from api.vocabulary import ENUMS
from domain.policy_table import MELBOURNE
from domain.reminders import Scope
from ledger.application import Ledger
from projections.reminder_delivery import (
    Reminders,
    ReminderSettings,
    SmtpSettings,
    run_once,
    smtp_sender,
)
from projections.service import ReadModels
from tests.factories import (
    CARER,
    INVESTIGATOR,
    MANAGER,
    OFFICER,
    LedgerStory,
    recommendation,
    under_investigation,
)
from tests.smtp_server import SmtpServer, self_signed

# The investigation of an incident reported on Tuesday 4 March 2025 is due 28 days later,
# Tuesday 1 April at 12:00 Melbourne time.
DUE = datetime(2025, 4, 1, 12, tzinfo=MELBOURNE).astimezone(UTC)
# Monday 31 March, 07:00: due within a business day, and before the day's digest (07:30).
DAY_BEFORE = DUE - timedelta(hours=29)
ACTOR = (MANAGER.id, MANAGER.role.value, MANAGER.organisation)


def describe(kind: str) -> str:
    return ENUMS["ObligationKind"].get(kind, kind)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def reminders(read_models: ReadModels) -> Reminders:
    return Reminders(read_models.db, ReminderSettings(first_retry_seconds=0.0, lease_seconds=30))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def subscribe(reminders: Reminders, *, scope: Scope = Scope.WORKLIST, subject: str = "mel") -> str:
    return reminders.subscribe(
        email=f"{subject}@northside.example",
        organisation=MANAGER.organisation,
        subject=subject,
        scope=scope,
        actor=ACTOR,
        now=datetime(2025, 3, 1, tzinfo=UTC),
    )


def cycle(read_models: ReadModels, reminders: Reminders, smtp: SmtpServer, clock: Clock) -> None:
    read_models.catch_up()
    send = smtp_sender(SmtpSettings(host="127.0.0.1", port=smtp.port, starttls=False))
    run_once(read_models, reminders, send, clock=clock, describe=describe)


def investigation(ledger: Ledger) -> LedgerStory:
    story = LedgerStory.report(
        ledger, types=["Physical abuse"], impact="major", subjects_of_allegation=[CARER]
    )
    return under_investigation(story)


def test_a_due_soon_notice_fires_once_and_not_again_after_a_restart(
    ledger: Ledger, read_models: ReadModels, reminders: Reminders, smtp: SmtpServer
) -> None:
    story = investigation(ledger)
    subscribe(reminders)
    clock = Clock(DAY_BEFORE)

    cycle(read_models, reminders, smtp, clock)
    cycle(read_models, reminders, smtp, clock)
    restarted = Reminders(read_models.db, reminders.settings)  # a new worker process
    cycle(read_models, restarted, smtp, clock)

    assert smtp.received.notices().subjects() == [
        f"CIMS due soon: incident {str(story.incident_id)[:8]}"
    ]
    (body,) = smtp.received.notices().bodies()
    assert "Complete the investigation or incident review within 28 days" in body
    assert "Tue 1 Apr 2025, 12:00 pm — in 1 business day" in body
    assert f"/#/incidents/{story.incident_id}" in body
    # Data-minimised: nothing about the client or what happened.
    for private in ("client-1", "trampoline", "carer-1", "Residential unit"):
        assert private not in body
    assert reminders.status()["sent"] == 1


def test_it_becomes_overdue_and_is_told_once_more(
    ledger: Ledger, read_models: ReadModels, reminders: Reminders, smtp: SmtpServer
) -> None:
    investigation(ledger)
    subscribe(reminders)
    cycle(read_models, reminders, smtp, Clock(DAY_BEFORE))
    cycle(read_models, reminders, smtp, Clock(DUE + timedelta(minutes=5)))
    cycle(read_models, reminders, smtp, Clock(DUE + timedelta(hours=5)))
    assert [s.split(":")[0] for s in smtp.received.notices().subjects()] == [
        "CIMS due soon",
        "CIMS overdue",
    ]


def test_none_for_a_met_obligation_or_a_withdrawn_incident(
    ledger: Ledger, read_models: ReadModels, reminders: Reminders, smtp: SmtpServer
) -> None:
    met = LedgerStory.report(ledger, types=["Physical abuse"], impact="major")
    (
        met.do("record_notification", kind="police", recipient="Victoria Police")
        .do("determine_follow_up", kind="incident_review", reason="Injury in care")
        .later(days=10)
        .do(
            "complete_incident_review",
            what_happened="A fall during an unsupervised activity.",
            contributing_factors="Supervision ratios on weekends.",
            recommendations=[recommendation()],
        )
    )
    withdrawn = LedgerStory.report(ledger, types=["Physical abuse"], impact="major")
    withdrawn.do(
        "withdraw",
        reason="The same incident, reported twice.",
        duplicate_of=met.incident_id,
        actor=OFFICER,
    )
    subscribe(reminders)

    for at in (DAY_BEFORE, DUE + timedelta(hours=1)):
        cycle(read_models, reminders, smtp, Clock(at))

    ids = " ".join(smtp.received.notices().subjects())
    assert str(met.incident_id)[:8] not in ids
    assert str(withdrawn.incident_id)[:8] not in ids


def test_a_notice_queued_then_met_before_it_went_is_cancelled_not_sent(
    ledger: Ledger, read_models: ReadModels, reminders: Reminders, smtp: SmtpServer
) -> None:
    story = investigation(ledger)
    subscribe(reminders)
    read_models.catch_up()
    assert reminders.schedule(now=DAY_BEFORE) == 1
    story.do(
        "extend",
        obligation_kind="investigation_or_review",
        new_due=DUE + timedelta(days=7),
        approved_by="Director",
        reason="Witness away.",
    )
    cycle(read_models, reminders, smtp, Clock(DAY_BEFORE))
    assert smtp.received.notices().subjects() == []
    assert reminders.status()["cancelled"] == 1


def test_an_extension_that_moves_the_due_moment_re_arms_the_notice(
    ledger: Ledger, read_models: ReadModels, reminders: Reminders, smtp: SmtpServer
) -> None:
    story = investigation(ledger)
    subscribe(reminders)
    cycle(read_models, reminders, smtp, Clock(DAY_BEFORE))
    new_due = DUE + timedelta(days=7)  # Tuesday 8 April
    story.do(
        "extend",
        obligation_kind="investigation_or_review",
        new_due=new_due,
        approved_by="Director of Practice",
        reason="A witness is away.",
    )
    cycle(read_models, reminders, smtp, Clock(DAY_BEFORE))  # nothing new yet
    cycle(read_models, reminders, smtp, Clock(new_due - timedelta(hours=20)))
    assert len(smtp.received.notices().subjects()) == 2
    assert "Tue 8 Apr 2025" in smtp.received.notices().bodies()[1]


def test_with_the_smtp_server_down_notices_wait_and_go_when_it_returns(
    ledger: Ledger, read_models: ReadModels, reminders: Reminders, smtp: SmtpServer
) -> None:
    investigation(ledger)
    subscribe(reminders)
    smtp.stop()
    clock = Clock(DAY_BEFORE)
    cycle(read_models, reminders, smtp, clock)
    status = reminders.status()
    assert status["pending"] == 1 and status["retrying"] == 1
    assert "ConnectionRefusedError" in status["last_error"]

    smtp.start()
    clock.now += timedelta(minutes=1)
    cycle(read_models, reminders, smtp, clock)
    assert len(smtp.received.notices().subjects()) == 1
    assert reminders.status()["sent"] == 1


def test_a_permanent_refusal_of_the_address_is_a_failure_not_a_retry(
    ledger: Ledger, read_models: ReadModels, reminders: Reminders, smtp: SmtpServer
) -> None:
    investigation(ledger)
    subscribe(reminders)
    smtp.before_accept = lambda n: "550 No such mailbox"
    cycle(read_models, reminders, smtp, Clock(DAY_BEFORE))
    status = reminders.status()
    assert status["failed"] == 1 and status["pending"] == 0
    assert "550" in status["last_error"]


def test_named_scope_and_another_organisation(
    ledger: Ledger, read_models: ReadModels, reminders: Reminders, smtp: SmtpServer
) -> None:
    investigation(ledger)  # names ivan.investigator of Northside CSO
    subscribe(reminders, scope=Scope.NAMED, subject=INVESTIGATOR.id)
    subscribe(reminders, scope=Scope.NAMED, subject="someone.else")
    reminders.subscribe(
        email="w@westgate.example",
        organisation="Westgate Housing",
        subject="w",
        scope=Scope.WORKLIST,
        actor=ACTOR,
        now=datetime(2025, 3, 1, tzinfo=UTC),
    )
    cycle(read_models, reminders, smtp, Clock(DAY_BEFORE))
    recipients = [to for to, _ in smtp.received.notices().messages]
    assert recipients == [[f"{INVESTIGATOR.id}@northside.example"]]


def test_the_digest_lists_this_weeks_and_overdue_items_once_a_business_day(
    ledger: Ledger, read_models: ReadModels, reminders: Reminders, smtp: SmtpServer
) -> None:
    investigation(ledger)
    subscribe(reminders)
    monday = datetime(2025, 3, 31, 7, 45, tzinfo=MELBOURNE).astimezone(UTC)
    cycle(read_models, reminders, smtp, Clock(monday))
    cycle(read_models, reminders, smtp, Clock(monday + timedelta(hours=1)))
    assert smtp.received.subjects().count("CIMS reminders: 1 due this week or overdue") == 1


def test_ended_subscriptions_get_nothing_and_the_log_keeps_who_and_when(
    ledger: Ledger, read_models: ReadModels, reminders: Reminders, smtp: SmtpServer
) -> None:
    investigation(ledger)
    sid = subscribe(reminders)
    reminders.end(sid, actor=ACTOR, may_end=lambda s: True, now=datetime(2025, 3, 2, tzinfo=UTC))
    cycle(read_models, reminders, smtp, Clock(DAY_BEFORE))
    assert smtp.received.notices().subjects() == []
    log = reminders.subscription_log(MANAGER.organisation)
    assert [(e["action"], e["actor_id"]) for e in log] == [
        ("subscribed", MANAGER.id),
        ("ended", MANAGER.id),
    ]


def test_two_workers_send_each_notice_once(
    ledger: Ledger, read_models: ReadModels, reminders: Reminders, smtp: SmtpServer
) -> None:
    for _ in range(6):
        investigation(ledger)
    subscribe(reminders)
    read_models.catch_up()
    other = Reminders(read_models.db, reminders.settings)
    sent: list[str] = []
    send = smtp_sender(SmtpSettings(host="127.0.0.1", port=smtp.port, starttls=False))

    def recording(message: EmailMessage) -> None:
        sent.append(str(message["Message-ID"]))
        send(message)

    import threading

    clock = Clock(DAY_BEFORE)
    workers = [
        threading.Thread(
            target=run_once,
            args=(read_models, r, recording),
            kwargs={"clock": clock, "describe": describe},
        )
        for r in (reminders, other, reminders, other)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(sent) == 6 and len(set(sent)) == 6
    assert len(smtp.received.message_ids()) == 6


def test_starttls_with_credentials_against_a_server_that_requires_both(
    ledger: Ledger, read_models: ReadModels, reminders: Reminders, tmp_path: Path
) -> None:
    import ssl

    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(
        server: object, session: object, envelope: object, mechanism: str, data: object
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"cims", b"s3cret")
        return AuthResult(success=ok, handled=False)

    server = SmtpServer(
        tls_context=context, require_starttls=True, auth_required=True, authenticator=authenticator
    )
    server.start()
    try:
        investigation(ledger)
        subscribe(reminders)
        read_models.catch_up()
        wrong = smtp_sender(
            SmtpSettings(
                host="127.0.0.1", port=server.port, ca_file=cert, username="cims", password="wrong"
            )
        )
        run_once(read_models, reminders, wrong, clock=Clock(DAY_BEFORE), describe=describe)
        assert reminders.status()["retrying"] == 1 and server.received.messages == []
        untrusted = smtp_sender(
            SmtpSettings(host="127.0.0.1", port=server.port, username="cims", password="s3cret")
        )
        later = Clock(DAY_BEFORE + timedelta(minutes=5))
        run_once(read_models, reminders, untrusted, clock=later, describe=describe)
        assert "CERTIFICATE_VERIFY_FAILED" in reminders.status()["last_error"]
        right = smtp_sender(
            SmtpSettings(
                host="127.0.0.1", port=server.port, ca_file=cert, username="cims", password="s3cret"
            )
        )
        later.now += timedelta(minutes=5)
        run_once(read_models, reminders, right, clock=later, describe=describe)
        assert len(server.received.messages) == 1
    finally:
        server.stop()
