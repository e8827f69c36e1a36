"""The command line and text a terminal would obey, or a file the ledger cannot read as it is:
a control character stored before the text rule is shown escaped by `cims replay history` (and
every table and JSON the CLI writes), never raw; a legacy CSV that is not UTF-8 is refused in one
line naming the encoding expected; with a byte order mark it imports; a row with a NUL or a
140,000-character cell is refused by line while the good rows import. On both stores."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from uuid import uuid4

import pytest

from domain.incident import Incident
from domain.values import Actor, Role, Stamp
from ledger.application import Ledger
from tests.cli.conftest import Cims, error_lines
from tests.factories import START, report_fields

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "legacy_export.csv"
# What a terminal obeys: NUL, ESC (a colour), CSI (U+009B; with `2J`, clear the screen), NEL.
RAW = ("\x00", "\x1b", "\x9b", "\x85")

pytestmark = pytest.mark.store


def stored_before_the_rule(database_url: str) -> str:
    """An incident whose reporter and description hold control characters, saved past the
    rule (as a store kept them before there was one)."""
    fields = report_fields()
    description = "Bruise\x9b2J on arm\x1b[31m red\x00 nul\x85 next line"
    fields["details"] = fields["details"].model_copy(update={"description": description})
    actor = Actor(id="mel\x1b[31m\x00", role=Role.INCIDENT_MANAGER, organisation="North\x9b2J")
    with Ledger.from_url(database_url) as ledger:
        incident = Incident.report(
            stamp=Stamp(actor=actor, now=START), incident_id=uuid4(), **fields
        )
        ledger.save(incident)
        return str(incident.id)


def test_replay_history_shows_a_stored_control_character_escaped_never_raw(
    cims: Cims, database_url: str
) -> None:
    incident_id = stored_before_the_rule(database_url)

    shown = cims("replay", "history", incident_id, env={"COLUMNS": "400"})
    as_json = cims("replay", "history", incident_id, "--json")

    assert shown.exit_code == 0 and as_json.exit_code == 0, shown.output
    for text in (shown.stdout, as_json.stdout):
        assert not any(c in text for c in RAW), repr(text)
    assert "mel\\x1b[31m\\x00" in shown.stdout and "by North\\x9b2J" in shown.stdout
    events = json.loads(as_json.stdout)["events"]
    assert any("North\x9b2J" in json.dumps(e, ensure_ascii=False) for e in events)


def example_rows() -> list[dict[str, str]]:
    with EXAMPLE.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_csv(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> None:
    with path.open("w", newline="", encoding=encoding) as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def ten_good_rows() -> list[dict[str, str]]:
    first = example_rows()[0]
    return [first | {"legacy_id": f"GOOD-{n}"} for n in range(10)]


def imported(database_url: str) -> int:
    with Ledger.from_url(database_url) as ledger:
        return len(list(ledger.incident_ids()))


def refused_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_a_windows_1252_file_is_refused_in_one_line_naming_utf_8(
    cims: Cims, database_url: str, tmp_path: Path
) -> None:
    rows = ten_good_rows()
    rows[3]["description"] = "Client said \u201ccaf\u00e9\u201d was closed \u2013 no harm."
    write_csv(tmp_path / "cp1252.csv", rows, encoding="cp1252")

    result = cims("import", "legacy", str(tmp_path / "cp1252.csv"), "--by", "dora")

    assert result.exit_code == 1
    (line,) = error_lines(result)
    assert line.startswith("cims: error: ") and "line 5 is not UTF-8" in line
    assert "with or without a byte order mark" in line
    assert "Traceback" not in result.output
    assert imported(database_url) == 0


def test_a_utf_8_file_with_a_byte_order_mark_imports(
    cims: Cims, database_url: str, tmp_path: Path
) -> None:
    write_csv(tmp_path / "bom.csv", ten_good_rows(), encoding="utf-8-sig")

    result = cims("import", "legacy", str(tmp_path / "bom.csv"), "--by", "dora")

    assert result.exit_code == 0, result.output
    assert imported(database_url) == 10


def test_a_nul_row_and_a_140000_character_cell_are_refused_by_line_and_ten_good_rows_import(
    cims: Cims, database_url: str, tmp_path: Path
) -> None:
    good = ten_good_rows()
    nul = good[0] | {"legacy_id": "NUL-1", "organisation": "Northside\x00 CSO"}
    huge = good[0] | {"legacy_id": "HUGE-1", "description": "x" * 140_000}
    write_csv(tmp_path / "mixed.csv", [*good[:4], nul, *good[4:8], huge, *good[8:]])
    refused = tmp_path / "refused.csv"

    result = cims(
        "import", "legacy", str(tmp_path / "mixed.csv"), "--by", "dora", "--refused", str(refused)
    )

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert imported(database_url) == 10
    assert [(r["line"], r["reason"].split(":")[0]) for r in refused_rows(refused)] == [
        ("6", "organisation"),
        ("11", "row"),
    ]
    assert "control character (U+0000)" in refused_rows(refused)[0]["reason"]


def test_a_reason_or_a_name_too_long_for_a_record_is_one_line_from_the_command_line(
    cims: Cims, tmp_path: Path
) -> None:
    ids = [str(uuid4()), str(uuid4())]

    long_reason = cims("patterns", "dismiss", *ids, "--reason", "r" * 50_001, "--by", "dora")
    long_name = cims("import", "legacy", str(EXAMPLE), "--by", "d" * 201)

    assert long_reason.exit_code == 1
    (line,) = error_lines(long_reason)
    assert line.startswith("cims: error: refused (text.too-long): reason is 50,001 characters")
    assert long_name.exit_code == 2
    (line,) = error_lines(long_name)
    assert line.startswith("cims: error: --by: ") and "200 characters" in line
