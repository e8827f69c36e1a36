"""Request bodies refused before any handler sees them: too large, not UTF-8, nested too deep,
a key given twice, or text with control characters."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import TYPE_BASE
from domain.rules.text import CONTROL

# Members of a body whose text is a file read row by row later (`POST /v1/legacy-imports`'s
# `csv`): the same rule (domain/rules/text.py) refuses a bad row with its line and column
# there, while the good rows import, instead of the whole file being refused here.
CHECKED_ROW_BY_ROW = {"/v1/legacy-imports": "csv"}


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    """True when JSON nests deeper than `limit`: refused before a parser recurses into it."""
    depth, in_string, escaped = 0, False, False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


def _control_character_at(value: Any, path: str = "") -> str | None:
    """Where a string (key or value) holds a control character other than tab, CR or LF."""
    if isinstance(value, str):
        return (path or "body") if CONTROL.search(value) else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        where = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and CONTROL.search(key):
            return where
        found = _control_character_at(item, where)
        if found is not None:
            return found
    return None


def json_hazard(
    body: bytes, row_by_row: str | None = None
) -> tuple[int, str, str, str, str | None] | None:
    """What makes a JSON body unsafe to take though it parses: a key given twice (which value
    counts differs between parsers), or a control character such as NUL (which PostgreSQL's
    text columns and the regulators' systems refuse). `None` when neither, or when the body is
    not JSON at all (the schema check answers that). `row_by_row` names a top-level member
    whose text is checked row by row later (see `CHECKED_ROW_BY_ROW`)."""
    try:
        parsed = json.loads(body, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        return 400, "duplicate-key", "Duplicate JSON key", f"the key {exc} is given twice", str(exc)
    except ValueError:
        return None
    if row_by_row is not None and isinstance(parsed, dict):
        parsed = {k: v for k, v in parsed.items() if k != row_by_row}
    where = _control_character_at(parsed)
    if where is not None:
        return (
            422,
            "control-character",
            "Control character in text",
            "text may hold no control characters other than tab, CR and LF",
            where,
        )
    return None


class BodyGuard:
    """Refuses oversized, non-UTF-8, too deeply nested, duplicate-keyed or control-character
    request bodies with a clear 4xx, before any handler sees them."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        max_depth: int,
        streamed: re.Pattern[str] | None = None,
    ) -> None:
        self.app, self.max_bytes, self.max_depth = app, max_bytes, max_depth
        # Paths whose bodies are not JSON and are read as a stream by their handler, which
        # bounds them itself (document uploads).
        self.streamed = streamed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        if self.streamed is not None and self.streamed.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            await self._refuse(
                send,
                400,
                "invalid-utf8",
                "Body is not UTF-8",
                "JSON bodies must be encoded as UTF-8",
            )
            return
        if json_depth_exceeds(body, self.max_depth):
            await self._refuse(
                send,
                400,
                "json-too-deep",
                "JSON nested too deeply",
                f"JSON may nest at most {self.max_depth} levels",
            )
            return
        hazard = json_hazard(body, CHECKED_ROW_BY_ROW.get(scope["path"]))
        if hazard is not None:
            await self._refuse(send, *hazard)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        await self._refuse(
            send,
            413,
            "body-too-large",
            "Request body too large",
            f"the body is over {self.max_bytes} bytes",
        )

    @staticmethod
    async def _refuse(
        send: Send, status: int, slug: str, title: str, detail: str, field: str | None = None
    ) -> None:
        problem: dict[str, object] = {
            "type": TYPE_BASE + slug,
            "title": title,
            "status": status,
            "detail": detail,
        }
        if field is not None:
            problem["errors"] = [{"field": field, "rule": f"schema.{slug}", "message": detail}]
        payload = orjson.dumps(problem)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
