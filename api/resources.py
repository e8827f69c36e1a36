"""Response bodies of the API, as `/openapi.json` declares them.

The routes answer with orjson bytes built from plain dicts (fast); these models document those
answers, and the tests parse real answers through them (and through a client generated from
`/openapi.json`), so the document and the bytes cannot drift apart."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.incident import Stage
from domain.obligations import Status
from domain.values import (
    AllegationOutcome,
    CareContext,
    Client,
    ConsultationStage,
    ConsultedBody,
    Details,
    FollowUpKind,
    Guardian,
    Impact,
    IncidentType,
    NotificationKind,
    Principal,
    Program,
    Recipient,
    Recommendation,
    RegulatorCategory,
    Requester,
    ReviewDecision,
    Role,
    ScopeExclusion,
    Service,
    SubjectOfAllegation,
    WithdrawalCategory,
)


class Resource(BaseModel):
    """An answer: fields may be added in later versions, so clients keep unknown ones."""

    model_config = ConfigDict(extra="allow")


class FieldError(BaseModel):
    """One field of the request and the rule it broke."""

    field: str = Field(description="The field, header or query parameter, e.g. `types.0`.")
    rule: str = Field(description="The rule id broken (see `GET /v1/rules`).")
    message: str = Field(description="What is wrong, for a person to read.")


class ProblemDetails(Resource):
    """RFC 9457 problem details: every error the API answers with."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(
        description="A URI naming the kind of problem; its entry in `GET /v1/rules` (the "
        "item whose `type` is this URI) explains it."
    )
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request.")
    instance: str | None = Field(default=None, description="The path of the request that failed.")
    rule: str | None = Field(
        default=None, description="The policy rule id that refused a command (422 refusals)."
    )
    errors: list[FieldError] | None = Field(
        default=None, description="Each field at fault, with the rule it broke."
    )
    current_version: int | None = Field(
        default=None,
        description="On 409 and 412: the incident's current version; read it again and retry.",
    )
    expected_version: int | None = Field(
        default=None, description="On 409 and 412: the version the request expected."
    )


class EventOut(Resource):
    """The event a command recorded, as stored (its other fields depend on `type`)."""

    type: str = Field(description="The event's class, e.g. `AllegationsServed`.")
    originator_id: UUID = Field(description="The incident's id.")
    originator_version: int = Field(description="The incident's version this event made.")
    timestamp: datetime = Field(description="When it was recorded (UTC).")
    actor: dict[str, Any] = Field(description="Who recorded it: `id`, `role`, `organisation`.")


class Accepted(Resource):
    """A command was recorded: the incident's new version and the event that made it."""

    id: UUID = Field(description="The incident's id.")
    version: int = Field(description="The incident's version now; send it as `expected_version`.")
    position: int | None = Field(
        description="The event's position in the ledger's log; pass it as `?min_position=` to "
        "read your own write from the read models."
    )
    event: EventOut


class NextAction(BaseModel):
    """A command this caller may issue now on this incident."""

    command: str = Field(description="The command's name, the last segment of `href`.")
    method: str = Field(description="The HTTP method, always `POST`.")
    href: str = Field(description="Where to send it.")
    title: str = Field(description="What it does, as a button would say it.")
    schema_: str = Field(
        alias="schema",
        description="The request body's schema in `/openapi.json` `components.schemas`.",
    )
    meets: list[str] = Field(
        description="The incident's open obligations (by `kind`) this command can meet."
    )


BUSINESS_DAYS_LEFT = (
    "Open and not yet due: business days (Victorian calendar) from today in Melbourne to the due"
    " day, 0 when due today; else null."
)
DAYS_OVERDUE = (
    "Past due and not met: Melbourne calendar days since the due day, 0 when it fell due"
    " earlier today; else null."
)


class ObligationOut(Resource):
    """One thing the policy requires of the incident, with its deadline and how it stands."""

    kind: str = Field(description="Which obligation (see the `ObligationKind` schema).")
    trigger: str = Field(description="The event that made it apply.")
    trigger_version: int = Field(description="The version of that event.")
    due: datetime | None = Field(description="When it is due (UTC), after any extension.")
    original_due: datetime | None = Field(description="When it was first due (UTC).")
    extended: bool = Field(description="Whether the deadline was extended.")
    met_at: datetime | None = Field(description="When it was met (UTC), if it was.")
    met_by_version: int | None = Field(description="The version of the event that met it.")
    status: Status
    waivable: bool = Field(description="Whether closing may mark it not required.")
    note: str | None = Field(default=None, description="Why it is not required, if it is not.")
    met_recorded_at: datetime | None = Field(
        default=None, description="When the step that met it was recorded (UTC)."
    )
    recorded_late: bool = Field(
        default=False,
        description="Whether that step was recorded more than the allowed business days after "
        "the time it says it happened (`met_at`).",
    )
    met_by: list[str] = Field(
        default_factory=list,
        description="The commands (their names under `/v1/incidents/{id}/`) that meet it.",
    )
    business_days_left: int | None = Field(default=None, description=BUSINESS_DAYS_LEFT)
    days_overdue: int | None = Field(default=None, description=DAYS_OVERDUE)


class CommunicatedTo(BaseModel):
    recipient: Recipient
    ref: str = Field(description="The client or subject of allegation told.")


class PendingReview(BaseModel):
    requester: Requester
    ref: str = Field(description="Who asked for the outcome review.")


class IncidentState(Resource):
    """An incident as its events leave it."""

    id: UUID
    version: int = Field(description="The incident's version; send it as `expected_version`.")
    stage: Stage
    reported_at: datetime = Field(description="When the report was recorded (UTC).")
    modified_at: datetime = Field(description="When the last event was recorded (UTC).")
    reporting_organisation: str
    reporter_id: str = Field(description="Who reported it.")
    program: Program
    care_context: CareContext
    clients: list[Client]
    types: list[IncidentType]
    impact: Impact
    regulator_category: RegulatorCategory
    subjects: list[SubjectOfAllegation]
    details: Details
    policy_version: str = Field(description="The policy in force for this incident.")
    legacy_types: list[str] = Field(description="Pre-December-2024 type labels, if imported.")
    in_scope: bool | None = Field(description="The scope assessment, if made.")
    exclusion: ScopeExclusion | None
    withdrawn: bool
    closed: bool
    aboriginal: bool = Field(description="Whether any client is Aboriginal.")
    client_voices: int = Field(description="How many client voice records there are.")
    notified: dict[NotificationKind, datetime] = Field(
        description="Each kind of notification made, and when (UTC)."
    )
    consultations: list[ConsultedBody]
    department_review: ReviewDecision | None
    follow_up: FollowUpKind | None
    investigator_ref: str | None = Field(description="The appointed investigator, if any.")
    investigator: Principal | None = Field(
        default=None, description="The appointed investigator as `{organisation, subject}`."
    )
    outcome_reviewer: Principal | None = Field(
        default=None,
        description="The reviewer appointed to the pending outcome review, if any.",
    )
    independence_declared: bool
    plan_recorded: bool = Field(description="Whether an investigation plan is recorded.")
    served: list[str] = Field(description="Subjects served with the allegations in writing.")
    responded: list[str] = Field(description="Subjects whose response is recorded.")
    evidence_count: int
    sufficient_evidence_rationale: str | None
    outcomes: list[AllegationOutcome]
    outcome_decided_by: list[str] = Field(description="Who recorded the outcome.")
    report_submitted: bool = Field(description="Whether the investigation report is in.")
    review_completed: bool = Field(description="Whether the incident review is complete.")
    recommendations: list[Recommendation]
    communicated: list[CommunicatedTo]
    review_pending: PendingReview | None
    reviews_decided: int
    response_plan_recorded: bool
    carer_support_plans: list[str] = Field(description="Carers with a support plan.")
    extensions: dict[str, datetime] = Field(
        description="Extended deadlines by obligation kind (UTC)."
    )
    actioned: list[str] = Field(description="Ids of recommendations actioned.")
    corrections: list[int] = Field(description="Versions corrected by later events.")
    guardians: list[Guardian] = Field(description="Guardians (or parents) on record.")
    service: dict[str, Service] = Field(
        description="How and when each subject was served, by `ref` (Melbourne shown in views)."
    )
    withdrawal: WithdrawalCategory | None = Field(description="Why it was withdrawn, if it was.")
    rcs_endorsed: bool = Field(description="Whether the Integrity team endorsed the RCS report.")
    consulted_stages: list[tuple[ConsultationStage | None, datetime]] = Field(
        description="Each Aboriginal consultation's stage (null: recorded before stages were "
        "named) and when (UTC)."
    )
    decided_at: dict[ConsultationStage, datetime] = Field(
        description="When each key decision was first recorded (UTC)."
    )
    submitted_at: datetime = Field(
        description="When the report was submitted: recorded here, or in the old system for an"
        " imported record (its regime follows it)."
    )
    imported: dict[str, Any] | None = Field(
        description="For a record of the old system: source system, legacy id, the row's"
        " SHA-256, its status and outcome there."
    )
    pattern_of: list[UUID] = Field(
        default_factory=list,
        description="For a pattern escalation: the incidents that formed it (not shown to"
        " another provider named on it).",
    )
    resolved_legacy_types: dict[str, IncidentType] = Field(
        description="Split legacy types a person resolved, with the type chosen."
    )
    unresolved_legacy_types: list[str] = Field(
        description="Split legacy types waiting for a person's choice (resolve-legacy-type)."
    )
    removed_legacy_types: list[str] = Field(
        description="Legacy labels that are no longer types: kept and flagged, never mapped."
    )
    linked_to_pattern: UUID | None = Field(
        description="The pattern escalation this incident was linked to, if any."
    )
    pattern_dismissals: list[UUID] = Field(
        description="Dismissals of possible patterns that named this incident."
    )


class IncidentOut(IncidentState):
    """An incident, its obligations, and what this caller may do next."""

    obligations: list[ObligationOut]
    next_actions: list[NextAction] = Field(
        description="The commands this caller may issue now (by role, organisation, "
        "appointment and stage); draw buttons from this."
    )


class ObligationsOut(Resource):
    id: UUID
    version: int
    obligations: list[ObligationOut]


class IncidentSummary(Resource):
    """One row of the incident list (from the `incident_summary` read model)."""

    id: UUID
    reporting_organisation: str
    other_provider: str | None
    stage: Stage
    types: list[IncidentType]
    impact: Impact
    regulator_category: RegulatorCategory
    program: Program
    aboriginal: bool
    follow_up: FollowUpKind | None
    reported_at: datetime
    became_aware_at: datetime
    occurred_at: datetime | None
    version: int
    next_due: datetime | None = Field(description="The earliest open deadline (UTC).")
    overdue: bool = Field(description="Whether that deadline has passed.")


class IncidentList(Resource):
    items: list[IncidentSummary]
    next_cursor: str | None = Field(description="Pass as `cursor=` for the next page; null at end.")


class WorklistItem(Resource):
    incident_id: UUID
    kind: str = Field(description="Which obligation (see the `ObligationKind` schema).")
    organisation: str
    trigger: str
    due: datetime | None
    original_due: datetime | None
    extended: bool
    met_at: datetime | None
    status: Status
    note: str | None
    clients: list[str] = Field(
        default_factory=list, description="The references of the incident's clients."
    )
    business_days_left: int | None = Field(default=None, description=BUSINESS_DAYS_LEFT)
    days_overdue: int | None = Field(default=None, description=DAYS_OVERDUE)


class Worklist(Resource):
    items: list[WorklistItem]
    next_cursor: str | None = Field(description="Pass as `cursor=` for the next page; null at end.")
    possible_patterns: list[dict[str, Any]] | None = Field(
        default=None,
        description="On the first page, for incident managers and the department: possible"
        " patterns of harm for a person to decide on (as `GET /v1/patterns/suggestions`).",
    )


class FairnessCheck(Resource):
    check: str = Field(description="Which procedural-fairness check (policy §8).")
    verdict: str = Field(
        description="`pass`, `fail`, `warn`, `pending`, `met_late_with_extension` or "
        "`not_applicable`."
    )
    evidence_versions: list[int] = Field(description="The versions of the events relied on.")
    evidence_events: list[str] = Field(
        default_factory=list, description="The types of those events, in the same order."
    )
    detail: str | None


class FairnessOut(Resource):
    id: UUID
    checks: list[FairnessCheck]


class AuditEntry(Resource):
    position: int
    incident_id: UUID
    version: int
    event_type: str
    actor_id: str
    actor_role: Role
    actor_organisation: str
    recorded_at: datetime
    effective_at: datetime | None
    reason: str | None
    summary: str


class AuditTrail(Resource):
    items: list[AuditEntry]


class AccessEntry(Resource):
    id: int = Field(description="The entry's sequence number; pass as `after=` to page.")
    at: datetime
    actor_id: str
    actor_role: Role
    actor_organisation: str
    incident_id: UUID | None
    what: str = Field(description="What was read: `incident`, `obligations`, `history`...")


class AccessLog(Resource):
    items: list[AccessEntry]


class FeedItem(Resource):
    """A CloudEvent carrying only what the sharing protocol allows."""

    cursor: int = Field(description="Pass as `after=` to resume after this item.")


class Feed(Resource):
    items: list[FeedItem]
    next_cursor: int = Field(description="Pass as `after=` for the next page.")


class Statistics(Resource):
    incidents: int
    by_type: dict[str, int]
    by_impact: dict[str, int]
    by_organisation: dict[str, int]
    by_month: dict[str, int]
    open: int
    closed: int
    median_days_to_close: float | None
    overdue_now: int
    overdue_rate: float
    ever_late_rate: float


class RuleOut(BaseModel):
    """One rule or kind of problem a request can be refused with."""

    id: str = Field(description="The rule id (as in a problem's `rule` and `errors[].rule`).")
    section: str = Field(description="The policy section it rests on, or `api` for HTTP rules.")
    title: str
    message: str = Field(description="What the rule requires, for a person to read.")
    type: str = Field(description="The problem `type` URI a refusal by this rule carries.")


class Rules(BaseModel):
    items: list[RuleOut]


class Health(BaseModel):
    status: str


class ReadModelStatus(Resource):
    name: str
    position: int = Field(description="The last log position the read model has applied.")
    lag: int = Field(description="Events logged past its position, not yet applied.")
    lag_seconds: float = Field(
        description="How long the oldest event not yet applied has waited, in seconds (0 when"
        " none waits)."
    )
    error: str | None = Field(
        description="Why the read model stopped: the event at `error_position` could not be"
        " applied (null while healthy)."
    )
    error_position: int | None = Field(description="The log position it stopped at.")


class FollowerReport(Resource):
    """The in-process follower of the log (absent when a worker of its own follows it)."""

    state: str = Field(
        description="`stopped`, `listening`, `polling` (SQLite), `reconnecting` (polling "
        "meanwhile) or `failing` (the store refuses)."
    )
    last_error: str | None
    seconds_since_caught_up: float | None


class Ready(Resource):
    status: str = Field(
        description="`ready`, or `degraded` while the in-process follower reconnects or the"
        " store refuses it. Not ready is a 503 problem (`…/problems/not-ready`) carrying these"
        " members but this one."
    )
    problems: list[str] = Field(
        description="Why it is not ready: each names the read model, its position and the"
        " error or the wait."
    )
    development_sign_in: bool = Field(
        description="Whether development sign-in (`POST /v1/dev/token`) is on: anyone who"
        " reaches the server may mint a token for any role."
    )
    max_lag_seconds: float = Field(
        description="The longest wait of an event for a read model, in seconds."
    )
    max_lag_seconds_allowed: float = Field(
        description="Past this wait (`CIMS_READY_MAX_LAG_SECONDS`), not ready."
    )
    read_models: list[ReadModelStatus]
    max_lag: int = Field(description="The largest lag of a read model behind the log, in events.")
    behind: bool = Field(description="Whether any read model is behind the head of the log.")
    follower: FollowerReport | None
