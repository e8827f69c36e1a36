"""docker-compose.yml and the Dockerfile, checked without a Docker daemon (issue 23 items 1, 6):
every command a service runs (and every health check that runs `cims`) parses as a `cims`
command with the options it gives; every secret must be set (`${VAR:?...}`; an optional one,
such as an SMTP password, defaults to nothing, never to a value); only the
API is published, on an address the operator chooses (loopback unless told); and the image is
built from the wheel, with nothing of the checkout's local state in its build context."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from cli.group import click_errors
from cli.main import app

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
SECRET_NAME = re.compile(r"SECRET|PASSWORD|KEY|TOKEN")


def interpolate(text: str) -> str:
    """What compose makes of `text` when every required variable is set to a placeholder and
    the others are left at their defaults; a bare `${VAR}` (empty when unset) is refused."""

    def value(match: re.Match[str]) -> str:
        name, form, rest = match.groups()
        if form is None:
            raise AssertionError(f"${{{name}}} has neither a default nor a required mark")
        return "placeholder" if form.endswith("?") else rest

    return VARIABLE.sub(value, text)


def cims_commands() -> list[tuple[str, list[str]]]:
    """(where, argv) of each `cims` a service runs, as a command or as its health check."""
    found = []
    for name, service in SERVICES.items():
        command = service.get("command")
        if command is not None:
            assert isinstance(command, list), f"{name}: write the command as a list"
            found.append((f"{name}.command", [interpolate(str(a)) for a in command]))
        test = service.get("healthcheck", {}).get("test", [])
        if test[:2] == ["CMD", "cims"]:
            found.append((f"{name}.healthcheck", [interpolate(str(a)) for a in test[1:]]))
    return found


def parse(argv: list[str]) -> str:
    """Parse `argv` as the `cims` command line would, down to the command it names, without
    running it: an unknown command, an unknown option or a bad value raises. Returns the path."""
    assert argv[0] == "cims", argv
    command: Any = typer.main.get_command(app)
    context = command.make_context("cims", argv[1:])
    while hasattr(command, "resolve_command"):
        # The command's name is held apart from its arguments (`protected_args` until click 8.2).
        held = getattr(context, "_protected_args", None) or context.protected_args
        rest = [*held, *context.args]
        assert rest, f"{' '.join(argv)} names no command"
        name, command, rest = command.resolve_command(context, rest)
        context = command.make_context(name, rest, parent=context)
    return str(context.command_path)


def test_compose_runs_the_commands_and_health_checks_it_means() -> None:
    paths = {where: parse(argv) for where, argv in cims_commands()}

    assert paths == {
        "api.command": "cims serve",
        "projections.command": "cims projections run",
        "projections.healthcheck": "cims projections status",
        "ssr-pusher.command": "cims projections push",
        "reminders.command": "cims reminders run",
        "reminders.healthcheck": "cims reminders status",
    }


@pytest.mark.parametrize(
    "argv",
    [
        ["cims", "serv"],
        ["cims", "serve", "--no-such-option"],
        ["cims", "serve", "--port", "eighty"],
        ["cims", "projections", "push", "ssr", "--follow"],  # --url missing
    ],
)
def test_a_command_the_cli_does_not_have_is_found(argv: list[str]) -> None:
    with pytest.raises(click_errors.UsageError):
        parse(argv)


def test_every_secret_must_be_set_and_has_no_default() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for name, form, default in VARIABLE.findall(text):
        if SECRET_NAME.search(name):
            # Required, or optional with nothing written in (an SMTP relay without a login).
            optional = form == ":-" and default == ""
            assert form == ":?" or optional, f"${{{name}}} must be written ${{{name}:?why}}"
    for service_name, service in SERVICES.items():
        for variable, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(variable):
                assert VARIABLE.search(str(value)), f"{service_name}.{variable} is written in"
                interpolate(str(value))  # no bare ${VAR}


def test_only_the_api_is_published_and_on_an_address_the_operator_chooses() -> None:
    published = {name for name, s in SERVICES.items() if s.get("ports")}

    assert published == {"api"}
    for mapping in SERVICES["api"]["ports"]:
        # HOST_ADDRESS:HOST_PORT:CONTAINER_PORT, the address loopback unless set otherwise.
        address, port, inside = interpolate(str(mapping)).split(":")
        assert (address, port, inside) == ("127.0.0.1", "8000", "8000"), mapping
        assert str(mapping).startswith("${"), mapping
    assert "ports" not in SERVICES["postgres"] and "network_mode" not in SERVICES["postgres"]


def test_the_image_is_built_from_the_wheel_alone() -> None:
    stages = re.split(r"(?m)^FROM ", (ROOT / "Dockerfile").read_text())[1:]
    build, final = stages[0], stages[-1]

    assert len(stages) == 2
    assert re.search(r"pip wheel .*--no-deps", build)
    copies = re.findall(r"(?m)^COPY (.*)$", final)
    assert copies and all(c.startswith("--from=") for c in copies), copies
    assert re.search(r"pip install [^\n]*\*\.whl", final)
    assert re.search(r"(?m)^USER (?!root)\w+", final)
    for service in ("api", "projections", "ssr-pusher"):
        assert SERVICES[service]["build"] == "."


def test_the_build_context_leaves_out_local_state_and_secrets() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()

    for entry in (".venv", ".git", "cims.db*", "**/.cims-jwt-secret", "tests"):
        assert entry in ignored, entry
