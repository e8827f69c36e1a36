"""Errors the domain raises: a named policy refusal, a stale version, an unknown incident."""

from __future__ import annotations

from uuid import UUID


class DomainError(Exception):
    """Base of every refusal the ledger makes."""


class PolicyViolation(DomainError):
    """A command would break a rule of the CIMS policy; `rule_id` names the rule."""

    def __init__(self, rule_id: str, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{rule_id}: {message}")
        self.rule_id = rule_id
        self.message = message
        self.field = field


class VersionConflict(DomainError):
    """The caller acted on a version of the incident that is no longer current."""

    def __init__(self, incident_id: UUID, expected: int, current: int) -> None:
        super().__init__(
            f"incident {incident_id} is at version {current}, not the expected {expected}"
        )
        self.incident_id = incident_id
        self.expected = expected
        self.current = current


class IncidentNotFound(DomainError):
    """No incident with this id is recorded."""

    def __init__(self, incident_id: UUID) -> None:
        super().__init__(f"no incident {incident_id}")
        self.incident_id = incident_id


class UnknownCommand(DomainError):
    """The named command is not one of the incident's lifecycle commands."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown command {name!r}")
        self.name = name


class IdempotencyKeyReused(DomainError):
    """The caller's idempotency key was first used for a different request."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the idempotency key {key!r} was first used with a different request")
        self.key = key
