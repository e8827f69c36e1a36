"""A refusal names the field the caller gave the refused value in, with its own rule: the front
end shows the rule's message at that field (issue 21, item 4)."""

from __future__ import annotations

import pytest

from domain.errors import PolicyViolation
from domain.values import Principal
from tests.factories import CARER, CLIENT, MANAGER, major_abuse_by_carer, reported


def test_the_voice_of_a_client_not_on_the_incident_is_refused_at_the_client_field() -> None:
    with pytest.raises(PolicyViolation) as refused:
        reported().do("record_client_voice", client_ref="client-9", said="x")
    assert refused.value.rule_id == "client-voice.unknown-client"
    assert refused.value.field == "client_ref"


def test_the_voice_of_a_client_on_the_incident_is_recorded() -> None:
    story = reported().do("record_client_voice", client_ref=CLIENT.ref, said="I felt safe.")
    assert story.incident.client_voices == 1


def determined():  # type: ignore[no-untyped-def]
    return (
        major_abuse_by_carer()
        .do("record_notification", kind="police", recipient="Victoria Police")
        .do("determine_follow_up", kind="investigation", reason="physical abuse by a carer")
    )


@pytest.mark.parametrize(
    ("named", "field"),
    [
        ({"investigator_ref": CARER.ref}, "investigator_ref"),
        (
            {"investigator": Principal(organisation="Elsewhere", subject=CARER.ref)},
            "investigator.subject",
        ),
    ],
)
def test_a_subject_appointed_investigator_is_refused_at_the_field_naming_them(
    named: dict[str, object], field: str
) -> None:
    with pytest.raises(PolicyViolation) as refused:
        determined().do(
            "appoint_investigator",
            independence_declared=True,
            declaration="x",
            actor=MANAGER,
            **named,
        )
    assert refused.value.rule_id == "fairness.investigator-not-independent"
    assert refused.value.field == field


def test_an_independent_investigator_of_another_organisation_is_appointed() -> None:
    story = determined().do(
        "appoint_investigator",
        investigator=Principal(organisation="Elsewhere", subject="ivy.investigator"),
        independence_declared=True,
        declaration="No prior involvement.",
        actor=MANAGER,
    )
    assert story.incident.investigator == Principal(
        organisation="Elsewhere", subject="ivy.investigator"
    )
