"""The dependency arrows of style.md: the domain is pure, nothing imports the API."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOMAIN_MAY_IMPORT = {"pydantic", "holidays", "eventsourcing", "domain", "__future__"}
INFRASTRUCTURE_MODULES = {"ledger.py", "persistence.py", "base.py"}
FORBIDDEN_EVERYWHERE_IN_DOMAIN = {"fastapi", "psycopg", "api", "projections", "replay", "cli"}


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_domain_imports_no_infrastructure_and_reads_no_clock() -> None:
    import sys

    stdlib = set(sys.stdlib_module_names)
    for path in ROOT.glob("domain/**/*.py"):
        third_party = imports(path) - stdlib
        assert not third_party & FORBIDDEN_EVERYWHERE_IN_DOMAIN, path
        allowed = DOMAIN_MAY_IMPORT | ({"orjson"} if path.name in INFRASTRUCTURE_MODULES else set())
        assert third_party <= allowed, f"{path.name} imports {third_party - allowed}"
        source = path.read_text()
        assert "datetime.now(" not in source and "time.time(" not in source, path


def test_nothing_imports_the_api_but_the_command_line() -> None:
    for package in ("domain", "projections", "replay"):
        for path in ROOT.glob(f"{package}/**/*.py"):
            assert "api" not in imports(path), path


def test_the_api_and_the_demo_data_set_import_no_command_line() -> None:
    for package in ("api", "demo"):
        for path in ROOT.glob(f"{package}/**/*.py"):
            assert "cli" not in imports(path), path
    for path in ROOT.glob("demo/**/*.py"):
        assert not imports(path) & {"api", "projections", "replay"}, path
