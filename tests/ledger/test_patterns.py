"""Patterns of harm: one client's incidents, suggestions, escalation and dismissal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.calendar import calendar_days_after
from domain.errors import PolicyViolation, VersionConflict
from domain.incident import Incident
from domain.obligations import Status
from domain.policy_table import policy_at
from domain.rules.patterns import ClientOf
from domain.values import Actor, Client, Impact, IncidentType, Role, Stamp
from ledger import patterns
from ledger.application import Ledger
from ledger.patterns import PatternItem, suggest
from tests.factories import MANAGER, OFFICER, REPORTER, START, LedgerStory, report_fields

T = IncidentType
OTHER_MANAGER = Actor(id="olive.manager", role=Role.INCIDENT_MANAGER, organisation="Eastside")
OTHER_REPORTER = Actor(id="otto.reporter", role=Role.REPORTER, organisation="Eastside")
CHILD = Client(ref="client-1", aboriginal=False, department_client_id="1234567")


def non_major(
    ledger: Ledger, days: int, actor: Actor = REPORTER, client: Client = CHILD
) -> LedgerStory:
    return LedgerStory.report(
        ledger, actor=actor, now=START + timedelta(days=days), clients=[client]
    )


def escalation(**overrides: Any) -> dict[str, Any]:
    fields = report_fields(
        types=[T.EMOTIONAL_PSYCHOLOGICAL_HARM], impact=Impact.MAJOR, clients=[CHILD]
    )
    fields.update(overrides)
    return fields


def test_escalation_reports_a_new_major_incident_and_links_each_incident(ledger: Ledger) -> None:
    a, b, c = (non_major(ledger, d) for d in (0, 10, 20))
    ids = [a.incident_id, b.incident_id, c.incident_id]
    stamp = Stamp(actor=MANAGER, now=START + timedelta(days=21))

    accepted = patterns.escalate(
        ledger, stamp=stamp, pattern_of=ids, reason="Three injuries in three weeks", **escalation()
    )

    new = ledger.incident(accepted.incident_id)
    assert new.impact == Impact.MAJOR and new.pattern_of == tuple(ids)
    first = ledger.incident_events(accepted.incident_id)[0]
    assert first.reason == "Three injuries in three weeks"
    for incident_id in ids:
        last = ledger.incident_events(incident_id)[-1]
        assert isinstance(last, Incident.PatternLinked)
        assert last.escalated_as == accepted.incident_id
        assert ledger.incident(incident_id).linked_to_pattern == accepted.incident_id
    # It owes what any major incident owes: an investigation or incident review, in 28 days.
    owed = {o.kind: o for o in ledger.obligations(accepted.incident_id, now=stamp.now)}
    assert owed["investigation_or_review"].status == Status.OPEN
    assert owed["investigation_or_review"].due == calendar_days_after(stamp.now, 28)


@pytest.mark.parametrize(
    ("case", "rule"),
    [
        ("one incident", "pattern.several-incidents"),
        ("named twice", "pattern.several-incidents"),
        ("non-major escalation", "pattern.escalation-major"),
        ("a major incident", "pattern.incident-major"),
        ("already linked", "pattern.already-linked"),
        ("withdrawn", "pattern.incident-withdrawn"),
        ("another client", "pattern.different-clients"),
        ("another provider", "pattern.across-providers-department-only"),
        ("no reason", "record.reason-required"),
    ],
)
def test_escalation_is_refused_naming_the_rule_and_records_nothing(
    ledger: Ledger, case: str, rule: str
) -> None:
    a, b = non_major(ledger, 0), non_major(ledger, 1)
    ids = [a.incident_id, b.incident_id]
    fields = escalation()
    reason = "pattern"
    if case == "one incident":
        ids = ids[:1]
    elif case == "named twice":
        ids = [a.incident_id, a.incident_id]
    elif case == "non-major escalation":
        fields = escalation(impact=Impact.NON_MAJOR)
    elif case == "a major incident":
        major = LedgerStory.report(
            ledger, clients=[CHILD], types=[T.SERIOUS_RISK], impact=Impact.MAJOR
        )
        ids.append(major.incident_id)
    elif case == "already linked":
        patterns.escalate(
            ledger, stamp=Stamp(actor=MANAGER, now=START), pattern_of=ids, reason="r", **fields
        )
        ids = [a.incident_id, non_major(ledger, 2).incident_id]
    elif case == "withdrawn":
        b.do("withdraw", reason="duplicate of another report", duplicate_of=a.incident_id)
    elif case == "another client":
        stranger = Client(ref="client-9", aboriginal=False)
        ids.append(non_major(ledger, 2, client=stranger).incident_id)
    elif case == "another provider":
        ids.append(non_major(ledger, 2, actor=OTHER_REPORTER).incident_id)
    elif case == "no reason":
        reason = " "
    head = ledger.recorder.max_notification_id()

    with pytest.raises(PolicyViolation) as refused:
        patterns.escalate(
            ledger, stamp=Stamp(actor=MANAGER, now=START), pattern_of=ids, reason=reason, **fields
        )

    assert refused.value.rule_id == rule
    assert ledger.recorder.max_notification_id() == head


def test_an_escalation_is_a_report_like_any_other_so_its_type_rules_apply(
    ledger: Ledger,
) -> None:
    a, b = non_major(ledger, 0), non_major(ledger, 1)

    with pytest.raises(PolicyViolation) as refused:
        Incident.escalate_pattern(
            [a.incident_id, b.incident_id],
            "r",
            stamp=Stamp(actor=MANAGER, now=START),
            **escalation(types=[]),
        )

    assert refused.value.rule_id == "classification.type-required"


def test_the_department_links_incidents_of_two_providers_by_the_department_identifier(
    ledger: Ledger,
) -> None:
    ours = non_major(ledger, 0)
    theirs = non_major(
        ledger, 1, actor=OTHER_REPORTER, client=CHILD.model_copy(update={"ref": "E-7"})
    )
    stamp = Stamp(actor=OFFICER, now=START + timedelta(days=2))

    accepted = patterns.escalate(
        ledger,
        stamp=stamp,
        pattern_of=[ours.incident_id, theirs.incident_id],
        reason="Harm at two providers within a week",
        **escalation(
            clients=[Client(ref="dffh-1234567", aboriginal=False, department_client_id="1234567")]
        ),
    )

    new = ledger.incident(accepted.incident_id)
    assert new.reporting_organisation == OFFICER.organisation
    assert ledger.incident(theirs.incident_id).linked_to_pattern == new.id


def test_across_providers_a_ref_alone_does_not_join_a_client(ledger: Ledger) -> None:
    no_id = Client(ref="client-1", aboriginal=False)
    ours = non_major(ledger, 0, client=no_id)
    theirs = non_major(ledger, 1, actor=OTHER_REPORTER, client=no_id)

    with pytest.raises(PolicyViolation) as refused:
        patterns.dismiss(
            ledger,
            stamp=Stamp(actor=OFFICER, now=START + timedelta(days=2)),
            incident_ids=[ours.incident_id, theirs.incident_id],
            reason="not related",
        )

    assert refused.value.rule_id == "pattern.different-clients"


def test_dismissal_is_an_event_with_its_reason_on_each_incident(ledger: Ledger) -> None:
    a, b, c = (non_major(ledger, d) for d in (0, 1, 2))
    ids = [a.incident_id, b.incident_id, c.incident_id]

    dismissal_id, accepted = patterns.dismiss(
        ledger,
        stamp=Stamp(actor=MANAGER, now=START + timedelta(days=3)),
        incident_ids=ids,
        reason="Three separate sporting injuries; no common cause.",
    )

    assert len(accepted) == 3
    for incident_id in ids:
        last = ledger.incident_events(incident_id)[-1]
        assert isinstance(last, Incident.PatternSuggestionDismissed)
        assert last.dismissal_id == dismissal_id
        assert last.reason == "Three separate sporting injuries; no common cause."


def item(
    n: int, org: str = "A", ref: str = "c1", dept: str | None = None, **kw: Any
) -> PatternItem:
    fields: dict[str, Any] = {
        "incident_id": UUID(int=n),
        "client": ClientOf(org, frozenset({ref}), frozenset({dept} if dept else set())),
        "became_aware_at": START - timedelta(days=n),
        "non_major": True,
        "current": True,
        "linked": False,
    }
    fields.update(kw)
    return PatternItem(**fields)


def test_a_possible_pattern_needs_the_policy_count_within_the_policy_window() -> None:
    policy = policy_at(START)
    inside = [item(n) for n in range(1, policy.pattern_min_incidents + 1)]
    too_old = item(policy.pattern_window_days + 1)

    assert [s.incident_ids for s in suggest(inside, now=START, policy=policy)] == [
        tuple(i.incident_id for i in sorted(inside, key=lambda i: i.became_aware_at))
    ]
    assert suggest([*inside[:-1], too_old], now=START, policy=policy) == []
    assert suggest([*inside[:-1], item(9, linked=True)], now=START, policy=policy) == []
    assert suggest([*inside[:-1], item(9, current=False)], now=START, policy=policy) == []
    assert suggest([*inside[:-1], item(9, non_major=False)], now=START, policy=policy) == []


def test_within_an_organisation_either_identifier_joins_across_only_the_department_one() -> None:
    policy = policy_at(START)
    by_ref_or_id = [
        item(1, ref="r1", dept="111111"),
        item(2, ref="r1"),
        item(3, ref="r2", dept="111111"),
    ]
    across_by_ref = [item(1, org="A"), item(2, org="B"), item(3, org="C")]
    across_by_id = [
        item(1, org="A", dept="111111"),
        item(2, org="B", ref="x", dept="111111"),
        item(3, org="C", ref="y", dept="111111"),
    ]

    assert len(suggest(by_ref_or_id, now=START, policy=policy)) == 1
    assert suggest(across_by_ref, now=START, policy=policy) == []
    assert len(suggest(across_by_id, now=START, policy=policy)) == 1


def test_a_dismissed_suggestion_does_not_return_for_the_same_incidents_only() -> None:
    policy = policy_at(START)
    three = [item(1), item(2), item(3)]
    gone = frozenset(i.incident_id for i in three)

    assert suggest(three, now=START, policy=policy, dismissed=[gone]) == []
    # Fewer of the same incidents (one withdrawn, say) are still the same incidents.
    wider = frozenset({*gone, UUID(int=99)})
    assert suggest(three, now=START, policy=policy, dismissed=[wider]) == []
    assert len(suggest([*three, item(4)], now=START, policy=policy, dismissed=[gone])) == 1


def test_a_linked_incident_changed_meanwhile_is_a_conflict_and_nothing_is_recorded(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = non_major(ledger, 0), non_major(ledger, 1)
    loaded = ledger.incident

    def read_then_someone_writes(incident_id: UUID) -> Incident:
        incident = loaded(incident_id)
        if incident_id == b.incident_id and b.version == 1:
            b.do("record_response_plan", plan="written by someone else meanwhile")
        return incident

    monkeypatch.setattr(ledger, "incident", read_then_someone_writes)
    head = ledger.recorder.max_notification_id()

    with pytest.raises(VersionConflict) as conflict:
        patterns.escalate(
            ledger,
            stamp=Stamp(actor=MANAGER, now=START + timedelta(days=2)),
            pattern_of=[a.incident_id, b.incident_id],
            reason="r",
            **escalation(),
        )

    assert conflict.value.incident_id == b.incident_id
    assert conflict.value.expected == 1 and conflict.value.current == 2
    assert ledger.recorder.max_notification_id() == head + 1  # only the other writer's event
    assert loaded(a.incident_id).version == 1


def test_a_repeated_dismissal_with_the_same_command_id_is_answered_once(ledger: Ledger) -> None:
    ids = [non_major(ledger, d).incident_id for d in (0, 1, 2)]
    stamp = Stamp(actor=MANAGER, now=START + timedelta(days=3), command_id="dismiss-1")

    first, _ = patterns.dismiss(ledger, stamp=stamp, incident_ids=ids, reason="unrelated")
    again, accepted = patterns.dismiss(ledger, stamp=stamp, incident_ids=ids, reason="unrelated")

    assert again == first
    assert [a.version for a in accepted] == [2, 2, 2]
    assert all(ledger.incident(i).version == 2 for i in ids)
