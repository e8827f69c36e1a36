"""Query strings taken strictly: a parameter the operation does not document, or one given
twice, is a 422 naming it (not a silently ignored filter and an unfiltered 200)."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request
from fastapi._compat import ModelField
from fastapi.dependencies.models import Dependant

from api.problems import invalid
from domain.rules.times import require_displayable


async def strict_query(request: Request) -> None:
    """Refuse unknown and repeated query parameters of the matched operation."""
    if not request.scope.get("query_string"):
        return  # nothing given, nothing to refuse (most commands)
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = {p.alias for p in _query_params(dependant)}
    seen: set[str] = set()
    for name, _ in request.query_params.multi_items():
        if name not in known:
            raise invalid(
                name,
                "schema.query-unknown",
                f"{name} is not a parameter of this operation"
                + (f" (it takes {', '.join(sorted(known))})" if known else ""),
            )
        if name in seen:
            raise invalid(name, "schema.query-repeated", f"give {name} at most once")
        seen.add(name)


def _query_params(dependant: Dependant) -> list[ModelField]:
    found = list(dependant.query_params)
    for sub in dependant.dependencies:
        found += _query_params(sub)
    return found


def instant(value: datetime, name: str) -> datetime:
    """An instant given in a query parameter, held to what every instant a command carries is
    held to: an offset (422 `schema.aware-datetime`) and 1900 to 2199 (422 `time.out-of-range`), so
    nothing computed from it (a window back from it, a conversion to UTC) can overflow."""
    if value.tzinfo is None:
        raise invalid(name, "schema.aware-datetime", f"{name} must carry a UTC offset")
    require_displayable(value, name)
    return value
