"""Schemathesis over /openapi.json: generated requests to every operation find no 5xx."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import hypothesis
import schemathesis
from fastapi.testclient import TestClient
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.auth import mint_token
from api.main import create_app
from api.settings import Settings
from domain.values import Role
from tests.api.conftest import report_body

SETTINGS = Settings(
    database_url=f"sqlite:///{tempfile.mkdtemp(prefix='cims-fuzz-')}/fuzz.db",
    jwt_secret="fuzz-secret-" + "z" * 32,
    run_projections_in_process=False,
    read_your_writes_wait_seconds=0.01,
    # No follower runs here, by design: /readyz would rightly say not ready (a 503).
    ready_max_lag_seconds=10**9,
)
APP = create_app(SETTINGS)
HEADERS = {
    "Authorization": "Bearer "
    + mint_token(SETTINGS, sub="fuzzer", role=Role.DEPARTMENT_OFFICER, org="DFFH")
}
# One real incident, so generated requests can reach past the 404 for its id. (No `with`:
# the app's lifespan would close its store on exit.)
INCIDENT = TestClient(APP).post("/v1/incidents", json=report_body(), headers=HEADERS).json()["id"]


async def without_lifespan(scope: Any, receive: Any, send: Any) -> None:
    """The app, minus its lifespan: schemathesis starts and stops it around every call, and
    stopping it closes the store this module keeps for the whole run."""
    if scope["type"] != "lifespan":
        await APP(scope, receive, send)
        return
    while (await receive())["type"] != "lifespan.shutdown":
        await send({"type": "lifespan.startup.complete"})
    await send({"type": "lifespan.shutdown.complete"})


schema = schemathesis.openapi.from_asgi("/openapi.json", without_lifespan)


# Fixed examples in the suite, so CI is repeatable; CIMS_FUZZ_EXAMPLES=500 explores afresh.
@schema.parametrize()
@hypothesis.settings(
    max_examples=int(os.environ.get("CIMS_FUZZ_EXAMPLES", "12")),
    derandomize=os.environ.get("CIMS_FUZZ_EXAMPLES") is None,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_no_generated_request_gets_a_server_error(case: Any) -> None:
    if "incident_id" in (case.path_parameters or {}) and len(str(case.body)) % 2:
        case.path_parameters["incident_id"] = INCIDENT
    response = case.call(headers=HEADERS)

    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", [""])
        assert "application/problem+json" in content_type[0], (case.path, content_type)
    # Every answer's status is one the document declares, with the content type and body
    # schema it declares (a 422 refusal as a Problem, a 200 as its response model).
    case.validate_response(
        response,
        checks=[status_code_conformance, content_type_conformance, response_schema_conformance],
    )
