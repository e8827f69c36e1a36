"""The FastAPI application: built from settings, with its ledger, read models and guards."""

from __future__ import annotations

import logging
import re
import time
import uuid
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
from api.logs import configure as configure_logging
from api.metrics import Metrics
from api.preflight import UnsafeStore, require_safe_settings, unsafe_durability
from api.problems import Problem, error_responses
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
    Settings,
    development_sign_in,
    get_settings,
    require_token_configuration,
)
from ledger.application import Ledger
from projections.db import Db
from projections.service import ReadModels
from projections.webhooks import deliveries
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
    """Counts requests, times them by route, and writes one log line for each (`cims.http`:
    request id, principal, route, status, latency); plain ASGI, as `BaseHTTPMiddleware` costs
    more than many of the requests it would measure.

    Each response carries `X-Request-ID`: the client's own (a plain token of up to 128
    characters) or one made here, and the log line carries the same id."""

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
        request_id = _request_id(scope)

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            latency = time.perf_counter() - began
            route = getattr(scope.get("route"), "path", "unmatched")
            key = (scope["method"], route, status)
            found = self._children.get(key)
            if found is None:  # the library's labels() look-up costs more than the counting
                found = self._children[key] = (
                    self.metrics.requests.labels(scope["method"], route, str(status)),
                    self.metrics.latency.labels(scope["method"], route),
                )
            found[0].inc()
            found[1].observe(latency)
            if requests_log.isEnabledFor(logging.INFO):
                actor = scope.get("state", {}).get("actor")
                requests_log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "route": route,
                        "status": status,
                        "latency_ms": round(latency * 1000, 3),
                        "principal": getattr(actor, "id", None),
                        "role": getattr(getattr(actor, "role", None), "value", None),
                        "organisation": getattr(actor, "organisation", None),
                    },
                )


requests_log = logging.getLogger("cims.http")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def _request_id(scope: Scope) -> str:
    """The client's `X-Request-ID` when it is a plain token, else a new one."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def _drop_broken_connections(ledger: Ledger, db: Db) -> Callable[[], None]:
    def drop() -> None:
        ledger.drop_broken_connections()
        db.drop_broken_connections()

    return drop


__all__ = ["UnsafeStore", "create_app"]


def warm_routes(app: FastAPI) -> None:
    """Match one path no route has against every route, before the first request: FastAPI
    builds each included router's routes on the first match it is asked for, and that took a
    quarter of a second of the first real request's time (a person's first page load), at any
    size of store. Nothing is called, logged or counted."""
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/v1/-",
        "raw_path": b"/v1/-",
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "app": app,
    }
    for route in app.router.routes:
        route.matches(scope)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    if settings is None:  # a served process: its secrets come from the environment
        settings = get_settings()
        require_safe_settings(settings)
        configure_logging(settings.log_format, settings.log_level)
    # Never development sign-in on a production store by default, whoever built the settings.
    require_token_configuration(settings)
    db = Db(settings.database_url)
    refusal = unsafe_durability(db)
    if refusal is not None:
        db.close()
        raise refusal
    ledger = Ledger.from_url(settings.database_url, settings.ledger_options())
    clock = clock or (lambda: datetime.now(UTC))
    auditor = Auditor(ledger, db, clock=clock)
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
            on_caught_up=auditor.checkpoints_when_caught_up(
                settings.checkpoint_every,
                every_seconds=settings.checkpoint_every_seconds,
                witness=witness,
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
        warm_routes(app)
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
    # Outside the guards, so a request they refuse is counted, logged and given its id too.
    app.add_middleware(Measure, metrics=svc.metrics)
    if settings.allowed_origins():
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins(),
            allow_methods=["GET", "POST"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "Idempotency-Key",
                "X-Request-ID",
            ],
            expose_headers=[
                "ETag",
                "Location",
                "X-Projection-Position",
                "X-Projection-Reached",
                "Retry-After",
                "X-Request-ID",
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
        summary="Say whether the store answers and the read models are up to date.",
        description="200 `ready` (or `degraded` while the in-process follower reconnects);"
        " 503 `…/problems/not-ready` when a read model has stopped on an event it cannot"
        " apply or an event has waited past `CIMS_READY_MAX_LAG_SECONDS`: the problem carries"
        " `problems` (one sentence each: the read model, its position, the error or the wait)"
        " and the same members as the 200 but `status`.",
        response_model=None,
        responses={200: {"model": Ready}, **error_responses(503)},
    )
    async def readyz(_: ServicesDep) -> Any:  # the dependency probes a tripped breaker
        allowed = svc.settings.ready_max_lag_seconds
        health = await run_in_threadpool(svc.read_models.health, allowed, now=svc.clock())
        status = health["read_models"]
        max_lag = max((s["lag"] for s in status), default=0)
        # The in-process follower, if this process runs one (else a worker of its own does).
        follower = (
            svc.read_models.follower.report() if svc.settings.run_projections_in_process else None
        )
        troubled = follower is not None and follower["state"] in ("reconnecting", "failing")
        body = {
            "problems": health["problems"],
            "development_sign_in": development_sign_in(svc.settings),
            "read_models": status,
            "max_lag": max_lag,
            "max_lag_seconds": max((s["lag_seconds"] for s in status), default=0.0),
            "max_lag_seconds_allowed": allowed,
            "behind": max_lag > 0,
            "follower": follower,
        }
        if health["problems"]:
            # A problem (as every error is) carrying the readiness members beside its own.
            raise Problem(503, "not-ready", "Not ready", "; ".join(health["problems"]), **body)
        return {"status": "degraded" if troubled else "ready", **body}

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Give the Prometheus metrics.",
        response_model=None,
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def metrics() -> Response:
        status = await run_in_threadpool(svc.read_models.status, now=svc.clock())
        sent = await run_in_threadpool(deliveries, svc.read_models.db)
        outbox = await run_in_threadpool(reminders.outbox_counts, app.state.reminders)
        body = svc.metrics.render(lambda: status, lambda: sent, lambda: outbox)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
