"""`GET /v1/rules` and `/openapi.json` number the policy as docs/policy.md does: the document
readers are pointed to. Derived from the files (docs/policy.md is edited as readings change), so
a rule or description that cites a section the document gives to something else fails here."""

from __future__ import annotations

import re
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from domain.rules.catalogue import CATALOGUE

POLICY = Path(__file__).resolve().parents[2] / "docs" / "policy.md"
HEADING = re.compile(r"^## (\d+[a-z]?)\. ")
NAMED = re.compile(r"`([a-z][a-z0-9_.-]*)`")
CITED = re.compile(r"§(\d+[a-z]?)\b(?!\.\d)")  # not "RFC 9110 §13.1.1"


def policy_sections() -> tuple[set[str], dict[str, set[str]]]:
    """docs/policy.md's numbered sections, and the sections each `name` in backticks is in."""
    sections: set[str] = set()
    named: dict[str, set[str]] = defaultdict(set)
    current = None
    for line in POLICY.read_text().splitlines():
        if line.startswith("## "):
            found = HEADING.match(line)
            current = found[1] if found else None
            if current:
                sections.add(current)
            continue
        if current:
            for name in NAMED.findall(line):
                named[name].add(current)
    return sections, named


@pytest.fixture(scope="module")
def served() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    settings = Settings(
        database_url=f"sqlite:///{tempfile.mkdtemp(prefix='cims-sections-')}/doc.db",
        jwt_secret="doc-secret-" + "d" * 32,
        run_projections_in_process=False,
    )
    client = TestClient(create_app(settings))
    return client.get("/v1/rules").json()["items"], client.get("/openapi.json").json()


def test_every_rule_names_a_section_of_docs_policy(served: Any) -> None:
    sections, named = policy_sections()
    assert {"1", "6", "8", "12"} <= sections
    rules = {item["id"]: item for item in served[0]}
    assert set(CATALOGUE) <= set(rules)
    wrong_section = {
        rule_id: rules[rule_id]["section"]
        for rule_id in CATALOGUE
        if rules[rule_id]["section"] not in sections
    }
    assert wrong_section == {}
    # Each rule docs/policy.md names sits, in /v1/rules, in a section that names it.
    mentioned = {r: s for r, s in named.items() if r in CATALOGUE}
    assert len(mentioned) > 20
    differ = {
        rule_id: (rules[rule_id]["section"], sorted(where))
        for rule_id, where in mentioned.items()
        if rules[rule_id]["section"] not in where
    }
    assert differ == {}


def _descriptions(node: Any) -> list[str]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                found.append(value)
            else:
                found += _descriptions(value)
    elif isinstance(node, list):
        for value in node:
            found += _descriptions(value)
    return found


def test_openapi_cites_sections_of_docs_policy(served: Any) -> None:
    sections, named = policy_sections()
    doc = served[1]
    cited = {(s, d[:80]) for d in _descriptions(doc) for s in CITED.findall(d)}
    assert len(cited) > 10
    assert {c for c in cited if c[0] not in sections} == set()
    # An enum value docs/policy.md names (an obligation kind in §6's table, say) cites a
    # section that names it, when its description cites one at all.
    differ = {}
    for name, schema in doc["components"]["schemas"].items():
        for value, meaning in zip(
            schema.get("enum", []), schema.get("x-enum-descriptions", []), strict=True
        ):
            given = set(CITED.findall(meaning))
            where = named.get(str(value), set())
            if given and where and not given & where:
                differ[f"{name}.{value}"] = (sorted(given), sorted(where))
    assert differ == {}
