"""The dependency arrows: the domain is pure, the store lives in `ledger/`, nothing imports the API.

api, cli → ledger, domain, projections, replay; projections, replay → ledger, domain;
ledger → domain; domain → the standard library, pydantic, holidays and `eventsourcing.domain` alone.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOMAIN_MAY_IMPORT = {"pydantic", "holidays", "eventsourcing", "domain", "__future__"}
# The hash chain's one canonical encoding (orjson's sorted keys and fixed formats) is part of the
# aggregate's events, so base.py alone may use orjson.
CANONICAL_ENCODING_MODULES = {"base.py"}
FORBIDDEN_EVERYWHERE_IN_DOMAIN = {
    "fastapi",
    "psycopg",
    "sqlite3",
    "threading",
    "api",
    "ledger",
    "projections",
    "replay",
    "cli",
}
# eventsourcing's aggregate machinery only: never its application, persistence or recorders.
EVENTSOURCING_FOR_THE_DOMAIN = {"eventsourcing.domain", "eventsourcing.utils"}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, dotted in full (`eventsourcing.domain`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def imports(path: Path) -> set[str]:
    return {name.split(".")[0] for name in imported_modules(path)}


def test_domain_imports_no_infrastructure_and_reads_no_clock() -> None:
    import sys

    stdlib = set(sys.stdlib_module_names)
    for path in ROOT.glob("domain/**/*.py"):
        third_party = imports(path) - stdlib
        assert not third_party & FORBIDDEN_EVERYWHERE_IN_DOMAIN, path
        allowed = DOMAIN_MAY_IMPORT | (
            {"orjson"} if path.name in CANONICAL_ENCODING_MODULES else set()
        )
        assert third_party <= allowed, f"{path.name} imports {third_party - allowed}"
        eventsourcing = {m for m in imported_modules(path) if m.split(".")[0] == "eventsourcing"}
        assert eventsourcing <= EVENTSOURCING_FOR_THE_DOMAIN, f"{path} imports {eventsourcing}"
        source = path.read_text()
        assert "datetime.now(" not in source and "time.time(" not in source, path


def test_the_domain_holds_no_store_machinery() -> None:
    """The application, recorders, receipts and group commit live in `ledger/`, not `domain/`."""
    for name in ("ledger", "persistence", "receipts", "group_commit", "legacy_import"):
        assert not (ROOT / "domain" / f"{name}.py").exists(), name
    for path in ROOT.glob("domain/**/*.py"):
        assert "class Ledger" not in path.read_text(), path


def test_the_store_package_imports_only_the_domain_of_ours() -> None:
    for path in ROOT.glob("ledger/**/*.py"):
        assert not imports(path) & {"api", "projections", "replay", "cli", "web", "demo"}, path


def test_nothing_imports_the_api_but_the_command_line() -> None:
    for package in ("domain", "ledger", "projections", "replay"):
        for path in ROOT.glob(f"{package}/**/*.py"):
            assert "api" not in imports(path), path


def test_the_api_and_the_demo_data_set_import_no_command_line() -> None:
    for package in ("api", "demo"):
        for path in ROOT.glob(f"{package}/**/*.py"):
            assert "cli" not in imports(path), path
    for path in ROOT.glob("demo/**/*.py"):
        assert not imports(path) & {"api", "projections", "replay"}, path
