"""Policy §11 and the lifecycle: what must hold to close, reopen, withdraw or correct."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Protocol

from domain.errors import PolicyViolation
from domain.policy_table import MELBOURNE


class ObligationLike(Protocol):
    # Read-only: `Obligation.settled` is a property.
    @property
    def kind(self) -> str: ...
    @property
    def settled(self) -> bool: ...
    @property
    def waivable(self) -> bool: ...
    @property
    def met_at(self) -> datetime | None: ...


def require_open(closed: bool, withdrawn: bool) -> None:
    """A closed or withdrawn incident takes no further steps until reopened."""
    if withdrawn:
        raise PolicyViolation("lifecycle.withdrawn", "the incident was withdrawn")
    if closed:
        raise PolicyViolation("lifecycle.closed", "the incident is closed; reopen it first")


def require_closed(closed: bool) -> None:
    """Only a closed incident is reopened."""
    if not closed:
        raise PolicyViolation("lifecycle.not-closed", "the incident is not closed")


def require_no_outcome_for_withdrawal(has_outcome: bool) -> None:
    """An incident with an investigation outcome is closed, not withdrawn."""
    if has_outcome:
        raise PolicyViolation(
            "lifecycle.withdraw-after-outcome",
            "an incident with a recorded outcome cannot be withdrawn; close it instead",
        )


def require_obligations_settled(
    obligations: Collection[ObligationLike], not_required: Mapping[str, str]
) -> None:
    """Closing needs every required step met, or marked not required with a reason."""
    kinds = {o.kind: o for o in obligations}
    for kind, why in not_required.items():
        if kind not in kinds:
            raise PolicyViolation(
                "closure.unknown-obligation",
                f"no obligation {kind!r} on this incident",
                field="not_required",
            )
        if not kinds[kind].waivable and not kinds[kind].settled:
            raise PolicyViolation(
                "closure.obligation-not-waivable",
                f"{kind} is required by the policy and cannot be marked not required",
                field="not_required",
            )
        if not why.strip():
            raise PolicyViolation(
                "closure.reason-required",
                f"say why {kind} is not required",
                field="not_required",
            )
    outstanding = sorted(
        o.kind for o in obligations if not o.settled and o.kind not in not_required
    )
    if outstanding:
        raise PolicyViolation(
            "closure.obligations-outstanding",
            "required steps are not met: " + ", ".join(outstanding),
            field="not_required",
        )


def require_known_version(corrected_version: int, current_version: int) -> None:
    """A correction points at an event already recorded on this incident."""
    if not 1 <= corrected_version <= current_version:
        raise PolicyViolation(
            "correction.unknown-version",
            f"there is no event at version {corrected_version} to correct",
            field="corrected_version",
        )


def require_something_to_change(changes: Mapping[str, object], rule: str) -> None:
    """An amendment or correction changes at least one field."""
    if not changes:
        raise PolicyViolation(rule, "no field to change was given", field="changes")


def require_not_after_today(day: date, now: datetime, field: str) -> None:
    """A day something happened is not after today in Melbourne (the central time rule checks
    instants; a date is checked here)."""
    if day > now.astimezone(MELBOURNE).date():
        raise PolicyViolation(
            "time.effective-in-future", f"{field} lies in the future", field=field
        )


def require_later_due(new_due: datetime, current_due: datetime | None, field: str) -> None:
    """An extension moves a deadline later, never earlier."""
    if current_due is None or new_due <= current_due:
        raise PolicyViolation(
            "extension.not-later",
            "an extension must set a due date later than the current one",
            field=field,
        )
