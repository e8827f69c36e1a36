"""Instants as a person reads them: Australia/Melbourne wall-clock time with its offset."""

from __future__ import annotations

from datetime import datetime

from domain.policy_table import MELBOURNE


def melbourne(moment: datetime) -> str:
    """`2025-04-01T09:00:00+11:00`: Melbourne time to the second, the offset shown."""
    return moment.astimezone(MELBOURNE).isoformat(timespec="seconds")


def melbourne_month(moment: datetime) -> str:
    """The Melbourne calendar month of an instant, `YYYY-MM` (statistics group by it)."""
    return moment.astimezone(MELBOURNE).strftime("%Y-%m")
