"""Every list pages one way (api/paging.py): `?cursor=` and `?limit=`, answering `items` and
`next_cursor` (with `Link: rel="next"`); a log that grows always gives `next_cursor`."""

from __future__ import annotations

import tempfile
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from api import resources as out
from api.main import create_app
from api.routers.patterns import LegacyImportOut, PatternView, Suggestions, Unresolved
from api.settings import Settings
from tests.api.conftest import Auth, read_models_caught_up, report_body
from tests.api.test_patterns import EXAMPLE, manager, non_major, officer

pytestmark = pytest.mark.store
LOGS = ("/audit-trail", "/v1/access-log", "/v1/feeds/")


def walk(client: TestClient, path: str, headers: dict[str, str]) -> list[list[Any]]:
    """The pages of `path` at one item a page, following `next_cursor` (and the Link header)."""
    pages: list[list[Any]] = []
    cursor: str | None = None
    path, _, fixed = path.partition("?")
    is_log = any(part in path for part in LOGS)
    while True:
        params = {**dict(parse_qsl(fixed)), "limit": 1}
        params |= {"cursor": cursor} if cursor is not None else {}
        response = client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) >= {"items", "next_cursor"}, body
        if not body["items"]:
            assert is_log, path  # a list's last page says so with a null next_cursor
            assert body["next_cursor"] == cursor  # caught up: keep the cursor, ask again later
            return pages
        pages.append(body["items"])
        if is_log:
            assert isinstance(body["next_cursor"], str)
        elif body["next_cursor"] is None:
            assert "Link" not in response.headers
            return pages
        else:
            link = response.headers["Link"]
            assert link.startswith("<") and link.endswith('>; rel="next"'), link
            url = urlsplit(link[1 : -len('>; rel="next"')])
            assert parse_qs(url.query)["cursor"] == [body["next_cursor"]], link
        cursor = body["next_cursor"]
        assert len(pages) < 500, path


def test_every_list_pages_with_cursor_and_limit(client: TestClient, auth: Auth) -> None:
    ids = [non_major(client, auth) for _ in range(3)]
    critical = client.post(
        "/v1/incidents", json=report_body(regulator_category="critical"), headers=auth()
    )
    assert critical.status_code == 201, critical.text
    reclassified = client.post(
        f"/v1/incidents/{critical.json()['id']}/reclassify",
        json={"expected_version": 1, "regulator_category": "notifiable", "reason": "Seen again"},
        headers=manager(auth),
    )
    assert reclassified.status_code == 200, reclassified.text
    legacy = client.post(
        "/v1/legacy-imports", json={"csv": EXAMPLE.read_text()}, headers=officer(auth)
    )
    assert legacy.status_code == 200, legacy.text
    LegacyImportOut.model_validate(legacy.json())
    client.get(f"/v1/incidents/{ids[0]}", headers=manager(auth))
    read_models_caught_up(client)
    lists = [
        ("/v1/incidents", manager(auth), out.IncidentList),
        ("/v1/obligations", manager(auth), out.Worklist),
        (f"/v1/incidents/{critical.json()['id']}/audit-trail", auth(), out.AuditTrail),
        ("/v1/access-log", auth("auditor", org="DFFH"), out.AccessLog),
        ("/v1/feeds/ssr", auth("regulator", org="SSR"), out.Feed),
        ("/v1/legacy-imports/unresolved", officer(auth), Unresolved),
        ("/v1/patterns/clients?department_client_id=1234567", officer(auth), PatternView),
        ("/v1/patterns/suggestions", officer(auth), Suggestions),
    ]
    for path, headers, model in lists:
        answer = client.get(path, params={"limit": 200}, headers=headers)
        if "?" in path:
            base, _, fixed = path.partition("?")
            answer = client.get(
                base, params={**dict(parse_qsl(fixed)), "limit": 200}, headers=headers
            )
        assert answer.status_code == 200, (path, answer.text)
        model.model_validate(answer.json())  # the answer is what /openapi.json says it is
        whole = answer.json()["items"]
        pages = walk(client, path, headers)
        assert len(whole) >= 2 or path.endswith("suggestions"), (path, whole)
        assert whole, path
        walked = [item for page in pages for item in page]
        assert walked[: len(whole)] == whole and (len(whole) == 200 or walked == whole), path
        assert all(len(page) == 1 for page in pages), path


def test_a_log_gives_a_cursor_to_resume_from_and_serves_what_came_later(
    client: TestClient, auth: Auth
) -> None:
    auditor = auth("auditor", org="DFFH")
    client.get("/v1/incidents", headers=auth())
    first = client.get("/v1/access-log", params={"limit": 500}, headers=auditor).json()
    client.get("/v1/incidents", headers=auth())

    later = client.get(
        "/v1/access-log", params={"cursor": first["next_cursor"]}, headers=auditor
    ).json()

    assert "list:incidents" in [e["what"] for e in later["items"]]
    assert all(e["id"] > int(first["next_cursor"]) for e in later["items"])
    assert later["next_cursor"] == str(later["items"][-1]["id"])


def test_the_old_after_names_still_work_for_this_release(client: TestClient, auth: Auth) -> None:
    incident = client.post("/v1/incidents", json=report_body(), headers=auth()).json()["id"]
    client.post(
        f"/v1/incidents/{incident}/reclassify",
        json={"expected_version": 1, "regulator_category": "critical", "reason": "ICU"},
        headers=auth("incident_manager"),
    )
    read_models_caught_up(client)
    trail = f"/v1/incidents/{incident}/audit-trail"
    first = client.get(trail, params={"limit": 1}, headers=auth()).json()

    by_cursor = client.get(trail, params={"cursor": first["next_cursor"]}, headers=auth())
    by_after = client.get(trail, params={"after": first["next_cursor"]}, headers=auth())

    assert by_cursor.json() == by_after.json()
    assert [e["event_type"] for e in by_after.json()["items"]] == ["Reclassified"]


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/v1/access-log", {"cursor": "yesterday"}),
        ("/v1/access-log", {"cursor": "1", "after": "1"}),
        ("/v1/feeds/ssr", {"cursor": "-1"}),
        ("/v1/feeds/ssr", {"after": str(2**64)}),
        ("/v1/legacy-imports/unresolved", {"cursor": "not-an-id"}),
        ("/v1/patterns/suggestions", {"cursor": "bm90IGpzb24"}),
        ("/v1/patterns/suggestions", {"cursor": "e30="}),  # {} is not a list's place
        ("/v1/obligations", {"cursor": "%%%"}),
        ("/v1/incidents", {"cursor": "%%%"}),
    ],
)
def test_a_cursor_the_api_did_not_give_is_a_422_naming_it(
    client: TestClient, auth: Auth, path: str, query: dict[str, str]
) -> None:
    who = {
        "/v1/access-log": auth("auditor", org="DFFH"),
        "/v1/feeds/ssr": auth("regulator", org="SSR"),
    }.get(path, officer(auth))

    response = client.get(path, params=query, headers=who)

    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["rule"] in ("schema.cursor", "schema.cursor-or-after")
    assert error["field"] in query


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    settings = Settings(
        database_url=f"sqlite:///{tempfile.mkdtemp(prefix='cims-paging-')}/doc.db",
        jwt_secret="doc-secret-" + "d" * 32,
        run_projections_in_process=False,
    )
    found: dict[str, Any] = TestClient(create_app(settings)).get("/openapi.json").json()
    return found


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_openapi_shows_one_paging_style_for_every_list(doc: dict[str, Any]) -> None:
    """A list is an answer with an array of `items`; each takes `cursor` and `limit`, answers
    `next_cursor` (a string), and any `after` it still takes is marked deprecated."""
    lists = []
    for path, item in doc["paths"].items():
        op = item.get("get")
        # The catalogue is one whole document; an incident's documents and the record of its
        # steps are one small whole each.
        if op is None or path == "/v1/rules" or path.endswith(("/documents", "/record")):
            continue
        content = op["responses"]["200"].get("content", {}).get("application/json")
        if content is None:
            continue
        schema = _resolve(doc, content["schema"])
        if schema.get("properties", {}).get("items", {}).get("type") != "array":
            continue
        lists.append(path)
        params = {p["name"]: p for p in op.get("parameters", [])}
        assert {"cursor", "limit"} <= set(params), path
        assert params.get("after", {"deprecated": True}).get("deprecated") is True, path
        next_cursor = schema["properties"]["next_cursor"]
        kinds = {s.get("type") for s in next_cursor.get("anyOf", [next_cursor])}
        assert "string" in kinds and "integer" not in kinds, path
        assert "next_after" not in schema.get("required", []), path
        if not any(part in path for part in LOGS):
            assert "Link" in op["responses"]["200"].get("headers", {}), path
    assert len(lists) == 11, lists
