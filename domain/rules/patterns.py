"""Policy §5: several non-major incidents about one client can form a pattern that reaches major.

Our reading [C]: a person decides. The ledger suggests a possible pattern (policy-table window and
count); escalating reports a new major-impact incident naming the incidents and the reason, and
links each of them to it; dismissing a suggestion is recorded with its reason.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from domain.errors import PolicyViolation
from domain.values import Client, Impact, Role


@dataclass(frozen=True)
class ClientOf:
    """Who an incident is about, as far as linking goes: its organisation and its clients."""

    organisation: str
    refs: frozenset[str]
    department_ids: frozenset[str]

    @classmethod
    def of(cls, organisation: str, clients: Sequence[Client]) -> ClientOf:
        return cls(
            organisation,
            frozenset(c.ref for c in clients),
            frozenset(c.department_client_id for c in clients if c.department_client_id),
        )


def same_client(a: ClientOf, b: ClientOf) -> bool:
    """Within one organisation a client is known by its ref or the department's identifier;
    across organisations only by the department's identifier."""
    if a.department_ids & b.department_ids:
        return True
    return a.organisation == b.organisation and bool(a.refs & b.refs)


def require_several(incident_ids: Collection[object]) -> None:
    """A pattern is formed by several incidents: at least two, each named once."""
    if len(set(incident_ids)) < 2 or len(set(incident_ids)) != len(incident_ids):
        raise PolicyViolation(
            "pattern.several-incidents",
            "a pattern names at least two different incidents, each once",
            field="pattern_of",
        )


def require_major(impact: Impact) -> None:
    """A pattern that reaches major is escalated as a new major-impact report."""
    if impact != Impact.MAJOR:
        raise PolicyViolation(
            "pattern.escalation-major",
            "a pattern is escalated as a new major-impact incident",
            field="impact",
        )


def require_non_major(impact: Impact) -> None:
    """Only non-major incidents form a pattern (a major one already owes its follow-up)."""
    if impact != Impact.NON_MAJOR:
        raise PolicyViolation(
            "pattern.incident-major",
            "a major-impact incident already owes its own follow-up; it is not part of a pattern",
            field="pattern_of",
        )


def require_not_linked(linked_to: object | None) -> None:
    """An incident is linked to one pattern escalation at most."""
    if linked_to is not None:
        raise PolicyViolation(
            "pattern.already-linked",
            f"the incident is already linked to the pattern escalated as {linked_to}",
            field="pattern_of",
        )


def require_current(withdrawn: bool, out_of_scope: bool) -> None:
    """A withdrawn or out-of-scope report is not evidence of a pattern of harm."""
    if withdrawn or out_of_scope:
        raise PolicyViolation(
            "pattern.incident-withdrawn",
            "a withdrawn or out-of-scope report does not form part of a pattern",
            field="pattern_of",
        )


def require_one_client(parts: Sequence[ClientOf]) -> None:
    """Every incident of a pattern is about one client: each is joined to the others by the same
    client (ref within an organisation, the department's identifier across organisations)."""
    if not parts:
        return
    reached = {0}
    grew = True
    while grew:
        grew = False
        for i, part in enumerate(parts):
            if i not in reached and any(same_client(part, parts[j]) for j in reached):
                reached.add(i)
                grew = True
    if len(reached) != len(parts):
        raise PolicyViolation(
            "pattern.different-clients",
            "the incidents are not all about one client (within an organisation the same ref or"
            " department client identifier; across organisations the department identifier)",
            field="pattern_of",
        )


def require_department_across_providers(role: Role, organisations: Collection[str]) -> None:
    """Incidents of several organisations are linked only by a department officer."""
    if len(set(organisations)) > 1 and role != Role.DEPARTMENT_OFFICER:
        raise PolicyViolation(
            "pattern.across-providers-department-only",
            "only a department officer links incidents of different organisations",
            field="pattern_of",
        )
