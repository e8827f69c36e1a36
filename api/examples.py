"""One realistic example body per request model, shown in `/docs` (a test validates each
against its model, so an example cannot go stale)."""

from __future__ import annotations

from typing import Any

_OUTCOME = {
    "subject_ref": "carer-1",
    "incident_type": "Physical abuse",
    "finding": "substantiated",
    "rationale": "CCTV shows the carer grabbing the client's arm; the carer's response admits it.",
}

EXAMPLES: dict[str, dict[str, Any]] = {
    "ReportIn": {
        "program": "cso",
        "care_context": "cso_residential_care",
        "clients": [{"ref": "client-1", "aboriginal": True}],
        "types": ["Physical abuse"],
        "impact": "major",
        "occurred_at": "2025-03-04T09:00:00+11:00",
        "became_aware_at": "2025-03-04T10:00:00+11:00",
        "location": "Residential unit, Northside",
        "description": "Bruising on the client's arm; the client says a carer grabbed them.",
        "subjects_of_allegation": [{"ref": "carer-1", "role": "carer"}],
        "immediate_actions": "Client safe; carer stood down pending the investigation.",
        "regulator_category": "notifiable",
    },
    "AmendIn": {
        "expected_version": 3,
        "changes": {"location": "Residential unit 2, Northside"},
        "reason": "The unit number was wrong on the first report.",
    },
    "ReclassifyIn": {
        "expected_version": 2,
        "types": ["Physical abuse", "Emotional/psychological abuse"],
        "reason": "The client's interview disclosed threats as well.",
    },
    "ScopeAssessmentIn": {
        "expected_version": 2,
        "in_scope": True,
        "reason": "Harm alleged against a carer during a CSO placement.",
    },
    "Reasoned": {"expected_version": 9, "reason": "A further allegation came to hand."},
    "WithdrawIn": {
        "expected_version": 3,
        "reason": "The same fall was reported twice by two staff members.",
        "duplicate_of": "2f1c7c52-8a8e-4f8e-9d0e-3c5b2f7a1e44",
    },
    "GuardianIn": {
        "expected_version": 2,
        "client_ref": "client-1",
        "guardian_ref": "guardian-1",
        "relationship": "parent_with_parental_responsibility",
    },
    "RcsEndorsementIn": {
        "expected_version": 9,
        "endorsed_by": "DFFH Integrity team",
        "endorsed_on": "2025-03-28",
        "reference": "IT-RCS-2025-014",
    },
    "ClientVoiceIn": {
        "expected_version": 2,
        "client_ref": "client-1",
        "said": "The carer grabbed my arm when I would not go to my room.",
        "wanted": "Not to live with that carer again.",
    },
    "NotificationIn": {
        "expected_version": 1,
        "kind": "police",
        "recipient": "Victoria Police, Northside station",
        "reference": "VP-2025-004411",
        "effective_at": "2025-03-04T11:30:00+11:00",
    },
    "AboriginalConsultationIn": {
        "expected_version": 2,
        "body": "acsass",
        "stage": "follow_up",
        "consulted": "ACSASS duty worker",
        "advice": "Involve the client's aunt in the client voice interview.",
    },
    "DepartmentReviewIn": {"expected_version": 2, "decision": "accepted"},
    "FollowUpIn": {
        "expected_version": 2,
        "kind": "investigation",
        "reason": "Major-impact physical abuse alleged against a carer.",
    },
    "AppointInvestigatorIn": {
        "expected_version": 3,
        "investigator_ref": "investigator-7",
        "independence_declared": True,
        "declaration": "I have no line, family or working relationship with anyone involved.",
    },
    "InvestigationPlanIn": {
        "expected_version": 4,
        "plan": "Interview the client with support; view the unit's CCTV; interview the carer.",
        "lines_of_enquiry": ["CCTV of the hallway", "The client's account", "Staff rosters"],
    },
    "ServeAllegationsIn": {
        "expected_version": 5,
        "subject_refs": ["carer-1"],
        "method": "letter_by_hand",
    },
    "SubjectResponseIn": {
        "expected_version": 6,
        "subject_ref": "carer-1",
        "response": "I held the client's arm to stop them running onto the road.",
    },
    "EvidenceIn": {
        "expected_version": 7,
        "kind": "cctv",
        "description": "Hallway camera, 08:55 to 09:10 on 4 March.",
        "source": "Unit manager",
    },
    "RationaleIn": {
        "expected_version": 8,
        "rationale": "The CCTV shows the whole incident; no further information is needed.",
    },
    "OutcomesIn": {"expected_version": 8, "outcomes": [_OUTCOME]},
    "InvestigationReportIn": {
        "expected_version": 9,
        "summary": "The allegation of physical abuse is substantiated.",
        "recommendations": [{"id": "R1", "text": "Retrain the unit's staff in de-escalation."}],
    },
    "IncidentReviewIn": {
        "expected_version": 4,
        "what_happened": "The client left the unit unnoticed during a shift change.",
        "contributing_factors": "The handover checklist has no headcount step.",
        "recommendations": [{"id": "R1", "text": "Add a headcount to the handover checklist."}],
    },
    "CommunicateOutcomeIn": {
        "expected_version": 10,
        "recipient": "client",
        "recipient_ref": "client-1",
        "in_writing": True,
    },
    "RequestOutcomeReviewIn": {
        "expected_version": 11,
        "requester": "subject_of_allegation",
        "requester_ref": "carer-1",
        "grounds": ["procedural_fairness"],
        "reason": "I was given two days to respond.",
    },
    "AppointOutcomeReviewerIn": {
        "expected_version": 12,
        "reviewer": {"organisation": "DFFH", "subject": "reviewer-3"},
    },
    "ResponsibleOrganisationIn": {
        "expected_version": 2,
        "other_provider": "Eastside Housing",
        "reason": "The harm happened during the client's respite stay with Eastside Housing.",
    },
    "DecideOutcomeReviewIn": {
        "expected_version": 12,
        "result": "confirmed",
        "reason": "The response time was reasonable; the subject did respond in full.",
    },
    "PlanIn": {
        "expected_version": 11,
        "plan": "Move the client to a new placement; weekly counselling for eight weeks.",
    },
    "CarerSupportPlanIn": {
        "expected_version": 12,
        "carer_ref": "carer-1",
        "plan": "Supervision fortnightly and de-escalation training before any placement.",
    },
    "ExtendIn": {
        "expected_version": 9,
        "obligation_kind": "investigation_or_review",
        "new_due": "2025-04-15T17:00:00+10:00",
        "approved_by": "Director, Northside CSO",
        "reason": "The client's interview was delayed by a hospital stay.",
    },
    "RecommendationActionIn": {
        "expected_version": 13,
        "recommendation_id": "R1",
        "action": "All unit staff completed de-escalation training on 2 April.",
    },
    "CloseIn": {
        "expected_version": 14,
        "reason": "Every required step is met.",
        "not_required": {"carer_support_plan": "The carer resigned and no longer cares."},
    },
    "CorrectionIn": {
        "expected_version": 6,
        "corrected_version": 1,
        "changes": {"became_aware_at": "2025-03-04T09:30:00+11:00"},
        "reason": "The awareness time was typed an hour late.",
    },
    "ResolveLegacyTypeIn": {
        "expected_version": 1,
        "legacy_label": "Injury",
        "incident_type": "Injury-explained",
        "reason": "The carer saw the fall; the injury is explained.",
    },
    "SupersedeDocumentIn": {
        "expected_version": 9,
        "document_id": "5f0c6a52-3b1e-4c1e-9a43-2f4f0d3c1a77",
        "reason": "The letter was added to the wrong incident.",
    },
}
