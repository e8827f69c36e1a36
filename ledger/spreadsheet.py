"""CSV the ledger writes for people to open in a spreadsheet, with no live formulas.

A cell that begins with `=`, `+`, `-`, `@`, `|` or `%` is read as a formula by Excel, LibreOffice
or Google Sheets (OWASP "CSV injection"): `=HYPERLINK(...)` becomes a link, `+cmd|' /C calc'!A0`
runs a program. `defusedcsv` writes such a cell with a leading apostrophe, which a spreadsheet
shows as text; a cell that begins with a tab or a carriage return (also on OWASP's list, not on
defusedcsv's) is written the same way here. Plain numbers (`-3`, `1,000.5`) stay numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import IO, Any

from defusedcsv import csv as defused

# Leading characters OWASP lists beyond those defusedcsv escapes itself.
_LEADING_CONTROL = ("\t", "\r")


def _quoted(cell: Any) -> Any:
    return "'" + cell if isinstance(cell, str) and cell.startswith(_LEADING_CONTROL) else cell


class DictWriter:
    """`csv.DictWriter` (extra keys ignored) whose every cell, the header's too, is inert."""

    def __init__(self, out: IO[str], fieldnames: Iterable[str]) -> None:
        self.fieldnames = [_quoted(name) for name in fieldnames]
        self._writer = defused.DictWriter(out, fieldnames=self.fieldnames, extrasaction="ignore")

    def writeheader(self) -> None:
        self._writer.writeheader()

    def writerow(self, row: Mapping[str, Any]) -> None:
        self._writer.writerow({_quoted(k): _quoted(v) for k, v in row.items()})
