"""The project's own documents stay true to the code: every rule id and obligation they name
exists, and the README needs nothing outside the clone."""

from __future__ import annotations

import re
from pathlib import Path

from domain.obligations import RULES

ROOT = Path(__file__).resolve().parent.parent
RULE_ID = re.compile(r"`([a-z]+(?:-[a-z]+)*\.[a-z]+(?:-[a-z]+)*)`")


def _domain_source() -> str:
    return "\n".join(p.read_text() for p in (ROOT / "domain").rglob("*.py"))


def test_every_rule_id_the_policy_document_names_is_one_the_domain_raises() -> None:
    named = set(RULE_ID.findall((ROOT / "docs" / "policy.md").read_text()))
    source = _domain_source()

    assert len(named) > 20
    missing = sorted(r for r in named if f'"{r}"' not in source)
    assert missing == [], f"docs/policy.md names rule ids the domain does not raise: {missing}"


def test_every_obligation_the_policy_document_tabulates_exists() -> None:
    table = (ROOT / "docs" / "policy.md").read_text().split("## 6.")[1].split("## 7.")[0]
    kinds = {k for k in re.findall(r"`([a-z_]+)`", table) if "_" in k}

    assert kinds and kinds <= set(RULES), kinds - set(RULES)


def test_the_readme_points_inside_the_clone_and_needs_no_uuidgen() -> None:
    readme = (ROOT / "README.md").read_text()

    assert "../shared" not in readme
    assert "uuidgen" not in readme
    for link in re.findall(r"\]\(((?:docs|\.)/[^)#]+)", readme):
        assert (ROOT / link).exists(), link
    assert "docs/policy.md" in readme and "docs/architecture.md" in readme
