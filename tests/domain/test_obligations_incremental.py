"""The incremental obligations fold: after each event it evaluates only the rules that read a
field the event's applier assigns. These tests fail if that ever differs from evaluating every
rule after every event: the declared fields are checked against incident.py's appliers and
against what the rules actually read, and the two folds are compared over generated histories."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import incident as incident_module
from domain.errors import PolicyViolation
from domain.incident import Incident
from domain.obligations import RULES, WRITES, ObligationsFold, rules_after
from tests.domain.test_properties import MOVES, PATH, state
from tests.factories import (
    ABORIGINAL_CLIENT,
    CARER,
    CLIENT,
    OFFICER,
    major_abuse_by_carer,
    reported,
)

# Moves the shared property test does not make, so every kind of event the fold skips rules
# for is generated too.
EXTRA: list[tuple[str, dict[str, Any]]] = [
    ("record_client_voice", {"client_ref": CLIENT.ref, "said": "s"}),
    ("record_client_voice", {"client_ref": ABORIGINAL_CLIENT.ref, "said": "s"}),
    ("determine_follow_up", {"kind": "rcs_in_lieu", "reason": "r"}),
    ("record_notification", {"kind": "ccyp", "recipient": "CCYP"}),
    ("record_notification", {"kind": "ccyp_details", "recipient": "CCYP"}),
    ("record_notification", {"kind": "integrity_team", "recipient": "Integrity"}),
    ("assess_scope", {"in_scope": False, "exclusion": "parental_care", "reason": "r"}),
    ("assess_scope", {"in_scope": True, "reason": "r"}),
    ("record_department_review", {"decision": "accepted", "actor": OFFICER}),
    (
        "record_guardian",
        {"client_ref": CLIENT.ref, "guardian_ref": "g-1", "relationship": "guardian"},
    ),
    ("record_aboriginal_consultation", {"body": "acsass", "stage": "follow_up", "consulted": "c"}),
    ("record_aboriginal_consultation", {"body": "acsass", "stage": "outcome", "consulted": "c"}),
    ("reclassify", {"impact": "non_major", "reason": "r"}),
    (
        "extend",
        {
            "obligation_kind": "investigation_or_review",
            "new_due": datetime(2025, 6, 10, 2, 0, tzinfo=UTC),
            "approved_by": "Director",
            "reason": "r",
        },
    ),
]
ALL_MOVES = MOVES + EXTRA


def _applier_writes() -> dict[str, set[str] | None]:
    """Each event's applier in incident.py, and the fields it assigns on `self` (`None` when it
    calls a method of `self`, whose assignments this reading cannot see)."""
    tree = ast.parse(inspect.getsource(incident_module))
    found: dict[str, set[str] | None] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        events = [
            ast.unparse(arg).rpartition(".")[2]
            for d in node.decorator_list
            if isinstance(d, ast.Call) and getattr(d.func, "id", None) == "applies"
            for arg in d.args
        ]
        if not events:
            continue
        writes: set[str] | None = set()
        for n in ast.walk(node):
            targets: list[ast.expr] = []
            if isinstance(n, ast.Assign):
                targets = n.targets
            elif isinstance(n, ast.AugAssign | ast.AnnAssign):
                targets = [n.target]
            for target in targets:
                for x in ast.walk(target):
                    if isinstance(x, ast.Attribute) and getattr(x.value, "id", None) == "self":
                        assert writes is not None
                        writes.add(x.attr)
                    if isinstance(x, ast.Subscript):  # an item assigned in place: unknown
                        writes = None
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
                owner = n.func.value
                if getattr(owner, "id", None) == "self":  # self.method(...): unknown
                    writes = None
                elif (
                    isinstance(owner, ast.Attribute)
                    and getattr(owner.value, "id", None) == "self"
                    and n.func.attr not in ("model_copy", "copy")
                ):
                    writes = None  # self.field.method(...): in place unless it is a copy
            if writes is None:
                break
        for name in events:
            found[name] = writes
    return found


def test_every_event_declared_in_writes_assigns_only_the_fields_declared() -> None:
    appliers = _applier_writes()
    assert set(WRITES) <= set(appliers), "WRITES names an event with no applier"
    for name, declared in WRITES.items():
        actual = appliers[name]
        assert actual is not None, f"{name}'s applier calls a method: it must not be in WRITES"
        assert actual <= declared, f"{name} assigns {sorted(actual - declared)}, not declared"


@contextmanager
def fields_read() -> Iterator[set[str]]:
    """Record the names of every `Incident` attribute read (a property's own reads too)."""
    seen: set[str] = set()
    original = Incident.__getattribute__

    def spy(self: Any, name: str) -> Any:
        seen.add(name)
        return original(self, name)

    Incident.__getattribute__ = spy  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        Incident.__getattribute__ = original  # type: ignore[method-assign]


def _story(major: bool, aboriginal: bool, moves: list[tuple[int | None, int]]) -> list[Any]:
    clients = [ABORIGINAL_CLIENT] if aboriginal else [CLIENT]
    story = (
        major_abuse_by_carer(clients=clients)
        if major
        else reported(subjects_of_allegation=[CARER], clients=clients)
    )
    step = 0
    for index, hours in moves:
        command, args = PATH[min(step, len(PATH) - 1)] if index is None else ALL_MOVES[index]
        story.later(hours=hours)
        try:
            story.do(command, **args)
        except PolicyViolation:
            continue
        step += index is None
    return list(story.events)


histories = st.builds(
    _story,
    major=st.booleans(),
    aboriginal=st.booleans(),
    # `None` is the next step on the path to closure: weighted so histories get that far.
    moves=st.lists(
        st.tuples(
            st.one_of(st.none(), st.none(), st.sampled_from(range(len(ALL_MOVES)))),
            st.integers(0, 240),
        ),
        min_size=16,
        max_size=45,
    ),
)


@settings(max_examples=40, deadline=None)
@given(events=histories)
def test_each_rule_reads_only_the_fields_it_declares(events: list[Any]) -> None:
    incident = None
    for event in events:
        incident = event.mutate(incident)
        for kind, rule in RULES.items():
            assert rule.reads is not None, kind
            with fields_read() as seen:
                rule.applies(incident)
                rule.met(incident)
            methods = {n for n in seen if callable(getattr(type(incident), n, None))}
            assert seen - methods <= rule.reads | {"aboriginal"}, (kind, seen - rule.reads)


@settings(max_examples=120, deadline=None)
@given(events=histories, cuts=st.lists(st.integers(1, 5), min_size=1, max_size=10))
def test_the_incremental_fold_equals_evaluating_every_rule_after_every_event(
    events: list[Any], cuts: list[int]
) -> None:
    quick, plain = ObligationsFold(), ObligationsFold(incremental=False)
    done, chunks = 0, iter(cuts * len(events))
    while done < len(events):
        upto = min(done + next(chunks), len(events))
        quick.add(events[done:upto])
        plain.add(events[done:upto])
        done = upto
        assert (quick.arose, quick.met, quick.waived) == (plain.arose, plain.met, plain.waived)
        for later in (0, 30, 400):
            now = events[upto - 1].timestamp + timedelta(days=later)
            (a, owed), (b, expected) = quick.result(now=now), plain.result(now=now)
            assert state(a) == state(b)
            assert owed == expected


def test_an_event_kind_not_declared_makes_every_rule_evaluated() -> None:
    assert len(rules_after("Reported")) == len(RULES)
    assert len(rules_after("SomeKindAddedLater")) == len(RULES)
    assert rules_after("ClientVoiceRecorded") == ()
