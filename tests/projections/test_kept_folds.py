"""The folds the runner keeps between batches answer exactly the history they are given."""

from __future__ import annotations

from typing import Any

from projections.base import Folds
from tests.factories import CARER, reported


def test_a_kept_fold_past_the_history_is_not_reused() -> None:
    """A retry or a rebuild reads an incident's older history: a fresh fold answers it."""
    story = reported(subjects_of_allegation=[CARER])
    story.later(hours=2).do("record_response_plan", plan="p")
    events: list[Any] = list(story.events)
    folds = Folds(bound=10)
    incident_id = events[0].originator_id
    assert folds.up_to(incident_id, events).version == 2
    older = folds.up_to(incident_id, events[:1])
    assert older.version == 1 and not older.incident.response_plan_recorded  # type: ignore[union-attr]
    assert folds.up_to(incident_id, events).incident.response_plan_recorded  # type: ignore[union-attr]
