"""One way to page every list the API answers with.

Ask with `?cursor=` (omitted for the first page) and `?limit=`; the answer is
`{"items": [...], "next_cursor": ...}`, with `Link: <...>; rel="next"` when there is a next page.
A cursor is opaque: pass back the `next_cursor` you were given, never build one.

Two kinds of list, one loop for both (stop when `next_cursor` is null or `items` is empty):
- a list of what is there now (incidents, the worklist, unresolved imports, a client's
  incidents, possible patterns): `next_cursor` is null on the last page;
- a log that only grows (a regulator's feed, the access log, an incident's audit trail):
  `next_cursor` is always given, the place after the last item read (or the cursor sent, on an
  empty page), so a follower keeps it and asks again later; an empty page means caught up.

The old names (`after=` on the logs and unresolved imports, `next_after` in the latter's answer)
are accepted for this release only and marked deprecated in `/openapi.json`
(docs/api-contract.md)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Query, Request, Response

from api.problems import invalid
from api.schemas import MAX_INT

T = TypeVar("T")
CURSOR_MAX = 1_000
Cursor = Annotated[
    str | None,
    Query(
        max_length=CURSOR_MAX,
        description="Where to start: the previous page's `next_cursor`, passed back as given "
        "(opaque); omit for the first page.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=500, description="At most this many items.")]
DeprecatedAfter = Annotated[
    str | None,
    Query(
        max_length=CURSOR_MAX,
        deprecated=True,
        description="Deprecated (accepted for this release only): the old name of `cursor`.",
    ),
]


LINK = {
    "Link": {
        "description": 'When there is a next page: `<its URL>; rel="next"` (RFC 8288).',
        "schema": {"type": "string"},
    }
}


def bad_cursor(field: str = "cursor") -> Exception:
    return invalid(field, "schema.cursor", f"{field} is not one this API returned as next_cursor")


def given(cursor: str | None, after: str | None) -> tuple[str | None, str]:
    """The cursor asked with (`cursor=`, or the deprecated `after=`) and the parameter's name;
    both at once is a 422."""
    if cursor is not None and after is not None:
        raise invalid("after", "schema.cursor-or-after", "give cursor (or after), not both")
    return (cursor, "cursor") if after is None else (after, "after")


def position(cursor: str | None, after: str | None = None) -> int:
    """The log position a log's cursor (or the deprecated `after=`) stands for: 0 without one.

    A log's cursor is the position of the last item read (a whole number of at most 2**62); any
    other text is a 422 naming the parameter (`schema.cursor`)."""
    text, field = given(cursor, after)
    if text is None:
        return 0
    if not text.isascii() or not text.isdigit() or int(text) > MAX_INT:
        raise bad_cursor(field)
    return int(text)


def log_page(items: list[dict[str, Any]], key: str, start: int) -> dict[str, Any]:
    """A page of a log: `next_cursor` the position of its last item (`key`), else `start`."""
    return {"items": items, "next_cursor": str(items[-1][key] if items else start)}


def _encode(key: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode()


def _decode(cursor: str, field: str) -> list[Any]:
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise bad_cursor(field) from None
    if not isinstance(key, list):
        raise bad_cursor(field)
    return key


def page_of(
    items: Sequence[T],
    key: Callable[[T], list[Any]],
    cursor: str | None,
    limit: int,
    *,
    field: str = "cursor",
    descending: bool = False,
) -> tuple[list[T], str | None]:
    """A keyset page of a list computed whole (`items` in ascending `key` order, or descending
    with `descending`): the items after the cursor's key, at most `limit`, and the next cursor
    (None on the last page)."""
    rest = list(items)
    if cursor is not None:
        after = _decode(cursor, field)
        try:
            rest = [i for i in rest if (key(i) < after if descending else key(i) > after)]
        except TypeError:  # a key of another shape than this list's
            raise bad_cursor(field) from None
    page = rest[:limit]
    return page, _encode(key(page[-1])) if len(rest) > limit else None


def answer(
    request: Request, response: Response, items: list[Any], next_cursor: str | None
) -> dict[str, Any]:
    """A page of a list of what is there now: `items` and `next_cursor`, with its `Link`."""
    link_next(request, response, next_cursor)
    return {"items": items, "next_cursor": next_cursor}


def link_next(request: Request, response: Response, next_cursor: str | None) -> None:
    """`Link: <this request, at next_cursor>; rel="next"` (RFC 8288), when there is one."""
    if next_cursor is None:
        return
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("cursor", "after")]
    url = request.url.replace_query_params(**dict(query), cursor=next_cursor)
    response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
