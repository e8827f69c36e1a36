"""An instant whose UTC lies outside any year is out of range, not an overflow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.errors import PolicyViolation
from domain.rules.times import require_displayable


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
        datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-14))),
        datetime(1, 1, 2, tzinfo=UTC),
    ],
)
def test_an_instant_beyond_any_year_in_utc_is_out_of_range(moment: datetime) -> None:
    with pytest.raises(PolicyViolation) as refused:
        require_displayable(moment, "until")

    assert refused.value.rule_id == "time.out-of-range"
