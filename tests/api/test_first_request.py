"""The first request after start-up costs what any other does: FastAPI builds each included
router's routes on the first match it is asked for, so the app matches them at start-up
(`api.main.warm_routes`) rather than on a person's first page load (issue 21, item 10)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import routing
from fastapi.testclient import TestClient

from tests.api.conftest import Auth


def test_no_route_is_built_on_the_first_request(
    client: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    original = routing._EffectiveRouteContext.from_api_route

    def counted(*args: Any, **kwargs: Any) -> Any:
        found = original(*args, **kwargs)
        built.append(kwargs.get("original_route", args[0] if args else None).path)
        return found

    monkeypatch.setattr(routing._EffectiveRouteContext, "from_api_route", counted)
    answer = client.get("/v1/obligations", headers=auth())
    assert answer.status_code == 200
    assert built == [], f"built on the first request: {built[:5]}"
