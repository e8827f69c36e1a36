"""Run `cims` in-process against a store, keeping stdout and stderr apart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from cli.main import app

Cims = Callable[..., Result]
# Outside development (PostgreSQL) the worker and checkpoints refuse the known development keys.
STRONG = {"CIMS_FEED_SECRET": "f" * 32, "CIMS_CHECKPOINT_KEY": "c" * 32}


@pytest.fixture
def cims(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cims:
    """`cims(*args)` on the test's store; `env=` adds variables (COLUMNS, …). It runs in the
    test's own folder: what `cims` keeps in the working folder (on PostgreSQL, the development
    secret that `cims token` makes) is the test's, not the checkout's nor another test's."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str, env: dict[str, Any] | None = None) -> Result:
        return CliRunner().invoke(
            app, list(args), env={"CIMS_DATABASE_URL": database_url, **STRONG, **(env or {})}
        )

    return run


def error_lines(result: Result) -> list[str]:
    """The lines of stderr that are not the store's name (nor progress)."""
    return [line for line in result.stderr.splitlines() if not line.startswith("store: ")]
