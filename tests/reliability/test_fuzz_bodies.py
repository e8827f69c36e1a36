"""Fuzzing the write side with hostile bodies (battery item 26).

Hypothesis sends random JSON and "near-valid" bodies (a schema-valid body for the command with
one field dropped, replaced by random JSON, or an unknown field added) to `POST /v1/incidents`
and to every command route the app publishes, under varied roles, versions (body or
`If-Match`) and idempotency keys. Whatever arrives, the API never answers 5xx, every refusal is
problem+json with no internals in it, a refused request records nothing (neither the
incident's version nor the head of the event log moves), and an incident stays readable after
whatever was accepted.

A table of hostile bodies, headers and content types follows, for the report endpoint and the
commands, each checked for a clear 4xx with nothing recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api import authorisation as authz
from api.schemas import ReportIn
from tests.api.conftest import OWN, Auth, report_body
from tests.api.test_authorisation import BODIES

pytestmark = pytest.mark.store

PROBLEM = "application/problem+json"
LEAKS = ("Traceback", "psycopg", "sqlite3", "SELECT ", "INSERT ", 'File "')
COMMAND_EXAMPLES = 500
REPORT_EXAMPLES = 300
FUZZ = settings(
    max_examples=COMMAND_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# A schema-valid body for every command (the authorisation matrix's); the domain may still
# refuse it (stage, role, policy).
SHAPES = BODIES
ROLES = ["incident_manager", "department_officer", "investigator", "reviewer", "reporter"]

# Instants at the edges of the calendar and of UTC offsets, beside ordinary ones.
EDGE_INSTANTS = [
    "0001-01-01T00:00:00+00:00",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-01:00",
    "2025-03-04T09:00:00+23:59",
    "2025-03-04T09:00:00",
    "2025-02-29T00:00:00Z",
]
instants = st.sampled_from(EDGE_INSTANTS) | st.datetimes(
    timezones=st.just(UTC)
    | st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
).map(datetime.isoformat)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([0, -1, 2**31, 2**62, 2**62 + 1, 2**63, 2**64, -(2**63) - 1])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | instants
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)


def near_valid(valid: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """`valid` with one field (at the top or one level down) dropped, replaced or added, or
    one of its instants (`effective_at` where it has none) replaced by another instant."""
    # The instants a command takes: its own, and `effective_at`, which every command takes.
    times = sorted(k for k, v in valid.items() if isinstance(v, str) and v[:4].isdigit())
    times = times or ["effective_at"]

    @st.composite
    def spoil(draw: st.DrawFn) -> dict[str, Any]:
        body = json.loads(json.dumps(valid))
        if draw(st.integers(0, 3)) == 0:
            body[draw(st.sampled_from(times))] = draw(instants)
            return body
        target = body
        nested = [k for k, v in body.items() if isinstance(v, dict) and v]
        nested += [
            k for k, v in body.items() if isinstance(v, list) and v and isinstance(v[0], dict)
        ]
        if nested and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(nested)))
            target = body[key] if isinstance(body[key], dict) else body[key][0]
        how = draw(st.sampled_from(["drop", "replace", "add"]))
        name = draw(st.sampled_from(sorted(target)))
        if how == "drop":
            del target[name]
        elif how == "replace":
            target[name] = draw(json_values)
        else:
            extra = st.sampled_from(["actor", "version", "hash", "recorded_at", "id"])
            target[draw(extra | st.text(min_size=1, max_size=12))] = draw(json_values)
        return body

    return spoil()


# Not JSON commands: a document is a multipart upload, fuzzed in tests/api/test_documents.py.
NOT_JSON = {"documents"}


def commands(client: TestClient) -> list[str]:
    prefix = "/v1/incidents/{incident_id}/"
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return sorted(
        p.removeprefix(prefix)
        for p in paths
        if p.startswith(prefix) and "post" in paths[p] and p.removeprefix(prefix) not in NOT_JSON
    )


@dataclass
class Watch:
    """Reads the incident's version and the head of the event log, before and after."""

    client: TestClient
    auth: Auth
    incident: str = ""

    def __post_init__(self) -> None:
        self.ledger = self.client.app.state.services.ledger  # type: ignore[attr-defined]
        if not self.incident:
            self.incident = self.report()

    def report(self) -> str:
        response = self.client.post("/v1/incidents", json=report_body(), headers=self.auth())
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def version(self, incident: str | None = None) -> int:
        # As the department's auditor, who sees every incident: a report the department itself
        # made (a department officer's) is not the provider's to read.
        response = self.client.get(
            f"/v1/incidents/{incident or self.incident}", headers=self.auth("auditor")
        )
        # Whatever was accepted before, the incident must stay readable.
        assert response.status_code == 200, response.text[:500]
        assert response.headers["cache-control"] == "no-store"
        return int(response.json()["version"])

    def head(self) -> int:
        return int(self.ledger.recorder.max_notification_id() or 0)

    def check(self, response: Any, what: object) -> None:
        """No 5xx; a refusal is problem+json without internals, and the store is no-store."""
        assert response.status_code < 500, (what, response.status_code, response.text[:500])
        assert response.headers["cache-control"] == "no-store", what
        if response.status_code >= 400:
            assert response.headers["content-type"] == PROBLEM, (what, response.headers)
            assert not any(leak in response.text for leak in LEAKS), (what, response.text[:500])
            assert response.json()["status"] == response.status_code, what


def test_every_command_has_a_schema_valid_shape() -> None:
    """The fuzzing below starts from these; a new command must bring its own."""
    assert set(SHAPES) == set(authz.ACTIONS)
    for name, body in SHAPES.items():
        authz.ACTIONS[name].body.model_validate(body)
    ReportIn.model_validate(report_body())


def test_no_command_body_makes_a_5xx_or_records_anything_when_refused(
    client: TestClient, auth: Auth
) -> None:
    watch = Watch(client, auth)
    routes = commands(client)
    assert set(routes) == set(SHAPES), "a command route without a shape to fuzz from"
    bodies = st.one_of(
        *(st.tuples(st.just(name), near_valid(body)) for name, body in sorted(SHAPES.items())),
        st.tuples(st.sampled_from(routes), json_values),
        st.tuples(st.sampled_from(routes), st.sampled_from([SHAPES[r] for r in routes])),
    )
    versions = st.one_of(
        st.sampled_from(["current", "stale", "none"]),
        st.tuples(st.just("body"), json_values),
        st.tuples(st.just("header"), st.text(st.characters(min_codepoint=32, max_codepoint=126))),
        st.tuples(st.just("header"), st.integers(-(2**70), 2**70).map(lambda v: f'"{v}"')),
    )

    @FUZZ
    @given(
        attempt=bodies,
        role=st.sampled_from(ROLES),
        version=versions,
        key=st.sampled_from([None, None, "fuzz-1", "fuzz-2"]),
    )
    def send(attempt: tuple[str, Any], role: str, version: Any, key: str | None) -> None:
        command, body = attempt
        before, head = watch.version(), watch.head()
        headers = auth(role)
        if key is not None:
            headers["Idempotency-Key"] = key
        if version in ("current", "stale"):
            headers["If-Match"] = f'"{before - (version == "stale")}"'
        elif isinstance(version, tuple) and version[0] == "header":
            headers["If-Match"] = version[1]
        elif isinstance(version, tuple) and isinstance(body, dict):
            body = {**body, "expected_version": version[1]}
        what = (command, body, headers.get("If-Match"), role, key)

        response = client.post(
            f"/v1/incidents/{watch.incident}/{command}", json=body, headers=headers
        )

        watch.check(response, what)
        after = watch.version()
        if response.status_code >= 400:
            assert after == before, what
            assert watch.head() == head, what
        elif not response.json().get("id"):
            pytest.fail(f"a 2xx without the incident: {what}")

    send()


def test_no_report_body_makes_a_5xx_or_records_anything_when_refused(
    client: TestClient, auth: Auth
) -> None:
    watch = Watch(client, auth)

    @settings(FUZZ, max_examples=REPORT_EXAMPLES)
    @given(
        body=st.one_of(near_valid(report_body()), near_valid(report_body()), json_values),
        role=st.sampled_from([*ROLES, "auditor", "regulator"]),
    )
    def send(body: Any, role: str) -> None:
        head = watch.head()

        response = client.post("/v1/incidents", json=body, headers=auth(role))

        watch.check(response, body)
        if response.status_code >= 400:
            assert watch.head() == head, body
        else:
            assert watch.head() > head
            assert watch.version(response.json()["id"]) == 1, body

    send()


# --- hostile inputs -------------------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    raw: bytes | Callable[[], Iterator[bytes]] | None = None
    json: Any = None
    headers: dict[str, Any] = field(default_factory=dict)
    status: int = 422
    slug: str = ""  # how the problem's type ends
    field: str | None = None  # a field the problem's errors name
    command: str = "notifications"
    incident: str | None = None  # instead of the test's incident


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def _chunks() -> Iterator[bytes]:
    # No Content-Length: the guard has to count a streamed body as it arrives.
    yield b'{"description": "'
    for _ in range(17):
        yield b"a" * 65_536
    yield b'"}'


def _nested(depth: int, key: str = "a") -> bytes:
    return f'{{"{key}":'.encode() * depth + b"1" + b"}" * depth


NOTIFY = {"kind": "police", "recipient": "Victoria Police", "expected_version": 1}
BIG = 2**70
JSON = {"Content-Type": "application/json"}

REPORT_CASES: dict[str, Hostile] = {
    "NUL in a nested value": Hostile(
        json=report_body(clients=[{"ref": "client\x00-1", "aboriginal": False}]),
        slug="control-character",
        field="clients.0.ref",
    ),
    "DEL in a key": Hostile(json=report_body(**{"x\x7f": 1}), slug="control-character"),
    "a key twice, one escaped": Hostile(
        raw=_dumps(report_body())[:-1] + b', "progr\\u0061m": "housing"}',
        status=400,
        slug="duplicate-key",
        field="program",
    ),
    "a key twice, nested": Hostile(
        raw=b'{"clients": [{"ref": "a", "aboriginal": false, "ref": "b"}]}',
        status=400,
        slug="duplicate-key",
    ),
    "100k clients (< 1 MiB)": Hostile(json=report_body(clients=[0] * 100_000), field="clients"),
    "100k types (< 1 MiB)": Hostile(json=report_body(types=["x"] * 100_000), field="types"),
    "objects nested 10,000 deep": Hostile(raw=_nested(10_000), status=400, slug="json-too-deep"),
    "nested one past the limit": Hostile(raw=_nested(33, "location"), status=400),
    "nested at the limit": Hostile(raw=_nested(32, "location"), field="location.a"),
    "over 1 MiB, streamed": Hostile(raw=_chunks, status=413, slug="body-too-large"),
    "overlong UTF-8": Hostile(raw=b'{"location": "\xc0\xaf"}', status=400, slug="invalid-utf8"),
    "UTF-8 surrogate": Hostile(raw=b'{"location": "\xed\xa0\x80"}', status=400),
    "truncated UTF-8": Hostile(raw=b'{"location": "\xe2\x82"}', status=400),
    "UTF-16": Hostile(raw=json.dumps(report_body()).encode("utf-16"), status=400),
    "a string, not an object": Hostile(raw=b'"incident"'),
    "null, not an object": Hostile(raw=b"null"),
    "a number, not an object": Hostile(raw=str(BIG).encode()),
    "empty, no content type": Hostile(raw=b"", headers={"Content-Type": None}),
    "whitespace": Hostile(raw=b" \n\t "),
    "text/plain": Hostile(raw=_dumps(report_body()), headers={"Content-Type": "text/plain"}),
    "a form": Hostile(
        raw=b"program=cso&impact=major",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    "multipart": Hostile(
        raw=b'--b\r\nContent-Disposition: form-data; name="program"\r\n\r\ncso\r\n--b--\r\n',
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    ),
    "NaN": Hostile(raw=_dumps(report_body())[:-1] + b', "historical": NaN}', field="historical"),
    "a number of 5,000 digits": Hostile(
        raw=_dumps(report_body())[:-1] + b', "historical": 1' + b"0" * 5000 + b"}", status=400
    ),
    "2**70 seconds as an instant": Hostile(
        json=report_body(became_aware_at=BIG), field="became_aware_at"
    ),
    "2**70 as a date of birth": Hostile(
        json=report_body(clients=[{"ref": "c", "aboriginal": False, "date_of_birth": BIG}]),
        field="clients.0.date_of_birth",
    ),
    "an instant past year 9999 in UTC": Hostile(
        json=report_body(became_aware_at="9999-12-31T23:59:59-01:00"), field="became_aware_at"
    ),
    "an instant before year 1 in UTC": Hostile(
        json=report_body(
            occurred_at="0001-01-01T00:00:00+01:00", became_aware_at="0001-01-01T00:00:00+01:00"
        ),
        field="became_aware_at",
    ),
    "an Idempotency-Key of 201 characters": Hostile(
        json=report_body(),
        headers={"Idempotency-Key": "k" * 201},
        field="Idempotency-Key",
        status=400,
    ),
    **{
        f"client-supplied {name}": Hostile(json=report_body(**{name: value}), field=name)
        for name, value in {
            "actor": {"id": "someone-else", "role": "admin", "organisation": "DFFH"},
            "recorded_at": "2020-01-01T00:00:00Z",
            "version": 7,
            "hash": "0" * 64,
            "id": "7b0c8f52-4a4e-4c8e-9a4e-1d1f0a7a1b11",
            "reporting_organisation": "Eastside Housing",
            "timestamp": "2020-01-01T00:00:00Z",
        }.items()
    },
}

COMMAND_CASES: dict[str, Hostile] = {
    "NUL in a nested value": Hostile(
        json={"reason": "r", "changes": {"location": "a\x00b"}, "expected_version": 1},
        slug="control-character",
        field="changes.location",
        command="amend",
    ),
    "expected_version 2**70": Hostile(
        json={**NOTIFY, "expected_version": BIG}, field="expected_version"
    ),
    "expected_version 2**63 - 1 (int64, above the API's range)": Hostile(
        json={**NOTIFY, "expected_version": 2**63 - 1}, field="expected_version"
    ),
    "expected_version -1": Hostile(json={**NOTIFY, "expected_version": -1}),
    "expected_version Infinity": Hostile(
        raw=_dumps({**NOTIFY, "expected_version": 0}).replace(b" 0}", b" Infinity}"),
        field="expected_version",
    ),
    "corrected_version 2**70": Hostile(
        json={"reason": "r", "corrected_version": BIG, "changes": {}, "expected_version": 1},
        field="corrected_version",
        command="corrections",
    ),
    "effective_at 2**70": Hostile(json={**NOTIFY, "effective_at": BIG}, field="effective_at"),
    "effective_at before year 1 in UTC": Hostile(
        json={**NOTIFY, "effective_at": "0001-01-01T00:00:00+00:01"}, field="effective_at"
    ),
    "new_due past year 9999 in UTC": Hostile(
        json={**SHAPES["extend"], "new_due": "9999-12-31T23:59:59-00:01", "expected_version": 1},
        field="new_due",
        command="extend",
    ),
    "If-Match 2**70": Hostile(
        json={k: v for k, v in NOTIFY.items() if k != "expected_version"},
        headers={"If-Match": f'"{BIG}"'},
        field="If-Match",
    ),
    # A weak tag never matches for If-Match (RFC 9110 section 13.1.1), whatever it holds.
    "weak If-Match 2**63": Hostile(
        json={k: v for k, v in NOTIFY.items() if k != "expected_version"},
        headers={"If-Match": f'W/"{2**63}"'},
        status=412,
        slug="precondition-failed",
    ),
    "If-Match *": Hostile(
        json={k: v for k, v in NOTIFY.items() if k != "expected_version"},
        headers={"If-Match": "*"},
        field="If-Match",
    ),
    "If-Match with two tags": Hostile(
        json={k: v for k, v in NOTIFY.items() if k != "expected_version"},
        headers={"If-Match": '"1", "2"'},
        field="If-Match",
    ),
    "a key twice, one escaped": Hostile(
        raw=_dumps(NOTIFY)[:-1] + b', "kin\\u0064": "guardian"}',
        status=400,
        slug="duplicate-key",
    ),
    "100k lines of enquiry (< 1 MiB)": Hostile(
        json={"plan": "p", "lines_of_enquiry": ["x"] * 100_000, "expected_version": 1},
        field="lines_of_enquiry",
        command="investigation-plan",
    ),
    "objects nested 10,000 deep": Hostile(raw=_nested(10_000), status=400, slug="json-too-deep"),
    "over 1 MiB, streamed": Hostile(raw=_chunks, status=413, slug="body-too-large"),
    "overlong UTF-8": Hostile(raw=b'{"recipient": "\xc0\xaf"}', status=400, slug="invalid-utf8"),
    "a string, not an object": Hostile(raw=b'"notify"'),
    "true, not an object": Hostile(raw=b"true"),
    "empty, no content type": Hostile(raw=b"", headers={"Content-Type": None}),
    "text/plain": Hostile(raw=_dumps(NOTIFY), headers={"Content-Type": "text/plain"}),
    "not an incident id": Hostile(json=NOTIFY, incident="not-an-id", field="incident_id"),
    "NUL as the incident id": Hostile(json=NOTIFY, incident="%00", field="incident_id"),
    "no such incident": Hostile(
        json=NOTIFY, incident="7b0c8f52-4a4e-4c8e-9a4e-1d1f0a7a1b11", status=404
    ),
    **{
        f"client-supplied {name}": Hostile(json={**NOTIFY, name: value}, field=name)
        for name, value in {
            "actor": {"id": "someone-else", "role": "admin", "organisation": "DFFH"},
            "recorded_at": "2020-01-01T00:00:00Z",
            "version": 7,
            "hash": "0" * 64,
            "prev_hash": "0" * 64,
            "command_id": "forged",
            "incident_id": "7b0c8f52-4a4e-4c8e-9a4e-1d1f0a7a1b11",
        }.items()
    },
}


def _send(client: TestClient, auth: Auth, path: str, case: Hostile) -> Any:
    headers: dict[str, Any] = {**auth(), **JSON, **case.headers}
    headers = {k: v for k, v in headers.items() if v is not None}
    if case.raw is None:
        content = _dumps(case.json)
    else:
        content = case.raw() if callable(case.raw) else case.raw  # type: ignore[assignment]
    return client.post(path, content=content, headers=headers)


def _judge(name: str, case: Hostile, response: Any) -> list[str]:
    problems = []
    if response.status_code != case.status:
        problems.append(f"{response.status_code}, not {case.status}: {response.text[:300]}")
    if response.headers.get("content-type") != PROBLEM:
        problems.append(f"content-type {response.headers.get('content-type')}")
    elif not response.json()["type"].endswith(case.slug):
        problems.append(f"type {response.json()['type']}, not …{case.slug}")
    elif case.field is not None:
        fields = {e["field"] for e in response.json().get("errors", [])}
        named = (f.split(".", 1)[1] if f.startswith(("header.", "path.")) else f for f in fields)
        if not any(f.startswith(case.field) or case.field.startswith(f) for f in named):
            problems.append(f"errors name {sorted(fields)[:5]}, not {case.field}")
    if any(leak in response.text for leak in LEAKS):
        problems.append("internals leak: " + response.text[:300])
    if response.headers.get("cache-control") != "no-store":
        problems.append("no Cache-Control: no-store")
    return [f"{name}: {p}" for p in problems]


def test_hostile_report_bodies_are_a_clear_4xx_and_record_nothing(
    client: TestClient, auth: Auth
) -> None:
    watch = Watch(client, auth)
    failures: list[str] = []
    for name, case in REPORT_CASES.items():
        head = watch.head()
        response = _send(client, auth, "/v1/incidents", case)
        failures += _judge(name, case, response)
        if watch.head() != head:
            failures.append(f"{name}: recorded an event")

    assert not failures, "\n".join(failures)


def test_hostile_command_bodies_and_headers_are_a_clear_4xx_and_record_nothing(
    client: TestClient, auth: Auth
) -> None:
    watch = Watch(client, auth)
    failures: list[str] = []
    for name, case in COMMAND_CASES.items():
        head = watch.head()
        path = f"/v1/incidents/{case.incident or watch.incident}/{case.command}"
        response = _send(client, auth, path, case)
        failures += _judge(name, case, response)
        if watch.head() != head or watch.version() != 1:
            failures.append(f"{name}: recorded an event")

    assert not failures, "\n".join(failures)


def test_the_recorded_actor_is_the_tokens_whatever_the_body_claims(
    client: TestClient, auth: Auth
) -> None:
    spoofed = {"id": "someone-else", "role": "admin", "organisation": "DFFH"}
    refused = client.post(
        "/v1/incidents", json=report_body(actor=spoofed), headers=auth(sub="mel-7")
    )
    accepted = client.post("/v1/incidents", json=report_body(), headers=auth(sub="mel-7"))
    incident = accepted.json()["id"]
    command = client.post(
        f"/v1/incidents/{incident}/notifications",
        json={**NOTIFY, "actor": spoofed},
        headers=auth(sub="mel-7"),
    )

    assert (refused.status_code, accepted.status_code, command.status_code) == (422, 201, 422)
    assert accepted.json()["event"]["actor"] == {
        "id": "mel-7",
        "role": "incident_manager",
        "organisation": OWN,
    }
    history = client.get(f"/v1/incidents/{incident}/history", headers=auth("auditor", org="DFFH"))
    events = history.json()["events"]
    assert [(e["actor_id"], e["actor_organisation"]) for e in events] == [("mel-7", OWN)]
    assert history.headers["cache-control"] == "no-store"
