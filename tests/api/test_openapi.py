"""`/openapi.json` is the contract: every operation declares its answers and errors, every
field and enum value is described, every rule id resolves, and `/docs` needs no internet."""

from __future__ import annotations

import ast
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from api import authorisation as authz
from api.command_docs import TITLES, refusals
from api.examples import EXAMPLES, RESPONSE_EXAMPLES
from api.main import create_app
from api.problems import API_PROBLEMS, FIELD_RULES, catalogue, schema_rules
from api.schemas import FeedName, ReportIn
from domain import next_steps
from domain.obligations import RULES, ObligationKind
from domain.rules.catalogue import CATALOGUE
from projections.regulator_feed import REGULATORS

ROOT = Path(__file__).resolve().parents[2]
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
COMMAND_ERRORS = {400, 401, 403, 404, 409, 412, 413, 422, 428, 429, 431, 503}
RULE_ID = re.compile(r"^[a-z][a-z-]*(\.[a-z0-9][a-z0-9-]*)+$")
# Answered before anyone signs in: the rule catalogue and how to sign in (api/routers/sign_in.py).
PUBLIC = {"/v1/rules", "/v1/sign-in", "/v1/dev/token", "/v1/dev/identities"}


DOC_SECRET = "doc-secret-" + "d" * 32


@pytest.fixture(scope="module")
def auth_for_doc() -> dict[str, str]:
    """An auditor's bearer header for `app_client` (whose secret is DOC_SECRET)."""
    from api.auth import mint_token
    from api.settings import Settings
    from domain.values import Role

    settings = Settings(database_url="sqlite://", jwt_secret=DOC_SECRET)
    token = mint_token(settings, sub="auditor-1", role=Role.AUDITOR, org="DFFH")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def app_client() -> TestClient:
    from api.settings import Settings

    settings = Settings(
        database_url=f"sqlite:///{tempfile.mkdtemp(prefix='cims-openapi-')}/doc.db",
        jwt_secret="doc-secret-" + "d" * 32,
        run_projections_in_process=False,
    )
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def doc(app_client: TestClient) -> dict[str, Any]:
    found: dict[str, Any] = app_client.get("/openapi.json").json()
    return found


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def test_every_operation_declares_its_answer_with_a_schema(doc: dict[str, Any]) -> None:
    for method, path, op in operations(doc):
        ok = [code for code in op["responses"] if code.startswith("2")]
        assert len(ok) == 1, (method, path)
        content = op["responses"][ok[0]]["content"]
        for media, body in content.items():
            schema = body["schema"]
            if media == "application/json":
                assert "$ref" in schema and "type" not in schema, (method, path, schema)


def test_every_error_is_a_problem_and_every_v1_operation_declares_its_errors(
    doc: dict[str, Any],
) -> None:
    assert doc["components"]["schemas"]["Problem"]["properties"].keys() >= {
        "type",
        "title",
        "status",
        "detail",
        "instance",
        "rule",
        "errors",
        "current_version",
    }
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for method, path, op in operations(doc):
        errors = {int(c) for c in op["responses"] if not c.startswith("2")}
        for code in errors:
            assert op["responses"][str(code)]["content"] == {
                "application/problem+json": {"schema": PROBLEM_REF}
            }, (method, path, code)
        if path.startswith("/v1/") and path not in PUBLIC:
            assert {401, 422, 429, 431, 503} <= errors, (method, path)
        if method == "post" and path not in PUBLIC:
            assert COMMAND_ERRORS - {404, 409, 412, 428} <= errors, (method, path)
        if method == "post" and path.endswith("/documents"):  # a type not kept: 415
            assert errors == COMMAND_ERRORS | {415}, (method, path)
        # Reminder subscriptions are a person's settings, not versioned incident commands.
        elif method == "post" and path != "/v1/incidents" and not path.startswith("/v1/reminders/"):
            assert errors == COMMAND_ERRORS, (method, path)


def test_bearer_security_scheme_and_no_authorization_parameter(doc: dict[str, Any]) -> None:
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": doc["components"]["securitySchemes"]["bearer"]["description"],
    }
    for method, path, op in operations(doc):
        names = {p["name"].lower() for p in op.get("parameters", [])}
        assert "authorization" not in names, (method, path)
        if path.startswith("/v1/") and path not in PUBLIC:
            assert op["security"] == [{"bearer": []}], (method, path)


def test_every_enum_value_property_and_parameter_is_described(doc: dict[str, Any]) -> None:
    undescribed = []
    for name, schema in doc["components"]["schemas"].items():
        if "enum" in schema:
            meanings = schema["x-enum-descriptions"]
            if len(meanings) != len(schema["enum"]) or not all(meanings):
                undescribed.append(name)
        for field, prop in schema.get("properties", {}).items():
            if not prop.get("description"):
                undescribed.append(f"{name}.{field}")
    for method, path, op in operations(doc):
        for parameter in op.get("parameters", []):
            if not parameter.get("description") and parameter["in"] != "path":
                undescribed.append(f"{method} {path} {parameter['name']}")
    assert undescribed == []


def test_summaries_are_sentences_and_commands_say_who_what_and_which_rules(
    doc: dict[str, Any],
) -> None:
    for method, path, op in operations(doc):
        assert op["summary"][0].isupper() and op["summary"].endswith("."), (method, path)
    for name, action in authz.ACTIONS.items():
        op = doc["paths"][f"/v1/incidents/{{incident_id}}/{name}"]["post"]
        text = op["description"]
        assert all(f"`{role.value}`" in text for role in action.roles), name
        assert ("investigator appointed" in text) == action.appointed_investigator, name
        assert ("reviewer appointed" in text) == action.appointed_reviewer, name
        assert all(f"`{rule}`" in text for rule in refusals(action.command)), name
        assert refusals(action.command), name  # every command can be refused by some rule
        always = ("reopen", "corrections", "responsible-organisation", "resolve-legacy-type")
        assert "lifecycle.closed" in text or name in always, name


def test_the_serve_allegations_description_names_its_rules() -> None:
    assert refusals("serve_allegations") == [
        "document.not-on-record",
        "document.superseded",
        "document.wrong-kind",
        "fairness.service-method-required",
        "fairness.service-not-in-writing",
        "fairness.unknown-subject",
        "investigation.no-investigator",
        "investigation.not-determined",
        "lifecycle.closed",
        "lifecycle.withdrawn",
        "sequence.before-prerequisite",
        "time.effective-before-aware",
        "time.effective-in-future",
        "time.out-of-range",
    ]


def test_every_request_model_has_one_valid_example(doc: dict[str, Any]) -> None:
    bodies = {action.body for action in authz.ACTIONS.values()} | {ReportIn}
    for body in bodies:
        schema = doc["components"]["schemas"][body.__name__]
        assert len(schema["examples"]) == 1, body.__name__
        body.model_validate(schema["examples"][0])
    assert set(EXAMPLES) == {b.__name__ for b in bodies}


def test_closed_sets_are_enums_that_match_what_they_name(doc: dict[str, Any]) -> None:
    assert set(ObligationKind) == set(RULES)
    assert set(next_steps.MET_BY) == set(RULES)
    assert set(FeedName) == set(REGULATORS)
    assert set(TITLES) == {*authz.ACTIONS, "report"}
    assert {a.command for a in authz.ACTIONS.values()} == set(next_steps.PRECONDITIONS)
    schemas = doc["components"]["schemas"]
    assert schemas["ExtendIn"]["properties"]["obligation_kind"] == {
        "$ref": "#/components/schemas/ObligationKind",
        "description": schemas["ExtendIn"]["properties"]["obligation_kind"]["description"],
        "title": "Obligation",  # the form's label, from api.vocabulary.LABELS
    }
    assert schemas["CloseIn"]["properties"]["not_required"]["propertyNames"] == {
        "$ref": "#/components/schemas/ObligationKind"
    }
    listing = {p["name"]: p for p in doc["paths"]["/v1/incidents"]["get"]["parameters"]}
    for name, enum in (("status", "Stage"), ("type", "IncidentType"), ("impact", "Impact")):
        assert {"$ref": f"#/components/schemas/{enum}"} in listing[name]["schema"]["anyOf"]
    assert set(listing["sort"]["schema"]["enum"]) == {"newest", "oldest"}  # by instant reported
    feed = doc["paths"]["/v1/feeds/{regulator}"]["get"]["parameters"][0]
    assert feed["schema"] == {"$ref": "#/components/schemas/FeedName"}


def _constants_in_calls(folder: Path) -> set[str]:
    found = set()
    for path in folder.rglob("*.py"):
        if path.name == "catalogue.py":  # it lists the ids; it raises none
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                for arg in [*node.args, *(k.value for k in node.keywords)]:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.add(arg.value)
            if isinstance(node, ast.FunctionDef):  # a default rule id, e.g. `require_reason`
                for default in node.args.defaults + node.args.kw_defaults:
                    if isinstance(default, ast.Constant) and isinstance(default.value, str):
                        found.add(default.value)
    return found


def test_every_rule_id_the_domain_raises_is_catalogued() -> None:
    raised = {
        value
        for value in _constants_in_calls(ROOT / "domain")
        if RULE_ID.match(value) and not value.startswith(("cims.", "eventsourcing."))
    }
    assert "fairness.allegations-not-served" in raised and len(raised) > 50
    assert raised - set(CATALOGUE) == set()
    # The ledger's services (legacy import, patterns) raise rules of the domain's too.
    raised |= {
        value
        for value in _constants_in_calls(ROOT / "ledger")
        if RULE_ID.match(value) and value.split(".")[0] in {r.split(".")[0] for r in CATALOGUE}
    }
    assert raised - set(CATALOGUE) == set()
    # A rule the API or replay raises on the domain's behalf is a policy rule too.
    raised |= _policy_violations(ROOT / "api") | _policy_violations(ROOT / "replay")
    assert raised - set(CATALOGUE) == set()
    # And the catalogue holds nothing the domain does not raise.
    assert set(CATALOGUE) - raised == set()


def _policy_violations(folder: Path) -> set[str]:
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "PolicyViolation":
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.add(first.value)
    return found


def _problem_slugs(folder: Path) -> set[str]:
    """The slugs of the problems api/ answers with: `Problem(status, slug, ...)`,
    `_refuse(send, status, slug, ...)`, `_problem(send, scope, status, slug, ...)` and
    `return (status, slug, ...)`."""
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            items: list[ast.expr] = []
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name == "Problem":
                    items = node.args[1:2]
                elif name == "_refuse":
                    items = node.args[2:3]
                elif name == "_problem":
                    items = node.args[3:4]
            elif isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
                first = node.value.elts[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, int):
                    items = node.value.elts[1:2]
            found |= {
                i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)
            }
    return found


def test_every_problem_type_resolves_to_a_catalogue_entry(app_client: TestClient) -> None:
    slugs = _problem_slugs(ROOT / "api")
    assert {"forbidden", "version-conflict", "body-too-large", "rate-limited"} <= slugs
    assert slugs - set(API_PROBLEMS) == set()
    listed = app_client.get("/v1/rules").json()["items"]
    assert listed == catalogue()
    by_id = {item["id"]: item for item in listed}
    for rule_id, entry in CATALOGUE.items():
        assert by_id[rule_id]["section"] == entry.section
        assert by_id[rule_id]["type"].endswith("/problems/" + rule_id)
    assert set(by_id) == set(CATALOGUE) | set(API_PROBLEMS) | set(FIELD_RULES) | set(schema_rules())
    assert by_id["fairness.allegations-not-served"]["section"] == "8"


def test_docs_are_served_from_packaged_assets(app_client: TestClient) -> None:
    page = app_client.get("/docs")

    assert page.status_code == 200
    assert "cdn" not in page.text and "https://" not in page.text
    for asset in re.findall(r'"(/docs/assets/[^"]+)"', page.text):
        assert app_client.get(asset).status_code == 200, asset
    assert "/docs/assets/swagger-ui-bundle.js" in page.text
    assert app_client.get("/redoc").status_code == 404


def test_docs_carry_a_content_security_policy_and_keep_no_token_after_the_page(
    app_client: TestClient,
) -> None:
    for path in ("/docs", "/docs/oauth2-redirect"):
        page = app_client.get(path)
        policy = page.headers["content-security-policy"]

        assert "script-src 'self' 'sha256-" in policy and "'unsafe-eval'" not in policy, path
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy, path
    docs = app_client.get("/docs").text
    assert '"persistAuthorization": true' not in docs
    assert '"persistAuthorization": false' in docs


def _integer_schemas(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        if node.get("type") == "integer":
            found.append((path, node))
        for key, value in node.items():
            found += _integer_schemas(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _integer_schemas(value, f"{path}/{i}")
    return found


def test_integer_bounds_are_written_as_integers(app_client: TestClient) -> None:
    """Read from the served bytes: `4.611686018427388e+18` is a float to every JSON parser."""
    served = app_client.get("/openapi.json").json()
    integers = _integer_schemas(served)
    bounded = [(p, s) for p, s in integers if "maximum" in s]
    assert len(bounded) > 30  # versions and positions, optional ones (anyOf) among them
    floats = [
        (path, key, schema[key])
        for path, schema in integers
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
        if isinstance(schema.get(key), float)
    ]
    assert floats == []
    version = served["components"]["schemas"]["AmendIn"]["properties"]["expected_version"]
    assert {"type": "integer", "minimum": 0, "maximum": 2**62} in [
        {k: v for k, v in s.items() if k in ("type", "minimum", "maximum")}
        for s in version["anyOf"]
    ]


# Dotted constants in api/ that are not rule ids: logger names, ASGI message types, file names,
# the feed's CloudEvents types.
# Dotted names that are not rule ids: loggers, file names, the demo's people.
NOT_RULES = ("cims.", "http.", "index.html", "au.gov.vic.cims.", "uvicorn.", "mel.", "ivan.")


def _rule_ids_in(folder: Path) -> set[str]:
    """Every rule id api/ can put in a problem: each dotted id among its string constants,
    each `"rule": ...` value, and `schema.<slug>` for each field-level body refusal."""
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if RULE_ID.match(node.value) and not node.value.startswith(NOT_RULES):
                    found.add(node.value)
            elif isinstance(node, ast.Dict):
                found |= {
                    value.value
                    for key, value in zip(node.keys, node.values, strict=True)
                    if isinstance(key, ast.Constant) and key.value == "rule"
                    if isinstance(value, ast.Constant) and isinstance(value.value, str)
                    if RULE_ID.match(value.value)  # not the vocabulary's words for `rule`
                }
    # body_guard: a refusal naming a field carries `schema.<its slug>` (duplicate key, control
    # character), from `json_hazard`'s answers.
    from api.body_guard import json_hazard

    for body in (b'{"a": 1, "a": 2}', b'{"a": "\\u0007"}'):
        hazard = json_hazard(body)
        assert hazard is not None and hazard[4] is not None
        found.add(f"schema.{hazard[1]}")
    return found


def test_every_rule_id_and_problem_type_the_api_can_emit_is_listed(
    app_client: TestClient, auth_for_doc: dict[str, str]
) -> None:
    listed = {item["id"] for item in app_client.get("/v1/rules").json()["items"]}
    emitted = _rule_ids_in(ROOT / "api")
    assert {"idempotency.key-reused", "schema.cursor", "schema.duplicate-key"} <= emitted
    assert emitted - listed == set()
    # Every kind of field error pydantic can report, as the API names it.
    assert {"schema.missing", "schema.uuid_parsing", "schema.string_too_long"} <= listed
    # And live refusals: each `type` and each `errors[].rule` resolves in the catalogue.
    answers = [
        app_client.get("/v1/incidents/not-a-uuid", headers=auth_for_doc),
        app_client.post("/v1/incidents", json={}, headers=auth_for_doc),
        app_client.get("/v1/access-log?cursor=x&after=y", headers=auth_for_doc),
    ]
    by_type = {item["type"]: item for item in app_client.get("/v1/rules").json()["items"]}
    rules = set()
    for answer in answers:
        problem = answer.json()
        assert problem["type"] in by_type, problem
        rules |= {e["rule"] for e in problem.get("errors", [])}
    assert {"schema.uuid_parsing", "schema.missing", "schema.cursor-or-after"} <= rules
    assert rules - listed == set()


def test_one_spelling_per_problem_a_type_is_its_rule_id(app_client: TestClient) -> None:
    """A problem that is a rule of its own (idempotency, header size) has one id: its `type`
    ends with the id its `errors[].rule` carries, never a hyphenated twin of it."""
    items = app_client.get("/v1/rules").json()["items"]
    ids = {item["id"] for item in items}
    for rule in ids:
        twin = rule.replace(".", "-")
        assert twin == rule or twin not in ids, (rule, twin)
    assert "idempotency.key-reused" in API_PROBLEMS and "idempotency-key-reused" not in ids


def test_the_pushed_feed_batch_is_described_as_a_webhook(doc: dict[str, Any]) -> None:
    from projections.webhooks import CONTENT_TYPE, ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER

    batch = doc["webhooks"]["feed-batch"]["post"]
    body = batch["requestBody"]
    assert body["required"] is True and list(body["content"]) == [CONTENT_TYPE]
    schema = body["content"][CONTENT_TYPE]["schema"]
    assert schema["type"] == "array"
    assert schema["items"] == {"$ref": "#/components/schemas/FeedItem"}
    headers = {p["name"] for p in batch["parameters"] if p["in"] == "header" and p["required"]}
    assert headers == {ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER}
    assert "2xx" in batch["responses"]["200"]["description"]
    # The items are typed down to their data, and the event types are the feed's own.
    from projections import regulator_feed

    item = doc["components"]["schemas"]["FeedItem"]
    assert item["properties"]["data"]["$ref"] == "#/components/schemas/FeedData"
    kinds = {*regulator_feed._SSR_EVENTS.values(), *regulator_feed._CCYP_EVENTS.values()}
    assert set(doc["components"]["schemas"]["FeedEventType"]["enum"]) == {
        f"au.gov.vic.cims.incident.{k}" for k in kinds
    }


def _models() -> dict[str, type[BaseModel]]:
    """Every response model by its schema name."""
    from api import resources
    from api.routers import patterns, reminders, sign_in
    from replay import verify

    found = {}
    for module in (resources, patterns, reminders, sign_in, verify):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseModel):
                found[value.model_config.get("title") or value.__name__] = value
    return found


def _declared_only(value: Any, where: str) -> None:
    """No field the model does not declare (`Resource` keeps unknown ones: a typo would pass)."""
    if isinstance(value, BaseModel):
        # An event's own fields depend on its `type` (EventOut declares the common ones).
        assert type(value).__name__ == "EventOut" or not value.model_extra, (where, value)
        for name, field in type(value).model_fields.items():
            if not field.deprecated:
                _declared_only(getattr(value, name), f"{where}.{name}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _declared_only(item, f"{where}.{i}")
    elif isinstance(value, dict):
        for key, item in value.items():
            _declared_only(item, f"{where}.{key}")


# Answers too large for a useful hand-written example: /docs shows their schema field by field.
NO_EXAMPLE = {"IncidentOut", "StateAsOf", "History", "Diff", "IncidentRecord"}


def test_every_answer_has_a_valid_example(doc: dict[str, Any]) -> None:
    answered = set()
    for _, _, op in operations(doc):
        for code, response in op["responses"].items():
            for media in response.get("content", {}).values():
                ref = media["schema"].get("$ref")
                if ref and code.startswith("2"):
                    name = ref.rsplit("/", 1)[1]
                    answered.add(name)
                    if name not in NO_EXAMPLE:
                        assert media["example"] == RESPONSE_EXAMPLES[name], name
    assert "Feed" in answered and len(answered) > 20
    assert answered - NO_EXAMPLE - set(RESPONSE_EXAMPLES) == set()
    models = _models()
    for name, example in RESPONSE_EXAMPLES.items():
        schema = doc["components"]["schemas"][name]
        assert schema["examples"] == [example], name
        _declared_only(models[name].model_validate(example), name)
