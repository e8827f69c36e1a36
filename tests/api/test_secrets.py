"""No known secrets: outside the embedded development set-up, the API, the projection worker and
the feed pusher refuse to start with a missing, development or short secret, naming it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from api.main import create_app
from api.settings import InsecureSecret, Settings, get_settings, require_secrets
from cli.main import app as cli_app

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = "postgresql://cims@127.0.0.1:1/nowhere"  # never reached: the refusal comes first
STRONG = {"CIMS_FEED_SECRET": "f" * 32, "CIMS_CHECKPOINT_KEY": "c" * 32}
WEBHOOK = "whsec_" + "a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleS0="  # 32 bytes


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("CIMS_FEED_SECRET", "CIMS_CHECKPOINT_KEY", "CIMS_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


CASES = [
    ({"CIMS_CHECKPOINT_KEY": "c" * 32}, "CIMS_FEED_SECRET is not set"),
    (
        {"CIMS_FEED_SECRET": "development-feed-secret", "CIMS_CHECKPOINT_KEY": "c" * 32},
        "CIMS_FEED_SECRET is the development value",
    ),
    (
        {"CIMS_FEED_SECRET": "f" * 31, "CIMS_CHECKPOINT_KEY": "c" * 32},
        "CIMS_FEED_SECRET is shorter than 32 bytes",
    ),
    ({"CIMS_FEED_SECRET": "f" * 32}, "CIMS_CHECKPOINT_KEY is not set"),
    (
        {"CIMS_FEED_SECRET": "f" * 32, "CIMS_CHECKPOINT_KEY": "development-checkpoint-key"},
        "CIMS_CHECKPOINT_KEY is the development value",
    ),
]


@pytest.mark.parametrize(("env", "message"), CASES)
def test_the_api_refuses_to_start_outside_development_without_strong_secrets(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    monkeypatch.setenv("CIMS_DATABASE_URL", POSTGRES)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(InsecureSecret, match=message):
        create_app()  # as `cims serve` builds it (uvicorn's factory)


@pytest.mark.parametrize(("env", "message"), CASES)
def test_the_worker_refuses_to_start_outside_development_without_strong_secrets(
    env: dict[str, str], message: str
) -> None:
    result = CliRunner().invoke(
        cli_app, ["projections", "run"], env={"CIMS_DATABASE_URL": POSTGRES, **env}
    )

    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize(
    ("env", "message"),
    [
        *CASES,
        ({**STRONG, "CIMS_WEBHOOK_SECRET": "short"}, "CIMS_WEBHOOK_SECRET is shorter than 32"),
        ({**STRONG, "CIMS_WEBHOOK_SECRET": "whsec_c2hvcnQ="}, "CIMS_WEBHOOK_SECRET is shorter"),
    ],
)
def test_the_pusher_refuses_to_start_outside_development_without_strong_secrets(
    env: dict[str, str], message: str
) -> None:
    env = {"CIMS_WEBHOOK_SECRET": WEBHOOK, **env}
    result = CliRunner().invoke(
        cli_app,
        ["projections", "push", "ssr", "--url", "https://regulator.example/cims"],
        env={"CIMS_DATABASE_URL": POSTGRES, **env},
    )

    assert result.exit_code == 2
    assert message in result.output


def test_strong_secrets_pass_and_the_development_set_up_needs_none() -> None:
    require_secrets(
        Settings(database_url=POSTGRES, feed_secret="f" * 32, checkpoint_key="c" * 32),
        "feed_secret",
        "checkpoint_key",
    )
    require_secrets(Settings(database_url="sqlite:///cims.db"), "feed_secret", "checkpoint_key")


def test_compose_passes_every_secret_from_the_environment_with_no_default_and_restarts() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    compose = yaml.safe_load(text)
    services = compose["services"]
    for name in ("api", "projections", "ssr-pusher"):
        env = services[name]["environment"]
        for variable in ("CIMS_FEED_SECRET", "CIMS_CHECKPOINT_KEY"):
            assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", env[variable]), (name, variable)
        assert services[name]["restart"] == "unless-stopped"
    assert re.fullmatch(
        r"\$\{[A-Z_]+:\?[^}]+\}", services["ssr-pusher"]["environment"]["CIMS_WEBHOOK_SECRET"]
    )
    assert "--follow" in services["ssr-pusher"]["command"]
    # No literal secret anywhere: every secret-like value is a required variable (defaults only
    # for what is not secret: the API's published address and port, its trusted proxies).
    assert "development-" not in text
    defaulted = re.findall(r"\$\{([A-Z_]+):-[^}]", text)  # `:-}` (optional, empty) is no value
    assert not [v for v in defaulted if re.search("SECRET|PASSWORD|KEY|TOKEN", v)], defaulted


def test_a_checkpoint_is_not_signed_with_a_known_key_outside_development() -> None:
    result = CliRunner().invoke(
        cli_app, ["replay", "checkpoint"], env={"CIMS_DATABASE_URL": POSTGRES}
    )

    assert result.exit_code == 2
    assert "CIMS_CHECKPOINT_KEY is not set" in result.output


def test_a_short_jwt_secret_is_refused_outside_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CIMS_DATABASE_URL", POSTGRES)
    for name, value in {**STRONG, "CIMS_JWT_SECRET": "secret"}.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(InsecureSecret, match="CIMS_JWT_SECRET is shorter than 32 bytes"):
        create_app()
