"""After the store fails, answer 503 at once while a quick probe still cannot reach it.

The library retries a failed store call ten times, waiting on its pool each time, so without
this every request during an outage would hang for many seconds before its 503."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from api.problems import store_unavailable

PROBE_EVERY_SECONDS = 0.5


class StoreBreaker:
    def __init__(
        self, probe: Callable[[], None], on_recovery: Callable[[], None] = lambda: None
    ) -> None:
        self._probe = probe
        self._on_recovery = on_recovery
        self._lock = threading.Lock()
        self._failed = False
        self._probed_at = 0.0

    def trip(self) -> None:
        with self._lock:
            self._failed = True

    @property
    def tripped(self) -> bool:
        return self._failed

    def check(self) -> None:
        """Pass while the store is believed up; after a failure, probe (at most every half
        second) and refuse at once until the probe succeeds."""
        with self._lock:
            if not self._failed:
                return
            if time.monotonic() - self._probed_at < PROBE_EVERY_SECONDS:
                raise store_unavailable()
            self._probed_at = time.monotonic()
            try:
                self._probe()
                # Connections pooled before the outage are dead: none may be handed out now.
                self._on_recovery()
            except Exception:
                raise store_unavailable() from None
            self._failed = False
