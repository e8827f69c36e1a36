"""One readable line per event, for audit trails and auditors' histories."""

from __future__ import annotations

from typing import Any

from domain.incident import Incident
from domain.local_time import melbourne
from domain.rules.documents import KIND_WORDS

# Values named as a person says them (the rest read with their underscores as spaces).
_SAID = {
    "regulator_short_form": "the regulator's short form lodged",
    "integrity_team": "Integrity team",
    "ccyp": "CCYP",
    "ccyp_details": "CCYP (detailed information)",
    "acsass": "ACSASS",
    "acco": "an ACCO",
    "acac": "the ACAC provider",
    "cctv": "CCTV",
    "cp_interview": "Child Protection interview",
    "rcs_in_lieu": "RCS investigation in lieu",
    "follow_up": "the follow-up decision",
    "outcome": "the outcome",
    "closure": "closure",
    "report": "the report",
    "non_major": "non-major",
    "more_information_requested": "more information requested",
    "letter_by_post": "letter by post",
    "letter_by_hand": "letter by hand",
    "secure_portal": "secure portal",
    "subject_of_allegation": "subject of allegation",
    "not_substantiated": "not substantiated",
    "unable_to_be_determined": "unable to be determined",
}


def _said(value: Any) -> str:
    text = str(getattr(value, "value", value))
    return _SAID.get(text, text.replace("_", " "))


def summarise(e: Any) -> str:
    """What the event recorded, in a line a person reads, naming no free-text content."""
    i = Incident
    match e:
        case i.Reported() if e.imported is not None:
            legacy = ", ".join(e.legacy_types)
            return (
                f"Imported from {e.imported.source_system} (legacy id {e.imported.legacy_id},"
                f" row SHA-256 {e.imported.row_sha256[:12]}…): {legacy} ({e.impact}),"
                f" reported by {e.reporting_organisation}"
            )
        case i.Reported() if e.pattern_of:
            types = ", ".join(e.types)
            # How many incidents formed it is not said: a provider named on the incident would
            # learn of incidents it cannot see.
            return (
                f"Reported {types} ({_said(e.impact)}) by {e.reporting_organisation}:"
                " a pattern of harm"
            )
        case i.Reported():
            types = ", ".join(e.types)
            return f"Reported {types} ({_said(e.impact)}) by {e.reporting_organisation}"
        case i.LegacyTypeResolved():
            return f"Legacy type {e.legacy_label!r} resolved as {e.incident_type}"
        case i.PatternLinked():
            return f"Linked to a pattern of harm, escalated as incident {e.escalated_as}"
        case i.PatternSuggestionDismissed():
            return "A possible pattern naming this incident was dismissed"
        case i.DetailsAmended() | i.RecordCorrected():
            fields = ", ".join(sorted(e.changes.fields()))
            what = (
                "Corrected v" + str(e.corrected_version)
                if isinstance(e, i.RecordCorrected)
                else "Amended"
            )
            return f"{what}: {fields}"
        case i.Reclassified():
            types = ", ".join(e.types)
            category = _said(e.regulator_category)
            return f"Reclassified as {types} ({_said(e.impact)}, regulator: {category})"
        case i.ScopeAssessed():
            if e.in_scope:
                return "Assessed in scope"
            return f"Assessed out of scope: {_said(e.exclusion)}"
        case i.NotificationRecorded():
            if e.kind == "regulator_short_form":
                return f"Regulator's short form lodged: {e.recipient}"
            return f"Notified {_said(e.kind)}: {e.recipient}"
        case i.AboriginalConsultationRecorded():
            before = f" before {_said(e.stage)}" if e.stage else ""
            return f"Consulted {_said(e.body)}{before}"
        case i.DepartmentReviewRecorded():
            return f"Department review: {_said(e.decision)}"
        case i.FollowUpDetermined():
            return f"Follow-up determined: {_said(e.kind)}"
        case i.InvestigatorAppointed():
            # Events from before appointees were principals read as they always did.
            of = f" of {e.investigator_organisation}" if e.investigator_organisation else ""
            return f"Investigator {e.investigator_ref}{of} appointed; independence declared"
        case i.OutcomeReviewerAppointed():
            return f"Outcome reviewer {e.reviewer.subject} of {e.reviewer.organisation} appointed"
        case i.ResponsibleOrganisationChanged():
            return (
                f"Access changed: responsible organisation {e.previous or '(none)'}"
                f" → {e.other_provider or '(none)'}"
            )
        case i.AllegationsServed():
            how = _said(e.method) if e.method else f"recorded as: {e.legacy_method}"
            return f"Allegations served in writing ({how}) on {', '.join(e.subject_refs)}"
        case i.SubjectResponseRecorded():
            return f"{e.subject_ref} {'declined to respond' if e.declined else 'responded'}"
        case i.EvidenceRecorded():
            return f"Evidence recorded: {_said(e.kind)}"
        case i.InvestigationOutcomeRecorded() | i.OutcomeReviewDecided():
            outcomes = (
                e.outcomes if isinstance(e, i.InvestigationOutcomeRecorded) else e.varied_outcomes
            )
            findings = "; ".join(f"{o.incident_type}: {_said(o.finding)}" for o in outcomes)
            if isinstance(e, i.OutcomeReviewDecided):
                return f"Outcome review {e.result}" + (f" — {findings}" if findings else "")
            return f"Outcome recorded — {findings}"
        case i.InvestigationReportSubmitted() | i.IncidentReviewCompleted():
            kind = (
                "Investigation report"
                if isinstance(e, i.InvestigationReportSubmitted)
                else "Incident review"
            )
            n = len(e.recommendations)
            return f"{kind} with {n} recommendation{'' if n == 1 else 's'}"
        case i.OutcomeCommunicated():
            return f"Outcome communicated to {_said(e.recipient)} {e.recipient_ref}" + (
                " in writing" if e.in_writing else ""
            )
        case i.OutcomeReviewRequested():
            grounds = ", ".join(_said(g) for g in e.grounds)
            return f"Outcome review requested by {_said(e.requester)} on {grounds}"
        case i.CarerSupportPlanRecorded():
            return f"Carer support plan for {e.carer_ref}"
        case i.DeadlineExtended():
            kind = _said(e.obligation_kind).capitalize()
            return f"{kind} extended to {melbourne(e.new_due)} by {e.approved_by}"
        case i.RecommendationActioned():
            return f"Recommendation {e.recommendation_id} actioned"
        case i.DocumentAdded():
            return f"Document added: {KIND_WORDS[e.kind]}, {e.media_type}, {e.size:,} bytes"
        case i.DocumentSuperseded():
            return "Document superseded" + (" by a corrected copy" if e.superseded_by else "")
        case i.Closed():
            waived = ", ".join(sorted(_said(k) for k in e.not_required))
            return "Closed" + (f" (not required: {waived})" if waived else "")
    labels = {
        "Withdrawn": "Withdrawn",
        "ClientVoiceRecorded": "Client's voice recorded",
        "InvestigationPlanRecorded": "Investigation plan recorded",
        "SufficientEvidenceRationaleRecorded": "Sufficient evidence at the outset: rationale",
        "ResponsePlanRecorded": "Response plan recorded",
        "Reopened": "Reopened",
    }
    return labels.get(type(e).__name__, type(e).__name__)
