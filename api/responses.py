"""JSON responses written with orjson (UTC instants, UUIDs and enums as the events have them)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse

SECURITY_HEADERS = [
    # Incident records are personal data: no cache, proxy or browser may keep a copy.
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class JSON(JSONResponse):
    """A `JSONResponse` (so FastAPI documents its body as JSON, not a string) rendered by orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class ProblemJSON(JSON):
    media_type = "application/problem+json"
