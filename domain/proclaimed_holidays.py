"""Public holidays proclaimed in Victoria beyond the `holidays` package's calendar.

Beside the policy table, and like it data, not code: a one-off holiday (Victoria proclaimed
one on 22 September 2022) is added here with the day it was proclaimed. Business-day deadlines
count it from then on; the read models see the calendar's fingerprint change and recompute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ProclaimedHoliday:
    day: date
    name: str
    proclaimed_on: date


PROCLAIMED_HOLIDAYS: tuple[ProclaimedHoliday, ...] = (
    # Also in `holidays` from release 0.16; kept so the day stays whatever the release.
    ProclaimedHoliday(
        day=date(2022, 9, 22),
        name="National Day of Mourning for Queen Elizabeth II",
        proclaimed_on=date(2022, 9, 11),
    ),
)
