"""The false-409 trap: the connection drops after PostgreSQL committed; the retry must not be
answered as a conflict, and exactly one event must be stored."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest

from domain.errors import VersionConflict
from domain.values import Stamp
from ledger.application import Ledger
from ledger.receipts import CommandKey
from tests.factories import MANAGER, REPORTER, START, report_fields
from tests.reliability.proxy import CommitCuttingProxy


@pytest.fixture
def proxied(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Ledger, CommitCuttingProxy]]:
    # The proxy reads the wire protocol in clear, so no TLS or GSS negotiation on the way.
    monkeypatch.setenv("PGSSLMODE", "disable")
    monkeypatch.setenv("PGGSSENCMODE", "disable")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = urlsplit(postgres_url)
    proxy = CommitCuttingProxy(url.port or 5432)
    ledger = Ledger.from_url(
        f"postgresql://{url.username or 'postgres'}@127.0.0.1:{proxy.port}{url.path}"
        f"?schema={schema}"
    )
    try:
        yield ledger, proxy
    finally:
        ledger.close()
        proxy.close()
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_a_commit_whose_acknowledgement_was_lost_is_answered_as_success(
    proxied: tuple[Ledger, CommitCuttingProxy],
) -> None:
    ledger, proxy = proxied
    incident_id = ledger.report(
        stamp=Stamp(actor=REPORTER, now=START), **report_fields()
    ).incident_id

    proxy.armed.set()
    accepted = ledger.execute(
        incident_id,
        "record_response_plan",
        expected_version=1,
        stamp=Stamp(actor=MANAGER, now=START, command_id="cmd-1"),
        plan="Supervision plan",
    )

    assert proxy.cuts == 1
    assert accepted.version == 2
    assert [e.originator_version for e in ledger.incident_events(incident_id)] == [1, 2]


def test_a_cut_commit_of_a_keyed_command_is_success_and_its_key_answers_a_retry(
    proxied: tuple[Ledger, CommitCuttingProxy],
) -> None:
    """The driver's retry re-inserts the key's receipt too: that conflict is our own write."""
    ledger, proxy = proxied
    incident_id = ledger.report(
        stamp=Stamp(actor=REPORTER, now=START), **report_fields()
    ).incident_id
    key = CommandKey(MANAGER.organisation, MANAGER.id, "client-key-1", "fingerprint")

    proxy.armed.set()
    accepted = ledger.execute(
        incident_id,
        "record_response_plan",
        expected_version=1,
        stamp=Stamp(actor=MANAGER, now=START, command_id="cmd-1"),
        key=key,
        plan="Supervision plan",
    )
    # The client's own retry (its acknowledgement lost too), as a new request.
    retried = ledger.execute(
        incident_id,
        "record_response_plan",
        expected_version=1,
        stamp=Stamp(actor=MANAGER, now=START, command_id="cmd-2"),
        key=key,
        plan="Supervision plan",
    )

    assert proxy.cuts == 1
    assert accepted.version == retried.version == 2
    assert accepted.event.hash == retried.event.hash
    assert [e.originator_version for e in ledger.incident_events(incident_id)] == [1, 2]


def test_negative_control_without_a_command_id_the_same_cut_looks_like_a_conflict(
    proxied: tuple[Ledger, CommitCuttingProxy],
) -> None:
    """Shows the harness can fail: with nothing to recognise its own write by, the ledger
    reports the driver's retry as a lost race although the event is stored."""
    ledger, proxy = proxied
    incident_id = ledger.report(
        stamp=Stamp(actor=REPORTER, now=START), **report_fields()
    ).incident_id

    proxy.armed.set()
    with pytest.raises(VersionConflict):
        ledger.execute(
            incident_id,
            "record_response_plan",
            expected_version=1,
            stamp=Stamp(actor=MANAGER, now=START),
            plan="Supervision plan",
        )

    assert proxy.cuts == 1
    assert [e.originator_version for e in ledger.incident_events(incident_id)] == [1, 2]
