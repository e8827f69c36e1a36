"""The API holds text to the same rule as every other way into the log (domain/rules/text.py):
a command with a C1 control (U+009B) is refused naming the field; a legacy import refuses a row
with a NUL or a 140,000-character cell by its line while the good rows import (no 500); a CSV
with a UTF-8 byte order mark imports as it does through the CLI; a body that is not UTF-8 is a
problem+json naming UTF-8. On both stores."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Auth, report_body
from tests.api.test_patterns import officer

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "legacy_export.csv"

pytestmark = pytest.mark.store


def csv_text(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def ten_good_rows() -> list[dict[str, str]]:
    with EXAMPLE.open(newline="", encoding="utf-8") as f:
        first = next(csv.DictReader(f))
    return [first | {"legacy_id": f"GOOD-{n}"} for n in range(10)]


@pytest.mark.parametrize("bad", ["\x9b", "\x85", "\x80", "\x00", "\x1b"])
def test_a_report_with_a_control_character_is_refused_naming_the_field(
    client: TestClient, auth: Auth, bad: str
) -> None:
    body = report_body(description=f"Bruise on arm{bad}2J")

    response = client.post("/v1/incidents", json=body, headers=auth())

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "description"
    assert response.json()["type"].endswith("control-character")


def test_a_report_with_tabs_line_breaks_and_any_script_is_taken(
    client: TestClient, auth: Auth
) -> None:
    body = report_body(description="Bruise on arm.\n\tNgāti Wātua carer; 日本語\r\nnoted.")

    assert client.post("/v1/incidents", json=body, headers=auth()).status_code == 201


def test_a_legacy_import_refuses_a_nul_row_and_a_140000_character_cell_by_line_and_imports_ten(
    client: TestClient, auth: Auth
) -> None:
    good = ten_good_rows()
    nul = good[0] | {"legacy_id": "NUL-1", "description": "Bruise\x00 on arm"}
    huge = good[0] | {"legacy_id": "HUGE-1", "description": "x" * 140_000}
    text = csv_text([*good[:4], nul, *good[4:8], huge, *good[8:]])

    response = client.post("/v1/legacy-imports", json={"csv": text}, headers=officer(auth))

    assert response.status_code == 200, response.text[:2000]
    answer = response.json()
    assert answer["summary"]["imported"] == 10 and answer["summary"]["refused"] == 2
    refused = [r for r in answer["results"] if r["outcome"] == "refused"]
    assert [(r["line"], r["rule"]) for r in refused] == [
        (6, "text.control-character"),
        (11, "legacy.row-invalid"),
    ]
    assert refused[0]["reason"].startswith("description: holds a control character (U+0000)")
    assert "a cell longer than 131,072 characters" in refused[1]["reason"]
    lines = list(csv.DictReader(io.StringIO(answer["refused_csv"])))
    assert [r["line"] for r in lines] == ["6", "11"]


def test_a_legacy_csv_with_a_utf_8_byte_order_mark_imports(client: TestClient, auth: Auth) -> None:
    text = "\ufeff" + csv_text(ten_good_rows())

    response = client.post("/v1/legacy-imports", json={"csv": text}, headers=officer(auth))

    assert response.status_code == 200, response.text
    assert response.json()["summary"]["imported"] == 10


def test_a_legacy_import_body_that_is_not_utf_8_is_a_problem_naming_utf_8(
    client: TestClient, auth: Auth
) -> None:
    text = csv_text(ten_good_rows()).replace("Client", "Café client")
    body = ('{"csv": "' + text.replace("\n", "\\n") + '"}').encode("cp1252")

    response = client.post(
        "/v1/legacy-imports",
        content=body,
        headers={**officer(auth), "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "UTF-8" in response.json()["detail"]


def test_a_control_character_elsewhere_in_a_legacy_import_body_is_refused_whole(
    client: TestClient, auth: Auth
) -> None:
    body = {"csv": csv_text(ten_good_rows()), "note\x9b": "x"}

    response = client.post("/v1/legacy-imports", json=body, headers=officer(auth))

    assert response.status_code == 422
    assert response.json()["type"].endswith("control-character")


@pytest.mark.parametrize(
    "url",
    ["/v1/incidents?organisation=a%00b", "/v1/patterns/clients?client_ref=a%00b&organisation=x"],
)
def test_a_query_parameter_holding_nul_finds_nothing_and_never_fails(
    client: TestClient, auth: Auth, url: str
) -> None:
    response = client.get(url, headers=officer(auth))

    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
