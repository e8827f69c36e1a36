"""What a request handler is given: settings, the ledger, the read models, the caller, a clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request

from api.auth import Verifier
from api.breaker import StoreBreaker
from api.idempotency import IdempotencyStore
from api.metrics import Metrics
from api.settings import Settings
from domain.ledger import Ledger
from domain.values import Actor
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
    idempotency: IdempotencyStore
    metrics: Metrics
    clock: Clock
    breaker: StoreBreaker


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    found.breaker.check()
    return found


def caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Actor:
    return services(request).verifier.actor(authorization)


ServicesDep = Annotated[Services, Depends(services)]
ActorDep = Annotated[Actor, Depends(caller)]
