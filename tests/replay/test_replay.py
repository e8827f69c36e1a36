"""Auditor replay: as-of states and deadlines, tamper detection by SQL, offline bundles."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner, Result

from cli.main import app as cli_app
from domain.incident import Incident
from domain.views import incident_state
from ledger.application import Ledger, fold
from projections.db import Db
from replay import bundle_check
from replay.auditor import Auditor
from replay.checkpoint import Checkpoint, load_signed, sign
from tests.factories import CARER, START, LedgerStory, T, investigate_to_outcome

pytestmark = pytest.mark.store


@pytest.fixture
def auditor(database_url: str, ledger: Ledger) -> Iterator[Auditor]:
    db = Db(database_url)
    try:
        yield Auditor(ledger, db)
    finally:
        db.close()


def investigated(ledger: Ledger, **overrides: Any) -> LedgerStory:
    return investigate_to_outcome(
        LedgerStory.report(
            ledger,
            types=[T.PHYSICAL_ABUSE],
            impact="major",
            subjects_of_allegation=[CARER],
            **overrides,
        )
    )


def sql(auditor: Auditor, statement: str, params: list[Any]) -> None:
    rows = auditor.rows
    params = [
        p.hex
        if isinstance(p, UUID) and not rows.db.postgres
        else str(p)
        if isinstance(p, UUID)
        else p
        for p in params
    ]
    statement = statement.format(
        table=rows._table,
        position=rows._position,
        id="CAST(? AS uuid)" if rows.db.postgres else "?",
    )
    with rows.db.transaction() as tx:
        tx.execute(statement, params)


def stored_state(auditor: Auditor, incident_id: Any, version: int) -> bytes:
    return next(r.state for r in auditor.rows.of_incident(incident_id) if r.version == version)


def test_state_as_of_every_version_equals_the_aggregate_after_that_event(
    ledger: Ledger, auditor: Auditor
) -> None:
    story = investigated(ledger)
    events = ledger.incident_events(story.incident_id)

    for version in range(1, len(events) + 1):
        as_of = auditor.state_as_of(story.incident_id, version=version)
        by_library: Incident = ledger.repository.get(story.incident_id, version=version)
        folded = fold(events[:version])
        assert folded is not None
        assert as_of.state == incident_state(by_library) == incident_state(folded)
        assert as_of.policy_version == "CIMS-2024-12"
    at = auditor.state_as_of(story.incident_id, at=events[4].timestamp + timedelta(seconds=1))
    assert at.version == 5


def test_deadlines_as_of_a_moment_are_open_before_overdue_after_and_met_late_once_met(
    ledger: Ledger, auditor: Auditor
) -> None:
    story = LedgerStory.report(
        ledger, regulator_category="critical", types=[T.DEATH], impact="major"
    )
    due = next(
        o.due
        for o in ledger.obligations(story.incident_id, now=START)
        if o.kind == "regulator_short_form"
    )
    assert due is not None
    story.now = due + timedelta(days=1)
    story.do("record_notification", kind="regulator_short_form", recipient="SSR")

    def status(at: Any) -> str:
        found = auditor.state_as_of(story.incident_id, at=at)
        return next(o.status for o in found.obligations if o.kind == "regulator_short_form")

    assert status(due - timedelta(minutes=1)) == "open"
    assert status(due + timedelta(minutes=1)) == "overdue"
    assert status(due + timedelta(days=2)) == "met_late"


def test_diff_names_each_field_that_changed(ledger: Ledger, auditor: Auditor) -> None:
    story = LedgerStory.report(ledger)
    story.do("reclassify", impact="major", reason="fracture confirmed")

    changes = {c.field: (c.before, c.after) for c in auditor.diff(story.incident_id, 1, 2).changes}

    assert changes["impact"] == ("non_major", "major")
    assert changes["version"] == (1, 2)


def test_history_lists_every_event_with_position_actor_and_summary(
    ledger: Ledger, auditor: Auditor
) -> None:
    story = investigated(ledger)

    found = auditor.history(story.incident_id)

    assert [e.version for e in found.events] == list(range(1, 8))
    assert [e.position for e in found.events] == sorted(e.position for e in found.events)
    assert found.events[4].summary.startswith("Allegations served in writing")


def test_an_untouched_ledger_verifies(ledger: Ledger, auditor: Auditor) -> None:
    story = investigated(ledger)
    auditor.checkpoint()

    assert auditor.verify(story.incident_id).ok
    assert auditor.verify_all().ok


def test_changing_one_byte_of_a_stored_event_by_sql_is_detected(
    ledger: Ledger, auditor: Auditor
) -> None:
    story = investigated(ledger)
    original = stored_state(auditor, story.incident_id, 1)
    tampered = original.replace(b"Residential", b"Residentiaq", 1)
    assert tampered != original and len(tampered) == len(original)

    sql(
        auditor,
        "UPDATE {table} SET state = ? WHERE originator_id = {id} AND originator_version = 1",
        [tampered, story.incident_id],
    )

    result = auditor.verify(story.incident_id)
    assert not result.ok and result.first_broken_version == 1
    assert "altered" in (result.problem or "")
    assert not auditor.verify_all().ok


def test_a_byte_that_breaks_the_encoding_is_detected(ledger: Ledger, auditor: Auditor) -> None:
    story = investigated(ledger)
    broken = b"!" + stored_state(auditor, story.incident_id, 3)[1:]

    sql(
        auditor,
        "UPDATE {table} SET state = ? WHERE originator_id = {id} AND originator_version = 3",
        [broken, story.incident_id],
    )

    result = auditor.verify(story.incident_id)
    assert (result.ok, result.first_broken_version) == (False, 3)


def test_deleting_an_event_is_detected(ledger: Ledger, auditor: Auditor) -> None:
    story = investigated(ledger)

    sql(
        auditor,
        "DELETE FROM {table} WHERE originator_id = {id} AND originator_version = 4",
        [story.incident_id],
    )

    result = auditor.verify(story.incident_id)
    assert (result.ok, result.first_broken_version) == (False, 5)
    assert "missing" in (result.problem or "")


def test_reordering_two_events_is_detected(ledger: Ledger, auditor: Auditor) -> None:
    story = investigated(ledger)
    second = stored_state(auditor, story.incident_id, 2)
    third = stored_state(auditor, story.incident_id, 3)

    for version, state in ((2, third), (3, second)):
        sql(
            auditor,
            "UPDATE {table} SET state = ? WHERE originator_id = {id} AND originator_version = ?",
            [state, story.incident_id, version],
        )

    result = auditor.verify(story.incident_id)
    assert (result.ok, result.first_broken_version) == (False, 2)


def test_deleting_a_whole_incident_or_the_last_event_is_caught_by_the_checkpoint(
    ledger: Ledger, auditor: Auditor
) -> None:
    kept = investigated(ledger)
    gone = investigated(ledger, now=START + timedelta(hours=1))
    auditor.checkpoint()
    assert auditor.verify_all().ok

    sql(auditor, "DELETE FROM {table} WHERE originator_id = {id}", [gone.incident_id])

    result = auditor.verify_all()
    assert not result.ok and result.broken == []
    assert "removed or altered" in (result.checkpoint_problem or "")
    assert auditor.verify(kept.incident_id).ok  # each remaining chain is whole on its own


def test_an_exported_bundle_verifies_offline_and_fails_after_any_edit(
    ledger: Ledger, auditor: Auditor, tmp_path: Path
) -> None:
    story = investigated(ledger)
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(auditor.export(story.incident_id))

    def check(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "replay.bundle_check", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )

    assert check(bundle).returncode == 0, check(bundle).stdout

    edited = tmp_path / "edited.zip"
    edited.write_bytes(
        rewrite(
            bundle.read_bytes(),
            "events.ndjson",
            lambda b: b.replace(b"substantiated", b"not_substantiated", 1),
        )
    )
    assert check(edited).returncode == 1
    # Even with the manifest recomputed to match, the hash chain gives the edit away.
    forged = tmp_path / "forged.zip"
    forged.write_bytes(rewrite(edited.read_bytes(), None, lambda b: b))
    outcome = check(forged)
    assert outcome.returncode == 1 and "hash does not match" in outcome.stdout


def rewrite(data: bytes, name: str | None, change: Any) -> bytes:
    """Rewrite one member of a bundle; with no name, recompute the manifest over all of them."""
    source = zipfile.ZipFile(io.BytesIO(data))
    files = {n: source.read(n) for n in source.namelist()}
    if name is not None:
        files[name] = change(files[name])
    else:
        files["MANIFEST.sha256"] = "".join(
            f"{hashlib.sha256(v).hexdigest()}  {n}\n"
            for n, v in sorted(files.items())
            if n != "MANIFEST.sha256"
        ).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for n, v in files.items():
            target.writestr(n, v)
    return out.getvalue()


def test_checkpoints_carry_on_from_the_last_and_are_taken_when_due(
    ledger: Ledger, auditor: Auditor
) -> None:
    investigated(ledger)
    assert auditor.checkpoint_if_due(every=100) is None
    first = auditor.checkpoint_if_due(every=6)
    investigated(ledger, now=START + timedelta(hours=1))
    second = auditor.checkpoint()

    assert first is not None and (first.event_count, second.event_count) == (7, 14)
    fresh = Auditor(ledger, auditor.rows.db)
    sql(auditor, "DELETE FROM ledger_checkpoints", [])
    assert fresh.checkpoint().digest == second.digest  # incremental == from scratch
    assert auditor.verify_all().ok


def test_a_follower_takes_checkpoints_when_caught_up_only_when_they_are_asked_for(
    ledger: Ledger, auditor: Auditor
) -> None:
    investigated(ledger)

    assert auditor.checkpoints_when_caught_up(0) is None
    caught_up = auditor.checkpoints_when_caught_up(6)
    assert caught_up is not None
    taken = caught_up()

    assert isinstance(taken, Checkpoint) and taken.event_count == 7


def test_a_signed_checkpoint_kept_elsewhere_catches_deletion_of_the_stored_ones(
    ledger: Ledger, auditor: Auditor
) -> None:
    gone = investigated(ledger)
    kept = sign(auditor.checkpoint(), b"auditor-key")

    sql(auditor, "DELETE FROM ledger_checkpoints", [])
    sql(auditor, "DELETE FROM {table} WHERE originator_id = {id}", [gone.incident_id])

    assert auditor.verify_all().ok  # with its checkpoints gone too, the database alone can't tell
    result = auditor.verify_all(kept_elsewhere=[load_signed(kept, b"auditor-key")])
    assert not result.ok and "removed or altered" in (result.checkpoint_problem or "")
    with pytest.raises(ValueError, match="signature"):
        load_signed({**kept, "digest": "0" * 64}, b"auditor-key")


def test_swapping_the_version_numbers_of_two_rows_is_detected(
    ledger: Ledger, auditor: Auditor
) -> None:
    story = investigated(ledger)
    # Three steps, because (originator_id, originator_version) is unique.
    for old, new in ((2, 0), (3, 2), (0, 3)):
        sql(
            auditor,
            "UPDATE {table} SET originator_version = ?"
            " WHERE originator_id = {id} AND originator_version = ?",
            [new, story.incident_id, old],
        )

    result = auditor.verify(story.incident_id)
    assert (result.ok, result.first_broken_version) == (False, 2)
    assert not auditor.verify_all().ok


def test_an_instant_without_an_offset_is_refused_rather_than_guessed(
    ledger: Ledger, auditor: Auditor
) -> None:
    story = LedgerStory.report(ledger)

    with pytest.raises(ValueError, match="offset"):
        auditor.state_as_of(story.incident_id, at=START.replace(tzinfo=None))
    with pytest.raises(ValueError, match="not yet reported"):
        auditor.state_as_of(story.incident_id, at=START - timedelta(days=1))


def test_a_one_byte_edit_to_any_file_of_a_bundle_fails_the_offline_check(
    ledger: Ledger, auditor: Auditor, tmp_path: Path
) -> None:
    story = investigated(ledger)
    data = auditor.export(story.incident_id)
    members = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert {"events.ndjson", "obligations.json", "procedural_fairness.json"} <= set(members)
    assert {"verification.json", "MANIFEST.sha256", "states/v0006.json"} <= set(members)

    for member in members:
        edited = rewrite(data, member, lambda b: b[:-2] + bytes([b[-2] ^ 1]) + b[-1:])
        problems = bundle_check.check(str(write(tmp_path / "edited.zip", edited)))
        assert problems, member
    truncated = write(tmp_path / "truncated.zip", data[: len(data) // 2])
    assert bundle_check.check(str(truncated))[0].startswith("unreadable bundle")


def test_dropping_or_reordering_event_lines_fails_even_with_a_recomputed_manifest(
    ledger: Ledger, auditor: Auditor, tmp_path: Path
) -> None:
    story = investigated(ledger)
    data = auditor.export(story.incident_id)

    def forged(change: Any) -> list[str]:
        edited = rewrite(rewrite(data, "events.ndjson", change), None, lambda b: b)
        return bundle_check.check(str(write(tmp_path / "forged.zip", edited)))

    def lines(b: bytes) -> list[bytes]:
        return b.splitlines(keepends=True)

    assert forged(lambda b: b) == []
    assert "event 3: stored as version 4" in forged(lambda b: b"".join(lines(b)[:2] + lines(b)[3:]))
    swapped = forged(lambda b: b"".join([lines(b)[1], lines(b)[0], *lines(b)[2:]]))
    assert "event 1: does not link to the event before" in swapped


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_the_cims_replay_commands_verify_export_and_exit_1_on_a_broken_chain(
    database_url: str, ledger: Ledger, auditor: Auditor, tmp_path: Path
) -> None:
    story = investigated(ledger)
    runner = CliRunner()
    env = {"CIMS_DATABASE_URL": database_url, "CIMS_CHECKPOINT_KEY": "k" * 32}

    def cims(*args: str) -> Result:
        return runner.invoke(cli_app, ["replay", *args], env=env)

    assert cims("checkpoint").exit_code == 0
    assert cims("verify", str(story.incident_id)).exit_code == 0
    assert cims("verify", "--all").exit_code == 0
    bundle = tmp_path / "bundle.zip"
    assert cims("export", str(story.incident_id), "-o", str(bundle)).exit_code == 0
    assert bundle_check.check(str(bundle)) == []
    history = cims("history", str(story.incident_id))
    assert history.exit_code == 0 and "Allegations" in history.stdout

    sql(auditor, "DELETE FROM {table} WHERE originator_id = {id}", [story.incident_id])

    assert cims("verify", "--all").exit_code == 1
    assert cims("verify", str(story.incident_id)).exit_code == 1
