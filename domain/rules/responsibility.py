"""Who is responsible for an incident, and so who sees it: changed only by a command that says so.

[C] A provider sees the incidents it reports or is named responsible for (design §6). The
organisation named responsible (`other_provider`) therefore decides who reads a record about a
child's harm; it is changed by `change_responsible_organisation` alone, whose event names the
change, never as a side effect of amending or correcting the report's facts.
"""

from __future__ import annotations

from domain.errors import PolicyViolation
from domain.values import DetailsChange

ACCESS_FIELDS = ("other_provider",)


def require_access_unchanged(changes: DetailsChange) -> None:
    """An amendment or correction changes the facts of the report, not who may see it."""
    for name in ACCESS_FIELDS:
        if name in changes.model_fields_set and getattr(changes, name) is not None:
            raise PolicyViolation(
                "access.responsible-organisation-by-command",
                "the responsible organisation decides who sees the record: change it with "
                "change-responsible-organisation, not by amending or correcting the facts",
                field=f"changes.{name}",
            )


def require_a_change(new: str | None, current: str | None) -> None:
    """A change of responsible organisation names a different one (or removes it)."""
    if new == current:
        raise PolicyViolation(
            "access.responsible-organisation-unchanged",
            "that organisation is already the one responsible",
            field="other_provider",
        )


def require_not_the_reporter(
    new: str | None, reporting_organisation: str, field: str = "other_provider"
) -> None:
    """The responsible organisation is another provider than the one that reported, whether
    named on the report or changed after (a report cannot name its own organisation)."""
    if new is not None and new == reporting_organisation:
        raise PolicyViolation(
            "access.responsible-organisation-is-reporter",
            "the reporting organisation sees the incident already; name another organisation",
            field=field,
        )
