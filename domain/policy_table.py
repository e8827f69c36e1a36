"""The policy's numbers, effective-dated: an incident is judged by the version in force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

MELBOURNE = ZoneInfo("Australia/Melbourne")


@dataclass(frozen=True)
class PolicyNumbers:
    version: str
    effective_from: datetime
    report_business_days: int
    regulator_short_form_business_days: int
    investigation_days: int
    incident_review_days: int
    rcs_ccyp_notice_business_days: int
    rcs_ccyp_details_days: int
    close_of_business: time
    # How far ahead of the ledger's clock a stated time may be (clocks disagree a little) [C].
    clock_skew_seconds: int = 300
    # A step recorded more business days than this after its effective time is `recorded_late`.
    late_recording_business_days: int = 1
    # [C] Patterns of harm (§5): this many non-major incidents about one client that the provider
    # became aware of within this many days make a "possible pattern" for a person to decide on.
    pattern_window_days: int = 90
    pattern_min_incidents: int = 3


POLICY_VERSIONS: tuple[PolicyNumbers, ...] = (
    # Client incident management guide (2017/2018) and policy update 1-2020: incidents
    # submitted before the new policy keep the follow-up rules they were reported under.
    PolicyNumbers(
        version="CIMS-2018",
        effective_from=datetime(2018, 1, 15, tzinfo=MELBOURNE),
        report_business_days=3,
        regulator_short_form_business_days=1,
        investigation_days=28,
        incident_review_days=21,
        rcs_ccyp_notice_business_days=3,
        rcs_ccyp_details_days=30,
        close_of_business=time(17, 0),
    ),
    PolicyNumbers(
        version="CIMS-2024-12",
        effective_from=datetime(2024, 12, 9, tzinfo=MELBOURNE),
        report_business_days=3,
        regulator_short_form_business_days=1,
        investigation_days=28,
        incident_review_days=28,
        rcs_ccyp_notice_business_days=3,
        rcs_ccyp_details_days=30,
        close_of_business=time(17, 0),
    ),
)


def policy_at(moment: datetime) -> PolicyNumbers:
    """The policy version in force at `moment` (the earliest one for anything before it)."""
    in_force = [p for p in POLICY_VERSIONS if p.effective_from <= moment]
    return in_force[-1] if in_force else POLICY_VERSIONS[0]


def policy_named(version: str) -> PolicyNumbers:
    return next(p for p in POLICY_VERSIONS if p.version == version)
