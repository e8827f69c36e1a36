"""The FastAPI application: built from settings, with its ledger, read models and guards."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import openapi, problems, web
from api.auth import Verifier
from api.body_guard import BodyGuard
from api.breaker import StoreBreaker
from api.deps import Clock, Services, ServicesDep
from api.idempotency import InFlight
from api.limits import HeaderGuard, PositionWaits, RateLimit
from api.metrics import Metrics
from api.problems import error_responses
from api.resources import Health, Ready
from api.responses import JSON, SECURITY_HEADERS
from api.routers import (
    documents,
    incidents,
    patterns,
    read_models,
    record,
    reminders,
    replay,
    rules,
    sign_in,
)
from api.settings import (
    SERVICE_SECRETS,
    Settings,
    get_settings,
    require_secrets,
    require_strong_if_set,
)
from ledger.application import Ledger
from projections.db import Db
from projections.service import ReadModels
from replay.auditor import Auditor
from replay.witness import witness_from

# Sent on every answer given over https (directly, or through a proxy trusted by
# `cims serve --forwarded-allow-ips`): browsers then refuse plain http to this host for a year.
# Never over plain http, where a man in the middle could strip or forge it (RFC 6797 §7.2).
STRICT_TRANSPORT_SECURITY = (b"strict-transport-security", b"max-age=31536000")


class SecurityHeaders:
    """Adds the headers every response carries, whoever answered (handler, guard or error),
    and HSTS when the request came over https (`scope["scheme"]`, which uvicorn sets from
    its own TLS or from a trusted proxy's X-Forwarded-Proto)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        over_https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                # A response that chose its own caching (the front end's static files) keeps it.
                chosen = {name.lower() for name, _ in headers}
                extra = [h for h in SECURITY_HEADERS if h[0] not in chosen]
                if over_https:
                    extra.append(STRICT_TRANSPORT_SECURITY)
                message["headers"] = [*headers, *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Measure:
    """Counts requests and times them by route (plain ASGI: `BaseHTTPMiddleware` costs more
    than many of the requests it would measure)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        # The counter and histogram of each (method, route template, status) seen: a bounded
        # set, as routes are templates and unmatched paths are one label.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500  # unless a response starts: an exception escaping the app is a 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            key = (scope["method"], route, status)
            found = self._children.get(key)
            if found is None:  # the library's labels() look-up costs more than the counting
                found = self._children[key] = (
                    self.metrics.requests.labels(scope["method"], route, str(status)),
                    self.metrics.latency.labels(scope["method"], route),
                )
            found[0].inc()
            found[1].observe(time.perf_counter() - began)


def _drop_broken_connections(ledger: Ledger, db: Db) -> Callable[[], None]:
    def drop() -> None:
        ledger.drop_broken_connections()
        db.drop_broken_connections()

    return drop


class UnsafeStore(RuntimeError):
    pass


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    if settings is None:  # a served process: its secrets come from the environment
        settings = get_settings()
        require_secrets(settings, *SERVICE_SECRETS)
        require_strong_if_set(settings, "jwt_secret")
    db = Db(settings.database_url)
    unsafe = db.unsafe_durability()
    if unsafe:
        db.close()
        # The API answers 2xx only for what is durably committed; with these it could not.
        raise UnsafeStore(
            f"refusing to start: PostgreSQL has {', '.join(unsafe)}; an acknowledged command"
            " could be lost in a crash (set fsync, full_page_writes and synchronous_commit on)"
        )
    ledger = Ledger.from_url(settings.database_url)
    clock = clock or (lambda: datetime.now(UTC))
    auditor = Auditor(ledger, db, clock=clock)
    every = settings.checkpoint_every
    witness = witness_from(
        settings.checkpoint_key.encode(),
        settings.checkpoint_witness_file,
        settings.checkpoint_witness_url,
    )
    svc = Services(
        settings=settings,
        ledger=ledger,
        read_models=ReadModels(
            db,
            ledger,
            feed_secret=settings.feed_secret.encode(),
            on_caught_up=(
                (
                    lambda: auditor.checkpoint_if_due(
                        every, every_seconds=settings.checkpoint_every_seconds, witness=witness
                    )
                )
                if every > 0
                else None
            ),
        ),
        auditor=auditor,
        verifier=Verifier(settings),
        idempotency=InFlight(),
        metrics=Metrics(),
        clock=clock,
        breaker=StoreBreaker(db.probe, on_recovery=_drop_broken_connections(ledger, db)),
        waits=PositionWaits(settings.max_position_waiters),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc.verifier.prefetch_keys()
        if settings.run_projections_in_process:
            svc.read_models.start()
        try:
            yield
        finally:
            svc.read_models.close()
            ledger.close()

    app = FastAPI(
        title="CIMS Ledger",
        version="1",
        description="Victoria's Client Incident Management System as an event-sourced ledger.",
        default_response_class=JSON,
        lifespan=lifespan,
        # `/docs` is served from a packaged Swagger UI by `openapi.install`, not from a CDN.
        docs_url=None,
        redoc_url=None,
        separate_input_output_schemas=False,
        generate_unique_id_function=lambda route: (
            f"{route.tags[0]}-{route.name}" if route.tags else route.name
        ),
    )
    app.state.services = svc
    app.state.reminders = reminders.open_reminders(svc.read_models.db)
    problems.install(app)
    app.include_router(incidents.router)
    app.include_router(documents.router)
    app.include_router(read_models.router)
    app.include_router(replay.router)
    app.include_router(rules.router)
    app.include_router(patterns.router)
    app.include_router(reminders.router)
    app.include_router(record.router)
    sign_in.install(app, settings)
    _operations(app, svc)
    openapi.install(app)
    web.install(app, settings)

    app.add_middleware(web.CompressedAssets)
    app.add_middleware(Measure, metrics=svc.metrics)
    app.add_middleware(
        BodyGuard,
        max_bytes=settings.max_body_bytes,
        max_depth=settings.max_json_depth,
        # Documents stream in to a spool of their own, with their own limit.
        streamed=documents.UPLOAD_PATH,
    )
    if settings.rate_limit_enabled:
        app.add_middleware(
            RateLimit,
            verifier=svc.verifier,
            per_principal=settings.rate_limit_per_principal,
            per_address=settings.rate_limit_per_address,
            storage=settings.rate_limit_storage,
        )
    app.add_middleware(HeaderGuard, max_bytes=settings.max_header_bytes)
    app.add_middleware(SecurityHeaders)
    if settings.allowed_origins():
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins(),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key"],
            expose_headers=[
                "ETag",
                "Location",
                "X-Projection-Position",
                "X-Projection-Reached",
                "Retry-After",
            ],
        )
    return app


def _operations(app: FastAPI, svc: Services) -> None:
    @app.get(
        "/healthz",
        tags=["operations"],
        summary="Say whether the process is up.",
        response_model=None,
        responses={200: {"model": Health}},
    )
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="Say whether the store answers, and how far behind the read models are.",
        response_model=None,
        responses={200: {"model": Ready}, **error_responses(503)},
    )
    async def readyz(_: ServicesDep) -> Any:  # the dependency probes a tripped breaker
        status = await run_in_threadpool(svc.read_models.status)
        max_lag = max((s["lag"] for s in status), default=0)
        # The in-process follower, if this process runs one (else a worker of its own does).
        follower = (
            svc.read_models.follower.report() if svc.settings.run_projections_in_process else None
        )
        troubled = follower is not None and follower["state"] in ("reconnecting", "failing")
        failing = any(s["error"] for s in status)
        return {
            "status": "degraded" if troubled or failing else "ready",
            "read_models": status,
            "max_lag": max_lag,
            "behind": max_lag > 0,
            "follower": follower,
        }

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Give the Prometheus metrics.",
        response_model=None,
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def metrics() -> Response:
        status = await run_in_threadpool(svc.read_models.status)
        outbox = await run_in_threadpool(reminders.outbox_counts, app.state.reminders)
        body = svc.metrics.render(lambda: {s["name"]: s["lag"] for s in status}, lambda: outbox)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
