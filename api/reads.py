"""Every read is accounted for: who read which incident's facts, when, and whether they were let.

A read of one incident's record, a list or worklist (one row per incident it returned), and every
refused attempt (a 403, or the 404 of an incident the caller may not see or that does not exist)
is written to the access log before the answer goes out; if the entry cannot be written, nothing
is answered. The checks themselves are `api.authorisation`'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from starlette.concurrency import run_in_threadpool

from api import authorisation as authz
from api.deps import Services
from api.problems import Problem
from domain.errors import IncidentNotFound
from domain.incident import Incident
from domain.values import Actor, Role
from ledger.application import fold
from projections.audit_trail import GRANTED, REFUSED
from replay.verify import Integrity, integrity


def _refused(svc: Services, actor: Actor, incident_id: UUID | None, what: str) -> None:
    svc.read_models.log_access(
        actor=actor, incident_id=incident_id, what=what, at=svc.clock(), outcome=REFUSED
    )


def authorised_history(
    svc: Services,
    actor: Actor,
    incident_id: UUID,
    what: str,
    *,
    roles: frozenset[Role] | None = None,
    action: authz.Action | None = None,
) -> list[Incident.Event]:
    """The incident's events, once the caller may see it (and, given `roles` or `action`, may
    do that to it). Blocking: call it in a worker thread.

    A regulator, or a role outside `roles`, is refused (403) before the incident is read; an
    incident the caller may not see is the same 404 as one that does not exist. A refusal is
    logged (`outcome` "refused") before it is raised."""
    return authorised_state(svc, actor, incident_id, what, roles=roles, action=action)[0]


def authorised_state(
    svc: Services,
    actor: Actor,
    incident_id: UUID,
    what: str,
    *,
    roles: frozenset[Role] | None = None,
    action: authz.Action | None = None,
) -> tuple[list[Incident.Event], Incident]:
    """As `authorised_history`, with the incident those events fold to: a fresh aggregate of
    the caller's own (folded for this call), which a command may go on to change."""
    try:
        authz.refuse_regulators(actor)
        if roles is not None:
            authz.require_role(actor, roles, f"read the {what}")
        try:
            history = svc.ledger.incident_events(incident_id)
        except IncidentNotFound:
            raise authz.not_found(incident_id) from None
        incident = fold(history)
        assert incident is not None
        require_may_see_and_act(actor, incident, action)
    except Problem as refused:
        _refused(svc, actor, incident_id, what)
        refused.logged = True
        raise
    return history, incident


def require_may_see_and_act(actor: Actor, incident: Incident, action: authz.Action | None) -> None:
    """The caller may see the incident (else the 404 of an unknown id) and, given `action`,
    take it on this incident (403). The same checks decide a command read from the store and
    one decided on a process's kept history."""
    authz.require_visible(actor, incident)
    if action is not None:
        authz.require_may_act(actor, action, incident)


async def read_incident(
    svc: Services,
    actor: Actor,
    incident_id: UUID,
    what: str,
    *,
    roles: frozenset[Role] | None = None,
) -> Incident:
    """The incident, once the caller may see it and the read is logged (see above), its
    stored chain checked (`read_checked_incident`)."""
    return (await read_checked_incident(svc, actor, incident_id, what, roles=roles))[0]


async def read_checked_incident(
    svc: Services,
    actor: Actor,
    incident_id: UUID,
    what: str,
    *,
    roles: frozenset[Role] | None = None,
) -> tuple[Incident, Integrity]:
    """The incident and the integrity of what it is folded from: the stored hash chain checked,
    and the events this process kept compared with the stored rows. Kept events whose rows
    now differ are let go and the store's rows served instead, so every process serves the
    same, and a broken chain is said (never served silently as fact)."""

    def read() -> tuple[Incident, Integrity]:
        history, incident = authorised_state(svc, actor, incident_id, what, roles=roles)
        found = integrity(svc.auditor.rows, incident_id, [e.hash for e in history])
        if found.served_differs:
            svc.ledger.histories.forget(incident_id)
            history, incident = authorised_state(svc, actor, incident_id, what, roles=roles)
        svc.read_models.log_access(
            actor=actor, incident_id=incident_id, what=what, at=svc.clock(), outcome=GRANTED
        )
        return incident, found

    return await run_in_threadpool(read)


async def visible_organisations(svc: Services, actor: Actor, what: str) -> set[str] | None:
    """The organisations whose incidents the caller may list (None: all); a refusal is logged."""
    try:
        return authz.visible_organisations(actor)
    except Problem as refused:
        await run_in_threadpool(_refused, svc, actor, None, what)
        refused.logged = True
        raise


async def log_listed(
    svc: Services, actor: Actor, what: str, items: Iterable[dict[str, Any]], key: str
) -> None:
    """Log a list's read: one row for each incident whose facts it returned."""
    ids = [item[key] for item in items]
    await run_in_threadpool(
        svc.read_models.log_accesses, actor=actor, incident_ids=ids, what=what, at=svc.clock()
    )
