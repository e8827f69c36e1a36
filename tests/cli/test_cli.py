"""The operator's and incident manager's `cims`: one-line errors, the store named, incidents
listed and shown, the fairness checklist, stored text shown literally, JSON alone on stdout."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from typer.testing import CliRunner

from cli.incidents import short_ids
from cli.main import app
from cli.store import describe
from domain.procedural_fairness import procedural_fairness
from domain.values import Actor, Role, Stamp
from ledger.application import Ledger, incident_id_for
from tests.cli.conftest import STRONG, Cims, error_lines
from tests.factories import (
    CARER,
    INVESTIGATOR,
    MANAGER,
    REPORTER,
    START,
    LedgerStory,
    T,
    investigate_to_outcome,
    report_fields,
)

pytestmark = pytest.mark.store


def overdue_investigation(ledger: Ledger) -> LedgerStory:
    """Physical abuse by a carer under investigation since 2025: its 28 days have passed."""
    return investigate_to_outcome(
        LedgerStory.report(
            ledger, types=[T.PHYSICAL_ABUSE], impact="major", subjects_of_allegation=[CARER]
        )
    )


def other_provider_injury(ledger: Ledger) -> LedgerStory:
    reporter = Actor(id="sam", role=Role.REPORTER, organisation="Eastside Housing")
    later = START + timedelta(days=1)
    return LedgerStory.report(ledger, actor=reporter, now=later, types=[T.INJURY_EXPLAINED])


# ---- errors: one line naming the flag, never a traceback


def test_every_user_mistake_is_one_line_naming_the_flag_and_a_non_zero_exit(
    cims: Cims, ledger: Ledger, tmp_path: Path
) -> None:
    story = overdue_investigation(ledger)
    short = story.incident_id.hex[:8]
    mistakes: list[tuple[list[str], str]] = [
        (["replay", "diff", short, "1", "99"], "B: the incident has versions 1 to"),
        (["replay", "diff", short, "yesterday", "2"], "A: 'yesterday' is not an instant"),
        (["replay", "as-of", short, "--at", "2025-03-04T12:00"], "--at: '2025-03-04T12:00' needs"),
        (["replay", "as-of", short, "--at", "2999-01-01T00:00+11:00"], "--at: 2999-01-01T00"),
        (["replay", "as-of", short, "--at", "2001-01-01T00:00+11:00"], "--at: the incident was"),
        (["replay", "as-of", short, "--at", "0001-01-01T00:00+14:00"], "--at: 0001-01-01T00:00"),
        (["replay", "diff", short, "0001-01-02T00:00Z", "2"], "A: 0001-01-02T00:00Z is out of"),
        (
            ["patterns", "show", "--department-id", "1234567", "--window-days", "100000000"],
            "--window-days: give a whole number of days from 1 to 36500",
        ),
        (["replay", "as-of", short, "--version", "0"], "--version: the incident has versions"),
        (["replay", "as-of", short, "--version", "99"], "--version: the incident has versions"),
        (["replay", "as-of", short], "--at/--version: give exactly one"),
        (["replay", "history", "not-an-id"], "INCIDENT: 'not-an-id' is not an incident id"),
        (["replay", "history", "0000"], "no incident id starts with '0000'"),
        (["incidents", "show", str(UUID(int=7))], f"no incident {UUID(int=7)}"),
        (["incidents", "show", "ab"], "INCIDENT: 'ab' is not an incident id"),
        (["fairness", "zz-top"], "INCIDENT: 'zz-top'"),
        (["incidents", "list", "--status", "lost"], "'--status'"),
        (["incidents", "list", "--type", "alien abduction"], "--type: unknown incident type"),
        (["incidents", "list", "--org", "Northside"], "--organisation: no incident names"),
        (["incidents", "list", "--sort", "colour"], "'--sort'"),
        (["replay", "verify"], "INCIDENT/--all: give an incident id or --all"),
        (["replay", "verify", short, "--all"], "INCIDENT/--all"),
        (["replay", "verify", "--all", "--checkpoint", str(tmp_path / "no.json")], "--checkpoint"),
        (["replay", "export", short, "-o", str(tmp_path / "no" / "b.zip")], "--output: cannot"),
        (["projections", "rebuild", "nonesuch"], "NAME: no read model 'nonesuch'; one of:"),
        (["replay", "nonesuch"], "No such command 'nonesuch'"),
        (["serve", "--port", "0"], "'--port'"),
        (["token", "--sub", "x", "--role", "boss", "--org", "o"], "'--role'"),
    ]
    (tmp_path / "bad.json").write_text('{"position": 1}')
    mistakes.append(
        (
            ["replay", "verify", "--all", "--checkpoint", str(tmp_path / "bad.json")],
            "--checkpoint: ",
        )
    )
    for args, expected in mistakes:
        result = cims(*args)
        lines = error_lines(result)
        assert result.exit_code != 0, args
        assert "Traceback" not in result.output, (args, result.output)
        assert len(lines) == 1, (args, result.stderr)
        assert lines[0].startswith("cims") and ": error: " in lines[0], (args, lines)
        assert expected in lines[0], (args, lines[0])
        assert result.stdout == "", (args, result.stdout)


def test_a_prefix_that_starts_two_ids_is_refused_and_the_list_shows_more_characters(
    cims: Cims, ledger: Ledger
) -> None:
    # Two command ids whose incidents' ids share their first 8 characters (a birthday search).
    seen: dict[str, str] = {}
    for n in range(2_000_000):
        command_id = f"twin-{n}"
        prefix = incident_id_for(Stamp(actor=REPORTER, now=START, command_id=command_id)).hex[:8]
        if prefix in seen:
            twins = [seen[prefix], command_id]
            break
        seen[prefix] = command_id
    ids = [
        ledger.report(
            stamp=Stamp(actor=REPORTER, now=START, command_id=c), **report_fields()
        ).incident_id
        for c in twins
    ]
    assert ids[0].hex[:8] == ids[1].hex[:8]

    ambiguous = cims("incidents", "show", ids[0].hex[:8])
    listed = cims("incidents", "list", "--json")
    shown = cims("incidents", "show", short_ids(ids, ids)[ids[1]])

    assert ambiguous.exit_code == 1
    assert "starts 2 incident ids" in error_lines(ambiguous)[0]
    assert "give more characters" in error_lines(ambiguous)[0]
    shorts = [i["short_id"] for i in json.loads(listed.stdout)]
    assert len(set(shorts)) == 2 and all(len(s) > 8 for s in shorts)
    assert shown.exit_code == 0 and str(ids[1]) in shown.stdout


def test_short_ids_are_8_characters_unless_8_would_not_tell_two_apart() -> None:
    a, b, c = UUID("12345678-aaaa-4000-8000-000000000000"), UUID(int=1), UUID(int=2**127)
    twin = UUID("12345678-abbb-4000-8000-000000000000")

    assert short_ids([a, b], [a, b, c]) == {a: "12345678", b: "00000000"}
    assert short_ids([a], [a, twin]) == {a: "12345678aa"}


# ---- the store: named on stderr, created by writers, refused by readers


def test_every_command_names_its_store_on_stderr(
    cims: Cims, ledger: Ledger, database_url: str
) -> None:
    story = overdue_investigation(ledger)
    short = story.incident_id.hex[:8]
    named = describe(database_url)
    assert ("PostgreSQL" in named and "schema t_" in named) or (
        named.startswith("SQLite /") and named.endswith("cims.db")
    )
    for args in (
        ["incidents", "list"],
        ["incidents", "show", short],
        ["fairness", short],
        ["replay", "history", short],
        ["replay", "as-of", short, "--version", "1"],
        ["replay", "diff", short, "1", "2"],
        ["replay", "verify", "--all"],
        ["replay", "checkpoint"],
        ["projections", "run", "--until-idle"],
        ["projections", "status"],  # after the worker: exit 1 while the read models lag
        ["token", "--sub", "mel", "--role", "incident_manager", "--org", "Northside CSO"],
    ):
        result = cims(*args)
        assert result.exit_code == 0, (args, result.output)
        assert result.stderr.splitlines()[0] == f"store: {named}", (args, result.stderr)
        assert named not in result.stdout


def test_a_store_url_is_named_without_its_password() -> None:
    named = describe("postgresql://cims:s3cret@db.example:6543/ledger?schema=tenant_a")

    assert named == "PostgreSQL cims@db.example:6543/ledger, schema tenant_a"


def test_a_missing_sqlite_store_is_refused_by_readers_and_created_by_writers(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere' / 'cims.db'}"
    runner = CliRunner()
    env = {"CIMS_DATABASE_URL": url}

    for args in (["incidents", "list"], ["replay", "verify", "--all"], ["projections", "status"]):
        refused = runner.invoke(app, args, env=env)
        assert refused.exit_code == 1, args
        assert error_lines(refused) == [
            f"cims: error: no store at {tmp_path / 'elsewhere' / 'cims.db'}: run this where the"
            " store is, set CIMS_DATABASE_URL, or write one with `cims demo`"
        ]
        assert not (tmp_path / "elsewhere" / "cims.db").exists()

    created = runner.invoke(app, ["projections", "run", "--until-idle"], env=env)

    assert created.exit_code == 0, created.output
    assert "(new, empty: created now)" in created.stderr.splitlines()[0]
    assert (tmp_path / "elsewhere" / "cims.db").exists()


def test_a_postgres_schema_that_does_not_exist_is_created_by_serve_demo_and_the_worker_and_named_by_replay(  # noqa: E501
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    schemas = [f"t_missing_{uuid4().hex[:12]}" for _ in range(3)]
    served: list[dict[str, Any]] = []
    monkeypatch.setattr("cli.main.uvicorn.run", lambda *a, **kw: served.append(kw))
    runner = CliRunner()

    def cims(schema: str, *args: str) -> Any:
        url = f"{postgres_url}?schema={schema}"
        # On PostgreSQL `cims serve` needs a way to check tokens (no open development sign-in).
        env = {"CIMS_DATABASE_URL": url, **STRONG, "CIMS_JWT_SECRET": "j" * 32}
        return runner.invoke(app, list(args), env=env)

    try:
        for schema in schemas:
            refused = cims(schema, "replay", "verify", "--all")
            assert refused.exit_code == 1 and "Traceback" not in refused.output
            assert error_lines(refused) == [
                f"cims: error: schema '{schema}' does not exist in 127.0.0.1:5432/test: `cims demo`"
                f" or `cims serve` creates it, or run CREATE SCHEMA {schema} in psql"
            ]
        worker = cims(schemas[0], "projections", "run", "--until-idle")
        serve = cims(schemas[1], "serve", "--port", "8765")
        demo = cims(schemas[2], "demo")

        for result in (worker, serve, demo):
            assert result.exit_code == 0, result.output
            assert result.stderr.splitlines()[0].endswith("(new, empty: created now)")
        assert served and served[0]["port"] == 8765
        assert "19 incident(s) written" in demo.stderr
        replayed = cims(schemas[2], "replay", "verify", "--all")
        assert replayed.exit_code == 0 and json.loads(replayed.stdout)["incidents_checked"] == 19
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_an_unreachable_postgres_is_one_line() -> None:
    url = "postgresql://postgres@127.0.0.1:1/test?schema=nowhere"

    result = CliRunner().invoke(app, ["incidents", "list"], env={"CIMS_DATABASE_URL": url})

    assert result.exit_code == 1 and "Traceback" not in result.output
    assert error_lines(result)[0].startswith("cims: error: cannot reach PostgreSQL at 127.0.0.1:1")
    assert len(error_lines(result)) == 1


# ---- cims incidents list / show


def test_the_list_filters_sorts_marks_overdue_and_reads_at_80_columns(
    cims: Cims, ledger: Ledger
) -> None:
    late = overdue_investigation(ledger)
    other = other_provider_injury(ledger)
    late_short, other_short = late.incident_id.hex[:8], other.incident_id.hex[:8]

    table = cims("incidents", "list", env={"COLUMNS": "80"})
    rows = [line for line in table.stdout.splitlines() if line[:8] in (late_short, other_short)]

    assert table.exit_code == 0, table.output
    assert all(len(line) <= 80 for line in table.stdout.splitlines())
    assert len(rows) == 2  # each incident on one line
    assert re.search(r" ! \d{4}-\d\d-\d\d \d\d:\d\d$", next(r for r in rows if r[:8] == late_short))
    assert " ! " not in next(r for r in rows if r[:8] == other_short)
    assert table.stdout.splitlines()[-1] == "2 of 2 incidents, 1 overdue (!)"

    def ids(*args: str) -> list[str]:
        result = cims("incidents", "list", "--json", *args)
        assert result.exit_code == 0, result.output
        return [i["short_id"] for i in json.loads(result.stdout)]

    assert ids() == [other_short, late_short]  # newest reported first
    assert ids("--sort", "due") == [late_short, other_short]  # no deadline pending: last
    assert ids("--org", "Eastside Housing") == [other_short]
    assert ids("--status", "outcome_recorded") == [late_short]
    assert ids("--status", "outcome_recorded", "--status", "reported") == [other_short, late_short]
    assert ids("--type", "physical_abuse") == [late_short]
    assert ids("--type", "Injury-explained") == [other_short]
    assert ids("--overdue") == [late_short]
    assert ids("--not-overdue") == [other_short]
    listed = json.loads(cims("incidents", "list", "--json", "--overdue").stdout)[0]
    assert listed["id"] == str(late.incident_id) and listed["overdue"] is True
    assert listed["next_due"].endswith("+00:00")


def test_show_takes_a_short_id_and_gives_deadlines_in_melbourne_time_with_the_offset(
    cims: Cims, ledger: Ledger
) -> None:
    story = overdue_investigation(ledger)

    shown = cims("incidents", "show", story.incident_id.hex[:8], env={"COLUMNS": "100"})
    as_json = cims("incidents", "show", str(story.incident_id)[:13], "--json")

    assert shown.exit_code == 0, shown.output
    assert f"Incident {story.incident_id}" in shown.stdout
    # became aware 2025-03-04 10:00 AEDT; the report due 17:00 three business days on
    assert "Tue 04 Mar 2025 10:00 +11:00" in shown.stdout
    assert re.search(
        r"incident report\s+2025-03-07 17:00\+11:00\s+met\s+2025-03-04 12:00\+11:00", shown.stdout
    )
    assert re.search(r"investigation or review\s+2025-04-01 12:00\+11:00\s+overdue", shown.stdout)
    assert json.loads(as_json.stdout)["id"] == str(story.incident_id)


# ---- stored text is shown literally


HOSTILE = ["[/]", "[bold]loud[/bold]", "[link=https://evil.example]click[/link]", ":smile: [red"]


def test_stored_markup_is_shown_as_typed_by_every_view(cims: Cims, ledger: Ledger) -> None:
    organisation = "Acme [bold]Care[/bold]"
    reporter = Actor(id="rita [/]", role=Role.REPORTER, organisation=organisation)
    manager = Actor(id="mel", role=Role.INCIDENT_MANAGER, organisation=organisation)
    story = (
        LedgerStory.report(
            ledger,
            actor=reporter,
            types=[T.PHYSICAL_ABUSE],
            impact="major",
            subjects_of_allegation=[CARER],
        )
        .do("record_notification", kind="police", recipient="[link=https://evil.example]x[/link]")
        .do("determine_follow_up", kind="investigation", reason=" ".join(HOSTILE), actor=manager)
        .do(
            "appoint_investigator",
            investigator_ref=INVESTIGATOR.id,
            independence_declared=True,
            declaration="[/]",
            actor=manager,
        )
    )
    short = story.incident_id.hex[:8]
    wide = {"COLUMNS": "400"}

    for args in (
        ["replay", "history", short],
        ["incidents", "show", short],
        ["incidents", "list"],
        ["fairness", short],
        ["replay", "diff", short, "1", "3"],
    ):
        result = cims(*args, env=wide)
        assert result.exit_code == 0, (args, result.output)
        assert "Traceback" not in result.output
    history = cims("replay", "history", short, env=wide).stdout
    assert " ".join(HOSTILE) in history
    assert "rita [/] (reporter)" in history
    assert '"investigation"' in cims("replay", "diff", short, "1", "3", env=wide).stdout
    assert organisation in cims("incidents", "show", short, env=wide).stdout
    assert organisation in cims("incidents", "list", env=wide).stdout
    assert json.loads(cims("replay", "history", short, "--json").stdout)["events"][2][
        "reason"
    ] == " ".join(HOSTILE)


# ---- progress on stderr, JSON alone on stdout


def test_verify_all_prints_json_alone_on_stdout_and_real_counts_on_stderr(
    cims: Cims, ledger: Ledger
) -> None:
    overdue_investigation(ledger)
    other_provider_injury(ledger)

    result = cims("replay", "verify", "--all")

    found = json.loads(result.stdout)  # nothing else on stdout
    assert result.exit_code == 0 and found["ok"] is True
    assert found["events_checked"] == 8
    assert "8/8 events" in result.stderr


def test_every_json_output_parses_from_stdout_alone(cims: Cims, ledger: Ledger) -> None:
    short = overdue_investigation(ledger).incident_id.hex[:8]

    for args in (
        ["incidents", "list", "--json"],
        ["incidents", "show", short, "--json"],
        ["fairness", short, "--json"],
        ["replay", "history", short, "--json"],
        ["replay", "diff", short, "1", "4", "--json"],
        ["replay", "as-of", short, "--version", "2"],
        ["replay", "verify", short],
        ["replay", "checkpoint"],
    ):
        result = cims(*args)
        assert result.exit_code == 0, (args, result.output)
        json.loads(result.stdout)


# ---- cims fairness


def test_fairness_shows_the_domains_checklist(cims: Cims, ledger: Ledger) -> None:
    story = overdue_investigation(ledger)
    uninvestigated = other_provider_injury(ledger)
    events = ledger.incident_events(story.incident_id)

    table = cims("fairness", story.incident_id.hex[:8], env={"COLUMNS": "200"})
    as_json = cims("fairness", str(story.incident_id), "--json")
    none = cims("fairness", uninvestigated.incident_id.hex[:8])

    checks = json.loads(as_json.stdout)
    expected = procedural_fairness(events, now=START.replace(year=2030))
    assert [c["check"] for c in checks] == [c.check for c in expected]
    assert len(checks) >= 5
    assert table.exit_code == 0
    for c in checks:
        assert c["check"].replace("_", " ") in table.stdout
    assert re.search(r"allegations served in writing before outcome\s+pass\s+v\d", table.stdout)
    assert re.search(r"completed within 28 days\s+fail", table.stdout)
    assert none.exit_code == 0 and "has no investigation" in none.stderr


# ---- replay diff


def test_diff_does_not_call_an_object_that_gained_fields_deleted(
    cims: Cims, ledger: Ledger
) -> None:
    story = LedgerStory.report(ledger, types=[T.PHYSICAL_ABUSE], impact="major").do(
        "record_notification", kind="police", recipient="Victoria Police", actor=MANAGER
    )
    short = story.incident_id.hex[:8]

    forward = json.loads(cims("replay", "diff", short, "1", "2", "--json").stdout)["changes"]
    backward = json.loads(cims("replay", "diff", short, "2", "1", "--json").stdout)["changes"]
    table = cims("replay", "diff", short, "1", "2", env={"COLUMNS": "200"}).stdout

    fields = {c["field"]: c for c in forward}
    assert "notified" not in fields
    assert fields["notified.police"]["change"] == "added"
    assert fields["notified.police"]["before"] is None
    assert {c["field"]: c["change"] for c in backward}["notified.police"] == "removed"
    assert "notified" not in {c["field"] for c in backward}
    assert re.search(r"notified\.police\s+—\s+\"2025-03-04", table)


def test_a_file_that_is_not_a_store_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "cims.db").write_text("notes, not a database " * 20)
    url = f"sqlite:///{tmp_path / 'cims.db'}"

    result = CliRunner().invoke(app, ["incidents", "list"], env={"CIMS_DATABASE_URL": url})

    assert result.exit_code == 1 and "Traceback" not in result.output
    assert error_lines(result) == [
        "cims: error: the store cannot be read: file is not a database"
        " (is CIMS_DATABASE_URL right?)"
    ]


def test_rebuild_shows_progress_on_stderr_and_history_gives_melbourne_time_to_the_second(
    cims: Cims, ledger: Ledger
) -> None:
    story = overdue_investigation(ledger)

    rebuilt = cims("projections", "rebuild")
    history = cims("replay", "history", story.incident_id.hex[:8], env={"COLUMNS": "200"})

    assert rebuilt.exit_code == 0, rebuilt.output
    assert rebuilt.stdout == ""
    assert re.search(r"rebuilding .* (\d+)/\1 log positions", rebuilt.stderr)
    assert rebuilt.stderr.splitlines()[-1] == "rebuilt"
    # reported 2025-03-04 01:00 UTC: 12:00 in Melbourne, daylight saving time
    assert re.search(r"\n\s*\d+\s+1\s+2025-03-04 12:00:00\+11:00\s", history.stdout)


def test_rebuild_with_two_workers_leaves_every_read_model_equal_to_a_rebuild(
    cims: Cims, ledger: Ledger
) -> None:
    overdue_investigation(ledger)

    rebuilt = cims("projections", "rebuild", "--workers", "2")
    verified = cims("projections", "verify")
    refused = cims("projections", "rebuild", "--workers", "3")

    assert rebuilt.exit_code == 0, rebuilt.output
    assert rebuilt.stderr.splitlines()[-1] == "rebuilt"
    assert verified.exit_code == 0, verified.output
    assert refused.exit_code == 2 and "--workers" in refused.output


def test_a_wrong_setting_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    runner = CliRunner()
    sqlite = f"sqlite:///{tmp_path / 'cims.db'}"

    scheme = runner.invoke(app, ["incidents", "list"], env={"CIMS_DATABASE_URL": "mysql://x/y"})
    number = runner.invoke(
        app,
        ["projections", "run", "--until-idle"],
        env={"CIMS_DATABASE_URL": sqlite, "CIMS_CHECKPOINT_EVERY": "often"},
    )

    assert scheme.exit_code == 1 and error_lines(scheme) == [
        "cims: error: CIMS_DATABASE_URL: unsupported store 'mysql': use sqlite:///PATH"
        " or postgresql://USER@HOST:PORT/DB[?schema=NAME]"
    ]
    assert number.exit_code == 2 and len(error_lines(number)) == 1
    assert error_lines(number)[0].startswith("cims: error: CIMS_CHECKPOINT_EVERY: Input should")


def test_every_read_of_an_incident_at_the_command_line_is_in_the_access_log(
    cims: Cims, ledger: Ledger, database_url: str, tmp_path: Path
) -> None:
    import getpass

    from projections.db import Db

    story = overdue_investigation(ledger)
    incident = str(story.incident_id)

    for args in [
        ("incidents", "show", incident),
        ("fairness", incident),
        ("replay", "history", incident),
        ("replay", "as-of", incident, "--version", "1"),
        ("replay", "diff", incident, "1", "2"),
        ("replay", "export", incident, "-o", str(tmp_path / "bundle.zip")),
    ]:
        assert cims(*args).exit_code == 0, args

    db = Db(database_url)
    try:
        with db.transaction(write=False) as tx:
            rows = tx.execute(
                "SELECT actor_id, actor_role, incident_id, what, outcome FROM rm_access_log"
                " ORDER BY id"
            )
    finally:
        db.close()
    assert [r[3] for r in rows] == [
        "cli:incident",
        "cli:procedural-fairness",
        "cli:history",
        "cli:as-of",
        "cli:diff",
        "cli:export",
    ]
    assert {(r[0], r[1], r[2], r[4]) for r in rows} == {
        (getpass.getuser(), "admin", incident, "granted")
    }


def test_show_says_when_the_stored_record_is_not_intact(
    cims: Cims, ledger: Ledger, database_url: str
) -> None:
    from projections.db import Db
    from replay.auditor import Auditor
    from tests.replay.test_replay import sql

    story = overdue_investigation(ledger)
    intact = cims("incidents", "show", str(story.incident_id), "--json")
    db = Db(database_url)
    try:
        auditor = Auditor(ledger, db)
        row = auditor.rows.of_incident(story.incident_id)[0]
        edited = bytes(row.state).replace(b'"location":"', b'"location":"edited ', 1)
        assert edited != bytes(row.state)
        sql(
            auditor,
            "UPDATE {table} SET state = ? WHERE originator_id = {id} AND originator_version = 1",
            [edited, story.incident_id],
        )
    finally:
        db.close()

    shown = cims("incidents", "show", str(story.incident_id), env={"COLUMNS": "200"})
    as_json = cims("incidents", "show", str(story.incident_id), "--json")
    history = cims("replay", "history", str(story.incident_id), env={"COLUMNS": "200"})

    assert json.loads(intact.stdout)["integrity"]["chain"] == "intact"
    assert shown.exit_code == 0, shown.output
    assert "WARNING: the stored record is not intact" in shown.stdout
    assert "version 1" in shown.stdout
    assert json.loads(as_json.stdout)["integrity"]["chain"] == "broken"
    assert "WARNING: the stored record is not intact" in history.stdout
