"""Reminder subscriptions over HTTP: who may subscribe, where the address comes from, who sees
and ends which, and that each is recorded with who and when."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.auth import mint_token
from api.settings import Settings
from domain.values import Role
from tests.api.conftest import OTHER, OWN, Auth


def with_email(settings: Settings, role: Role, sub: str, email: str) -> dict[str, str]:
    token = mint_token(settings, sub=sub, role=role, org=OWN, email=email)
    return {"Authorization": f"Bearer {token}"}


def test_a_person_subscribes_with_the_tokens_email_and_sees_it(
    client: TestClient, settings: Settings
) -> None:
    headers = with_email(settings, Role.INVESTIGATOR, "ivan", "Ivan@Northside.example")
    made = client.post("/v1/reminders/subscriptions", json={"scope": "named"}, headers=headers)
    assert made.status_code == 201, made.text
    assert made.json()["email"] == "Ivan@northside.example"  # the domain part normalised
    assert made.json()["scope"] == "named" and made.json()["organisation"] == OWN
    listed = client.get("/v1/reminders/subscriptions", headers=headers).json()["items"]
    assert [s["id"] for s in listed] == [made.json()["id"]]


def test_an_address_is_required_and_an_invalid_one_is_refused_at_its_field(
    client: TestClient, auth: Auth
) -> None:
    missing = client.post("/v1/reminders/subscriptions", json={}, headers=auth())
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "email"
    assert missing.json()["type"].endswith("/validation")
    assert missing.json()["errors"][0]["rule"] == "reminders.email-required"
    for bad in ("not-an-address", "a@b", "mel@@northside.example", "mel@northside.example\n"):
        refused = client.post("/v1/reminders/subscriptions", json={"email": bad}, headers=auth())
        assert refused.status_code == 422, bad
        assert refused.json()["errors"][0]["field"] == "email", bad


def test_regulators_and_auditors_have_no_worklist_to_be_reminded_of(
    client: TestClient, auth: Auth
) -> None:
    for role in (Role.REGULATOR, Role.AUDITOR):
        answer = client.post(
            "/v1/reminders/subscriptions",
            json={"email": "x@y.example"},
            headers=auth(role, org="ssr" if role is Role.REGULATOR else OWN),
        )
        assert answer.status_code == 403, role


def test_a_manager_sees_and_ends_the_organisations_subscriptions_and_the_log_says_who(
    client: TestClient, auth: Auth
) -> None:
    ivan = auth(Role.INVESTIGATOR, sub="ivan")
    made = client.post(
        "/v1/reminders/subscriptions", json={"email": "ivan@northside.example"}, headers=ivan
    ).json()
    other_org = auth(Role.INCIDENT_MANAGER, org=OTHER, sub="olga")
    client.post(
        "/v1/reminders/subscriptions", json={"email": "olga@east.example"}, headers=other_org
    )

    manager = auth(Role.INCIDENT_MANAGER, sub="mel")
    seen = client.get("/v1/reminders/subscriptions", headers=manager).json()["items"]
    assert [s["email"] for s in seen] == ["ivan@northside.example"]  # not the other org's
    # Another organisation's manager cannot end it: as unknown as a missing one.
    assert (
        client.post(f"/v1/reminders/subscriptions/{made['id']}/end", headers=other_org).status_code
        == 404
    )
    # A colleague who is not a manager cannot either.
    colleague = auth(Role.INVESTIGATOR, sub="ian")
    assert (
        client.post(f"/v1/reminders/subscriptions/{made['id']}/end", headers=colleague).status_code
        == 404
    )
    assert (
        client.post(f"/v1/reminders/subscriptions/{made['id']}/end", headers=manager).status_code
        == 200
    )
    assert client.get("/v1/reminders/subscriptions", headers=ivan).json()["items"] == []
    log = client.get("/v1/reminders/subscriptions/log", headers=manager).json()["items"]
    assert [(e["action"], e["actor_id"]) for e in log] == [("subscribed", "ivan"), ("ended", "mel")]
    assert client.get("/v1/reminders/subscriptions/log", headers=ivan).status_code == 403


def test_the_reminders_sent_are_listed_for_their_person(client: TestClient, auth: Auth) -> None:
    answer = client.get("/v1/reminders/sent", headers=auth())
    assert answer.status_code == 200 and answer.json() == {"items": [], "next_cursor": None}
