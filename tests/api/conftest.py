"""An app on a temporary store, a fixed clock, and tokens for every role and organisation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.auth import mint_token
from api.authorisation import SEE_ALL
from api.main import create_app
from api.settings import Settings
from domain.values import Role
from tests.factories import START

OWN = "Northside CSO"
OTHER = "Eastside Housing"
DEPARTMENT = "DFFH"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        jwt_secret="test-secret-" + "x" * 32,
        feed_secret="feed-secret",
        run_projections_in_process=True,
    )


@pytest.fixture
def client(settings: Settings, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock), raise_server_exceptions=False) as c:
        yield c


Auth = Callable[..., dict[str, str]]


@pytest.fixture
def auth(settings: Settings) -> Auth:
    def headers(
        role: Role | str = Role.INCIDENT_MANAGER,
        org: str | None = None,
        sub: str | None = None,
        **extra: str,
    ) -> dict[str, str]:
        role = Role(role)
        # The roles that see every incident are the department's (CIMS_DEPARTMENT_ORGANISATIONS).
        org = org or (DEPARTMENT if role in SEE_ALL else OWN)
        token = mint_token(settings, sub=sub or f"{role.value}-1", role=role, org=org)
        return {"Authorization": f"Bearer {token}", **extra}

    return headers


def report_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "program": "cso",
        "care_context": "cso_placement",
        "clients": [{"ref": "client-1", "aboriginal": False}],
        "types": ["Physical abuse"],
        "impact": "major",
        "occurred_at": "2025-03-04T09:00:00+11:00",
        "became_aware_at": "2025-03-04T10:00:00+11:00",
        "location": "Residential unit",
        "description": "Bruising on the client's arm; the client says a carer grabbed them.",
        "subjects_of_allegation": [{"ref": "carer-1", "role": "carer"}],
        "immediate_actions": "Client safe; carer stood down.",
        "regulator_category": "notifiable",
    }
    body.update(overrides)
    return body


def read_models_caught_up(client: TestClient) -> None:
    client.app.state.services.read_models.catch_up()  # type: ignore[attr-defined]
