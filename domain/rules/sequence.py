"""Policy §8, §10, §11: steps in the order they took effect, not only the order recorded.

A step a command records may say when it took effect (`effective_at`), earlier than it is
recorded. The policy's sequences (served before a response, served before the outcome, police
and the Integrity team before the investigation, an outcome before it is communicated or
reviewed...) hold for when the steps took effect as well as for the order they were recorded in:
a step cannot take effect before a step it depends on.
"""

from __future__ import annotations

from datetime import datetime

from domain.errors import PolicyViolation
from domain.local_time import melbourne


def require_not_before(
    step: str,
    at: datetime,
    prerequisite: str,
    since: datetime | None,
    *,
    rule_id: str = "sequence.before-prerequisite",
    field: str = "effective_at",
) -> None:
    """A step takes effect no earlier than the step it depends on took effect."""
    if since is not None and at < since:
        raise PolicyViolation(
            rule_id,
            f"{step} cannot take effect ({melbourne(at)}) before {prerequisite}"
            f" took effect ({melbourne(since)})",
            field=field,
        )
