"""The catalogue of every rule the ledger can refuse a command with, by id.

One entry per rule id raised in `domain/` (a test scans the package for ids and asserts each is
here), with the section of the policy it rests on — numbered as `docs/policy.md`, the
repository's own account of the policy, which `GET /v1/rules` points readers to (a test holds
each id docs/policy.md names to the section naming it) — a short title and the
message a front end can show. A helper adding a rule id adds its entry here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleEntry:
    """One rule: `id` as the refusal names it, the policy `section`, a title and a message."""

    id: str
    section: str
    title: str
    message: str


_ENTRIES = (
    # §3 who reports, §4 scope
    RuleEntry(
        "scope.parental-care",
        "4",
        "Parental care is out of scope",
        "Incidents while a child is in the care of a parent are outside CIMS.",
    ),
    RuleEntry(
        "scope.exclusion-required",
        "4",
        "Out of scope needs the exclusion named",
        "An out-of-scope assessment names the §3 exclusion it relies on.",
    ),
    RuleEntry(
        "scope.exclusion-contradicts",
        "4",
        "In scope names no exclusion",
        "An in-scope assessment cannot name an exclusion.",
    ),
    RuleEntry(
        "responsibility.child-protection-reports",
        "3",
        "Child Protection reports this care",
        "For kinship, practitioner or respite care approved by Child Protection, Child "
        "Protection is the responsible reporter.",
    ),
    RuleEntry(
        "responsibility.cso-reports",
        "3",
        "The CSO reports this care",
        "For CSO placements and contracted case management, the community service "
        "organisation is the responsible reporter.",
    ),
    # §6 the report itself (§12 the times it carries)
    RuleEntry(
        "report.client-required",
        "6",
        "A client is named",
        "An incident report names at least one client.",
    ),
    RuleEntry(
        "report.occurrence-required",
        "6",
        "When it happened is given",
        "Say when it happened: the moment, or for a historical disclosure the period it "
        "happened in.",
    ),
    RuleEntry(
        "report.occurrence-ambiguous",
        "6",
        "One occurrence time only",
        "Give the moment it happened or the period it happened in, not both.",
    ),
    RuleEntry(
        "report.period-reversed",
        "6",
        "The period is in order",
        "The period it happened in starts before it ends.",
    ),
    RuleEntry(
        "report.aware-before-occurred",
        "6",
        "Awareness follows the incident",
        "The provider cannot have become aware of an incident before it occurred.",
    ),
    RuleEntry(
        "time.effective-in-future",
        "12",
        "Not in the future",
        "Nothing is recorded as having happened after the moment it is recorded (beyond the "
        "policy table's allowed clock skew).",
    ),
    RuleEntry(
        "time.effective-before-aware",
        "12",
        "Not before the provider became aware",
        "A step on an incident cannot have happened before the provider became aware of it.",
    ),
    RuleEntry(
        "time.out-of-range",
        "12",
        "A displayable instant",
        "Every instant lies between 1900 and 2199, so every view can show it in Melbourne time.",
    ),
    RuleEntry(
        "text.control-character",
        "12",
        "Text every store keeps",
        "Text may hold tab and line breaks but no other control character (such as NUL,"
        " U+0000, or U+009B), which a store cannot keep or a screen would obey.",
    ),
    RuleEntry(
        "text.too-long",
        "12",
        "Text no longer than a record's longest field",
        "No text in a record is longer than 50,000 characters (an account: the description, a"
        " plan, a report's summary); most fields are bounded tighter.",
    ),
    RuleEntry(
        "time.as-of-in-future",
        "12",
        "State as of the past only",
        "An incident's state can be shown as it stood up to now, not at a moment still to come.",
    ),
    # §5 types and impact
    RuleEntry(
        "classification.type-required",
        "5",
        "An incident type is named",
        "A report carries at least one of the 19 current incident types.",
    ),
    RuleEntry(
        "classification.type-repeated",
        "5",
        "Each type once",
        "An incident type is listed only once.",
    ),
    RuleEntry(
        "classification.unknown-legacy-type",
        "5",
        "Known incident type",
        "The label is neither a current incident type nor a known pre-December-2024 label.",
    ),
    RuleEntry(
        "classification.mandatory-major",
        "5",
        "Must be major impact",
        "Abuse, neglect or sexual exploitation - grooming alleged against a staff member or "
        "carer is classified major impact.",
    ),
    RuleEntry(
        "classification.no-downgrade-below-mandatory-major",
        "5",
        "No downgrade below major",
        "A reclassification cannot take a mandatory-major incident below major impact.",
    ),
    RuleEntry(
        "classification.no-change",
        "5",
        "A reclassification changes something",
        "The types, impact and regulator category are as already recorded.",
    ),
    RuleEntry(
        "record.reason-required",
        "12",
        "A judgement has a reason",
        "A human judgement (reclassification, withdrawal, closure...) is recorded with its reason.",
    ),
    RuleEntry(
        "amend.no-change",
        "12",
        "An amendment changes something",
        "An amendment names at least one field to change.",
    ),
    RuleEntry(
        "correction.no-change",
        "12",
        "A correction changes something",
        "A correction names at least one field to change.",
    ),
    RuleEntry(
        "correction.unknown-version",
        "12",
        "A correction points at a recorded event",
        "The corrected version is one already recorded on this incident.",
    ),
    # §6 preconditions to investigating; §5 follow-up
    RuleEntry(
        "follow-up.major-needs-investigation-or-review",
        "5",
        "Major impact needs follow-up",
        "A major-impact incident needs an investigation or an incident review, not a local "
        "response.",
    ),
    RuleEntry(
        "follow-up.investigation-mandatory",
        "5",
        "An investigation is mandatory",
        "Major-impact abuse by staff, abuse between clients, neglect or unexplained injury is "
        "investigated; an incident review does not suffice.",
    ),
    RuleEntry(
        "follow-up.already-started",
        "5",
        "Follow-up already under way",
        "The follow-up cannot be redetermined once an investigator or review has started on it.",
    ),
    RuleEntry(
        "follow-up.police-contact-before-investigation",
        "6",
        "Police first",
        "Sexual or physical abuse or serious neglect is reported to police before the "
        "investigation starts.",
    ),
    RuleEntry(
        "follow-up.integrity-advice-before-investigation",
        "6",
        "Integrity team advice first",
        "Child Protection records the Integrity team's advice before any investigation starts.",
    ),
    RuleEntry(
        "rcs.integrity-advice-required",
        "7",
        "RCS in lieu needs Integrity advice",
        "Child Protection puts a Reportable Conduct Scheme investigation in lieu of the CIMS "
        "investigation only on the Integrity team's advice, taking effect before the choice.",
    ),
    RuleEntry(
        "rcs.recommendations-section-required",
        "7",
        "RCS report has recommendations",
        "An RCS investigation lodged in lieu contains a Recommendations section.",
    ),
    RuleEntry(
        "department-review.request-needs-reason",
        "6",
        "Say what information is needed",
        "A department review asking for more information says what is needed.",
    ),
    # §8 investigation
    RuleEntry(
        "investigation.not-determined",
        "8",
        "No investigation determined",
        "Investigation steps need an investigation (or RCS in lieu) to have been determined.",
    ),
    RuleEntry(
        "investigation.no-investigator",
        "8",
        "No investigator appointed",
        "Investigation steps are taken by an appointed investigator.",
    ),
    RuleEntry(
        "investigation.plan-required",
        "8",
        "The plan is written",
        "An investigation plan is not left blank.",
    ),
    RuleEntry(
        "investigation.rationale-required",
        "8",
        "The rationale is written",
        "The sufficient-evidence rationale is not left blank.",
    ),
    RuleEntry(
        "investigation.sufficient-evidence-without-evidence",
        "8",
        "Sufficient evidence needs evidence",
        "Record the evidence (e.g. CCTV) the sufficient-evidence rationale relies on first.",
    ),
    RuleEntry(
        "investigation.summary-required",
        "8",
        "The report has a summary",
        "An investigation report's summary is not left blank.",
    ),
    RuleEntry(
        "investigation.recommendations-required",
        "8",
        "The report makes recommendations",
        "An investigation report makes recommendations.",
    ),
    RuleEntry(
        "investigation.outcome-unknown-allegation",
        "8",
        "A finding on a known allegation",
        "Each finding is on an incident type and subject of allegation of this incident.",
    ),
    RuleEntry(
        "investigation.outcome-repeated",
        "8",
        "One finding per allegation",
        "An allegation has one finding.",
    ),
    RuleEntry(
        "investigation.outcome-missing",
        "8",
        "A finding for every subject",
        "Record a finding for every subject of allegation.",
    ),
    RuleEntry(
        "fairness.independence-not-declared",
        "8",
        "Independence is declared",
        "The investigator declares their independence of the incident.",
    ),
    RuleEntry(
        "fairness.investigator-not-independent",
        "8",
        "The investigator is independent",
        "The reporter, a subject of allegation or their line manager cannot investigate.",
    ),
    RuleEntry(
        "fairness.unknown-subject",
        "8",
        "A known subject of allegation",
        "Allegations concern the subjects of allegation named on the incident.",
    ),
    RuleEntry(
        "fairness.service-method-required",
        "8",
        "How the allegations were served",
        "Say how the allegations were put in writing (letter, email, secure portal).",
    ),
    RuleEntry(
        "fairness.response-before-service",
        "8",
        "Served before responding",
        "A subject responds to allegations that were put to them in writing, and the response "
        "takes effect no earlier than the service did.",
    ),
    RuleEntry(
        "fairness.response-required",
        "8",
        "The response is written",
        "A subject's response is recorded, or that they declined to respond.",
    ),
    RuleEntry(
        "fairness.allegations-not-served",
        "8",
        "Allegations served before the outcome",
        "No outcome before every subject of allegation had the allegations in writing, "
        "unless the sufficient-evidence rationale was recorded.",
    ),
    RuleEntry(
        "fairness.subject-not-told-in-writing",
        "8",
        "Subjects told in writing first",
        "Every subject of allegation is told in writing before the outcome is communicated.",
    ),
    RuleEntry(
        "evidence.description-required",
        "8",
        "Evidence is described",
        "Evidence recorded is described.",
    ),
    RuleEntry(
        "client-voice.unknown-client",
        "1",
        "The client's voice is a client's",
        "The client's voice is recorded for a client named on the incident.",
    ),
    RuleEntry(
        "client-voice.said-required",
        "2",
        "What the client said",
        "The client's account is not left blank.",
    ),
    RuleEntry(
        "consultation.stage-required",
        "2",
        "Consultation stage",
        "Name the decision the consultation came before: the report, the follow-up, the "
        "outcome or the closure.",
    ),
    RuleEntry(
        "consultation.consulted-required",
        "8",
        "Who was consulted",
        "Name who was consulted at ACSASS, the ACCO or the ACAC provider.",
    ),
    RuleEntry(
        "notification.recipient-required",
        "6",
        "Who was notified",
        "A notification names who was notified.",
    ),
    # §9 incident review
    RuleEntry(
        "review.not-determined",
        "9",
        "No incident review determined",
        "An incident review is completed only where one was determined as the follow-up.",
    ),
    RuleEntry(
        "review.sections-required",
        "9",
        "The review's sections",
        "An incident review covers what happened and why, and the contributing factors.",
    ),
    # outcome and §10 outcome review
    RuleEntry(
        "outcome.not-recorded",
        "8",
        "No outcome yet",
        "There is no outcome yet to report, communicate or review.",
    ),
    RuleEntry(
        "outcome.unknown-recipient",
        "8",
        "A known recipient",
        "An outcome is communicated to a client, their guardian or a subject of this incident.",
    ),
    RuleEntry(
        "outcome-review.requester-not-entitled",
        "10",
        "Who may request a review",
        "An outcome review is requested by the client, their guardian or the subject of "
        "allegation.",
    ),
    RuleEntry(
        "outcome-review.grounds-not-recognised",
        "10",
        "Grounds for a review",
        "The grounds are procedural fairness or non-adherence to the minimum requirements.",
    ),
    RuleEntry(
        "outcome-review.requester-not-on-record",
        "10",
        "The requester is on the incident",
        "A client requests for a client of this incident; a subject for themselves.",
    ),
    RuleEntry(
        "outcome-review.already-pending",
        "10",
        "One review at a time",
        "An outcome review is already pending.",
    ),
    RuleEntry(
        "outcome-review.none-pending",
        "10",
        "No review requested",
        "A decision answers a pending outcome review request.",
    ),
    RuleEntry(
        "outcome-review.reviewer-not-independent",
        "10",
        "The reviewer is independent",
        "The reviewer took no part in the original outcome.",
    ),
    RuleEntry(
        "outcome-review.variation-required",
        "10",
        "A variation states new findings",
        "A varied outcome states the new findings.",
    ),
    RuleEntry(
        "outcome-review.confirmed-with-variation",
        "10",
        "A confirmation changes nothing",
        "A confirmed outcome carries no new findings.",
    ),
    # §11 after the outcome, and the lifecycle
    RuleEntry(
        "response.plan-required",
        "11",
        "The plan is written",
        "A response or carer support plan is not left blank.",
    ),
    RuleEntry(
        "response.carer-required",
        "11",
        "Which carer",
        "A carer support plan names the carer it supports.",
    ),
    RuleEntry(
        "recommendation.id-repeated",
        "11",
        "Recommendation ids are unique",
        "Each recommendation has a number not used before on this incident, so its actioning "
        "can be tracked.",
    ),
    RuleEntry(
        "recommendation.unknown",
        "11",
        "A known recommendation",
        "Only a recommendation made in a report or review can be actioned.",
    ),
    RuleEntry(
        "recommendation.action-required",
        "11",
        "The action is written",
        "Say what was done about the recommendation.",
    ),
    RuleEntry(
        "extension.approver-required",
        "8",
        "Who approved the extension",
        "An extension names who approved it.",
    ),
    RuleEntry(
        "extension.unknown-obligation",
        "8",
        "A known obligation",
        "Only an obligation that applies to this incident can be extended.",
    ),
    RuleEntry(
        "extension.not-later",
        "8",
        "An extension is later",
        "An extension sets a due date later than the current one.",
    ),
    RuleEntry(
        "closure.unknown-obligation",
        "11",
        "A known obligation",
        "Only an obligation that applies to this incident can be marked not required.",
    ),
    RuleEntry(
        "closure.obligation-not-waivable",
        "11",
        "Required by the policy",
        "Only a response plan, a carer support plan or actioning recommendations can be "
        "marked not required; the other steps are required by the policy.",
    ),
    RuleEntry(
        "closure.reason-required",
        "11",
        "Why a step is not required",
        "Say why each step marked not required is not required.",
    ),
    RuleEntry(
        "closure.obligations-outstanding",
        "6",
        "Required steps are outstanding",
        "Closing needs every required step met, or marked not required with a reason.",
    ),
    RuleEntry(
        "lifecycle.withdrawn",
        "11",
        "The incident was withdrawn",
        "A withdrawn incident takes no further steps.",
    ),
    RuleEntry(
        "lifecycle.closed",
        "11",
        "The incident is closed",
        "A closed incident takes no further steps until it is reopened.",
    ),
    RuleEntry(
        "lifecycle.not-closed",
        "11",
        "The incident is not closed",
        "Only a closed incident is reopened.",
    ),
    RuleEntry(
        "lifecycle.withdraw-after-outcome",
        "11",
        "Close, not withdraw",
        "An incident with a recorded outcome is closed, not withdrawn.",
    ),
    # appointments (§8, §10) and who sees a record (design §6)
    RuleEntry(
        "appointment.appointee-required",
        "8",
        "Name the appointee once",
        "Name the appointee once: someone of your organisation, or someone of another "
        "organisation with that organisation; not both, and not neither.",
    ),
    RuleEntry(
        "appointment.self-appointment",
        "8",
        "No self-appointment",
        "You cannot appoint yourself; appoint someone independent.",
    ),
    RuleEntry(
        "appointment.investigator-after-outcome",
        "8",
        "The investigator stands once an outcome is recorded",
        "An investigator may be replaced until an outcome is recorded; after that the "
        "appointment stands, and an error in it is a correction.",
    ),
    RuleEntry(
        "outcome-review.no-reviewer",
        "10",
        "No reviewer appointed",
        "An outcome review is decided by the reviewer appointed to conduct it.",
    ),
    RuleEntry(
        "access.responsible-organisation-by-command",
        "3",
        "Change responsibility by its own command",
        "The responsible organisation decides who sees the record: change it with "
        "responsible-organisation, not by amending or correcting the facts.",
    ),
    RuleEntry(
        "access.responsible-organisation-unchanged",
        "3",
        "A different organisation",
        "That organisation is already the one responsible.",
    ),
    # §1 and §5 records of the old system, §5 patterns of harm [C]
    RuleEntry(
        "pattern.several-incidents",
        "5",
        "Several incidents",
        "A pattern names at least two different incidents, each once.",
    ),
    RuleEntry(
        "pattern.escalation-major",
        "5",
        "Escalated as major",
        "A pattern of harm is escalated as a new major-impact incident.",
    ),
    RuleEntry(
        "pattern.incident-major",
        "5",
        "Non-major incidents form a pattern",
        "A major-impact incident already owes its own follow-up; it is not part of a pattern.",
    ),
    RuleEntry(
        "pattern.already-linked",
        "5",
        "Linked once",
        "An incident is linked to one pattern escalation at most.",
    ),
    RuleEntry(
        "pattern.incident-withdrawn",
        "5",
        "Current incidents only",
        "A withdrawn or out-of-scope report does not form part of a pattern.",
    ),
    RuleEntry(
        "pattern.different-clients",
        "5",
        "One client",
        "The incidents of a pattern are about one client: the same reference or department "
        "client identifier within an organisation, the department identifier across "
        "organisations.",
    ),
    RuleEntry(
        "pattern.across-providers-department-only",
        "5",
        "Across providers: the department",
        "Only a department officer links or dismisses incidents of different organisations.",
    ),
    RuleEntry(
        "legacy.department-only",
        "1",
        "The department imports",
        "Only a department officer imports the records of the old system.",
    ),
    RuleEntry(
        "legacy.type-required",
        "5",
        "A legacy type is named",
        "A legacy record names at least one incident type.",
    ),
    RuleEntry(
        "legacy.type-repeated",
        "5",
        "Each legacy type once",
        "A legacy record lists each incident type once.",
    ),
    RuleEntry(
        "legacy.submitted-before-aware",
        "1",
        "Submitted after awareness",
        "A legacy record was submitted after the provider became aware of the incident.",
    ),
    RuleEntry(
        "legacy.not-unresolved",
        "5",
        "An unresolved split type",
        "Only a split legacy type still unresolved on the incident is resolved.",
    ),
    RuleEntry(
        "legacy.not-a-candidate",
        "5",
        "One of the split types",
        "A split legacy type resolves to one of the current types it was split into.",
    ),
    RuleEntry(
        "legacy.row-invalid",
        "1",
        "A readable legacy row",
        "A value of the legacy row is missing or not spelled as the API spells it.",
    ),
    RuleEntry(
        "legacy.duplicate-id",
        "1",
        "Each legacy id once",
        "A legacy id appears once in an import file.",
    ),
    RuleEntry(
        "legacy.id-taken",
        "1",
        "A legacy id of its own",
        "The id for this legacy record is taken by an incident that was not imported.",
    ),
    RuleEntry(
        "legacy.row-changed",
        "1",
        "Imported rows are not overwritten",
        "The row differs from the one imported before; the ledger keeps what it has.",
    ),
    RuleEntry(
        "access.responsible-organisation-is-reporter",
        "3",
        "Another provider than the reporter",
        "The reporting organisation sees the incident already; name another organisation.",
    ),
    # Issue 12: written service, reasonable time, minimum requirements, withdrawal, RCS, guardians
    RuleEntry(
        "fairness.service-not-in-writing",
        "8",
        "Allegations are served in writing",
        "Serve the allegations by letter (post or hand), email or a secure portal; a verbal or "
        "phone notice is a contact, not service.",
    ),
    RuleEntry(
        "fairness.response-time-not-given",
        "8",
        "A reasonable time to respond",
        "No outcome until each subject served has responded (or declined) or the policy "
        "table's business days have passed since service.",
    ),
    RuleEntry(
        "investigation.plan-before-report",
        "8",
        "A plan before the report",
        "Record the investigation plan, or the sufficient-evidence rationale, before the report.",
    ),
    RuleEntry(
        "investigation.report-already-submitted",
        "8",
        "One investigation report",
        "The investigation report was already submitted; record a correction instead.",
    ),
    RuleEntry(
        "review.already-completed",
        "9",
        "One incident review",
        "The incident review was already completed; record a correction instead.",
    ),
    RuleEntry(
        "review.recommendations-or-reason",
        "9",
        "Recommendations, or why none",
        "An incident review makes recommendations, or says why it makes none (not both).",
    ),
    RuleEntry(
        "withdrawal.grounds-required",
        "11",
        "Grounds for withdrawal",
        "A report is withdrawn only after an out-of-scope assessment naming its exclusion, or "
        "as a duplicate of another incident.",
    ),
    RuleEntry(
        "withdrawal.duplicate-of-itself",
        "11",
        "Another incident",
        "An incident cannot duplicate itself.",
    ),
    RuleEntry(
        "withdrawal.duplicate-not-found",
        "11",
        "A duplicate on record",
        "The incident it duplicates must be on record and visible to you.",
    ),
    RuleEntry(
        "withdrawal.major-needs-department-approval",
        "11",
        "The department approves",
        "A report that was of major impact at any point in its history is withdrawn only by "
        "(with the approval of) a department officer.",
    ),
    RuleEntry(
        "withdrawal.duplicate-withdrawn",
        "11",
        "A live original",
        "A duplicate points at a report that is itself live, not withdrawn.",
    ),
    RuleEntry(
        "withdrawal.duplicate-other-client",
        "11",
        "The same client",
        "A duplicate is about the same client(s) as the report it duplicates.",
    ),
    RuleEntry(
        "sequence.before-prerequisite",
        "11",
        "In the order they took effect",
        "A step cannot take effect before a step it depends on took effect.",
    ),
    RuleEntry(
        "rcs.not-in-lieu",
        "7",
        "An RCS investigation in lieu",
        "No RCS investigation in lieu was determined for this incident.",
    ),
    RuleEntry(
        "rcs.endorsement-required",
        "7",
        "Endorsed by the Integrity team",
        "An RCS investigation report stands in lieu only once the Integrity team's "
        "endorsement is recorded.",
    ),
    RuleEntry(
        "rcs.endorsed-by-required",
        "7",
        "Who endorsed",
        "Name who in the Integrity team endorsed the RCS investigation report.",
    ),
    RuleEntry(
        "rcs.endorsement-reference-required",
        "7",
        "The endorsement's reference",
        "Give the reference of the Integrity team's endorsement.",
    ),
    RuleEntry(
        "guardian.not-recorded",
        "10",
        "A recorded guardian",
        "Only a guardian (or parent with parental responsibility) recorded on the incident is "
        "told the outcome or requests a review; record the guardian first.",
    ),
    RuleEntry(
        "guardian.unknown-client",
        "10",
        "A client on this incident",
        "A guardian is recorded for a client named on this incident.",
    ),
    RuleEntry(
        "guardian.ref-required",
        "10",
        "Which guardian",
        "Name the guardian.",
    ),
    # Documents on the record (§7 RCS reports, §8 letters, evidence and reports, §9, §10)
    RuleEntry("document.empty", "8", "A document holds something", "The file is empty."),
    RuleEntry(
        "document.too-large",
        "8",
        "Within the size the ledger keeps",
        "The file is larger than the ledger is set to keep.",
    ),
    RuleEntry(
        "document.file-name-unsafe",
        "8",
        "A plain file name",
        "A file name has no folder separators or control characters and is at most 255 characters.",
    ),
    RuleEntry(
        "document.type-contradicted",
        "8",
        "The file is what it says it is",
        "The file's content is not the type its name or the sender says it is.",
    ),
    RuleEntry(
        "document.type-not-allowed",
        "8",
        "A kind of file the ledger keeps",
        "Files of this type are not kept; send a PDF, an image, a Word document or text.",
    ),
    RuleEntry(
        "document.unknown-step",
        "8",
        "The step it supports is on record",
        "A document supports a step already on the incident's record.",
    ),
    RuleEntry(
        "document.already-on-record",
        "8",
        "Each file once",
        "This very file is already on the incident's record.",
    ),
    RuleEntry(
        "document.not-on-record",
        "8",
        "A document on this incident",
        "Name a document added to this incident.",
    ),
    RuleEntry(
        "document.superseded",
        "8",
        "The current document",
        "That document was superseded by a correction; name the one that replaced it.",
    ),
    RuleEntry(
        "document.wrong-kind",
        "8",
        "The document the step rests on",
        "The served allegations name their letter, a report names its report, a review "
        "decision its decision.",
    ),
)

CATALOGUE: dict[str, RuleEntry] = {entry.id: entry for entry in _ENTRIES}
assert len(CATALOGUE) == len(_ENTRIES), "a rule id is catalogued twice"


def rule(rule_id: str) -> RuleEntry | None:
    """The catalogue entry for `rule_id`, or None if it is not a policy rule."""
    return CATALOGUE.get(rule_id)
