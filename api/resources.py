"""Response bodies of the API, as `/openapi.json` declares them.

The routes answer with orjson bytes built from plain dicts (fast); these models document those
answers, and the tests parse real answers through them (and through a client generated from
`/openapi.json`), so the document and the bytes cannot drift apart."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.incident import Stage
from domain.obligations import Status, Unit
from domain.procedural_fairness import Verdict
from domain.values import (
    AllegationOutcome,
    CareContext,
    Client,
    ConsultationStage,
    ConsultedBody,
    Details,
    DocumentKind,
    Finding,
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
    SubjectRole,
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
    leaves_late: list[str] = Field(
        default_factory=list,
        description="Owed obligations (by `kind`) that issuing this command now would leave "
        "late: an Aboriginal consultation still owed before the decision it records (policy "
        "§1, §8) falls due at that moment. Warn before sending.",
    )
    records: str | None = Field(
        default=None,
        description="The event it records (as the incident's record and history name it), so a "
        "front end can show when the step was last taken; null if it records none directly.",
    )


BUSINESS_DAYS_LEFT = (
    "Open and not yet due: business days (Victorian calendar) from today in Melbourne to the due"
    " day, 0 when due today; else null."
)
DAYS_OVERDUE = (
    "Past due and not met: Melbourne calendar days since the due day, 0 when it fell due"
    " earlier today; else null."
)


class ActedBy(BaseModel):
    """A command that meets an obligation, and who may issue it."""

    command: str = Field(description="The command's name under `/v1/incidents/{id}/`.")
    title: str = Field(description="What it does, as a button would say it.")
    who: str = Field(description="Who may issue it, in words (e.g. the appointed investigator).")


class SkippedDayOut(BaseModel):
    day: date = Field(description="A day a business-day count passed over (Melbourne).")
    name: str = Field(description="Why: the public holiday's name, or Saturday or Sunday.")


class ExtensionOut(BaseModel):
    new_due: datetime = Field(description="The deadline it set (UTC).")
    approved_by: str = Field(description="Who approved the extension.")
    recorded_by: str = Field(description="Who recorded it, and their organisation.")
    recorded_at: datetime = Field(description="When it was recorded (UTC).")
    reason: str | None = Field(default=None, description="Why it was extended.")


class ExplanationOut(Resource):
    """Why an obligation is due when it is: enough to recompute the deadline by hand."""

    rule: str = Field(description="The obligation's rule (its kind).")
    policy_source: str = Field(description="Where the policy requires it, in its words.")
    policy_version: str = Field(description="The regime (policy version) it was set under.")
    counts_from: datetime | None = Field(default=None, description="The instant counted from.")
    counts_from_what: str | None = Field(default=None, description="What that instant is.")
    set_by_event: str | None = Field(default=None, description="The event that set it.")
    set_by_version: int | None = Field(default=None, description="That event's version.")
    unit: Unit | None = Field(
        default=None, description="How the deadline is counted; null without a deadline."
    )
    count: int | None = Field(default=None, description="How many days are counted.")
    close_of_business: str | None = Field(
        default=None, description="Close of business, Melbourne time (HH:MM), for business days."
    )
    skipped: list[SkippedDayOut] = Field(
        default_factory=list, description="Each Victorian non-business day the count skipped."
    )
    computed_due: datetime | None = Field(default=None, description="The count's due (UTC).")
    extensions: list[ExtensionOut] = Field(default_factory=list, description="Extensions.")
    due: datetime | None = Field(default=None, description="The deadline in force (UTC).")
    text: str = Field(default="", description="The derivation in words, in Melbourne time.")


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
    acted_by: list[ActedBy] = Field(
        default_factory=list,
        description="Each command that meets it, with who may issue it, in words: what to tell "
        "someone who cannot act on it themselves.",
    )
    explanation: ExplanationOut | None = Field(
        default=None, description='Why it is due when it is ("why this date?").'
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
    took_effect: dict[str, datetime] = Field(
        default_factory=dict,
        description="When each step another step depends on took effect (UTC): a step is not"
        " accepted dated before the steps it depends on.",
    )
    ever_major: bool = Field(
        default=False,
        description="Whether the report was of major impact at any point in its history (then"
        " only a department officer withdraws it).",
    )
    responded_at: dict[str, datetime] = Field(
        default_factory=dict,
        description="When each subject's response took effect, by `ref` (UTC).",
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
    documents: list[DocumentOnRecordOut] = Field(
        default_factory=list,
        description="The documents on the record (`GET .../documents` lists them in full).",
    )


class DocumentOnRecordOut(BaseModel):
    """A document as the incident's state knows it."""

    document_id: UUID
    kind: DocumentKind
    sha256: str
    supports_version: int | None
    superseded: bool


class DocumentOut(Resource):
    """A document on an incident's record."""

    document_id: UUID
    kind: DocumentKind
    kind_label: str = Field(description="The kind in the policy's words.")
    file_name: str
    media_type: str = Field(description="Sniffed from the bytes when it was added.")
    size: int = Field(description="In bytes.")
    sha256: str = Field(description="The SHA-256 of the bytes, in hex: in the event's hash.")
    version: int = Field(description="The incident version that added it.")
    supports_version: int | None = Field(description="The step (version) it supports, if one.")
    named_by_versions: list[int] = Field(description="The steps that name it as theirs.")
    added_at: datetime
    added_by: dict[str, Any]
    superseded: bool
    superseded_by: UUID | None
    superseded_reason: str | None
    href: str = Field(description="Where to download it.")


class DocumentKindOut(BaseModel):
    """A kind of document, in the policy's words."""

    value: DocumentKind = Field(description="The kind, as `kind` takes it.")
    label: str = Field(description="The kind as a person reads it.")


class DocumentList(Resource):
    """The documents on an incident's record, oldest first, and what an upload may be."""

    id: UUID = Field(description="The incident's id.")
    items: list[DocumentOut]
    may_add: bool = Field(description="Whether you may add a document to this incident.")
    kinds: list[DocumentKindOut] = Field(description="The kinds of document, in order.")
    max_bytes: int = Field(description="The largest file kept, in bytes.")
    allowed_types: list[str] = Field(description="The media types kept (sniffed from bytes).")


class Integrity(Resource):
    """Whether the stored events an answer is folded from are unaltered."""

    chain: Literal["intact", "broken"] = Field(
        description="`intact`: every stored event's hash and link hold; `broken`: an event was "
        "edited, removed or reordered in the store (the answer shows the store as it is)."
    )
    events_checked: int = Field(description="How many stored events were checked.")
    first_broken_version: int | None = Field(description="The first version that fails.")
    problem: str | None = Field(description="What fails there, in words.")


class IncidentOut(IncidentState):
    """An incident, its obligations, and what this caller may do next."""

    obligations: list[ObligationOut]
    next_actions: list[NextAction] = Field(
        description="The commands this caller may issue now (by role, organisation, "
        "appointment and stage); draw buttons from this."
    )
    integrity: Integrity = Field(
        description="The stored hash chain of this incident, checked on this read."
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


class PatternIncident(Resource):
    """One incident in a pattern view, a suggestion or the unresolved imports."""

    id: UUID = Field(description="The incident's id.")
    organisation: str = Field(description="The reporting organisation.")
    became_aware_at: datetime = Field(description="When the provider became aware (UTC).")
    submitted_at: datetime = Field(
        description="When the report was submitted (here, or in the old system) (UTC)."
    )
    types: list[IncidentType] = Field(description="The incident types.")
    legacy_types: list[str] = Field(description="Pre-December-2024 type labels, if imported.")
    unresolved_legacy_types: list[str] = Field(
        description="Split legacy types waiting for a person's choice."
    )
    removed_legacy_types: list[str] = Field(
        description="Legacy labels that are no longer types: kept and flagged, never mapped."
    )
    impact: Impact
    stage: Stage
    outcome: list[str] = Field(
        description="The findings recorded (e.g. `substantiated`), or the old system's outcome"
        " for an imported record; empty while none."
    )
    linked_to_pattern: UUID | None = Field(
        description="The pattern escalation this incident was linked to, if any."
    )
    pattern_of: list[UUID] = Field(
        description="For a pattern escalation: the incidents that formed it."
    )
    client_refs: list[str] = Field(description="The provider's references of its clients.")
    department_client_ids: list[str] = Field(
        description="The department's identifiers of its clients."
    )
    legacy_id: str | None = Field(description="The old system's id, for an imported record.")
    version: int = Field(description="The incident's version; send it as `expected_version`.")


class PossiblePattern(Resource):
    """Incidents about one client that may together be a pattern of harm: for a person to
    escalate or dismiss, never decided by the ledger."""

    kind: Literal["possible_pattern"] = Field(description="Always `possible_pattern`.")
    client_refs: list[str] = Field(description="The client's references it was found by.")
    department_client_ids: list[str] = Field(
        description="The department's identifiers it was found by."
    )
    incident_ids: list[UUID] = Field(description="The incidents it names, oldest first.")
    incidents: list[PatternIncident] = Field(description="Those incidents, oldest first.")
    window_days: int = Field(description="The policy table's window, in days.")
    min_incidents: int = Field(description="The policy table's count within the window.")
    policy_version: str = Field(description="The policy table version those come from.")


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
    explanation: ExplanationOut | None = Field(
        default=None, description='Why it is due when it is ("why this date?").'
    )
    business_days_left: int | None = Field(default=None, description=BUSINESS_DAYS_LEFT)
    days_overdue: int | None = Field(default=None, description=DAYS_OVERDUE)


class Worklist(Resource):
    items: list[WorklistItem]
    next_cursor: str | None = Field(description="Pass as `cursor=` for the next page; null at end.")
    possible_patterns: list[PossiblePattern] | None = Field(
        default=None,
        description="On the first page, for incident managers and the department: possible"
        " patterns of harm for a person to decide on (as `GET /v1/patterns/suggestions`).",
    )


class FairnessCheck(Resource):
    check: str = Field(description="Which procedural-fairness check (policy §8).")
    verdict: Verdict = Field(description="How the check stands.")
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
    next_cursor: str = Field(
        description="Pass as `cursor=` to read on; always given, as this log only grows: keep it"
        " and ask again later for what is new (an empty page means caught up)."
    )


class AccessEntry(Resource):
    id: int = Field(description="The entry's sequence number, in the order logged.")
    at: datetime
    actor_id: str
    actor_role: Role
    actor_organisation: str
    incident_id: UUID | None
    what: str = Field(description="What was read: `incident`, `obligations`, `history`...")


class AccessLog(Resource):
    items: list[AccessEntry]
    next_cursor: str = Field(
        description="Pass as `cursor=` to read on; always given, as this log only grows: keep it"
        " and ask again later for what is new (an empty page means caught up)."
    )


class PseudonymousClient(Resource):
    """A client as a regulator sees it: a pseudonym, never the reference."""

    pseudonym: str = Field(
        description="HMAC-SHA256 (hex) of the client's reference, keyed per regulator: the"
        " same client reads the same within one regulator's feed, and differently in another's."
    )
    aboriginal: bool = Field(description="Whether the client is Aboriginal.")


class PseudonymousSubject(Resource):
    """A subject of allegation as a regulator sees it."""

    pseudonym: str = Field(description="HMAC-SHA256 (hex) of the subject's reference.")
    role: SubjectRole


class FeedFinding(Resource):
    """One finding of the investigation or review, for one subject and incident type."""

    subject: str = Field(description="The subject's pseudonym.")
    type: IncidentType
    finding: Finding


class FeedData(Resource):
    """A CloudEvent's `data`: the incident as the event left it, minimised for the regulator
    (no names, no descriptions, no free text; references as pseudonyms)."""

    incident: UUID = Field(description="The incident's id (as the CloudEvent's `subject`).")
    version: int = Field(description="The incident's version this event made.")
    organisation: str = Field(description="The reporting organisation.")
    program: Program
    types: list[IncidentType] = Field(description="The incident types.")
    impact: Impact
    regulator_category: RegulatorCategory
    became_aware_at: datetime = Field(description="When the provider became aware (UTC).")
    occurred_at: datetime | None = Field(
        description="When it happened (UTC); null for a disclosure of a period."
    )
    historical: bool = Field(description="Whether it is a disclosure of past harm.")
    clients: list[PseudonymousClient] = Field(description="The clients, as pseudonyms.")
    subjects_of_allegation: list[PseudonymousSubject] = Field(
        description="The subjects of allegation, as pseudonyms with their role."
    )
    stage: Stage
    withdrawal: WithdrawalCategory | None = Field(
        description="Why it was withdrawn, by category only; null unless withdrawn."
    )
    investigated: bool = Field(description="Whether the follow-up is an investigation.")
    findings: list[FeedFinding] = Field(description="The findings recorded so far.")
    pattern_of: list[str] | None = Field(
        default=None,
        description="For a pattern escalation: pseudonyms of the incidents that formed it.",
    )


class FeedEventType(StrEnum):
    """What happened, as the CloudEvent's `type` names it."""

    REPORTED = "au.gov.vic.cims.incident.reported"
    RECLASSIFIED = "au.gov.vic.cims.incident.reclassified"
    OUTCOME = "au.gov.vic.cims.incident.outcome"
    OUTCOME_REVIEWED = "au.gov.vic.cims.incident.outcome_reviewed"
    CLOSED = "au.gov.vic.cims.incident.closed"
    WITHDRAWN = "au.gov.vic.cims.incident.withdrawn"
    RCS_INVESTIGATION_STARTED = "au.gov.vic.cims.incident.rcs_investigation_started"
    RCS_FINDINGS = "au.gov.vic.cims.incident.rcs_findings"
    RCS_REPORT_LODGED = "au.gov.vic.cims.incident.rcs_report_lodged"


class FeedItem(Resource):
    """A CloudEvent (1.0, structured JSON) carrying only what the sharing protocol allows."""

    specversion: Literal["1.0"] = Field(description="The CloudEvents version.")
    id: str = Field(description="Unique within the feed: `<regulator>-<cursor>`.")
    source: str = Field(description="The feed, e.g. `urn:cims-ledger/ssr`.")
    type: FeedEventType
    time: datetime = Field(description="When the event was recorded (UTC).")
    subject: UUID = Field(description="The incident's id.")
    datacontenttype: Literal["application/json"] = Field(description="`data` is JSON.")
    data: FeedData = Field(description="The incident as the event left it, minimised.")
    cursor: int = Field(
        description="The item's position in the ledger's log: items come in this order, and a"
        " receiver drops one it has seen by it."
    )


class Feed(Resource):
    items: list[FeedItem]
    next_cursor: str = Field(
        description="Pass as `cursor=` to read on; always given, as this log only grows: keep it"
        " and ask again later for what is new (an empty page means caught up)."
    )


class ImportedStatistics(Resource):
    """Records imported from the old system, counted apart by their own dates (the old export
    has no closing date, so no time to close and no lateness)."""

    incidents: int = Field(description="How many imported records.")
    by_type: dict[str, int] = Field(description="How many of each type.")
    by_impact: dict[str, int] = Field(description="How many of each impact.")
    by_organisation: dict[str, int] = Field(description="How many each organisation reported.")
    by_month: dict[str, int] = Field(
        description="How many were first submitted in each month (`YYYY-MM`, Melbourne time)."
    )
    open: int = Field(description="How many were open in the old system.")
    closed: int = Field(description="How many were closed in the old system.")


class Statistics(Resource):
    """Counts over the incidents the caller's organisation sees (the department: all), of the
    records made here; `imported` counts the old system's records apart, by their own dates."""

    incidents: int = Field(description="How many incidents.")
    by_type: dict[str, int] = Field(
        description="How many incidents of each type (an incident of two types counts in both)."
    )
    by_impact: dict[str, int] = Field(description="How many of each impact (`major`, `non_major`).")
    by_organisation: dict[str, int] = Field(description="How many each organisation reported.")
    by_month: dict[str, int] = Field(
        description="How many were reported in each month (`YYYY-MM`, Melbourne time), in order."
    )
    open: int = Field(description="How many are neither closed nor withdrawn.")
    closed: int = Field(description="How many are closed.")
    median_days_to_close: float | None = Field(
        description="The median, in days (to two places), from report to close; null with none"
        " closed."
    )
    overdue_now: int = Field(description="How many open incidents have an obligation overdue now.")
    overdue_rate: float = Field(
        description="`overdue_now` as a share of `open`, 0 to 1 (four places); 0 with none open."
    )
    ever_late_rate: float = Field(
        description="The share of incidents, 0 to 1, that were ever late on an obligation."
    )
    imported: ImportedStatistics = Field(
        description="The records imported from the old system, counted apart by their own dates."
    )


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
    rebuilding: bool = Field(
        default=False,
        description="A rebuild holds it: followers leave it alone until the rebuild ends.",
    )


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
