"""Appointees are principals; events from before they were still replay; the responsible
organisation changes by its own event."""

from __future__ import annotations

import orjson
import pytest
from eventsourcing.utils import get_topic

from domain.base import chain_hash
from domain.errors import PolicyViolation
from domain.incident import Incident
from domain.values import Principal
from ledger.application import fold
from tests.factories import (
    CLIENT,
    INVESTIGATOR,
    MANAGER,
    OFFICER,
    REVIEWER_PRINCIPAL,
    outcome,
    reported,
    responded,
    under_investigation,
)


def test_an_appointment_naming_only_a_subject_names_one_of_the_appointing_organisation() -> None:
    story = under_investigation()

    (appointed,) = [e for e in story.events if isinstance(e, Incident.InvestigatorAppointed)]
    assert appointed.investigator_organisation == MANAGER.organisation
    assert story.incident.investigator == Principal(
        organisation=MANAGER.organisation, subject=INVESTIGATOR.id
    )


def test_an_appointment_stored_before_appointees_were_principals_still_replays() -> None:
    # As an earlier release stored it: the subject alone, no organisation, its own hash.
    events = under_investigation().events
    index = next(i for i, e in enumerate(events) if isinstance(e, Incident.InvestigatorAppointed))
    state = events[index].model_dump(mode="json")
    del state["investigator_organisation"]
    topic = get_topic(type(events[index]))
    state["hash"] = chain_hash(topic, state)
    old = type(events[index]).model_validate_json(orjson.dumps(state))

    incident = fold([*events[:index], old])

    assert incident is not None
    # Read as a subject of the appointing actor's organisation.
    assert incident.investigator == Principal(
        organisation=MANAGER.organisation, subject=INVESTIGATOR.id
    )
    assert old.hash == state["hash"]  # kept as stored, so the chain still verifies


def test_each_outcome_review_has_its_own_appointed_reviewer() -> None:
    story = responded().do("record_outcome", outcomes=[outcome()], actor=INVESTIGATOR)
    request = {
        "requester": "client",
        "requester_ref": CLIENT.ref,
        "grounds": ["procedural_fairness"],
    }
    story.do("request_outcome_review", **request)
    story.do("appoint_outcome_reviewer", reviewer=REVIEWER_PRINCIPAL, actor=OFFICER)
    assert story.incident.outcome_reviewer == REVIEWER_PRINCIPAL

    story.do("decide_outcome_review", result="confirmed", reason="r", actor=OFFICER)
    story.do("request_outcome_review", **{**request, "requester_ref": CLIENT.ref})

    assert story.incident.outcome_reviewer is None


def test_the_responsible_organisation_changes_by_an_event_that_says_so() -> None:
    story = reported(other_provider="Eastside Housing")

    story.do("change_responsible_organisation", other_provider="Southside CSO", reason="moved")

    event = story.events[-1]
    assert isinstance(event, Incident.ResponsibleOrganisationChanged)
    assert (event.previous, event.other_provider, event.reason) == (
        "Eastside Housing",
        "Southside CSO",
        "moved",
    )
    assert story.incident.details.other_provider == "Southside CSO"
    assert fold(story.events).details.other_provider == "Southside CSO"  # type: ignore[union-attr]


def test_an_investigator_is_replaced_before_the_outcome_and_not_after() -> None:
    """The README said "once only" while any number of appointments were accepted, even after
    the outcome: a replacement is now possible only until an outcome is recorded."""
    story = responded()
    replacement = Principal(organisation=MANAGER.organisation, subject="inv-2")

    story.do(
        "appoint_investigator",
        investigator=replacement,
        independence_declared=True,
        declaration="No prior involvement.",
    )
    assert story.incident.investigator == replacement

    story.do(
        "record_outcome",
        outcomes=[outcome()],
        actor=INVESTIGATOR.model_copy(update={"id": "inv-2"}),
    )
    with pytest.raises(PolicyViolation) as refused:
        story.do(
            "appoint_investigator",
            investigator_ref=INVESTIGATOR.id,
            independence_declared=True,
            declaration="No prior involvement.",
        )
    assert refused.value.rule_id == "appointment.investigator-after-outcome"
