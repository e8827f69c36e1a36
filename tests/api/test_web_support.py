"""What the web front end needs from the API: sign-in configuration, development tokens only
with the embedded secret, the pages served under a self-only CSP, deadlines in words' numbers,
and worklist filters by obligation kind and client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.deadlines import annotate
from api.main import create_app
from api.settings import Settings
from api.web import content_security_policy
from tests.api.conftest import Auth, report_body


def test_development_sign_in_is_absent_with_a_configured_secret(client: TestClient) -> None:
    assert client.get("/v1/sign-in").json() == {"development": False, "oidc": None}
    for method, path in (("POST", "/v1/dev/token"), ("GET", "/v1/dev/identities")):
        answer = client.request(method, path, json={})
        assert answer.status_code == 404, (method, path)
        assert answer.headers["content-type"] == "application/problem+json"


@pytest.fixture
def development(tmp_path: Path) -> Iterator[TestClient]:
    """The app as `cims serve` runs it out of the box: the embedded, generated secret."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'cims.db'}", jwt_secret=None)
    with TestClient(create_app(settings)) as c:
        yield c


def test_development_sign_in_mints_a_token_for_a_demo_identity(development: TestClient) -> None:
    assert development.get("/v1/sign-in").json()["development"] is True
    people = development.get("/v1/dev/identities").json()["items"]
    manager = next(p for p in people if p["sub"] == "manager@Northside Community Services")
    assert {"regulator", "auditor", "department_officer", "reviewer"} <= {p["role"] for p in people}
    minted = development.post(
        "/v1/dev/token",
        json={k: manager[k] for k in ("sub", "role", "organisation")},
    ).json()
    assert minted["token_type"] == "Bearer" and minted["expires_in"] == 8 * 3600
    headers = {"Authorization": f"Bearer {minted['access_token']}"}
    assert development.get("/v1/incidents", headers=headers).status_code == 200


def test_a_development_token_needs_a_known_role(development: TestClient) -> None:
    answer = development.post(
        "/v1/dev/token", json={"sub": "x", "role": "superuser", "organisation": "DFFH"}
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "role"


def test_the_front_end_is_served_under_a_self_only_policy(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and '<script type="module" src="/js/app.js">' in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    script = client.get("/js/api.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "content-security-policy" in script.headers
    assert client.get("/v1/no-such-thing").headers["content-type"] == "application/problem+json"


def test_front_end_files_are_revalidated_while_api_answers_are_never_stored(
    client: TestClient,
) -> None:
    script = client.get("/js/api.js")
    assert script.headers["cache-control"] == "no-cache"  # kept, but asked about each time
    again = client.get("/js/api.js", headers={"If-None-Match": script.headers["etag"]})
    assert again.status_code == 304
    # Records stay out of every cache, the 404 of an unknown API path included.
    assert client.get("/v1/rules").headers["cache-control"] == "no-store"
    assert client.get("/v1/no-such-thing").headers["cache-control"] == "no-store"


def test_with_oidc_the_policy_lets_the_page_talk_to_the_issuer_only() -> None:
    policy = content_security_policy(
        Settings(oidc_issuer="https://login.example.gov.au/realms/cims")
    )
    assert "connect-src 'self' https://login.example.gov.au;" in policy


# Tuesday 4 March 2025, 12:00 in Melbourne.
NOW = datetime(2025, 3, 4, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("due", "status", "left", "overdue"),
    [
        ("2025-03-06T06:00:00Z", "open", 2, None),  # Thursday 17:00: two business days on
        ("2025-03-04T06:00:00Z", "open", 0, None),  # today at 17:00
        ("2025-03-11T06:00:00Z", "open", 4, None),  # past the weekend and Labour Day (10 Mar)
        ("2025-03-01T06:00:00Z", "overdue", None, 3),  # Saturday: three calendar days ago
        ("2025-03-04T00:00:00Z", "overdue", None, 0),  # earlier today
        ("2025-03-06T06:00:00Z", "met", None, None),
        (None, "open", None, None),
    ],
)
def test_deadlines_in_business_days_and_days_overdue(
    due: str | None, status: str, left: int | None, overdue: int | None
) -> None:
    found = annotate({"kind": "k", "due": due, "status": status}, NOW)
    assert (found["business_days_left"], found["days_overdue"]) == (left, overdue)


@pytest.mark.store
def test_worklist_filters_by_obligation_kind_and_client(client: TestClient, auth: Auth) -> None:
    positions = []
    for ref in ("client-a", "client-%", "client-b"):
        body = report_body(clients=[{"ref": ref, "aboriginal": False}])
        answer = client.post("/v1/incidents", json=body, headers=auth("reporter"))
        assert answer.status_code == 201, answer.text
        positions.append(answer.json()["position"])
    at = max(positions)

    def worklist(**query: str) -> list[dict[str, object]]:
        answer = client.get("/v1/obligations", params={**query, "min_position": at}, headers=auth())
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])

    mine = worklist(client="client-a")
    assert mine and {tuple(i["clients"]) for i in mine} == {("client-a",)}
    assert {tuple(i["clients"]) for i in worklist(client="client-%")} == {("client-%",)}
    assert worklist(client="client") == []  # a whole reference, not a prefix
    reports = worklist(kind="incident_report", status="all")  # met: not needing action
    assert len(reports) == 3 and {i["kind"] for i in reports} == {"incident_report"}
    assert {i["kind"] for i in worklist(kind="police_contact", client="client-b")} == {
        "police_contact"
    }
    for item in worklist():
        assert "business_days_left" in item and "days_overdue" in item


@pytest.mark.store
def test_incidents_sorted_oldest_first_page_on_in_that_order(
    client: TestClient, auth: Auth, clock: Any
) -> None:
    made = []
    for n in range(5):
        clock.advance(minutes=1)
        body = report_body(clients=[{"ref": f"c-{n}", "aboriginal": False}])
        answer = client.post("/v1/incidents", json=body, headers=auth("reporter"))
        made.append(answer.json())
    at = made[-1]["position"]

    def pages(sort: str) -> list[str]:
        found: list[str] = []
        cursor = None
        while True:
            query = {"sort": sort, "limit": 2, "min_position": at}
            page = client.get(
                "/v1/incidents",
                params={**query, **({"cursor": cursor} if cursor else {})},
                headers=auth(),
            ).json()
            found += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                return found

    ids = [m["id"] for m in made]
    assert pages("oldest") == ids
    assert pages("newest") == ids[::-1]
    bad = client.get("/v1/incidents", params={"sort": "sideways"}, headers=auth())
    assert bad.status_code == 422


def test_every_front_end_file_is_installed_with_the_package() -> None:
    import tomllib

    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / "pyproject.toml").read_text())
    web = root / "web"
    # Globbed from the package folder, as setuptools resolves package-data.
    packaged = {
        p
        for pattern in config["tool"]["setuptools"]["package-data"]["web"]
        for p in web.glob(pattern)
    }
    files = {p for p in web.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")}
    assert files and not files - packaged, f"not in package-data: {files - packaged}"
