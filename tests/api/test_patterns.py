"""Patterns of harm and legacy records through the HTTP API, on both stores."""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import OTHER, OWN, Auth, Clock, read_models_caught_up, report_body

pytestmark = pytest.mark.store
DEPARTMENT = "DFFH"
CHILD_ID = "1234567"
EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "legacy_export.csv"
MINUTES = itertools.count(10)  # each report became known a minute after the one before


def non_major(
    client: TestClient, auth: Auth, org: str = OWN, ref: str = "client-1", **over: Any
) -> str:
    body = report_body(
        types=["Injury-explained"],
        impact="non_major",
        subjects_of_allegation=[],
        regulator_category="none",
        clients=[{"ref": ref, "aboriginal": False, "department_client_id": CHILD_ID}],
        became_aware_at=f"2025-03-04T10:{next(MINUTES) % 60:02d}:00+11:00",
        **over,
    )
    response = client.post("/v1/incidents", json=body, headers=auth("reporter", org=org))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def manager(auth: Auth, org: str = OWN) -> dict[str, str]:
    return auth("incident_manager", org=org)


def officer(auth: Auth) -> dict[str, str]:
    return auth("department_officer", org=DEPARTMENT)


def get(client: TestClient, path: str, headers: dict[str, str]) -> Any:
    read_models_caught_up(client)
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def provider_views(client: TestClient, auth: Auth) -> list[Any]:
    """Everything the provider's incident manager can learn about the child from patterns."""
    own = manager(auth)
    return [
        get(client, f"/v1/patterns/clients?department_client_id={CHILD_ID}", own),
        get(client, "/v1/patterns/clients?client_ref=client-1&window_days=3650", own),
        get(client, "/v1/patterns/suggestions", own),
        get(client, "/v1/obligations", own)["possible_patterns"],
    ]


def test_a_provider_never_learns_that_another_provider_has_incidents_about_the_child(
    client: TestClient, auth: Auth, clock: Clock
) -> None:
    ours = [non_major(client, auth) for _ in range(3)]
    before = provider_views(client, auth)

    theirs = [non_major(client, auth, org=OTHER, ref="E-7") for _ in range(2)]
    after = provider_views(client, auth)

    assert after == before
    assert [i["id"] for i in before[0]["items"]] == ours and before[0]["count"] == 3
    assert before[2]["items"][0]["incident_ids"] == ours
    # The other provider, with two incidents, sees two and no suggestion of its own.
    other = manager(auth, OTHER)
    found = get(client, f"/v1/patterns/clients?department_client_id={CHILD_ID}", other)
    assert [i["id"] for i in found["items"]] == theirs and found["count"] == 2
    assert get(client, "/v1/patterns/suggestions", other)["items"] == []
    # A provider cannot ask about another organisation's client ref at all.
    asked = client.get(
        f"/v1/patterns/clients?client_ref=client-1&organisation={OWN}", headers=other
    )
    assert asked.status_code == 403
    # The department sees all five, across both providers, by the department identifier.
    everyone = get(client, f"/v1/patterns/clients?department_client_id={CHILD_ID}", officer(auth))
    assert {i["id"] for i in everyone["items"]} == {*ours, *theirs}
    [suggested] = get(client, "/v1/patterns/suggestions", officer(auth))["items"]
    assert set(suggested["incident_ids"]) == {*ours, *theirs}


def test_only_incident_managers_and_the_department_work_with_patterns(
    client: TestClient, auth: Auth
) -> None:
    for role in ("reporter", "investigator", "auditor", "regulator"):
        response = client.get("/v1/patterns/suggestions", headers=auth(role))
        assert response.status_code == 403, role
    bad = client.get("/v1/patterns/clients?department_client_id=12-AB", headers=manager(auth))
    assert bad.status_code == 422
    none = client.get("/v1/patterns/clients", headers=manager(auth))
    assert none.status_code == 422 and none.json()["errors"][0]["rule"] == (
        "patterns.client-required"
    )
    no_org = client.get("/v1/patterns/clients?client_ref=client-1", headers=officer(auth))
    assert no_org.status_code == 422


def test_another_provider_named_on_an_incident_never_sees_the_department_identifier(
    client: TestClient, auth: Auth
) -> None:
    incident = non_major(client, auth, other_provider=OTHER)

    theirs = client.get(f"/v1/incidents/{incident}", headers=manager(auth, OTHER)).json()
    ours = client.get(f"/v1/incidents/{incident}", headers=manager(auth)).json()

    assert "department_client_id" not in theirs["clients"][0]
    assert ours["clients"][0]["department_client_id"] == CHILD_ID
    bad = report_body(clients=[{"ref": "c", "aboriginal": False, "department_client_id": "12"}])
    refused = client.post("/v1/incidents", json=bad, headers=auth("reporter"))
    assert refused.status_code == 422


def escalation(pattern_of: list[str], **over: Any) -> dict[str, Any]:
    body = report_body(
        types=["Emotional/psychological harm"],
        impact="major",
        subjects_of_allegation=[],
        clients=[{"ref": "dffh-1", "aboriginal": False, "department_client_id": CHILD_ID}],
        pattern_of=pattern_of,
        reason="Five injuries at two providers in a fortnight",
    )
    body.update(over)
    return body


def test_the_department_escalates_a_pattern_across_providers(
    client: TestClient, auth: Auth
) -> None:
    ours = [non_major(client, auth) for _ in range(3)]
    theirs = [non_major(client, auth, org=OTHER, ref="E-7") for _ in range(2)]

    response = client.post(
        "/v1/patterns/escalations", json=escalation([*ours, *theirs]), headers=officer(auth)
    )

    assert response.status_code == 201, response.text
    new = response.json()["id"]
    assert response.headers["Location"] == f"/v1/incidents/{new}"
    incident = client.get(f"/v1/incidents/{new}", headers=officer(auth)).json()
    assert incident["impact"] == "major" and incident["pattern_of"] == [*ours, *theirs]
    owed = {o["kind"]: o["status"] for o in incident["obligations"]}
    assert owed["investigation_or_review"] == "open"
    # Each linked incident's history shows it; the provider sees it on its own incident.
    trail = get(client, f"/v1/incidents/{ours[0]}/audit-trail", manager(auth))["items"]
    assert trail[-1]["event_type"] == "PatternLinked"
    assert f"escalated as incident {new}" in trail[-1]["summary"]
    # Linked incidents are not suggested again.
    assert get(client, "/v1/patterns/suggestions", officer(auth))["items"] == []
    # The provider cannot read the department's new report.
    assert client.get(f"/v1/incidents/{new}", headers=manager(auth)).status_code == 404


def test_a_provider_named_on_an_escalation_is_not_told_which_incidents_formed_it(
    client: TestClient, auth: Auth
) -> None:
    ours = [non_major(client, auth) for _ in range(2)]
    theirs = [non_major(client, auth, org=OTHER, ref="E-7") for _ in range(2)]
    response = client.post(
        "/v1/patterns/escalations",
        json=escalation([*ours, *theirs], other_provider=OWN),
        headers=officer(auth),
    )
    assert response.status_code == 201, response.text
    new = response.json()["id"]

    seen = client.get(f"/v1/incidents/{new}", headers=manager(auth))
    trail = get(client, f"/v1/incidents/{new}/audit-trail", manager(auth))["items"]

    assert seen.status_code == 200 and "pattern_of" not in seen.json()
    assert "department_client_id" not in seen.json()["clients"][0]
    assert not any(t in seen.text or t in str(trail) for t in theirs)
    assert client.get(f"/v1/incidents/{new}", headers=officer(auth)).json()["pattern_of"]


def test_the_regulator_feed_carries_the_link_as_pseudonyms_only(
    client: TestClient, auth: Auth
) -> None:
    linked = [non_major(client, auth) for _ in range(2)]
    response = client.post(
        "/v1/patterns/escalations",
        json=escalation(linked, regulator_category="notifiable"),
        headers=manager(auth),
    )
    assert response.status_code == 201, response.text

    items = get(client, "/v1/feeds/ssr", auth("regulator", org="SSR"))["items"]

    [item] = [i for i in items if i["data"].get("pattern_of")]
    assert len(item["data"]["pattern_of"]) == 2
    text = str(items)
    assert all(incident not in text for incident in linked)


@pytest.mark.parametrize(
    ("case", "status", "rule"),
    [
        ("another provider's incident", 404, None),
        ("provider across providers", 404, None),
        ("not major", 422, "pattern.escalation-major"),
        ("one incident", 422, None),
        ("a different client", 422, "pattern.different-clients"),
    ],
)
def test_escalation_refusals(
    client: TestClient, auth: Auth, case: str, status: int, rule: str | None
) -> None:
    ours = [non_major(client, auth) for _ in range(2)]
    body = escalation(ours, clients=[{"ref": "client-1", "aboriginal": False}])
    if case == "another provider's incident":
        body["pattern_of"] = [ours[0], non_major(client, auth, org=OTHER)]
    elif case == "provider across providers":
        body["pattern_of"] = [*ours, non_major(client, auth, org=OTHER)]
    elif case == "not major":
        body["impact"] = "non_major"
    elif case == "one incident":
        body["pattern_of"] = ours[:1]
    elif case == "a different client":
        body["clients"] = [{"ref": "client-9", "aboriginal": False}]

    response = client.post("/v1/patterns/escalations", json=body, headers=manager(auth))

    assert response.status_code == status, response.text
    if rule is not None:
        assert response.json()["type"].endswith(rule)
    for incident in ours:
        got = client.get(f"/v1/incidents/{incident}", headers=manager(auth)).json()
        assert got["version"] == 1 and got["linked_to_pattern"] is None


def test_a_dismissed_suggestion_does_not_return_for_the_same_incidents(
    client: TestClient, auth: Auth
) -> None:
    ours = [non_major(client, auth) for _ in range(3)]
    theirs = non_major(client, auth, org=OTHER, ref="E-7")
    assert len(get(client, "/v1/patterns/suggestions", manager(auth))["items"]) == 1

    response = client.post(
        "/v1/patterns/dismissals",
        json={"incident_ids": ours, "reason": "Three unrelated sporting injuries."},
        headers=manager(auth),
    )

    assert response.status_code == 200, response.text
    assert get(client, "/v1/patterns/suggestions", manager(auth))["items"] == []
    trail = get(client, f"/v1/incidents/{ours[1]}/audit-trail", manager(auth))["items"]
    assert trail[-1]["event_type"] == "PatternSuggestionDismissed"
    assert trail[-1]["reason"] == "Three unrelated sporting injuries."
    # The department's suggestion names a fourth incident, at another provider: it stays.
    [left] = get(client, "/v1/patterns/suggestions", officer(auth))["items"]
    assert set(left["incident_ids"]) == {*ours, theirs}
    # A new incident makes a new set: the provider's suggestion returns, naming it.
    fourth = non_major(client, auth)
    [back] = get(client, "/v1/patterns/suggestions", manager(auth))["items"]
    assert back["incident_ids"] == [*ours, fourth]
    no_reason = client.post(
        "/v1/patterns/dismissals", json={"incident_ids": ours, "reason": ""}, headers=manager(auth)
    )
    assert no_reason.status_code == 422


def test_a_department_dismissal_naming_another_providers_incident_is_not_the_providers(
    client: TestClient, auth: Auth
) -> None:
    ours = [non_major(client, auth) for _ in range(3)]
    theirs = non_major(client, auth, org=OTHER, ref="E-7")
    before = get(client, "/v1/patterns/suggestions", manager(auth))

    response = client.post(
        "/v1/patterns/dismissals",
        json={"incident_ids": [*ours, theirs], "reason": "Reviewed with both providers."},
        headers=officer(auth),
    )

    assert response.status_code == 200, response.text
    assert get(client, "/v1/patterns/suggestions", officer(auth))["items"] == []
    # The provider's own suggestion stays: its incidents changed (each records the dismissal)
    # but the decision covered an incident it cannot see, so it was not a decision on its set.
    after = get(client, "/v1/patterns/suggestions", manager(auth))
    assert [s["incident_ids"] for s in after["items"]] == [ours]
    assert [s["incident_ids"] for s in before["items"]] == [ours]


def test_a_department_officer_imports_the_legacy_file_and_resolves_a_split_type(
    client: TestClient, auth: Auth
) -> None:
    text = EXAMPLE.read_text()
    assert (
        client.post("/v1/legacy-imports", json={"csv": text}, headers=manager(auth)).status_code
        == 403
    )

    dry = client.post(
        "/v1/legacy-imports", json={"csv": text, "dry_run": True}, headers=officer(auth)
    )
    done = client.post("/v1/legacy-imports", json={"csv": text}, headers=officer(auth))
    again = client.post("/v1/legacy-imports", json={"csv": text}, headers=officer(auth))

    assert dry.status_code == done.status_code == again.status_code == 200, done.text
    assert (
        dry.json()["summary"]
        == done.json()["summary"]
        == {
            "imported": 7,
            "unchanged": 0,
            "changed": 0,
            "unresolved": 3,
            "refused": 3,
        }
    )
    assert again.json()["summary"]["unchanged"] == 7
    refused_csv = done.json()["refused_csv"].splitlines()
    assert refused_csv[0].startswith("line,legacy_id,") and refused_csv[0].endswith(",reason")
    assert [line.split(",")[0] for line in refused_csv[1:]] == ["9", "10", "11"]
    listed = get(client, "/v1/incidents?limit=200", officer(auth))["items"]
    assert len(listed) == 7
    unresolved = get(client, "/v1/legacy-imports/unresolved", officer(auth))["items"]
    assert len(unresolved) == 3
    own_unresolved = get(client, "/v1/legacy-imports/unresolved", manager(auth))["items"]
    assert own_unresolved == unresolved  # every record of the example is Northside's

    target = next(i for i in unresolved if i["legacy_id"] == "CIMS-2024-000610")
    resolved = client.post(
        f"/v1/incidents/{target['id']}/resolve-legacy-type",
        json={
            "expected_version": target["version"],
            "legacy_label": "Injury",
            "incident_type": "Injury-explained",
            "reason": "The carer saw the fall.",
        },
        headers=manager(auth),
    )
    assert resolved.status_code == 200, resolved.text
    assert len(get(client, "/v1/legacy-imports/unresolved", officer(auth))["items"]) == 2
    wrong = client.post(
        f"/v1/incidents/{target['id']}/resolve-legacy-type",
        json={
            "expected_version": target["version"] + 1,
            "legacy_label": "Injury",
            "incident_type": "Injury-explained",
            "reason": "again",
        },
        headers=manager(auth),
    )
    assert wrong.status_code == 422 and wrong.json()["type"].endswith("legacy.not-unresolved")


def test_a_legacy_file_without_the_required_columns_is_refused_whole(
    client: TestClient, auth: Auth
) -> None:
    response = client.post(
        "/v1/legacy-imports", json={"csv": "legacy_id,organisation\nX,Y\n"}, headers=officer(auth)
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["rule"] == "legacy.columns-missing"


def test_pattern_reads_and_refusals_are_in_the_access_log(client: TestClient, auth: Auth) -> None:
    ours = [non_major(client, auth) for _ in range(3)]
    get(client, f"/v1/patterns/clients?department_client_id={CHILD_ID}", manager(auth))
    get(client, "/v1/patterns/suggestions", manager(auth))
    refused = client.get("/v1/patterns/suggestions", headers=auth("reporter"))
    assert refused.status_code == 403

    log = get(client, "/v1/access-log?limit=500", auth("auditor", org=DEPARTMENT))["items"]

    listed = {(e["incident_id"], e["what"]) for e in log}
    for incident in ours:
        assert (incident, "list:pattern") in listed
        assert (incident, "list:pattern-suggestions") in listed
    assert any(
        e["what"] == "list:pattern-suggestions" and e["actor_role"] == "reporter" for e in log
    )


def test_a_repeated_escalation_or_dismissal_with_its_key_is_answered_once(
    client: TestClient, auth: Auth
) -> None:
    linked = [non_major(client, auth) for _ in range(2)]
    others = [non_major(client, auth) for _ in range(2)]
    keyed = {**manager(auth), "Idempotency-Key": "escalate-1"}
    body = escalation(linked, clients=[{"ref": "client-1", "aboriginal": False}])
    dismissal = {"incident_ids": others, "reason": "unrelated"}
    dismiss_keyed = {**manager(auth), "Idempotency-Key": "dismiss-1"}

    first = client.post("/v1/patterns/escalations", json=body, headers=keyed)
    again = client.post("/v1/patterns/escalations", json=body, headers=keyed)
    d1 = client.post("/v1/patterns/dismissals", json=dismissal, headers=dismiss_keyed)
    d2 = client.post("/v1/patterns/dismissals", json=dismissal, headers=dismiss_keyed)
    reused = client.post(
        "/v1/patterns/dismissals",
        json={**dismissal, "reason": "another request"},
        headers=dismiss_keyed,
    )

    assert first.status_code == again.status_code == 201, again.text
    assert first.json() == again.json() and first.json()["linked"] == linked
    assert d1.status_code == d2.status_code == 200, d2.text
    assert d1.json() == d2.json()
    assert reused.status_code == 422
    for incident in [*linked, *others]:
        got = client.get(f"/v1/incidents/{incident}", headers=manager(auth)).json()
        assert got["version"] == 2


def test_the_refused_rows_csv_holds_no_live_formula(client: TestClient, auth: Auth) -> None:
    header = EXAMPLE.read_text().splitlines()[0]
    row = (
        "CIMS-2019-000999,2019-05-02T10:00:00,@SUM(1+1),cso,cso_placement,\"+cmd|' /C calc'!A0\","
        "no,Injury,non_major,2019-04-30T21:00:00+10:00,2019-05-01T09:30:00+10:00,"
        '"=HYPERLINK(""http://evil.example"",""click"")",,none,closed,,1234567\n'
    )

    done = client.post(
        "/v1/legacy-imports", json={"csv": f"{header}\n{row}"}, headers=officer(auth)
    )

    assert done.status_code == 200, done.text
    [refused] = list(csv.DictReader(io.StringIO(done.json()["refused_csv"])))
    assert refused["description"] == '\'=HYPERLINK("http://evil.example","click")'
    assert refused["client_ref"] == "'+cmd\\|' /C calc'!A0"
    assert refused["organisation"] == "'@SUM(1+1)"
