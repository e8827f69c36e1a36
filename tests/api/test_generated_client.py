"""A typed client generated from `/openapi.json` by a standard generator (openapi-python-client)
walks one incident from report to close: every answer and every refusal is parsed through the
generated models, so a document that mis-describes an answer fails here."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.api.conftest import Auth, report_body

pytestmark = pytest.mark.store
PACKAGE = "cims_generated_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The client package generated from the app's `/openapi.json`, imported."""
    folder = tmp_path_factory.mktemp("generated")
    settings = Settings(
        database_url=f"sqlite:///{tempfile.mkdtemp(prefix='cims-doc-')}/doc.db",
        jwt_secret="doc-secret-" + "d" * 32,
        run_projections_in_process=False,
    )
    document = TestClient(create_app(settings)).get("/openapi.json").json()
    (folder / "openapi.json").write_bytes(orjson.dumps(document))
    # The audit bundle is a zip: read as bytes like any binary body.
    (folder / "config.yaml").write_text(
        f"package_name_override: {PACKAGE}\npost_hooks: []\n"
        "content_type_overrides:\n  application/zip: application/octet-stream\n"
    )
    generator = Path(sys.executable).parent / "openapi-python-client"
    done = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(folder / "openapi.json"),
            "--output-path",
            str(folder / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(folder / "config.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # Warnings mean parts of the document could not be turned into a client.
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(folder))
    try:
        package = importlib.import_module(PACKAGE)
        importlib.import_module(f"{PACKAGE}.models")
        return package
    finally:
        sys.path.remove(str(folder))


class Caller:
    """One identity's generated client, over the app under test."""

    def __init__(self, gen: ModuleType, app: Any, headers: dict[str, str]) -> None:
        self.gen = gen
        self.client = gen.AuthenticatedClient(
            base_url="http://testserver", token="-", raise_on_unexpected_status=True
        ).set_httpx_client(TestClient(app, headers=headers))

    def call(self, operation: str, **kwargs: Any) -> Any:
        """Call a generated operation (module `api.<tag>.<operation id>`): its parsed answer."""
        tag = "read_models" if operation.startswith("read_models") else operation.split("_")[0]
        module = importlib.import_module(f"{self.gen.__name__}.api.{tag}.{operation}")
        return module.sync_detailed(client=self.client, **kwargs)

    def command(self, incident: Any, name: str, version: int, **fields: Any) -> Any:
        """Issue command `name` with a body built through its generated request model."""
        operation = "incidents_command_" + name.replace("-", "_")
        module = importlib.import_module(f"{self.gen.__name__}.api.incidents.{operation}")
        body_type = module.sync_detailed.__annotations__["body"]
        if isinstance(body_type, str):
            body_type = getattr(importlib.import_module(f"{self.gen.__name__}.models"), body_type)
        body = body_type.from_dict({"expected_version": version, **fields})
        return module.sync_detailed(incident, client=self.client, body=body)


def accepted(gen: ModuleType, answer: Any) -> Any:
    assert isinstance(answer.parsed, gen.models.Accepted), (answer.status_code, answer.content)
    return answer.parsed


def refused(gen: ModuleType, answer: Any, status: int) -> Any:
    assert answer.status_code == status, answer.content
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert isinstance(answer.parsed, gen.models.Problem), answer.content
    return answer.parsed


def test_a_generated_client_walks_an_incident_from_report_to_close(
    generated: ModuleType, client: TestClient, auth: Auth
) -> None:
    gen, app = generated, client.app
    manager = Caller(gen, app, auth("incident_manager"))
    investigator = Caller(gen, app, auth("investigator", sub="investigator-7"))
    someone_else = Caller(gen, app, auth("investigator", sub="investigator-8"))
    models = gen.models

    report = manager.call(
        "incidents_report_incident", body=models.ReportIn.from_dict(report_body())
    )
    assert report.status_code == 201
    incident = accepted(gen, report).id  # a UUID, parsed by the generated model
    rules = manager.call("rules_rules").parsed
    assert isinstance(rules, models.Rules)
    types = {rule.type_ for rule in rules.items}

    version, position = report.parsed.version, report.parsed.position

    def step(caller: Caller, name: str, **fields: Any) -> None:
        nonlocal version, position
        shown = caller.call("incidents_get_incident", incident_id=incident).parsed
        assert isinstance(shown, models.IncidentOut)
        # The caller's buttons come from `next_actions`: the step is offered before it is taken.
        assert name in [a.command for a in shown.next_actions], name
        done = accepted(gen, caller.command(incident, name, version, **fields))
        version, position = done.version, done.position

    # A refusal by policy: an investigation step before one was determined.
    early = refused(gen, manager.command(incident, "appoint-investigator", version, **APPOINT), 422)
    assert early.rule == "investigation.not-determined" and early.type_ in types
    step(manager, "notifications", kind="police", recipient="Victoria Police")
    step(manager, "follow-up", kind="investigation", reason="Major-impact physical abuse.")
    step(manager, "appoint-investigator", **APPOINT)
    # Only the appointed investigator takes investigation steps.
    other = refused(
        gen, someone_else.command(incident, "investigation-plan", version, plan="x"), 403
    )
    assert other.type_ in types
    step(investigator, "investigation-plan", plan="Interview; CCTV.", lines_of_enquiry=["CCTV"])
    served_too_late = refused(
        gen, investigator.command(incident, "outcomes", version, outcomes=[OUTCOME]), 422
    )
    assert served_too_late.rule == "fairness.allegations-not-served"
    assert served_too_late.errors[0].rule == "fairness.allegations-not-served"
    step(investigator, "serve-allegations", subject_refs=["carer-1"], method="letter_by_hand")
    stale = refused(gen, investigator.command(incident, "evidence", version - 1, **EVIDENCE), 409)
    assert stale.current_version == version and stale.type_ in types
    step(investigator, "subject-responses", subject_ref="carer-1", response="I held their arm.")
    step(investigator, "evidence", **EVIDENCE)
    step(investigator, "outcomes", outcomes=[OUTCOME])
    step(
        investigator,
        "investigation-report",
        summary="Substantiated.",
        recommendations=[{"id": "R1", "text": "Retrain staff."}],
    )
    step(
        manager,
        "communicate-outcome",
        recipient="client",
        recipient_ref="client-1",
        in_writing=True,
    )
    step(
        manager,
        "communicate-outcome",
        recipient="subject_of_allegation",
        recipient_ref="carer-1",
        in_writing=True,
    )
    step(manager, "response-plan", plan="New placement; counselling.")
    step(manager, "carer-support-plan", carer_ref="carer-1", plan="Supervision and training.")
    step(manager, "recommendation-actions", recommendation_id="R1", action="Training done.")
    step(manager, "close", reason="Every required step is met.")

    closed = manager.call("incidents_get_incident", incident_id=incident).parsed
    assert closed.stage == models.Stage.CLOSED and closed.version == version
    assert [a.command for a in closed.next_actions] == [
        "reopen",
        "corrections",
        "responsible-organisation",
    ]
    assert all(o.status != models.Status.OPEN for o in closed.obligations)
    listed = manager.call(
        "incidents_list_incidents", status=models.Stage.CLOSED, min_position=position
    ).parsed
    assert isinstance(listed, models.IncidentList)
    assert [i.id for i in listed.items] == [incident]
    for name, kwargs in (
        ("incidents_get_obligations", {"incident_id": incident}),
        ("incidents_get_procedural_fairness", {"incident_id": incident}),
        ("incidents_get_audit_trail", {"incident_id": incident}),
        ("read_models_worklist", {}),
        ("read_models_statistics", {}),
    ):
        answer = manager.call(name, **kwargs)
        assert answer.status_code == 200 and answer.parsed is not None, (name, answer.content)
        assert not isinstance(answer.parsed, models.Problem), name
    auditor = Caller(gen, app, auth("auditor"))
    for name, kwargs in (
        ("replay_get_history", {"incident_id": incident}),
        ("replay_get_as_of", {"incident_id": incident, "version": 3}),
        ("replay_get_diff", {"incident_id": incident, "a": "1", "b": str(version)}),
        ("replay_get_verify", {"incident_id": incident}),
        ("replay_get_export", {"incident_id": incident}),
        ("read_models_access_log", {}),
    ):
        answer = auditor.call(name, **kwargs)
        assert answer.status_code == 200 and answer.parsed is not None, (name, answer.content)
        assert not isinstance(answer.parsed, models.Problem), name
    missing = refused(gen, manager.call("incidents_get_incident", incident_id=OTHER_ID), 404)
    assert missing.type_ in types


APPOINT = {
    "investigator_ref": "investigator-7",
    "independence_declared": True,
    "declaration": "No relationship with anyone involved.",
}
EVIDENCE = {"kind": "cctv", "description": "Hallway camera, 08:55 to 09:10."}
OUTCOME = {
    "subject_ref": "carer-1",
    "incident_type": "Physical abuse",
    "finding": "substantiated",
    "rationale": "CCTV shows it.",
}
OTHER_ID = "00000000-0000-4000-8000-000000000000"
