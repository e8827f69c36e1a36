"""The front end in real Chromium: one server over a temporary SQLite store with the demo data
set, one browser for the session, a fresh browser context (and sign-in) per test.

Debian's Chromium at /usr/bin/chromium is driven through Playwright for Python (no browser
download). Under CI=true a missing Chromium fails the run; elsewhere the tests are skipped.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

CHROMIUM = os.environ.get("CIMS_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--lang=en-AU",
]
WIDE = {"width": 1280, "height": 900}
NARROW = {"width": 390, "height": 844}


def _chromium_or_skip() -> None:
    if Path(CHROMIUM).exists():
        return
    message = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if IN_CI:
        pytest.fail(f"CI=true and {message}: the browser tests must run")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """uvicorn serving an app on a loopback port, in a thread of this process."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    from demo.dataset import seed_demo
    from ledger.application import Ledger

    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'cims.db'}"
    ledger = Ledger.from_url(url)
    try:
        seed_demo(ledger, now=datetime.now(UTC))
    finally:
        ledger.close()
    return url


@pytest.fixture(scope="session")
def server(demo_store: str) -> Iterator[str]:
    """The app with the embedded development secret (so development sign-in exists)."""
    _chromium_or_skip()
    from api.main import create_app
    from api.settings import Settings

    settings = Settings(database_url=demo_store, jwt_secret=None, jwks_url=None, oidc_issuer=None)
    with Served(create_app(settings)) as served:
        yield served.url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        found = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield found
        finally:
            found.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    # A browser in UTC: the pages must show Melbourne time whatever the machine's zone.
    context = browser.new_context(
        base_url=server, viewport=WIDE, locale="en-AU", timezone_id="UTC", accept_downloads=True
    )
    context.set_default_timeout(15_000)
    found = context.new_page()
    errors: list[str] = []
    found.on("pageerror", lambda exc: errors.append(str(exc)))
    found.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    try:
        yield found
        assert not errors, f"errors in the browser: {errors}"
    finally:
        context.close()
