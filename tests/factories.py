"""Incidents at each stage of the lifecycle, built through the aggregate's own commands."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from domain.incident import Incident
from domain.obligations import Obligation, obligations
from domain.values import (
    Actor,
    AllegationOutcome,
    CareContext,
    Client,
    Details,
    Finding,
    Impact,
    IncidentType,
    Principal,
    Program,
    Recommendation,
    RegulatorCategory,
    Role,
    Stamp,
    SubjectOfAllegation,
    SubjectRole,
)

T = IncidentType
START = datetime(2025, 3, 4, 1, 0, tzinfo=UTC)  # Tuesday, 12:00 in Melbourne

REPORTER = Actor(id="rita.reporter", role=Role.REPORTER, organisation="Northside CSO")
MANAGER = Actor(id="mel.manager", role=Role.INCIDENT_MANAGER, organisation="Northside CSO")
INVESTIGATOR = Actor(id="ivan.investigator", role=Role.INVESTIGATOR, organisation="Northside CSO")
OFFICER = Actor(id="dora.officer", role=Role.DEPARTMENT_OFFICER, organisation="DFFH")
REVIEWER = Actor(id="rory.reviewer", role=Role.REVIEWER, organisation="DFFH")
# The outcome reviewer as an appointment names them: a subject of their organisation.
REVIEWER_PRINCIPAL = Principal(organisation=REVIEWER.organisation, subject=REVIEWER.id)
CARER = SubjectOfAllegation(ref="carer-1", role=SubjectRole.CARER)
STAFF = SubjectOfAllegation(ref="staff-1", role=SubjectRole.STAFF, line_manager_ref="lm-1")
CLIENT = Client(ref="client-1", aboriginal=False)
ABORIGINAL_CLIENT = Client(ref="client-2", aboriginal=True)


@dataclass
class Story:
    """An incident, every event it has recorded, and a clock that moves as the story goes."""

    incident: Incident
    events: list[Any] = field(default_factory=list)
    now: datetime = START

    def __post_init__(self) -> None:
        self.events.extend(self.incident.collect_events())

    def stamp(self, actor: Actor = MANAGER, **kw: Any) -> Stamp:
        return Stamp(actor=actor, now=self.now, **kw)

    def later(self, **delta: float) -> Story:
        self.now += timedelta(**delta)
        return self

    def do(
        self,
        command: str,
        *,
        actor: Actor = MANAGER,
        effective_at: datetime | None = None,
        **args: Any,
    ) -> Story:
        if command in ("close", "extend"):
            args["obligations"] = self.obligations()
        getattr(self.incident, command)(stamp=self.stamp(actor, effective_at=effective_at), **args)
        self.events.extend(self.incident.collect_events())
        return self

    def obligations(self, now: datetime | None = None) -> tuple[Obligation, ...]:
        return obligations(self.events, now=now or self.now)

    def obligation(self, kind: str, now: datetime | None = None) -> Obligation:
        return next(o for o in self.obligations(now) if o.kind == kind)


def report_fields(**overrides: Any) -> dict[str, Any]:
    """A non-major explained injury in a CSO placement, unless overridden."""
    details = overrides.pop("details", None) or Details(
        occurred_at=overrides.pop("occurred_at", START - timedelta(hours=3)),
        became_aware_at=overrides.pop("became_aware_at", START - timedelta(hours=2)),
        location="Residential unit, Northside",
        description="Client fell from a trampoline and hurt a wrist.",
        immediate_actions="First aid; GP visit arranged.",
        other_provider=overrides.pop("other_provider", None),
        historical=overrides.pop("historical", False),
    )
    fields: dict[str, Any] = {
        "program": Program.CSO,
        "care_context": CareContext.CSO_RESIDENTIAL_CARE,
        "clients": [CLIENT],
        "types": [T.INJURY_EXPLAINED],
        "impact": Impact.NON_MAJOR,
        "regulator_category": RegulatorCategory.NONE,
        "subjects_of_allegation": [],
        "details": details,
    }
    fields.update(overrides)
    return fields


def reported(actor: Actor = REPORTER, now: datetime = START, **overrides: Any) -> Story:
    incident = Incident.report(stamp=Stamp(actor=actor, now=now), **report_fields(**overrides))
    return Story(incident, now=now)


def major_abuse_by_carer(**overrides: Any) -> Story:
    return reported(
        types=[T.PHYSICAL_ABUSE],
        impact=Impact.MAJOR,
        subjects_of_allegation=[CARER],
        **overrides,
    )


S = TypeVar("S", "Story", "LedgerStory")


def under_investigation(story: S | None = None) -> S:
    """Police told, an investigation determined, an independent investigator appointed."""
    story = story or major_abuse_by_carer()  # type: ignore[assignment]
    assert story is not None
    return (
        story.do("record_notification", kind="police", recipient="Victoria Police")
        .do("determine_follow_up", kind="investigation", reason="physical abuse by a carer")
        .do(
            "appoint_investigator",
            investigator_ref=INVESTIGATOR.id,
            independence_declared=True,
            declaration="No prior involvement with the client, carer or reporter.",
        )
    )


def allegations_served(story: Story | None = None) -> Story:
    story = under_investigation(story)
    refs = [s.ref for s in story.incident.subjects]
    return story.do("serve_allegations", subject_refs=refs, method="email", actor=INVESTIGATOR)


def responded(story: Story | None = None) -> Story:
    """Allegations served, and every subject's response recorded."""
    story = allegations_served(story)
    for s in story.incident.subjects:
        story.do(
            "record_subject_response", subject_ref=s.ref, response="Denied.", actor=INVESTIGATOR
        )
    return story


def outcome(
    subject: str = CARER.ref,
    finding: Finding = Finding.SUBSTANTIATED,
    incident_type: IncidentType = T.PHYSICAL_ABUSE,
) -> AllegationOutcome:
    return AllegationOutcome(
        subject_ref=subject,
        incident_type=incident_type,
        finding=finding,
        rationale="Consistent accounts from the client and a witness; injuries photographed.",
    )


def recommendation(rec_id: str = "R1") -> Recommendation:
    return Recommendation(id=rec_id, text="Carer to complete therapeutic care training.")


@dataclass
class LedgerStory:
    """An incident driven through a real ledger (and so a real store), one command at a time."""

    ledger: Any
    incident_id: Any = None
    version: int = 0
    now: datetime = START

    @classmethod
    def report(
        cls, ledger: Any, actor: Actor = REPORTER, now: datetime = START, **overrides: Any
    ) -> LedgerStory:
        story = cls(ledger, now=now)
        accepted = ledger.report(stamp=Stamp(actor=actor, now=now), **report_fields(**overrides))
        story.incident_id, story.version = accepted.incident_id, accepted.version
        return story

    def later(self, **delta: float) -> LedgerStory:
        self.now += timedelta(**delta)
        return self

    def do(
        self,
        command: str,
        *,
        actor: Actor = MANAGER,
        effective_at: datetime | None = None,
        **args: Any,
    ) -> LedgerStory:
        accepted = self.ledger.execute(
            self.incident_id,
            command,
            expected_version=self.version,
            stamp=Stamp(actor=actor, now=self.now, effective_at=effective_at),
            **args,
        )
        self.version = accepted.version
        return self


def investigate_to_outcome(story: LedgerStory) -> LedgerStory:
    """Under investigation, then allegations served, then the outcome."""
    return (
        under_investigation(story)
        .later(days=2)
        .do("serve_allegations", subject_refs=[CARER.ref], method="email", actor=INVESTIGATOR)
        .later(days=1)
        .do("record_subject_response", subject_ref=CARER.ref, response="No.", actor=INVESTIGATOR)
        .later(days=4)
        .do("record_outcome", outcomes=[outcome()], actor=INVESTIGATOR)
    )
