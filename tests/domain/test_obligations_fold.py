"""The resumable obligations fold the read side keeps between batches: however an incident's
events are split into batches, extending the kept fold gives exactly what one fold of the whole
history gives (the incident's state and every obligation, at any moment)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import PolicyViolation
from domain.obligations import ObligationsFold, incident_with_obligations
from tests.domain.test_properties import MOVES, PATH, state
from tests.factories import CARER, major_abuse_by_carer, reported


@settings(max_examples=60, deadline=None)
@given(
    major=st.booleans(),
    moves=st.lists(st.one_of(st.none(), st.sampled_from(range(len(MOVES)))), max_size=30),
    cuts=st.lists(st.integers(1, 6), min_size=1, max_size=30),
    later_days=st.integers(0, 400),
)
def test_a_fold_extended_batch_by_batch_equals_one_fold_of_the_whole_history(
    major: bool, moves: list[int | None], cuts: list[int], later_days: int
) -> None:
    story = major_abuse_by_carer() if major else reported(subjects_of_allegation=[CARER])
    step = 0
    for index in moves:
        command, args = PATH[min(step, len(PATH) - 1)] if index is None else MOVES[index]
        story.later(hours=9)
        try:
            story.do(command, **args)
        except PolicyViolation:
            continue
        step += index is None
    events: list[Any] = list(story.events)

    kept, done, chunks = ObligationsFold(), 0, iter(cuts * len(events))
    while done < len(events):
        upto = min(done + next(chunks), len(events))
        kept.add(events[done:upto])
        done = upto
        now = events[upto - 1].timestamp + timedelta(days=later_days)
        incident, owed = kept.result(now=now)
        whole, expected = incident_with_obligations(events[:upto], now=now)
        assert kept.version == upto
        assert state(incident) == state(whole)
        assert owed == expected
