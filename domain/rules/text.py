"""Storable text: what a record says in words can be kept by every store and shown on every screen.

Not a clause of the policy but what keeping its records rests on (policy §1, records are kept and
read later by auditors and regulators): every way into the log (a command through the API or the
command line, the old system's records, the demo data) passes this one rule, as strict as the
strictest store. PostgreSQL's text cannot hold NUL (U+0000); the other control characters, C0
(U+0001-U+001F, DEL) and C1 (U+0080-U+009F), are not text at all but instructions to a terminal
or printer (U+009B then `2J` clears a screen), so a record may hold none of them. Tab and line
breaks stay: free text is written in paragraphs. And no text is longer than the longest field a
record has (an account, `NARRATIVE_MAX`): each way in may bound its fields tighter (the API does,
field by field), none looser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel

from domain.errors import PolicyViolation
from domain.values import NARRATIVE_MAX

# C0 controls but tab, line feed and carriage return; DEL; the C1 controls.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_character(text: str) -> str | None:
    """The first control character `text` holds, named as `U+0000`; `None` when it holds none
    other than tab and line breaks."""
    found = CONTROL.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def require_storable_text(text: str, field: str) -> None:
    """Text holds no control character but tab and line breaks: every store keeps it, and every
    screen shows it as written; nor is it longer than the longest field of a record."""
    if len(text) > NARRATIVE_MAX:
        raise PolicyViolation(
            "text.too-long",
            f"{field} is {len(text):,} characters long; no text in a record is longer than"
            f" {NARRATIVE_MAX:,}",
            field=field,
        )
    found = control_character(text)
    if found is not None:
        raise PolicyViolation(
            "text.control-character",
            f"{field} holds a control character ({found}); text may hold tab and line breaks"
            " but no other control character",
            field=field,
        )


def require_storable_texts(args: Mapping[str, Any]) -> None:
    """One rule for every command: each text it carries is storable (`require_storable_text`)."""
    for field, text in texts(args):
        require_storable_text(text, field)


def texts(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every text inside a command's arguments (keys of mappings included), with its dotted
    field path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from texts(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str):
                yield where, key
            yield from texts(item, where)
    elif isinstance(value, list | tuple | set | frozenset):
        for n, item in enumerate(value):
            yield from texts(item, f"{path}[{n}]")
