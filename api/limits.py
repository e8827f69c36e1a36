"""Bounded work per request: header size, request rate, and read-your-writes waits.

- `HeaderGuard`: request headers beyond `max_header_bytes` in all are a 431, before any of them
  is read further (a multi-megabyte `Authorization` header is never decoded).
- `RateLimit`: the `limits` library's sliding-window counters, per principal for requests whose
  token verifies, per client address for the rest (token floods), 429 with `Retry-After`.
- `PositionWaits`: `?min_position=` waits for the read models on the event loop (no worker
  thread parked), one shared poll of the tracking position, at most `max_position_waiters` at
  once (past that a 503 with `Retry-After`); a position beyond the head of the log is a 422.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any

import orjson
from limits import RateLimitItem, parse_many
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import Verifier
from api.problems import TYPE_BASE, Problem, invalid

# Probes and scrapes are not limited: an orchestrator must always see the process.
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


async def _problem(
    send: Send,
    scope: Scope,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> None:
    body = orjson.dumps(
        {
            "type": TYPE_BASE + slug,
            "title": title,
            "status": status,
            "detail": detail,
            "instance": scope.get("path", ""),
            **extra,
        }
    )
    raw = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class HeaderGuard:
    """A 431 for requests whose headers exceed `max_bytes` in all (names and values)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope.get("headers", [])
            if sum(len(k) + len(v) for k, v in headers) > self.max_bytes:
                largest = max(headers, key=lambda kv: len(kv[1]))[0].decode("latin-1")
                message = f"request headers may total at most {self.max_bytes} bytes"
                await _problem(
                    send,
                    scope,
                    431,
                    "request.headers-too-large",
                    "Request headers too large",
                    message,
                    errors=[
                        {"field": largest, "rule": "request.headers-too-large", "message": message}
                    ],
                )
                return
        await self.app(scope, receive, send)


class RateLimit:
    """Requests per principal (organisation and subject of a token that verifies) or per client
    address (no token, or one that does not verify), against `limits` notation such as
    "1000/second;20000/minute"; past any of them, a 429 with `Retry-After`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: Verifier,
        per_principal: str,
        per_address: str,
        storage: str = "memory://",
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.per_principal: list[RateLimitItem] = parse_many(per_principal)
        self.per_address: list[RateLimitItem] = parse_many(per_address)
        uri = storage if storage.startswith("async+") else f"async+{storage}"
        self.limiter = SlidingWindowCounterRateLimiter(storage_from_string(uri))  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        authorization = None
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        actor = self.verifier.principal(authorization) if authorization else None
        who: tuple[str, ...]
        if actor is not None:
            who, limits = ("principal", actor.organisation, actor.id), self.per_principal
        else:
            client = scope.get("client")
            who, limits = ("address", client[0] if client else "unknown"), self.per_address
        for limit in limits:
            if not await self.limiter.hit(limit, *who):
                stats = await self.limiter.get_window_stats(limit, *who)
                retry = max(1, math.ceil(stats.reset_time - time.time()))
                await _problem(
                    send,
                    scope,
                    429,
                    "rate-limited",
                    "Too many requests",
                    f"more than {limit} from this {who[0]}; retry after {retry} s",
                    headers={"Retry-After": str(retry)},
                )
                return
        await self.app(scope, receive, send)


class PositionWaits:
    """Read-your-writes waits, bounded and off the worker threads."""

    POLL_SECONDS = 0.02

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.waiting = 0
        self._poll: asyncio.Future[int] | None = None

    async def wait(
        self,
        min_position: int,
        *,
        timeout: float,
        position: Callable[[], int],
        head: Callable[[], int],
        poke: Callable[[], None],
    ) -> bool:
        """Wait until `position()` reaches `min_position` or `timeout` seconds pass; True when
        reached. Raises a 422 naming `min_position` when it is beyond `head()` (no write will
        ever be there to wait for), and a 503 when `limit` requests are waiting already."""
        reached, last = await run_in_threadpool(lambda: (position(), head()))
        if reached >= min_position:
            return True
        if min_position > last:
            raise invalid(
                "min_position",
                "read.position-beyond-head",
                f"min_position {min_position} is beyond the head of the log ({last})",
            )
        if self.waiting >= self.limit:
            raise Problem(
                503,
                "too-many-waits",
                "Too many requests waiting for the read models",
                f"at most {self.limit} requests may wait for min_position at once",
                headers={"Retry-After": "1"},
            )
        self.waiting += 1
        try:
            poke()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                await asyncio.sleep(self.POLL_SECONDS)
                if await self._position(position) >= min_position:
                    return True
            return False
        finally:
            self.waiting -= 1

    async def _position(self, position: Callable[[], int]) -> int:
        """One poll shared by every waiter that asks while it runs."""
        if self._poll is None or self._poll.done():
            self._poll = asyncio.ensure_future(run_in_threadpool(position))
        return await asyncio.shield(self._poll)
