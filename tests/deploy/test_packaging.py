"""The image runs: `cims` installed from the wheel alone (not the source tree) starts, serves the
API and the web front end, and every module the wheel carries imports.

Issue 23, item 1: the Dockerfile copied five packages of eight, so `cims --help` failed with
`ModuleNotFoundError: demo` in the image. The image is now built from the wheel (see Dockerfile);
these tests install that wheel in a fresh environment, from a folder outside the repository.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.installed import (
    ROOT,
    Installed,
    free_port,
    install,
    serving,
    wait_until_up,
    wheel_files,
)

# The packages whose code runs in the image: everything the `cims` entry point and the API import.
PACKAGES = ("domain", "ledger", "projections", "api", "replay", "cli", "demo", "web")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    yield install(tmp_path_factory.mktemp("installed"))


def test_the_wheel_carries_every_package_and_every_file_of_the_web_front_end(
    installed: Installed,
) -> None:
    files = wheel_files(installed.wheel)
    shipped = {
        str(p.relative_to(ROOT))
        for package in PACKAGES
        for p in (ROOT / package).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }

    missing = sorted(shipped - files)
    assert missing == [], f"the wheel lacks {missing} (pyproject.toml's package data?)"
    # The vendored scripts travel with their licences.
    assert any(re.fullmatch(r"web/vendor/LICENSE\..+", f) for f in files)


def test_every_module_imports_from_the_installed_wheel_alone(installed: Installed) -> None:
    script = (
        "import importlib, json, pkgutil, sys\n"
        f"packages = {list(PACKAGES)!r}\n"
        "where, failed = {}, {}\n"
        "for name in packages:\n"
        "    package = importlib.import_module(name)\n"
        "    where[name] = package.__file__\n"
        "    for info in pkgutil.walk_packages(package.__path__, name + '.'):\n"
        "        try:\n"
        "            importlib.import_module(info.name)\n"
        "        except Exception as exc:\n"
        "            failed[info.name] = repr(exc)\n"
        "print(json.dumps({'where': where, 'failed': failed, 'path': sys.path}))\n"
    )
    found = installed.run_python(script)
    result = json.loads(found.stdout)

    assert result["failed"] == {}
    for name, file in result["where"].items():
        assert Path(file).is_relative_to(installed.venv), f"{name} came from {file}"
    assert not any(Path(p).resolve() == ROOT for p in result["path"] if p)


def test_cims_help_runs_from_the_installed_wheel(installed: Installed) -> None:
    found = installed.run("--help")

    assert found.returncode == 0, found.stderr
    for command in ("serve", "demo", "projections", "replay", "backup", "restore"):
        assert command in found.stdout


def test_cims_serve_demo_answers_healthz_and_the_web_page(installed: Installed) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    with serving(installed, "--demo", "--port", str(port)) as process:
        wait_until_up(process, lambda: urllib.request.urlopen(f"{base}/healthz", timeout=2))
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as health:
            assert json.load(health) == {"status": "ok"}
        with urllib.request.urlopen(f"{base}/", timeout=5) as page:
            html = page.read().decode()
            assert page.headers["content-type"].startswith("text/html")
        assert re.search(r'src="/js/app\.js"', html), html
        # Every asset the page may load (its scripts, the vendored libraries, the styles).
        for asset in (ROOT / "web").rglob("*"):
            if asset.is_file() and asset.suffix in (".js", ".css"):
                path = asset.relative_to(ROOT / "web").as_posix()
                with urllib.request.urlopen(f"{base}/{path}", timeout=5) as served:
                    assert served.read() == asset.read_bytes(), path
        with urllib.request.urlopen(f"{base}/v1/rules", timeout=5) as rules:
            assert rules.status == 200
