"""Upgrades (issue 23 item 3): a store written by an earlier release, opened by this code, as a
deployment moved to this release would be. Each `tests/data/release-*.db.gz` is such a store,
written by `tests/deploy/release_store.py` with the code of its release (see docs/operations.md,
"Upgrading"): its events verify against the checkpoint exported then, its read models are
rebuilt where their tables changed and kept where they did not, its incidents list, and new
commands are written beside the old events (on old incidents as on new ones)."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.auth import mint_token
from api.main import create_app
from api.settings import Settings
from cli.main import app
from domain.values import Role
from projections.db import Db
from projections.runner import models, tables_digest
from tests.api.conftest import report_body
from tests.deploy.release_store import CHECKPOINT_KEY, FEED_SECRET

DATA = Path(__file__).resolve().parents[1] / "data"
RELEASES = sorted(DATA.glob("release-*.db.gz"))
JWT_SECRET = "upgrade-test-jwt-secret-" + "x" * 32


@dataclass
class Release:
    url: str
    checkpoint: Path
    events: int


@pytest.fixture(params=RELEASES, ids=[p.name.removesuffix(".db.gz") for p in RELEASES])
def release(request: pytest.FixtureRequest, tmp_path: Path) -> Release:
    packed: Path = request.param
    db = tmp_path / "cims.db"
    with gzip.open(packed, "rb") as source, db.open("wb") as plain:
        shutil.copyfileobj(source, plain)
    checkpoint = packed.with_name(packed.name.removesuffix(".db.gz") + ".checkpoint.json")
    events = json.loads(checkpoint.read_text())["event_count"]
    return Release(f"sqlite:///{db}", checkpoint, events)


def cims(url: str, *args: str) -> Any:
    env = {"CIMS_DATABASE_URL": url, "CIMS_FEED_SECRET": FEED_SECRET}
    return CliRunner().invoke(app, list(args), env={**env, "CIMS_CHECKPOINT_KEY": CHECKPOINT_KEY})


@pytest.fixture
def started(release: Release) -> Iterator[TestClient]:
    """The API started on the old store, as the upgraded deployment's first process would."""
    settings = Settings(
        database_url=release.url,
        jwt_secret=JWT_SECRET,
        feed_secret=FEED_SECRET,
        checkpoint_key=CHECKPOINT_KEY,
        run_projections_in_process=True,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        client.app.state.services.read_models.catch_up()  # type: ignore[attr-defined]
        yield client


def auth(role: Role, org: str) -> dict[str, str]:
    settings = Settings(jwt_secret=JWT_SECRET)
    return {"Authorization": f"Bearer {mint_token(settings, sub='upgrade', role=role, org=org)}"}


DEPARTMENT = auth(Role.DEPARTMENT_OFFICER, "DFFH")


def listed(client: TestClient) -> list[dict[str, Any]]:
    answer = client.get("/v1/incidents?limit=200", headers=DEPARTMENT)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def tracking(url: str) -> dict[str, tuple[int, str]]:
    db = Db(url)
    try:
        with db.transaction(write=False) as tx:
            rows = tx.execute("SELECT view, position, tables FROM rm_tracking")
    finally:
        db.close()
    return {r[0]: (int(r[1]), r[2]) for r in rows}


def test_the_old_store_verifies_against_the_checkpoint_exported_by_its_release(
    release: Release,
) -> None:
    found = cims(release.url, "replay", "verify", "--all", "--checkpoint", str(release.checkpoint))

    assert found.exit_code == 0, found.stdout + found.stderr
    result = json.loads(found.stdout)
    assert result["ok"] and result["events_checked"] == release.events > 0
    assert result["checkpoints_checked"] >= 1


def test_read_models_whose_tables_changed_are_rebuilt_on_start(release: Release) -> None:
    """One read model is made to look as an earlier release left it (another digest, and rows
    this release would not have written): starting the API drops and rebuilds it from the log;
    the others, whose tables are this release's, are kept as they were."""
    current = {m.name: tables_digest(m) for m in models(FEED_SECRET.encode())}
    db = Db(release.url)
    try:
        with db.transaction() as tx:
            tx.execute("UPDATE rm_tracking SET tables = 'an-earlier-shape'"
                       " WHERE view = 'incident_summary'")  # fmt: skip
            tx.execute("DELETE FROM rm_incident_summary")
    finally:
        db.close()
    before = tracking(release.url)

    settings = Settings(database_url=release.url, jwt_secret=JWT_SECRET, feed_secret=FEED_SECRET)
    with TestClient(create_app(settings)) as client:
        client.app.state.services.read_models.catch_up()  # type: ignore[attr-defined]
        items = listed(client)

    after = tracking(release.url)
    assert {view: shape for view, (_, shape) in after.items()} == current
    assert all(position == release.events for position, _ in after.values())
    assert len(items) == len({i["id"] for i in items}) > 0
    kept = [v for v, (_, shape) in before.items() if shape == current[v]]
    assert "incident_summary" not in kept and kept, "the others are this release's tables"


def test_the_incidents_list_and_new_commands_are_written_beside_the_old_events(
    release: Release, started: TestClient
) -> None:
    old = listed(started)
    assert old, "the old store's incidents are listed"
    manager = auth(Role.INCIDENT_MANAGER, "Northside Community Services")

    reported = started.post("/v1/incidents", json=report_body(), headers=manager)
    assert reported.status_code == 201, reported.text
    open_old = next(
        i for i in old
        if i["reporting_organisation"] == "Northside Community Services" and i["stage"] != "closed"
    )  # fmt: skip
    detail = started.get(f"/v1/incidents/{open_old['id']}", headers=manager).json()
    voice = started.post(
        f"/v1/incidents/{open_old['id']}/client-voice",
        json={
            "client_ref": detail["clients"][0]["ref"],
            "said": "I want to stay where I am.",
            "expected_version": detail["version"],
        },
        headers=manager,
    )
    assert voice.status_code == 200, voice.text
    assert voice.json()["version"] == detail["version"] + 1
    started.app.state.services.read_models.catch_up()  # type: ignore[attr-defined]

    assert len(listed(started)) == len(old) + 1
    verified = cims(
        release.url, "replay", "verify", "--all", "--checkpoint", str(release.checkpoint)
    )
    assert verified.exit_code == 0, verified.stdout
    assert json.loads(verified.stdout)["events_checked"] == release.events + 2
