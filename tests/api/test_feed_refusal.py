"""A regulator's token whose organisation is not its feed's name is told which it must be."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from domain.values import Role
from tests.api.conftest import Auth

pytestmark = pytest.mark.store


def test_the_feeds_403_names_the_regulators_organisations(client: TestClient, auth: Auth) -> None:
    refused = client.get("/v1/feeds/ssr", headers=auth(Role.REGULATOR, org="Social Services"))

    assert refused.status_code == 403
    detail = refused.json()["detail"]
    assert "organisation is 'ssr'" in detail and "'ssr', 'ccyp'" in detail
    own = client.get("/v1/feeds/ssr", headers=auth(Role.REGULATOR, org="ssr"))
    assert own.status_code == 200
