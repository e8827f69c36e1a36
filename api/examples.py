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

# ---- answers: one realistic example per response model, shown in `/docs` beside its schema
# (a test validates each against its model, allowing no field the model does not declare).

_INCIDENT = "7f4a4786-c52b-55da-ac42-7e86c167dfdf"
_OTHER = "2f1c7c52-8a8e-4f8e-9d0e-3c5b2f7a1e44"
_THIRD = "9b0e2d7e-55a1-4c1e-8f8e-1d2c3b4a5f60"
_ACTOR = {"id": "manager-7", "role": "incident_manager", "organisation": "Northside CSO"}
_ACCEPTED = {
    "id": _INCIDENT,
    "version": 4,
    "position": 1287,
    "event": {
        "type": "AllegationsServed",
        "originator_id": _INCIDENT,
        "originator_version": 4,
        "timestamp": "2025-03-10T03:15:00Z",
        "actor": _ACTOR,
        "subject_ids": ["carer-1"],
    },
}
_OBLIGATION = {
    "kind": "incident_report",
    "trigger": "Reported",
    "trigger_version": 1,
    "due": "2025-03-07T06:00:00Z",
    "original_due": "2025-03-07T06:00:00Z",
    "extended": False,
    "met_at": "2025-03-04T00:00:00Z",
    "met_by_version": 1,
    "status": "met",
    "waivable": False,
    "note": None,
    "met_recorded_at": "2025-03-04T00:00:00Z",
    "recorded_late": False,
    "met_by": [],
    "business_days_left": None,
    "days_overdue": None,
}
_PATTERN_INCIDENT = {
    "id": _INCIDENT,
    "organisation": "Northside CSO",
    "became_aware_at": "2025-03-03T23:00:00Z",
    "submitted_at": "2025-03-04T00:00:00Z",
    "types": ["Injury-explained"],
    "legacy_types": [],
    "unresolved_legacy_types": [],
    "removed_legacy_types": [],
    "impact": "non_major",
    "stage": "follow_up_determined",
    "outcome": [],
    "linked_to_pattern": None,
    "pattern_of": [],
    "client_refs": ["client-1"],
    "department_client_ids": ["1234567"],
    "legacy_id": None,
    "version": 2,
}
_POSSIBLE_PATTERN = {
    "kind": "possible_pattern",
    "client_refs": ["client-1"],
    "department_client_ids": ["1234567"],
    "incident_ids": [_INCIDENT, _OTHER, _THIRD],
    "incidents": [
        _PATTERN_INCIDENT,
        {**_PATTERN_INCIDENT, "id": _OTHER, "became_aware_at": "2025-03-20T01:00:00Z"},
        {**_PATTERN_INCIDENT, "id": _THIRD, "became_aware_at": "2025-04-02T22:30:00Z"},
    ],
    "window_days": 90,
    "min_incidents": 3,
    "policy_version": "2024-12-09",
}
_CURSOR = "MjAyNS0wMy0wNFQwMDowMDowMC4wMDAwMDBafDdmNGE0Nzg2"

RESPONSE_EXAMPLES: dict[str, dict[str, Any]] = {
    "Accepted": _ACCEPTED,
    "EscalationAccepted": {**_ACCEPTED, "linked": [_OTHER, _THIRD]},
    "Dismissed": {
        "dismissal_id": "0c8d1f7e-3a2b-4c5d-9e8f-7a6b5c4d3e2f",
        "incidents": [
            {"id": _OTHER, "version": 3, "position": 1290},
            {"id": _THIRD, "version": 2, "position": 1291},
        ],
    },
    "IncidentList": {
        "items": [
            {
                "id": _INCIDENT,
                "reporting_organisation": "Northside CSO",
                "other_provider": None,
                "stage": "under_investigation",
                "types": ["Physical abuse"],
                "impact": "major",
                "regulator_category": "notifiable",
                "program": "cso",
                "aboriginal": True,
                "follow_up": "investigation",
                "reported_at": "2025-03-04T00:00:00Z",
                "became_aware_at": "2025-03-03T23:00:00Z",
                "occurred_at": "2025-03-03T22:00:00Z",
                "version": 4,
                "next_due": "2025-04-01T00:00:00Z",
                "overdue": False,
            }
        ],
        "next_cursor": _CURSOR,
    },
    "ObligationsOut": {"id": _INCIDENT, "version": 4, "obligations": [_OBLIGATION]},
    "Worklist": {
        "items": [
            {
                "incident_id": _INCIDENT,
                "kind": "investigation_or_review",
                "organisation": "Northside CSO",
                "trigger": "Reported",
                "due": "2025-04-01T00:00:00Z",
                "original_due": "2025-04-01T00:00:00Z",
                "extended": False,
                "met_at": None,
                "status": "open",
                "note": None,
                "clients": ["client-1"],
                "business_days_left": 12,
                "days_overdue": None,
            }
        ],
        "next_cursor": None,
        "possible_patterns": [_POSSIBLE_PATTERN],
    },
    "FairnessOut": {
        "id": _INCIDENT,
        "checks": [
            {
                "check": "allegations_served_in_writing",
                "verdict": "pass",
                "evidence_versions": [4],
                "evidence_events": ["AllegationsServed"],
                "detail": "Served by letter before the outcome.",
            }
        ],
    },
    "AuditTrail": {
        "items": [
            {
                "position": 1287,
                "incident_id": _INCIDENT,
                "version": 4,
                "event_type": "AllegationsServed",
                "actor_id": "manager-7",
                "actor_role": "incident_manager",
                "actor_organisation": "Northside CSO",
                "recorded_at": "2025-03-10T03:15:00Z",
                "effective_at": "2025-03-10T02:00:00Z",
                "reason": None,
                "summary": "Allegations served in writing on carer-1.",
            }
        ],
        "next_cursor": "1287",
    },
    "AccessLog": {
        "items": [
            {
                "id": 5120,
                "at": "2025-03-10T03:20:00Z",
                "actor_id": "auditor-2",
                "actor_role": "auditor",
                "actor_organisation": "DFFH",
                "incident_id": _INCIDENT,
                "what": "history",
            }
        ],
        "next_cursor": "5120",
    },
    "Feed": {
        "items": [
            {
                "specversion": "1.0",
                "id": "ssr-1287",
                "source": "urn:cims-ledger/ssr",
                "type": "au.gov.vic.cims.incident.reported",
                "time": "2025-03-04T00:00:00Z",
                "subject": _INCIDENT,
                "datacontenttype": "application/json",
                "data": {
                    "incident": _INCIDENT,
                    "version": 1,
                    "organisation": "Northside CSO",
                    "program": "cso",
                    "types": ["Physical abuse"],
                    "impact": "major",
                    "regulator_category": "notifiable",
                    "became_aware_at": "2025-03-03T23:00:00Z",
                    "occurred_at": "2025-03-03T22:00:00Z",
                    "historical": False,
                    "clients": [{"pseudonym": "9f2c" + "0" * 60, "aboriginal": True}],
                    "subjects_of_allegation": [{"pseudonym": "41ab" + "0" * 60, "role": "carer"}],
                    "stage": "reported",
                    "withdrawal": None,
                    "investigated": False,
                    "findings": [],
                },
                "cursor": 1287,
            }
        ],
        "next_cursor": "1287",
    },
    "Statistics": {
        "incidents": 42,
        "by_type": {"Physical abuse": 9, "Injury-explained": 21, "Neglect": 12},
        "by_impact": {"major": 15, "non_major": 27},
        "by_organisation": {"Northside CSO": 30, "Child Protection": 12},
        "by_month": {"2025-02": 19, "2025-03": 23},
        "open": 17,
        "closed": 25,
        "median_days_to_close": 21.5,
        "overdue_now": 3,
        "overdue_rate": 0.1765,
        "ever_late_rate": 0.119,
        "imported": {
            "incidents": 120,
            "by_type": {"Physical abuse": 31, "Injury": 89},
            "by_impact": {"major": 17, "non_major": 103},
            "by_organisation": {"Northside Community Services": 120},
            "by_month": {"2019-07": 4, "2019-08": 6},
            "open": 0,
            "closed": 120,
        },
    },
    "PatternView": {
        "client": {"client_ref": None, "organisation": None, "department_client_id": "1234567"},
        "window": {
            "days": 90,
            "since": "2025-01-04T00:00:00Z",
            "until": "2025-04-04T00:00:00Z",
        },
        "count": 3,
        "items": [_PATTERN_INCIDENT],
        "next_cursor": "WyIyMDI1LTAzLTAzVDIzOjAwOjAwWiJd",
    },
    "Suggestions": {"items": [_POSSIBLE_PATTERN], "next_cursor": None},
    "Unresolved": {
        "items": [
            {
                **_PATTERN_INCIDENT,
                "legacy_types": ["Injury"],
                "unresolved_legacy_types": ["Injury"],
                "types": [],
                "legacy_id": "CIMS-2024-000610",
                "version": 1,
            }
        ],
        "next_cursor": None,
        "next_after": None,
    },
    "LegacyImportOut": {
        "dry_run": False,
        "summary": {"imported": 1, "unchanged": 0, "changed": 0, "unresolved": 1, "refused": 1},
        "results": [
            {
                "line": 2,
                "legacy_id": "CIMS-2024-000610",
                "outcome": "imported",
                "incident_id": _INCIDENT,
                "reason": None,
                "rule": None,
                "unresolved_legacy_types": ["Injury"],
                "removed_legacy_types": [],
            },
            {
                "line": 3,
                "legacy_id": "CIMS-2024-000611",
                "outcome": "refused",
                "incident_id": None,
                "reason": "the provider became aware after the report was submitted",
                "rule": "legacy.submitted-before-aware",
                "unresolved_legacy_types": [],
                "removed_legacy_types": [],
            },
        ],
        "refused_csv": "line,legacy_id,reason\n3,CIMS-2024-000611,the provider became aware"
        " after the report was submitted\n",
    },
    "Verification": {
        "ok": True,
        "incident_id": _INCIDENT,
        "events_checked": 4,
        "first_broken_version": None,
        "problem": None,
    },
    "Rules": {
        "items": [
            {
                "id": "fairness.allegations-not-served",
                "section": "8",
                "title": "Allegations not served",
                "message": "Each subject of allegation is given the allegations in writing"
                " before any outcome.",
                "type": "https://cims-ledger.example/problems/fairness.allegations-not-served",
            }
        ]
    },
    "Health": {"status": "ok"},
    "Problem": {
        "type": "https://cims-ledger.example/problems/fairness.allegations-not-served",
        "title": "Refused by CIMS policy",
        "status": 422,
        "detail": "carer-1 has not been served the allegations in writing",
        "instance": f"/v1/incidents/{_INCIDENT}/record-outcomes",
        "rule": "fairness.allegations-not-served",
        "errors": [
            {
                "field": "outcomes.0.subject_ref",
                "rule": "fairness.allegations-not-served",
                "message": "carer-1 has not been served the allegations in writing",
            }
        ],
    },
}
RESPONSE_EXAMPLES["Ready"] = {
    "status": "ready",
    "problems": [],
    "development_sign_in": False,
    "max_lag_seconds": 0.0,
    "max_lag_seconds_allowed": 30.0,
    "read_models": [
        {
            "name": "incident_summary",
            "position": 1291,
            "lag": 0,
            "lag_seconds": 0.0,
            "error": None,
            "error_position": None,
            "rebuilding": False,
        }
    ],
    "max_lag": 0,
    "behind": False,
    "follower": {"state": "listening", "last_error": None, "seconds_since_caught_up": 0.4},
}
RESPONSE_EXAMPLES["SignInOut"] = {"development": False, "oidc": None}

_SUBSCRIPTION = {
    "id": "5b0c7c1e-8f0e-4a53-9d43-2f4c0f1f6d21",
    "email": "mel.manager@northside.example",
    "organisation": "Northside Community Services",
    "subject": "mel.manager",
    "scope": "worklist",
    "since": "2025-03-03T22:15:00Z",
}
RESPONSE_EXAMPLES["SubscriptionOut"] = _SUBSCRIPTION
RESPONSE_EXAMPLES["SubscriptionList"] = {"items": [_SUBSCRIPTION], "next_cursor": None}
RESPONSE_EXAMPLES["EndedSubscription"] = {**_SUBSCRIPTION, "ended_at": "2025-03-20T01:00:00Z"}
RESPONSE_EXAMPLES["SubscriptionLog"] = {
    "items": [
        {
            "subscription_id": _SUBSCRIPTION["id"],
            "action": "subscribed",
            "email": _SUBSCRIPTION["email"],
            "subject": "mel.manager",
            "scope": "worklist",
            "actor_id": "mel.manager",
            "actor_role": "incident_manager",
            "actor_organisation": "Northside Community Services",
            "at": "2025-03-03T22:15:00.000000Z",
        }
    ],
    "next_cursor": None,
}
RESPONSE_EXAMPLES["SentReminders"] = {
    "items": [
        {
            "id": "9f2c4d1a0b7e6c35",
            "threshold": "due_soon",
            "incident_ids": [_INCIDENT],
            "obligations": ["investigation_or_review"],
            "queued_at": "2025-03-31T20:00:00.000000Z",
            "status": "sent",
            "sent_at": "2025-03-31T20:00:02.000000Z",
            "subject": f"CIMS due soon: incident {_INCIDENT[:8]}",
            "attempts": 1,
        }
    ],
    "next_cursor": None,
}
_DOCUMENT_ID = "0c9b1c55-3f7e-4d8e-9d2e-6f1c2a7b8e90"
RESPONSE_EXAMPLES["DocumentList"] = {
    "id": _INCIDENT,
    "items": [
        {
            "document_id": _DOCUMENT_ID,
            "kind": "allegations_letter",
            "kind_label": "Allegations letter",
            "file_name": "allegations-letter-carer-1.pdf",
            "media_type": "application/pdf",
            "size": 48213,
            "sha256": "3f1d0a9c6b2e4f7a8d5c1b0e9f2a4c6d8e0b1a3c5d7f9e1b2c4d6f8a0b2c4d6e",
            "version": 6,
            "supports_version": None,
            "named_by_versions": [7],
            "added_at": "2025-03-06T03:10:00Z",
            "added_by": {
                "id": "ivan.investigator",
                "role": "investigator",
                "organisation": "Northside Community Services",
            },
            "superseded": False,
            "superseded_by": None,
            "superseded_reason": None,
            "href": f"/v1/incidents/{_INCIDENT}/documents/{_DOCUMENT_ID}",
        }
    ],
    "may_add": True,
    "kinds": [{"value": "allegations_letter", "label": "Allegations letter"}],
    "max_bytes": 268435456,
    "allowed_types": ["application/pdf", "image/jpeg"],
}
