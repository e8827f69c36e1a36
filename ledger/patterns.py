"""Patterns of harm across one client's incidents (policy §5, our reading [C]).

Which incidents are about one client; when several non-major ones make a possible pattern (the
window and the count are policy-table numbers); and the two decisions a person makes about it:
escalate (a new major-impact report naming the incidents, each linked to it) or dismiss.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.persistence import IntegrityError

from domain.errors import VersionConflict
from domain.incident import Incident
from domain.policy_table import PolicyNumbers
from domain.rules import classification, patterns
from domain.rules.patterns import ClientOf
from domain.values import Stamp
from ledger.application import Accepted, Ledger, check_text, check_times, incident_id_for
from ledger.receipts import CommandKey, Receipt

_DISMISSAL_NAMESPACE = uuid5(NAMESPACE_URL, "urn:cims-ledger:pattern-dismissal")


@dataclass(frozen=True)
class PatternItem:
    """What suggesting a pattern reads of one incident."""

    incident_id: UUID
    client: ClientOf
    became_aware_at: datetime
    non_major: bool
    current: bool  # neither withdrawn nor assessed out of scope
    linked: bool


@dataclass(frozen=True)
class Suggestion:
    """A possible pattern: these incidents (oldest first), about one client, for a person."""

    incident_ids: tuple[UUID, ...]
    client_refs: tuple[str, ...]
    department_client_ids: tuple[str, ...]


def client_groups(items: Sequence[PatternItem]) -> list[list[PatternItem]]:
    """The items grouped by client: joined within an organisation by ref or department
    identifier, across organisations by the department identifier (`same_client`)."""
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_by_key: dict[tuple[str, ...], int] = {}
    for i, item in enumerate(items):
        keys: list[tuple[str, ...]] = [
            ("ref", item.client.organisation, r) for r in item.client.refs
        ]
        keys += [("department", d) for d in item.client.department_ids]
        for key in keys:
            if key in first_by_key:
                parent[root(i)] = root(first_by_key[key])
            else:
                first_by_key[key] = i
    groups: dict[int, list[PatternItem]] = {}
    for i, item in enumerate(items):
        groups.setdefault(root(i), []).append(item)
    return list(groups.values())


def suggest(
    items: Iterable[PatternItem],
    *,
    now: datetime,
    policy: PolicyNumbers,
    dismissed: Iterable[frozenset[UUID]] = (),
) -> list[Suggestion]:
    """Possible patterns: `policy.pattern_min_incidents` or more current, unlinked, non-major
    incidents about one client that the provider became aware of in the last
    `policy.pattern_window_days` days, unless a person dismissed a suggestion naming all of
    them already. Only what `items` holds is considered: a caller gives a provider only its own
    incidents, so a provider's suggestions never reflect another provider's."""
    since = now - timedelta(days=policy.pattern_window_days)
    candidates = [
        i
        for i in items
        if i.non_major and i.current and not i.linked and since <= i.became_aware_at <= now
    ]
    dismissed_sets = list(dismissed)
    found = []
    for group in client_groups(candidates):
        ids = frozenset(i.incident_id for i in group)
        if len(group) < policy.pattern_min_incidents:
            continue
        if any(ids <= gone for gone in dismissed_sets):
            continue
        group.sort(key=lambda i: (i.became_aware_at, str(i.incident_id)))
        found.append(
            Suggestion(
                incident_ids=tuple(i.incident_id for i in group),
                client_refs=tuple(sorted({r for i in group for r in i.client.refs})),
                department_client_ids=tuple(
                    sorted({d for i in group for d in i.client.department_ids})
                ),
            )
        )
    found.sort(key=lambda s: [str(i) for i in s.incident_ids])
    return found


def escalate(
    ledger: Ledger,
    *,
    stamp: Stamp,
    pattern_of: Sequence[UUID],
    reason: str,
    expected_versions: dict[UUID, int] | None = None,
    key: CommandKey | None = None,
    **report: object,
) -> Accepted:
    """Report a new major-impact incident for the pattern formed by `pattern_of`, and link each
    of those incidents to it, all in one transaction (with `key`'s receipt, if given: a repeat
    is answered with the first answer). `expected_versions`, where given, are the versions of
    the linked incidents the caller decided on (a later change is a conflict)."""
    patterns.require_several(pattern_of)
    check_text(stamp, {**report, "reason": reason})
    aware = getattr(report.get("details"), "became_aware_at", None)
    check_times(stamp, report, became_aware_at=aware)
    linked = [ledger.incident(i) for i in pattern_of]
    for incident in linked:
        _require_version(incident, expected_versions)
    new = Incident.escalate_pattern(
        pattern_of, reason, stamp=stamp, incident_id=incident_id_for(stamp, key), **report
    )
    _require_one_client(stamp, [new, *linked])
    seen = {i.id: i.version for i in linked}
    for incident in linked:
        incident.link_to_pattern(new.id, stamp=stamp)
    receipts = [Receipt(key, new.id, 1)] if key is not None else []
    try:
        recordings = ledger.save(new, *linked, receipts=receipts)
    except IntegrityError:
        replayed = _replayed(ledger, new.id, stamp)
        if replayed is None and key is not None:
            replayed = ledger.recall(key)
        if replayed is not None:
            return replayed
        raise _conflict(ledger, seen) from None
    first = next(r for r in recordings if r.domain_event.originator_id == new.id)
    return Accepted(new.id, 1, first.notification.id, first.domain_event)  # type: ignore[arg-type]


def dismiss(
    ledger: Ledger,
    *,
    stamp: Stamp,
    incident_ids: Sequence[UUID],
    reason: str,
    expected_versions: dict[UUID, int] | None = None,
    key: CommandKey | None = None,
) -> tuple[UUID, list[Accepted]]:
    """Record that a person dismissed the possible pattern these incidents form, with the
    reason, on each of them (one transaction); a suggestion naming only these does not return."""
    patterns.require_several(incident_ids)
    classification.require_reason(reason)
    check_text(stamp, {"reason": reason})
    incidents = [ledger.incident(i) for i in incident_ids]
    for incident in incidents:
        _require_version(incident, expected_versions)
    _require_one_client(stamp, incidents)
    dismissal_id = (
        uuid5(_DISMISSAL_NAMESPACE, f"key:{key.organisation}\x1f{key.subject}\x1f{key.key}")
        if key is not None
        else uuid5(_DISMISSAL_NAMESPACE, f"{stamp.actor.organisation}:{stamp.command_id}")
        if stamp.command_id
        else uuid4()
    )
    # The same command was recorded already: answer as it was answered (`recall` raises when
    # the key was first used for another request).
    done = ledger.recall(key) is not None if key is not None else None
    if done or (done is None and all(dismissal_id in i.pattern_dismissals for i in incidents)):
        return dismissal_id, _recorded(ledger, incidents, dismissal_id)
    seen = {i.id: i.version for i in incidents}
    for incident in incidents:
        incident.dismiss_pattern_suggestion(dismissal_id, reason, stamp=stamp)
    first = incidents[0]
    receipts = [Receipt(key, first.id, first.version)] if key is not None else []
    try:
        recordings = ledger.save(*incidents, receipts=receipts)
    except IntegrityError:
        if key is not None:
            ledger.recall(key)  # raises when the key was first used for another request
        current = [ledger.incident(i.id) for i in incidents]
        if all(dismissal_id in i.pattern_dismissals for i in current):
            return dismissal_id, _recorded(ledger, current, dismissal_id)
        raise _conflict(ledger, seen) from None
    return dismissal_id, [
        Accepted(
            r.domain_event.originator_id,
            r.domain_event.originator_version,
            r.notification.id,
            r.domain_event,  # type: ignore[arg-type]
        )
        for r in recordings
    ]


def recorded_dismissal(
    ledger: Ledger, incident_ids: Sequence[UUID], dismissal_id: UUID
) -> list[Accepted]:
    """Each incident's event recording this dismissal, as first answered."""
    return _recorded(ledger, [ledger.incident(i) for i in incident_ids], dismissal_id)


def _recorded(ledger: Ledger, incidents: Sequence[Incident], dismissal_id: UUID) -> list[Accepted]:
    """Each incident's event recording this dismissal, as first answered."""
    head = ledger.recorder.max_notification_id()
    found = []
    for incident in incidents:
        events = ledger.incident_events(incident.id)
        event = next(e for e in events if getattr(e, "dismissal_id", None) == dismissal_id)
        found.append(Accepted(incident.id, event.originator_version, head, event))
    return found


def _conflict(ledger: Ledger, seen: dict[UUID, int]) -> VersionConflict:
    """Another writer changed one of the incidents after it was read: name the first."""
    for incident_id, version in seen.items():
        current = ledger.incident(incident_id).version
        if current != version:
            return VersionConflict(incident_id, version, current)
    return VersionConflict(next(iter(seen)), 0, 0)  # pragma: no cover - the key was taken


def _require_one_client(stamp: Stamp, incidents: Sequence[Incident]) -> None:
    parts = [ClientOf.of(i.reporting_organisation, i.clients) for i in incidents]
    patterns.require_department_across_providers(stamp.actor.role, {p.organisation for p in parts})
    patterns.require_one_client(parts)


def _require_version(incident: Incident, expected: dict[UUID, int] | None) -> None:
    wanted = (expected or {}).get(incident.id)
    if wanted is not None and wanted != incident.version:
        raise VersionConflict(incident.id, wanted, incident.version)


def _replayed(ledger: Ledger, incident_id: UUID, stamp: Stamp) -> Accepted | None:
    if not stamp.command_id:
        return None
    stored = list(ledger.events.get(incident_id, lte=1))
    if not stored or getattr(stored[0], "command_id", None) != stamp.command_id:
        return None
    return Accepted(incident_id, 1, ledger.recorder.max_notification_id(), stored[0])  # type: ignore[arg-type]
