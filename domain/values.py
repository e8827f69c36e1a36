"""Value types of the CIMS vocabulary: who acted, clients, subjects of allegation, types, impact."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

Ref = str
_ZERO = timedelta(0)

# Length bounds of what a caller may send, in characters. Stored values keep the bounds they
# were stored under (a tighter one here would make an old event unreadable), so new bounds on
# request-only fields live in `api/schemas.py` and use these numbers.
REF_MAX = 200  # references and identifiers: client, subject, person, organisation, key
NAME_MAX = 300  # the name of a person, body or method: a recipient, who was consulted
SHORT_TEXT_MAX = 2_000  # a place, a source, a stage
TEXT_MAX = 20_000  # a reason, a rationale, a recommendation, an action
NARRATIVE_MAX = 50_000  # an account: the description, a plan, a report's summary


def _to_utc(value: datetime) -> datetime:
    # Most instants arrive in UTC already (every stored one does): skip the conversion then.
    if value.tzinfo is UTC:
        return value
    if value.utcoffset() == _ZERO:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before the first representable day
        raise ValueError("the instant is out of range in UTC") from None


# Instants are stored in UTC whatever offset they arrived with; deadlines are shown in Melbourne.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


class Value(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Role(StrEnum):
    REPORTER = "reporter"
    INCIDENT_MANAGER = "incident_manager"
    DEPARTMENT_OFFICER = "department_officer"
    INVESTIGATOR = "investigator"
    REVIEWER = "reviewer"
    AUDITOR = "auditor"
    REGULATOR = "regulator"
    ADMIN = "admin"


class Actor(Value):
    """Who did something: a person, their role and their organisation."""

    id: str = Field(min_length=1, max_length=REF_MAX)
    role: Role
    organisation: str = Field(min_length=1, max_length=REF_MAX)


class Principal(Value):
    """Someone given access to one incident by name: a subject (a token's `sub`) within an
    organisation. Access follows both, never the subject alone: the same subject in another
    organisation is someone else."""

    organisation: str = Field(min_length=1, max_length=REF_MAX)
    subject: str = Field(min_length=1, max_length=REF_MAX)

    def is_actor(self, actor: Actor) -> bool:
        """Whether `actor` is this principal (whatever role the actor holds)."""
        return actor.organisation == self.organisation and actor.id == self.subject

    def __str__(self) -> str:
        return f"{self.subject} ({self.organisation})"


class Program(StrEnum):
    CHILD_PROTECTION = "child_protection"
    CSO = "cso"
    DISABILITY = "disability"
    HOUSING = "housing"
    OTHER = "other"


class CareContext(StrEnum):
    """Where the client was living or cared for when the incident happened (policy §3, §11).

    `cso_placement` predates the split into foster, kinship, permanent and residential care and
    stays valid; it does not say whether the placement was home-based (see
    `rules.response.home_based_care`).
    """

    CP_KINSHIP = "cp_kinship"
    CP_PRACTITIONER = "cp_practitioner"
    CP_RESPITE = "cp_respite"
    CSO_PLACEMENT = "cso_placement"
    CSO_FOSTER_CARE = "cso_foster_care"
    CSO_KINSHIP_CARE = "cso_kinship_care"
    CSO_PERMANENT_CARE = "cso_permanent_care"
    CSO_RESIDENTIAL_CARE = "cso_residential_care"
    CSO_CASE_CONTRACTED = "cso_case_contracted"
    ACAC = "acac"
    PARENT = "parent"
    OTHER = "other"


class IncidentType(StrEnum):
    """The 19 incident types in force from 9 December 2024 (policy §5)."""

    ABSENT_CLIENT = "Absent client"
    ATTEMPTED_SUICIDE = "Attempted suicide"
    DEATH = "Death"
    EMOTIONAL_PSYCHOLOGICAL_ABUSE = "Emotional/psychological abuse"
    EMOTIONAL_PSYCHOLOGICAL_HARM = "Emotional/psychological harm"
    ESCAPE_FROM_SECURE_FACILITY = "Escape from secure facility"
    FINANCIAL_ABUSE = "Financial abuse"
    INAPPROPRIATE_PHYSICAL_TREATMENT = "Inappropriate physical treatment"
    INAPPROPRIATE_SEXUAL_BEHAVIOUR = "Inappropriate sexual behaviour"
    INJURY_EXPLAINED = "Injury-explained"
    INJURY_UNEXPLAINED = "Injury-unexplained"
    MEDICATION_ERROR = "Medication error"
    NEGLECT = "Neglect"
    PHYSICAL_ABUSE = "Physical abuse"
    SELF_HARM = "Self-harm"
    SERIOUS_RISK = "Serious risk"
    SEXUAL_ABUSE = "Sexual abuse"
    SEXUAL_EXPLOITATION_GROOMING = "Sexual exploitation - grooming"
    SEXUAL_EXPLOITATION_SUSPECTED = "Sexual exploitation - suspected"


class Impact(StrEnum):
    MAJOR = "major"
    NON_MAJOR = "non_major"


class RegulatorCategory(StrEnum):
    CRITICAL = "critical"
    NOTIFIABLE = "notifiable"
    NONE = "none"


class SubjectRole(StrEnum):
    STAFF = "staff"
    CARER = "carer"
    KINSHIP_CARER = "kinship_carer"
    CLIENT = "client"
    OTHER = "other"


# The department's client identifier (the number its client system gives a child in care), as
# our reading takes its shape: 6 to 10 digits. Known to the reporting provider and the department;
# never shown to another provider.
DEPARTMENT_CLIENT_ID_PATTERN = r"^[0-9]{6,10}$"


class Client(Value):
    ref: Ref = Field(min_length=1, max_length=200)
    aboriginal: bool
    date_of_birth: date | None = None
    department_client_id: str | None = Field(
        default=None,
        pattern=DEPARTMENT_CLIENT_ID_PATTERN,
        max_length=10,
        description="The department's client identifier: 6 to 10 digits.",
    )


class SubjectOfAllegation(Value):
    ref: Ref = Field(min_length=1, max_length=200)
    role: SubjectRole
    line_manager_ref: Ref | None = None


class OccurredBetween(Value):
    """The period a historical harm is said to have happened in."""

    start: UtcDatetime
    end: UtcDatetime


class ScopeExclusion(StrEnum):
    """Policy §4: what CIMS does not take."""

    ILLNESS = "illness"
    CLIENT_DANGEROUS_ACTIONS = "client_dangerous_actions"
    POOR_QUALITY_OF_CARE = "poor_quality_of_care"
    POLICE_ARREST = "police_arrest"
    AUTHORISED_RESTRICTIVE_PRACTICE = "authorised_restrictive_practice"
    PARENTAL_CARE = "parental_care"
    VHIMS_HEALTH_ORGANISATION = "vhims_health_organisation"
    TAC_WORKSAFE_FUNDED_DISABILITY = "tac_worksafe_funded_disability"
    SUPPORTED_RESIDENTIAL_SERVICE = "supported_residential_service"


class NotificationKind(StrEnum):
    POLICE = "police"
    GUARDIAN = "guardian"
    PARENT = "parent"
    REGULATOR_SHORT_FORM = "regulator_short_form"
    INTEGRITY_TEAM = "integrity_team"
    CCYP = "ccyp"
    CCYP_DETAILS = "ccyp_details"


class ServiceMethod(StrEnum):
    """How allegations were put to a subject: the written means, and the spoken ones that are a
    contact but not service (policy §8, "in writing")."""

    LETTER_BY_POST = "letter_by_post"
    LETTER_BY_HAND = "letter_by_hand"
    EMAIL = "email"
    SECURE_PORTAL = "secure_portal"
    VERBAL = "verbal"
    PHONE = "phone"


class Service(Value):
    """How and when one subject of allegation was served."""

    method: str
    served_at: UtcDatetime


class ConsultationStage(StrEnum):
    """The key stages Aboriginal consultation is owed at (policy §2, §8)."""

    REPORT = "report"
    FOLLOW_UP = "follow_up"
    OUTCOME = "outcome"
    CLOSURE = "closure"


class GuardianRelationship(StrEnum):
    GUARDIAN = "guardian"
    PARENT_WITH_PARENTAL_RESPONSIBILITY = "parent_with_parental_responsibility"


class Guardian(Value):
    """A client's guardian, or a parent with parental responsibility, on record."""

    ref: Ref = Field(min_length=1, max_length=REF_MAX)
    client_ref: Ref = Field(min_length=1, max_length=REF_MAX)
    relationship: GuardianRelationship


class WithdrawalCategory(StrEnum):
    """Why a report was withdrawn, as the regulators' feed may say it."""

    OUT_OF_SCOPE = "out_of_scope"
    DUPLICATE = "duplicate"


class ConsultedBody(StrEnum):
    ACSASS = "acsass"
    ACCO = "acco"
    ACAC = "acac"


class ReviewDecision(StrEnum):
    ACCEPTED = "accepted"
    MORE_INFORMATION_REQUESTED = "more_information_requested"


class FollowUpKind(StrEnum):
    INVESTIGATION = "investigation"
    INCIDENT_REVIEW = "incident_review"
    RCS_IN_LIEU = "rcs_in_lieu"
    LOCAL_RESPONSE = "local_response"


class Finding(StrEnum):
    SUBSTANTIATED = "substantiated"
    NOT_SUBSTANTIATED = "not_substantiated"
    UNABLE_TO_BE_DETERMINED = "unable_to_be_determined"


class AllegationOutcome(Value):
    """The finding on one allegation: one subject (none where none was identified), one type."""

    subject_ref: Ref | None = None
    incident_type: IncidentType
    finding: Finding
    rationale: str = Field(min_length=1, max_length=20_000)


class Recipient(StrEnum):
    CLIENT = "client"
    GUARDIAN = "guardian"
    SUBJECT_OF_ALLEGATION = "subject_of_allegation"


class Requester(StrEnum):
    CLIENT = "client"
    GUARDIAN = "guardian"
    SUBJECT_OF_ALLEGATION = "subject_of_allegation"
    CARER = "carer"
    STAFF = "staff"
    OTHER = "other"


class ReviewGround(StrEnum):
    PROCEDURAL_FAIRNESS = "procedural_fairness"
    NON_ADHERENCE_TO_MINIMUM_REQUIREMENTS = "non_adherence_to_minimum_requirements"
    DISAGREEMENT_WITH_FINDING = "disagreement_with_finding"


class OutcomeReviewResult(StrEnum):
    CONFIRMED = "confirmed"
    VARIED = "varied"


class Recommendation(Value):
    id: str = Field(min_length=1, max_length=100)
    text: str = Field(min_length=1, max_length=20_000)


class EvidenceKind(StrEnum):
    CCTV = "cctv"
    CP_INTERVIEW = "cp_interview"
    INTERVIEW = "interview"
    DOCUMENT = "document"
    PHOTOGRAPH = "photograph"
    MEDICAL = "medical"
    OTHER = "other"


class Details(Value):
    """The facts of a report that can be amended or corrected later."""

    occurred_at: UtcDatetime | None = None
    occurred_between: OccurredBetween | None = None
    became_aware_at: UtcDatetime
    location: str = Field(min_length=1, max_length=2_000)
    description: str = Field(min_length=1, max_length=50_000)
    immediate_actions: str = Field(default="", max_length=50_000)
    other_provider: str | None = Field(default=None, max_length=200)
    historical: bool = False


class DetailsChange(Value):
    """Fields of `Details` to replace; absent fields stay as they were."""

    occurred_at: UtcDatetime | None = None
    occurred_between: OccurredBetween | None = None
    became_aware_at: UtcDatetime | None = None
    location: str | None = Field(default=None, min_length=1, max_length=2_000)
    description: str | None = Field(default=None, min_length=1, max_length=50_000)
    immediate_actions: str | None = Field(default=None, max_length=50_000)
    other_provider: str | None = Field(default=None, max_length=200)
    clients: tuple[Client, ...] | None = None
    subjects_of_allegation: tuple[SubjectOfAllegation, ...] | None = None

    def fields(self) -> dict[str, object]:
        return self.model_dump(exclude_none=True)

    def details_update(self) -> dict[str, object]:
        return {
            k: getattr(self, k)
            for k in self.model_fields_set
            if k in Details.model_fields and getattr(self, k) is not None
        }


class Stamp(Value):
    """Who is acting and when: passed into every command so the domain reads no clock."""

    actor: Actor
    now: UtcDatetime
    command_id: str | None = Field(default=None, max_length=200)
    effective_at: UtcDatetime | None = None


class DocumentKind(StrEnum):
    """What a document on the record is (manual advice 1516 and the follow-up steps)."""

    INVESTIGATION_REPORT = "investigation_report"
    RCS_INVESTIGATION_REPORT = "rcs_investigation_report"
    ALLEGATIONS_LETTER = "allegations_letter"
    SUBJECT_RESPONSE = "subject_response"
    EVIDENCE = "evidence"
    INCIDENT_REVIEW_REPORT = "incident_review_report"
    OUTCOME_REVIEW_DECISION = "outcome_review_decision"
    OTHER = "other"


SHA256_HEX = r"^[0-9a-f]{64}$"
FILE_NAME_MAX = 255  # characters: what common file systems keep in one name


class DocumentOnRecord(Value):
    """A document as the incident knows it: its kind, its bytes' hash, the step it supports
    and whether a correction has superseded it."""

    document_id: UUID
    kind: DocumentKind
    sha256: str
    supports_version: int | None = None
    superseded: bool = False
