"""The package as an operator gets it: a wheel built from a copy of the source, installed
non-editable in a fresh virtual environment, and `cims` run from there in a folder outside the
repository, so nothing is imported from the source tree.

The new environment borrows its dependencies from the one running the tests, but only those the
wheel declares (its requirements, followed transitively with their extras and markers): each is
linked into a folder the environment reads through a `.pth` file. A runtime import of something
only the developers install (a test or lint tool) therefore fails here as it would in the image,
without downloading or installing ~50 packages on every run.
"""

from __future__ import annotations

import email
import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
# What a wheel is built from: the source less what the checkout carries for its developers.
NOT_SHIPPED = shutil.ignore_patterns(
    ".git", ".venv", ".ci", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".*_cache",
    "tests", "bench", "cims.db*", ".cims*",
)  # fmt: skip


def build_wheel(into: Path) -> Path:
    """`pip wheel --no-deps` of a copy of the source (so the checkout gains no build/ folder)."""
    source = into / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SHIPPED)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(into), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = into.glob("cims_ledger-*.whl")
    return wheel


def wheel_requirements(wheel: Path) -> list[str]:
    """The `Requires-Dist` lines of the built wheel's metadata (what `pip install` would fetch)."""
    with zipfile.ZipFile(wheel) as z:
        (name,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        found = email.message_from_bytes(z.read(name))
    return found.get_all("Requires-Dist") or []


def runtime_distributions(requirements: list[str]) -> set[str]:
    """The installed distributions `requirements` need at run time, transitively, with the
    extras they ask for and the markers that hold here (`extra == ...` markers excluded)."""
    seen: set[tuple[str, str]] = set()

    def follow(texts: list[str], extra: str) -> None:
        for text in texts:
            req = Requirement(text)
            if req.marker is None and extra:
                continue  # followed already, for the distribution itself
            if req.marker is not None and not req.marker.evaluate({"extra": extra}):
                continue
            need(req.name, frozenset(req.extras))

    def need(dist_name: str, extras: frozenset[str]) -> None:
        dist = metadata.distribution(dist_name)
        key = dist.metadata["Name"].lower().replace("_", "-")
        for extra in ("", *sorted(extras)):
            if (key, extra) not in seen:
                seen.add((key, extra))
                follow(dist.requires or [], extra)

    follow(requirements, "")
    return {key for key, _ in seen}


def link_distributions(names: set[str], into: Path) -> None:
    """Symlink every top-level file and folder of the named installed distributions."""
    into.mkdir()
    for name in names:
        dist = metadata.distribution(name)
        for file in dist.files or []:
            top = file.parts[0]
            if top == ".." or top.endswith(".pth"):  # scripts in bin/; path hooks
                continue
            target = into / top
            if not target.exists():
                target.symlink_to(Path(str(dist.locate_file(top))))


@dataclass
class Installed:
    """A virtual environment with the wheel installed, and a folder outside the repository."""

    venv: Path
    home: Path
    wheel: Path

    @property
    def cims(self) -> Path:
        return self.venv / "bin" / "cims"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def env(self, **extra: str) -> dict[str, str]:
        found = {k: v for k, v in os.environ.items() if not k.startswith(("CIMS_", "PYTHON"))}
        return {**found, "CIMS_DATABASE_URL": f"sqlite:///{self.home / 'cims.db'}", **extra}

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.cims), *args],
            cwd=self.home,
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def run_python(self, script: str) -> subprocess.CompletedProcess[str]:
        found = subprocess.run(
            [str(self.python), "-c", script],
            cwd=self.home,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert found.returncode == 0, found.stderr
        return found


def install(base: Path) -> Installed:
    wheel = build_wheel(base / "wheel")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    subprocess.run(
        [*pip, "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    deps = base / "dependencies"
    link_distributions(runtime_distributions(wheel_requirements(wheel)), deps)
    (Path(site) / "cims_dependencies.pth").write_text(f"{deps}\n")
    home = base / "operator"
    home.mkdir()
    return Installed(venv=venv, home=home, wheel=wheel)


def wheel_files(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as z:
        return set(z.namelist())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(installed: Installed, *args: str, **env: str) -> Iterator[subprocess.Popen[str]]:
    """`cims serve ARGS` from the installed environment, stopped (by its id) afterwards."""
    process = subprocess.Popen(
        [str(installed.cims), "serve", *args],
        cwd=installed.home,
        env=installed.env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_up(process: subprocess.Popen[str], probe: object, timeout: float = 90) -> None:
    """Call `probe()` until it returns without raising, or fail with the server's output."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"the server stopped ({process.returncode}):\n{output}")
        try:
            probe()  # type: ignore[operator]
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)
