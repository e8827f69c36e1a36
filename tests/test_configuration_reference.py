"""docs/configuration.md is the settings' own account of themselves: generated from their
fields, equal to them, and every `CIMS_` variable the code or the docs name is one of them
(issue 23 item 4)."""

from __future__ import annotations

import re
from pathlib import Path

from api import config_reference
from api.settings import EVERY, Settings
from ledger.application import Ledger

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("api", "cli", "domain", "ledger", "projections", "replay", "demo", "web")
VARIABLE = re.compile(r"\bCIMS_[A-Z][A-Z0-9_]*[A-Z0-9]\b")


def test_the_reference_is_what_the_settings_say() -> None:
    written = (ROOT / "docs" / "configuration.md").read_text()

    assert written == config_reference.render(), (
        "docs/configuration.md is out of date: python -m api.config_reference"
        " > docs/configuration.md"
    )


def test_every_setting_says_what_it_does_and_which_processes_read_it() -> None:
    for name, field in (
        item for cls in config_reference.SETTINGS_CLASSES for item in cls.model_fields.items()
    ):
        assert field.description and len(field.description) > 20, name
        extra = field.json_schema_extra
        assert isinstance(extra, dict) and extra["read_by"], name
        assert set(extra["read_by"]) <= set(EVERY), name  # type: ignore[arg-type]
    written = (ROOT / "docs" / "configuration.md").read_text()
    for variable in ("CIMS_MAX_JSON_DEPTH", "CIMS_RUN_PROJECTIONS_IN_PROCESS"):
        assert f"| `{variable}` |" in written
    assert "| `CIMS_CHECKPOINT_EVERY` | `1000` | events | API, worker |" in written


def named_variables(paths: list[Path]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in paths:
        for name in VARIABLE.findall(path.read_text(errors="replace")):
            found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_no_code_or_document_names_a_cims_variable_that_is_not_a_setting() -> None:
    settings = {
        config_reference.variable(name)
        for cls in config_reference.SETTINGS_CLASSES
        for name in cls.model_fields
    }
    known = settings | set(config_reference.NOT_SETTINGS)
    code = [p for package in PACKAGES for p in (ROOT / package).rglob("*") if p.is_file()]
    docs = [ROOT / "README.md", ROOT / "docker-compose.yml", *(ROOT / "docs").glob("*.md")]

    unknown = {
        name: where for name, where in named_variables(code + docs).items() if name not in known
    }

    assert unknown == {}


def test_the_environment_is_read_only_through_the_settings() -> None:
    readers = re.compile(r"os\.environ|os\.getenv|getenv\(")
    allowed = {"api/settings.py"}
    # cli/store.py only asks whether the variable is set, to say where `./cims.db` came from.
    allowed.add("cli/store.py")
    # cli/backup.py hands its own environment on to pg_dump/pg_restore (PATH, locale), adding
    # libpq's variables: it reads no setting from it.
    allowed.add("cli/backup.py")
    found = [
        str(p.relative_to(ROOT))
        for package in PACKAGES
        for p in (ROOT / package).rglob("*.py")
        if readers.search(p.read_text())
    ]

    assert set(found) <= allowed, found


def test_the_ledgers_own_settings_reach_the_ledger(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cims.db'}",
        incident_cache_size=3,
        group_commit_max_batch=1,
    )

    ledger = Ledger.from_url(settings.database_url, settings.ledger_options())
    try:
        assert ledger.histories.size == 3 and ledger.commits._max_batch == 1
    finally:
        ledger.close()
