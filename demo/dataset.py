"""A realistic synthetic data set: every incident type, several providers, every stage."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from domain.errors import IncidentNotFound
from domain.rules.classification import MANDATORY_MAJOR_TYPES
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
from ledger.application import Ledger, incident_id_for

PROVIDERS: list[tuple[str, Program, CareContext]] = [
    ("Northside Community Services", Program.CSO, CareContext.CSO_RESIDENTIAL_CARE),
    ("Child Protection North Division", Program.CHILD_PROTECTION, CareContext.CP_KINSHIP),
    ("Westgate Disability Services", Program.DISABILITY, CareContext.OTHER),
    ("Eastside Housing", Program.HOUSING, CareContext.OTHER),
]
REVIEWER = Actor(id="rory.reviewer", role=Role.REVIEWER, organisation="DFFH")
# How far each demo investigation has gone; later stages are reported longer ago.
STAGES = 8


class _Script:
    """Drives one demo incident through the ledger, one command a day after it was reported."""

    def __init__(
        self, ledger: Ledger, incident_id: UUID, version: int, start: datetime, org: str
    ) -> None:
        self.ledger, self.id, self.version, self.at = ledger, incident_id, version, start
        self.manager = Actor(id=f"manager@{org}", role=Role.INCIDENT_MANAGER, organisation=org)
        self.investigator = Actor(
            id=f"investigator@{org}", role=Role.INVESTIGATOR, organisation=org
        )

    def __call__(self, command: str, actor: Actor | None = None, **args: Any) -> None:
        self.at += timedelta(days=1)
        accepted = self.ledger.execute(
            self.id,
            command,
            expected_version=self.version,
            stamp=Stamp(actor=actor or self.manager, now=self.at),
            **args,
        )
        self.version = accepted.version


def _incidents() -> Iterator[dict[str, Any]]:
    for n, incident_type in enumerate(IncidentType):
        yield incident_spec(n, incident_type, *PROVIDERS[n % len(PROVIDERS)])


def incident_spec(
    n: int,
    incident_type: IncidentType,
    org: str,
    program: Program,
    care: CareContext,
    *,
    tag: str | None = None,
    stage: int | None = None,
) -> dict[str, Any]:
    """The n-th demo incident's particulars (what `_seed_one` reports and takes through its
    stages): a subject of allegation for the mandatory-major types and every third one, major
    impact with a subject or for a death, an unexplained injury or an attempted suicide. `tag`
    marks its references (default `n`); `stage` defaults to cycling through the stages."""
    tag = str(n) if tag is None else tag
    staff_or_carer = (
        SubjectRole.CARER
        if program in (Program.CSO, Program.CHILD_PROTECTION)
        else SubjectRole.STAFF
    )
    with_subject = incident_type in MANDATORY_MAJOR_TYPES or n % 3 == 0
    major = with_subject or incident_type in (
        IncidentType.DEATH,
        IncidentType.INJURY_UNEXPLAINED,
        IncidentType.ATTEMPTED_SUICIDE,
    )
    return {
        "n": n,
        "org": org,
        "program": program,
        "care": care
        if program is not Program.CHILD_PROTECTION or with_subject
        else CareContext.CP_PRACTITIONER,
        "type": incident_type,
        "impact": Impact.MAJOR if major else Impact.NON_MAJOR,
        "subjects": [
            SubjectOfAllegation(ref=f"soa-{tag}", role=staff_or_carer, line_manager_ref=f"lm-{tag}")
        ]
        if with_subject
        else [],
        "aboriginal": n % 4 == 1,
        "category": RegulatorCategory.CRITICAL
        if incident_type in (IncidentType.DEATH, IncidentType.ESCAPE_FROM_SECURE_FACILITY)
        else RegulatorCategory.NOTIFIABLE
        if major
        else RegulatorCategory.NONE,
        "stage": n % STAGES if stage is None else stage,
    }


def seed_demo(ledger: Ledger, *, now: datetime) -> int:
    """Write the demo incidents not yet in the store; returns how many were written."""
    written = 0
    for spec in _incidents():
        written += _seed_one(ledger, spec, now)
    return written


def _seed_one(ledger: Ledger, spec: dict[str, Any], now: datetime) -> int:
    n, org = spec["n"], spec["org"]
    reporter = Actor(id=f"practitioner@{org}", role=Role.REPORTER, organisation=org)
    # Later stages happened longer ago, so some investigations are overdue and some closed late.
    start = now - timedelta(days=5 + 8 * spec["stage"] + n % 5)
    stamp = Stamp(actor=reporter, now=start, command_id=f"demo-{n}")
    try:
        ledger.incident_events(incident_id_for(stamp))
        return 0
    except IncidentNotFound:
        pass
    client = Client(ref=f"client-{n}", aboriginal=spec["aboriginal"])
    accepted = ledger.report(
        stamp=stamp,
        program=spec["program"],
        care_context=spec["care"],
        clients=[client],
        types=[spec["type"]],
        impact=spec["impact"],
        regulator_category=spec["category"],
        subjects_of_allegation=spec["subjects"],
        details=Details(
            occurred_at=start - timedelta(hours=5),
            became_aware_at=start - timedelta(hours=2),
            location=f"{org} — site {n % 3 + 1}",
            description=f"Synthetic demo incident {n}: {spec['type']}.",
            immediate_actions="Client made safe; supervisor informed.",
            other_provider=PROVIDERS[(n + 1) % len(PROVIDERS)][0] if n % 7 == 3 else None,
        ),
    )
    run = _Script(ledger, accepted.incident_id, accepted.version, start, org)
    _progress(run, spec, client)
    return 1


def _progress(run: _Script, spec: dict[str, Any], client: Client) -> None:
    stage, subjects = spec["stage"], spec["subjects"]
    refs = [s.ref for s in subjects]
    consult = _consulter(run, spec["aboriginal"])
    consult("follow_up")
    if spec["category"] == RegulatorCategory.CRITICAL:
        run(
            "record_notification",
            kind="regulator_short_form",
            recipient="Social Services Regulator",
        )
    if spec["impact"] != Impact.MAJOR:
        if stage >= 2:
            run("record_response_plan", plan="Local response folded into the care plan.")
            consult("closure")
            run("close", reason="Local response complete.")
        return
    if stage == 0:
        return
    if spec["type"] in (
        IncidentType.SEXUAL_ABUSE,
        IncidentType.PHYSICAL_ABUSE,
        IncidentType.NEGLECT,
    ):
        run("record_notification", kind="police", recipient="Victoria Police")
    if spec["program"] == Program.CHILD_PROTECTION and subjects:
        run("record_notification", kind="integrity_team", recipient="DFFH Integrity team")
    investigate = bool(subjects) or spec["type"] == IncidentType.INJURY_UNEXPLAINED
    run(
        "determine_follow_up",
        kind="investigation" if investigate else "incident_review",
        reason="Major impact: policy requires follow-up.",
    )
    recs = [Recommendation(id="R1", text="Review supervision arrangements.")]
    if not investigate:
        if stage >= 3:
            consult("outcome")
            run(
                "complete_incident_review",
                what_happened="Reviewed the sequence of events.",
                contributing_factors="Staffing levels overnight.",
                recommendations=recs,
            )
            run(
                "communicate_outcome", recipient="client", recipient_ref=client.ref, in_writing=True
            )
            _respond_and_close(run, stage, subjects, consult)
        return
    if stage == 1:
        return
    run(
        "appoint_investigator",
        investigator_ref=run.investigator.id,
        independence_declared=True,
        declaration="No role in the client's care or the subject's line management.",
    )
    run(
        "record_investigation_plan",
        plan="Interview client, subject and witnesses.",
        lines_of_enquiry=["client account", "witnesses", "records"],
        actor=run.investigator,
    )
    if stage == 2:
        return
    if refs:
        run(
            "serve_allegations",
            subject_refs=refs,
            method="letter_by_post",
            actor=run.investigator,
        )
        for ref in refs:
            run(
                "record_subject_response",
                subject_ref=ref,
                response="Denies the allegation.",
                actor=run.investigator,
            )
    run(
        "record_evidence",
        kind="cp_interview",
        description="Child Protection interview reused.",
        actor=run.investigator,
    )
    if stage == 3:
        return
    outcomes = [
        AllegationOutcome(
            subject_ref=ref,
            incident_type=spec["type"],
            finding=Finding.SUBSTANTIATED,
            rationale="Consistent accounts.",
        )
        for ref in refs
    ] or [
        AllegationOutcome(
            incident_type=spec["type"],
            finding=Finding.UNABLE_TO_BE_DETERMINED,
            rationale="No witness; cause not established.",
        )
    ]
    consult("outcome")
    run("record_outcome", outcomes=outcomes, actor=run.investigator)
    if stage == 4:
        return
    run(
        "submit_investigation_report",
        summary="Findings and recommendations.",
        recommendations=recs,
        actor=run.investigator,
    )
    run("communicate_outcome", recipient="client", recipient_ref=client.ref, in_writing=True)
    for ref in refs:
        run(
            "communicate_outcome",
            recipient="subject_of_allegation",
            recipient_ref=ref,
            in_writing=True,
        )
    if stage == 5:
        return
    if refs:
        run(
            "request_outcome_review",
            requester="subject_of_allegation",
            requester_ref=refs[0],
            grounds=["procedural_fairness"],
            reason="Was not shown the witness statement.",
        )
        if stage == 6:
            return
        run(
            "appoint_outcome_reviewer",
            reviewer=Principal(organisation=REVIEWER.organisation, subject=REVIEWER.id),
        )
        varied = [o.model_copy(update={"finding": Finding.NOT_SUBSTANTIATED}) for o in outcomes]
        run(
            "decide_outcome_review",
            result="varied",
            varied_outcomes=varied,
            reason="Witness statement not put to the subject.",
            actor=REVIEWER,
        )
    _respond_and_close(run, stage, subjects, consult)


def _consulter(run: _Script, aboriginal: bool) -> Callable[[str], None]:
    """Consult ACSASS at a key stage, where a client is Aboriginal."""

    def consult(stage: str) -> None:
        if aboriginal:
            run(
                "record_aboriginal_consultation",
                body="acsass",
                stage=stage,
                consulted="ACSASS practitioner",
                advice="Involve the client's Elder.",
            )

    return consult


def _respond_and_close(
    run: _Script,
    stage: int,
    subjects: list[SubjectOfAllegation],
    consult: Callable[[str], None],
) -> None:
    run("record_response_plan", plan="Safety plan and placement support.")
    for s in subjects:
        if s.role != SubjectRole.STAFF:
            run("record_carer_support_plan", carer_ref=s.ref, plan="Fortnightly supervision.")
    run("action_recommendation", recommendation_id="R1", action="Supervision roster changed.")
    if stage == STAGES - 1:
        consult("closure")
        run("close", reason="All required steps met.")


def demo_identities() -> list[dict[str, str]]:
    """Who the demo data set is about, one of each role per provider, as development sign-in
    offers them: `{sub, role, organisation, label}`."""
    found: list[dict[str, str]] = []
    for org, _, _ in PROVIDERS:
        for sub, role, label in (
            (f"practitioner@{org}", Role.REPORTER, "Practitioner (reporter)"),
            (f"manager@{org}", Role.INCIDENT_MANAGER, "Incident manager"),
            (f"investigator@{org}", Role.INVESTIGATOR, "Investigator"),
            (f"reviewer@{org}", Role.REVIEWER, "Reviewer"),
        ):
            found.append({"sub": sub, "role": role.value, "organisation": org, "label": label})
    for actor, label in (
        (REVIEWER, "Outcome reviewer"),
        (
            Actor(id="dana.officer", role=Role.DEPARTMENT_OFFICER, organisation="DFFH"),
            "Department officer",
        ),
        (Actor(id="audrey.auditor", role=Role.AUDITOR, organisation="DFFH"), "Auditor"),
        (Actor(id="sam.ssr", role=Role.REGULATOR, organisation="ssr"), "Social Services Regulator"),
        (
            Actor(id="cory.ccyp", role=Role.REGULATOR, organisation="ccyp"),
            "Commission for Children and Young People",
        ),
    ):
        found.append(
            {
                "sub": actor.id,
                "role": actor.role.value,
                "organisation": actor.organisation,
                "label": label,
            }
        )
    return found
