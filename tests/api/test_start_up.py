"""Start-up refusals come before anything is served, in one line naming the setting, exit 2;
development sign-in exists only on the embedded store or where an operator turns it on, and
then says so (issue 19, item 3)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import preflight
from api.main import create_app
from api.settings import InsecureSecret, Settings, get_settings
from cli.main import app as cli_app

POSTGRES = "postgresql://cims@127.0.0.1:1/nowhere"  # never reached: the refusal comes first
STRONG = {"CIMS_FEED_SECRET": "f" * 32, "CIMS_CHECKPOINT_KEY": "c" * 32}
NO_TOKENS = "CIMS_JWT_SECRET, CIMS_JWKS_URL or CIMS_OIDC_ISSUER is not set"


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    # In the test's own folder: development sign-in on PostgreSQL keeps its generated secret
    # in the working folder, which must be neither the checkout nor another test's.
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("CIMS_"):
            monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What `cims serve` would have handed to uvicorn (nothing is served)."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("cli.main.uvicorn.run", lambda *a, **kw: calls.append(kw))
    return calls


def serve(*args: str, **env: str) -> Any:
    return CliRunner().invoke(cli_app, ["serve", *args], env=env)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_on_postgresql_without_token_configuration_refuses_before_serving(
    served: list[dict[str, Any]], workers: str
) -> None:
    result = serve("--workers", workers, CIMS_DATABASE_URL=POSTGRES, **STRONG)

    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"cims: error: refusing to start: {NO_TOKENS}")
    assert "Traceback" not in result.output and "CIMS Ledger on" not in result.stderr
    assert served == []


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"CIMS_CHECKPOINT_KEY": "c" * 32, "CIMS_JWT_SECRET": "j" * 32}, "CIMS_FEED_SECRET"),
        ({**STRONG, "CIMS_JWT_SECRET": "short"}, "CIMS_JWT_SECRET"),
        ({**STRONG, "CIMS_CHECKPOINT_KEY": "development-checkpoint-key"}, "CIMS_CHECKPOINT_KEY"),
    ],
)
def test_serve_refuses_a_missing_or_weak_secret_in_one_line_naming_it(
    served: list[dict[str, Any]], env: dict[str, str], variable: str
) -> None:
    result = serve(CIMS_DATABASE_URL=POSTGRES, **env)

    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("cims: error: refusing to start:") and variable in line
    assert served == []


def test_serve_refuses_unsafe_durability_before_serving(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(preflight.Db, "unsafe_durability", lambda self: ["fsync=off"])

    result = serve(CIMS_DATABASE_URL=f"sqlite:///{tmp_path / 'cims.db'}")

    assert result.exit_code == 2
    assert "cims: error: refusing to start: PostgreSQL has fsync=off" in result.stderr
    assert "CIMS Ledger on" not in result.stderr and served == []


def test_serve_with_two_workers_exits_2_at_once_rather_than_respawning_workers() -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CIMS_")},
        "CIMS_DATABASE_URL": POSTGRES,
        **STRONG,
    }
    found = subprocess.run(
        [sys.executable, "-c", "from cli.main import app; app()", "serve", "--workers", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert found.returncode == 2
    (line,) = found.stderr.strip().splitlines()
    assert line.startswith(f"cims: error: refusing to start: {NO_TOKENS}")


def test_the_app_itself_refuses_development_sign_in_on_postgresql_by_default() -> None:
    settings = Settings(database_url=POSTGRES, feed_secret="f" * 32, checkpoint_key="c" * 32)

    with pytest.raises(InsecureSecret, match="CIMS_JWT_SECRET, CIMS_JWKS_URL or CIMS_OIDC"):
        create_app(settings)


def test_development_sign_in_beside_an_issuers_keys_is_refused() -> None:
    settings = Settings(dev_sign_in=True, jwks_url="https://issuer.example/jwks")

    with pytest.raises(InsecureSecret, match="CIMS_DEV_SIGN_IN=true mints tokens"):
        create_app(settings)


def test_serve_says_development_sign_in_is_on_for_the_embedded_store(
    served: list[dict[str, Any]], tmp_path: Path
) -> None:
    result = serve(CIMS_DATABASE_URL=f"sqlite:///{tmp_path / 'cims.db'}")

    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    (said,) = [line for line in lines if line.startswith("development sign-in is on")]
    assert "CIMS_DEV_SIGN_IN=false turns it off" in said
    assert lines.index(said) < next(i for i, x in enumerate(lines) if "CIMS Ledger on" in x)
    assert served and served[0]["access_log"] is False


@pytest.mark.store
def test_an_operator_may_turn_development_sign_in_on_and_readyz_says_so(
    database_url: str, served: list[dict[str, Any]]
) -> None:
    result = serve(CIMS_DATABASE_URL=database_url, CIMS_DEV_SIGN_IN="true", **STRONG)
    assert result.exit_code == 0, result.output
    assert "development sign-in is on" in result.stderr and "CIMS_DEV_SIGN_IN=true" in result.stderr

    settings = Settings(
        database_url=database_url, dev_sign_in=True, feed_secret="f" * 32, checkpoint_key="c" * 32
    )
    with TestClient(create_app(settings)) as client:
        minted = client.post(
            "/v1/dev/token",
            json={"sub": "x", "role": "department_officer", "organisation": "DFFH"},
        )
        assert minted.status_code == 200
        assert client.get("/readyz").json()["development_sign_in"] is True


@pytest.mark.store
def test_development_sign_in_is_off_when_the_operator_says_so_and_readyz_says_that(
    database_url: str,
) -> None:
    settings = Settings(
        database_url=database_url,
        dev_sign_in=False,
        jwt_secret="j" * 32,
        feed_secret="f" * 32,
        checkpoint_key="c" * 32,
    )
    with TestClient(create_app(settings)) as client:
        refused = client.post(
            "/v1/dev/token", json={"sub": "x", "role": "department_officer", "organisation": "D"}
        )
        assert refused.status_code == 404
        assert client.get("/readyz").json()["development_sign_in"] is False
