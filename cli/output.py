"""How the command line speaks: data on stdout, everything else on stderr, stored text literally.

Text read from the ledger (reasons, names, references, error messages) is written as rich
`Text`, never as a markup string: `[/]` or `[bold]` in a stored reason is shown as typed, not
interpreted (a stray `[/]` used to crash `cims replay history` for that incident for good).
A control character in it (one stored before the text rule, domain/rules/text.py) is shown
escaped, as `\x9b`, never written raw: the terminal would obey it (U+009B then `2J` clears
the screen). JSON output escapes them the same way (`\u009b`).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.text import Text

from domain.policy_table import MELBOURNE
from domain.values import Actor, Role

# Results a script may pipe (`| jq`): tables and JSON. Width 80 when not a terminal.
out = Console(highlight=False, emoji=False)
# Progress, the store in use, and one-line errors.
err = Console(stderr=True, highlight=False, emoji=False)


class CliError(Exception):
    """A user's mistake or an unusable store: one line on stderr, exit 1; nothing written."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class BadParameter(CliError):
    """A value given for a flag or an argument is not usable; the message names it (exit 2)."""

    def __init__(self, flag: str, message: str) -> None:
        super().__init__(f"{flag}: {message}", exit_code=2)


# What a terminal would obey rather than show: C0 but tab and line feed, DEL, and C1.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# What `json.dumps` leaves raw in a string: DEL and C1 (it escapes C0 itself).
_RAW_IN_JSON = re.compile("[\x7f-\x9f]")


def shown(text: str) -> str:
    """`text` with each control character a terminal would obey escaped (`\x9b`)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def actor(by: str, role: Role, organisation: str) -> Actor:
    """Who runs a command (`--by`, `--role`, `--organisation`); `BadParameter` (exit 2) naming
    the flag when a value is empty or longer than a reference may be (200 characters)."""
    try:
        return Actor(id=by, role=role, organisation=organisation)
    except ValidationError as exc:
        wrong = exc.errors()[0]
        flag = {"id": "--by", "organisation": "--organisation"}.get(str(wrong["loc"][0]), "--by")
        raise BadParameter(flag, str(wrong["msg"])) from None


AsJson = Annotated[bool, typer.Option("--json", help="JSON on stdout instead of a table")]


def literal(value: object) -> Text:
    """Stored text as it is: no markup, no emoji codes, no highlighting, control characters
    escaped (`shown`)."""
    return Text("" if value is None else shown(str(value)))


def note(message: str) -> None:
    """A line for the person at the terminal (stderr), the message shown literally."""
    err.print(literal(message), soft_wrap=True)


def progress(doing: str, counted: str) -> Progress:
    """A progress bar on stderr: what is being done, the bar, and how many `counted` of all."""
    return Progress(
        TextColumn(doing), BarColumn(), MofNCompleteColumn(), TextColumn(counted), console=err
    )


def print_json(value: Any) -> None:
    """JSON on stdout, alone, so `| jq` always works (non-ASCII kept as is, but for the control
    characters a terminal would obey, escaped as JSON escapes them)."""
    text = json.dumps(value, indent=2, default=str, ensure_ascii=False)
    typer.echo(_RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def melbourne(moment: datetime | None) -> str:
    """An instant as Melbourne wall-clock time with its offset: `Tue 11 Mar 2025 17:00 +11:00`."""
    if moment is None:
        return "—"
    local = moment.astimezone(MELBOURNE)
    offset = local.strftime("%z")
    return f"{local:%a %d %b %Y %H:%M} {offset[:3]}:{offset[3:]}"


def melbourne_short(moment: datetime | None) -> str:
    """A deadline in a narrow column: `2025-03-11 17:00` (Melbourne)."""
    return "—" if moment is None else f"{moment.astimezone(MELBOURNE):%Y-%m-%d %H:%M}"


def melbourne_iso(moment: datetime | None, *, seconds: bool = False) -> str:
    """An instant in a table column: `2025-03-11 17:00+11:00` (Melbourne, with its offset;
    to the second with `seconds`, as histories show it)."""
    if moment is None:
        return "—"
    precision = "seconds" if seconds else "minutes"
    return moment.astimezone(MELBOURNE).isoformat(sep=" ", timespec=precision)
