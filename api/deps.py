"""What a request handler is given: settings, the ledger, the read models, the caller, a clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api import authorisation as authz
from api.auth import Verifier
from api.breaker import StoreBreaker
from api.idempotency import InFlight
from api.limits import PositionWaits
from api.metrics import Metrics
from api.settings import Settings
from domain.values import Actor
from ledger.application import Ledger
from projections.service import ReadModels
from replay.auditor import Auditor

Clock = Callable[[], datetime]


@dataclass
class Services:
    settings: Settings
    ledger: Ledger
    read_models: ReadModels
    auditor: Auditor
    verifier: Verifier
    idempotency: InFlight
    metrics: Metrics
    clock: Clock
    breaker: StoreBreaker
    waits: PositionWaits


# Both are `async`: FastAPI runs a plain `def` dependency in the thread pool, and the hop costs
# more than the work.
async def services(request: Request) -> Services:
    found: Services = request.app.state.services
    if found.breaker.tripped:  # its probe waits on the network: not on the event loop
        await run_in_threadpool(found.breaker.check)
    return found


# Declared as the document's bearer security scheme (Swagger's "Authorize"); a missing or
# malformed header is answered by the verifier as a 401 problem, not by FastAPI.
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description="A JWT: from your OpenID Connect provider, or `cims token` in development.",
)


async def caller(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)] = None,
) -> Actor:
    authorization = request.headers.get("authorization")
    svc = await services(request)
    # On the event loop: verifying is CPU only (usually a cache hit), and a fetch of the
    # issuer's keys is awaited, not waited for in a worker thread.
    actor = await svc.verifier.actor_async(authorization)
    # Known from here on: a refusal answered to this caller is written to the access log, and
    # the request's log line names them (api.main.Measure).
    request.state.actor = actor
    authz.require_bound_to_organisation(actor, svc.settings.department_organisations)
    return actor


ServicesDep = Annotated[Services, Depends(services)]
ActorDep = Annotated[Actor, Depends(caller)]
