"""Structured logs: one JSON object a line on stderr, rendered by structlog.

The code logs through the standard library (`logging.getLogger("cims.…")`, fields as `extra`),
so a command that has not configured logging (every `cims` command but the services) prints
nothing of it on stdout; `configure` is called by the services (`cims serve` and each of its
workers, `cims projections run`, `cims projections push`). Every line carries `timestamp` (UTC,
ISO 8601), `level`, `logger` and `event`, plus the fields of its kind:

- `cims.http` `request`: `request_id`, `method`, `route` (the template, never the query),
  `status`, `latency_ms`, and `principal`, `role`, `organisation` when a token was accepted;
- `cims.projections` `batch applied` / `read model failed`: `read_model`, `first`, `last`,
  `events`, `ms` / `position`, `error`;
- `cims.webhooks` `delivered` / `delivery failed`: `regulator`, `url`, `items`, `cursor` /
  `error`, `failures`, `retry_in_seconds`.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog


def _without_colours(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    event.pop("color_message", None)  # uvicorn's terminal copy of the message
    return event


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a record is emitted, not the stream it was
    when configured: a process (or a test) that swaps stderr is still written to, and a
    follower thread that outlives a swapped stream never writes to a closed one."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def configure(log_format: str = "json", level: str = "info") -> None:
    """Route every log record of this process to stderr, rendered as `log_format` (`json`
    or `console`), from `level` up. Uvicorn's own loggers go the same way (its access log is
    off: the API writes its own request lines)."""
    chain: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        _without_colours,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(default=str)
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=chain,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        found = logging.getLogger(name)
        found.handlers = []
        found.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
