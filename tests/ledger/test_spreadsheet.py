"""Every CSV the ledger writes opens in a spreadsheet with no live formula (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io

import pytest

from ledger import spreadsheet

FORMULAS = [
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
    "%0A=1",
]


def written(cells: list[str]) -> list[dict[str, str]]:
    out = io.StringIO()
    writer = spreadsheet.DictWriter(out, fieldnames=[f"c{i}" for i in range(len(cells))])
    writer.writeheader()
    writer.writerow({f"c{i}": cell for i, cell in enumerate(cells)})
    return list(csv.DictReader(io.StringIO(out.getvalue())))


@pytest.mark.parametrize("formula", FORMULAS)
def test_a_cell_a_spreadsheet_would_evaluate_is_written_as_text(formula: str) -> None:
    [row] = written([formula])

    assert row["c0"].startswith("'")
    assert formula.replace("|", "\\|") in row["c0"]


def test_plain_text_and_numbers_are_written_as_they_are() -> None:
    cells = ["Client fell from a bunk bed.", "-3", "1,000.5", "NS-0042", "a = b"]

    assert written(cells) == [{f"c{i}": c for i, c in enumerate(cells)}]


def test_a_header_a_spreadsheet_would_evaluate_is_written_as_text() -> None:
    out = io.StringIO()
    spreadsheet.DictWriter(out, fieldnames=["=1+1", "reason"]).writeheader()

    assert out.getvalue().splitlines() == ["'=1+1,reason"]
