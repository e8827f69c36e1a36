"""Documents over HTTP, on both stores: added as a multipart stream, listed, downloaded as a
safe attachment; every bad upload a clear problem naming its rule, with nothing stored."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.routers.documents import attachment
from api.settings import Settings
from tests.api.conftest import OTHER, Auth, read_models_caught_up
from tests.api.test_authorisation_principals import Incident

pytestmark = pytest.mark.store
PDF = b"%PDF-1.7\n" + b"1 0 obj\n<< /Type /Catalog >>\nendobj\n" * 40 + b"%%EOF\n"
REPORT = PDF + b"% the investigation report\n"
INVESTIGATOR = {"role": "investigator", "sub": "inv-7"}


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "spool"
    folder.mkdir()
    return folder


@pytest.fixture
def settings(database_url: str, spool_dir: Path) -> Settings:
    return Settings(
        database_url=database_url,
        jwt_secret="test-secret-" + "x" * 32,
        feed_secret="feed-secret",
        run_projections_in_process=True,
        document_max_bytes=64 * 1024,
        document_spool_dir=str(spool_dir),
    )


def investigation(client: TestClient, auth: Auth) -> Incident:
    return Incident(client, auth).under_investigation(investigator_ref="inv-7")


def upload(
    incident: Incident,
    headers: dict[str, str],
    data: bytes = PDF,
    name: str = "letter.pdf",
    content_type: str = "application/pdf",
    **fields: Any,
) -> Any:
    form = {"kind": "allegations_letter", "expected_version": str(incident.version)} | {
        k: str(v) for k, v in fields.items()
    }
    response = incident.client.post(
        f"/v1/incidents/{incident.id}/documents",
        data=form,
        files={"file": (name, data, content_type)},
        headers=headers,
    )
    if response.status_code == 201:
        incident.version = response.json()["version"]
    return response


def stored_chunks(incident: Incident) -> list[str]:
    recorder = incident.client.app.state.services.ledger.recorder  # type: ignore[attr-defined]
    return list(recorder.document_hashes())


def test_an_investigator_adds_the_letter_and_serves_the_allegations_with_it(
    client: TestClient, auth: Auth, spool_dir: Path
) -> None:
    incident = investigation(client, auth)
    investigator = auth(**INVESTIGATOR)

    added = upload(incident, investigator, supports_version=incident.version)

    assert added.status_code == 201, added.text
    body = added.json()
    assert body["event"]["type"] == "DocumentAdded"
    assert body["event"]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["event"]["media_type"] == "application/pdf"
    assert added.headers["Location"].endswith(body["document_id"])
    assert list(spool_dir.iterdir()) == []
    served = incident.do(
        "serve-allegations",
        investigator,
        subject_refs=["carer-1"],
        method="email",
        document_id=body["document_id"],
    )
    assert served["event"]["document_id"] == body["document_id"]

    listed = incident.get(auth(), "/documents").json()["items"]
    assert [d["kind_label"] for d in listed] == ["allegations letter"]
    assert listed[0]["named_by_versions"] == [served["version"]]
    assert listed[0]["size"] == len(PDF)

    download = incident.get(
        auth("department_officer", org="DFFH"), f"/documents/{body['document_id']}"
    )
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in download.headers["content-security-policy"]


def test_a_download_is_access_logged_and_follows_the_incidents_visibility(
    client: TestClient, auth: Auth
) -> None:
    incident = investigation(client, auth)
    document_id = upload(incident, auth(**INVESTIGATOR)).json()["document_id"]

    assert incident.get(auth(org=OTHER), f"/documents/{document_id}").status_code == 404
    assert incident.get(auth(org=OTHER), "/documents").status_code == 404
    assert (
        incident.get(auth("regulator", org="SSR"), f"/documents/{document_id}").status_code == 403
    )
    assert incident.get(auth(), f"/documents/{document_id}").status_code == 200
    missing = incident.get(auth(), "/documents/00000000-0000-0000-0000-000000000001")
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("/document-not-found")

    read_models_caught_up(client)
    trail = client.get("/v1/access-log", params={"limit": 500}, headers=auth("auditor", org="DFFH"))
    assert trail.status_code == 200, trail.text
    rows = {(r["incident_id"], r["what"], r["outcome"]) for r in trail.json()["items"]}
    assert (incident.id, f"document:{document_id}", "granted") in rows
    assert (incident.id, f"document:{document_id}", "refused") in rows
    assert (incident.id, "documents", "refused") in rows


def test_an_upload_to_an_incident_the_caller_cannot_see_is_404_and_stores_nothing(
    client: TestClient, auth: Auth, spool_dir: Path
) -> None:
    incident = investigation(client, auth)

    refused = upload(incident, auth(org=OTHER))

    assert refused.status_code == 404
    assert refused.headers["content-type"] == "application/problem+json"
    assert stored_chunks(incident) == []
    assert list(spool_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("data", "name", "content_type", "status", "rule"),
    [
        (b"", "empty.pdf", "application/pdf", 422, "document.empty"),
        (
            b"<!DOCTYPE html><html><script>x()</script></html>",
            "report.pdf",
            "application/pdf",
            422,
            "document.type-contradicted",
        ),
        (
            b"<html><body>hello</body></html>",
            "page.html",
            "text/html",
            415,
            "document.type-not-allowed",
        ),
        (PDF * 2000, "big.pdf", "application/pdf", 413, "document.too-large"),
        (PDF, "../../etc/report.pdf", "application/pdf", 422, "document.file-name-unsafe"),
        (PDF, "r" * 296 + ".pdf", "application/pdf", 422, "document.file-name-unsafe"),
    ],
)
def test_a_bad_upload_is_a_problem_naming_its_rule_and_stores_nothing(
    client: TestClient,
    auth: Auth,
    spool_dir: Path,
    data: bytes,
    name: str,
    content_type: str,
    status: int,
    rule: str,
) -> None:
    incident = investigation(client, auth)
    before = incident.version

    refused = upload(incident, auth(**INVESTIGATOR), data, name, content_type)

    assert refused.status_code == status, refused.text
    problem = refused.json()
    assert refused.headers["content-type"] == "application/problem+json"
    assert problem["type"].endswith("/" + rule)
    assert problem["errors"][0]["rule"] == rule
    assert stored_chunks(incident) == []
    assert incident.get(auth()).json()["version"] == before
    assert list(spool_dir.iterdir()) == []


def raw_upload(incident: Incident, headers: dict[str, str], disposition: bytes) -> Any:
    """A multipart body written byte for byte (clients escape what this test must send)."""
    body = (
        b"--b0undary\r\n"
        b'Content-Disposition: form-data; name="kind"\r\n\r\nevidence\r\n'
        b"--b0undary\r\n"
        b'Content-Disposition: form-data; name="expected_version"\r\n\r\n'
        + str(incident.version).encode()
        + b"\r\n--b0undary\r\n"
        + disposition
        + b"\r\nContent-Type: application/pdf\r\n\r\n"
        + PDF
        + b"\r\n--b0undary--\r\n"
    )
    return incident.client.post(
        f"/v1/incidents/{incident.id}/documents",
        content=body,
        headers=headers | {"Content-Type": "multipart/form-data; boundary=b0undary"},
    )


@pytest.mark.parametrize(
    "disposition",
    [
        b'Content-Disposition: form-data; name="file"; filename="report\x07.pdf"',
        b'Content-Disposition: form-data; name="file"; filename="a/b.pdf"',
        b'Content-Disposition: form-data; name="file"; filename="\xff\xfe.pdf"',
    ],
)
def test_a_file_name_with_control_characters_or_separators_is_refused(
    client: TestClient, auth: Auth, spool_dir: Path, disposition: bytes
) -> None:
    incident = investigation(client, auth)

    refused = raw_upload(incident, auth(**INVESTIGATOR), disposition)

    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["rule"] == "document.file-name-unsafe"
    assert stored_chunks(incident) == []
    assert list(spool_dir.iterdir()) == []


def test_bad_form_fields_are_named(client: TestClient, auth: Auth) -> None:
    incident = investigation(client, auth)
    investigator = auth(**INVESTIGATOR)

    no_kind = upload(incident, investigator, kind="")
    assert no_kind.status_code == 422 and no_kind.json()["errors"][0]["field"] == "kind"
    odd_kind = upload(incident, investigator, kind="memo")
    assert odd_kind.status_code == 422 and odd_kind.json()["errors"][0]["field"] == "kind"
    unknown_step = upload(incident, investigator, supports_version=99)
    assert unknown_step.json()["type"].endswith("/document.unknown-step")
    no_version = incident.client.post(
        f"/v1/incidents/{incident.id}/documents",
        data={"kind": "evidence"},
        files={"file": ("a.pdf", PDF, "application/pdf")},
        headers=investigator,
    )
    assert no_version.status_code == 428
    not_multipart = incident.client.post(
        f"/v1/incidents/{incident.id}/documents", json={"kind": "evidence"}, headers=investigator
    )
    assert not_multipart.status_code == 400
    no_file = incident.client.post(
        f"/v1/incidents/{incident.id}/documents",
        data={"kind": "evidence", "expected_version": str(incident.version)},
        files={"other": ("a.pdf", PDF, "application/pdf")},
        headers=investigator,
    )
    assert no_file.status_code == 422 and no_file.json()["errors"][0]["field"] == "file"
    assert stored_chunks(incident) == []


def test_a_repeated_upload_with_its_idempotency_key_is_answered_once(
    client: TestClient, auth: Auth
) -> None:
    incident = investigation(client, auth)
    headers = auth(**INVESTIGATOR) | {"Idempotency-Key": "letter-1"}
    version = incident.version

    first = upload(incident, headers)
    incident.version = version
    again = upload(incident, headers)

    assert first.status_code == again.status_code == 201
    assert first.json()["document_id"] == again.json()["document_id"]
    assert len(incident.get(auth(), "/documents").json()["items"]) == 1


def test_a_corrected_copy_supersedes_the_original_which_stays_listed(
    client: TestClient, auth: Auth
) -> None:
    incident = investigation(client, auth)
    investigator = auth(**INVESTIGATOR)
    original = upload(incident, investigator).json()["document_id"]

    corrected = upload(
        incident, investigator, REPORT, "letter-v2.pdf", supersedes=original, reason="page missing"
    )

    assert corrected.status_code == 201, corrected.text
    items = {d["document_id"]: d for d in incident.get(auth(), "/documents").json()["items"]}
    assert items[original]["superseded"] is True
    assert items[original]["superseded_by"] == corrected.json()["document_id"]
    assert items[original]["superseded_reason"] == "page missing"
    assert incident.get(auth(), f"/documents/{original}").content == PDF


def test_regulators_feeds_carry_no_document(client: TestClient, auth: Auth) -> None:
    incident = investigation(client, auth)
    investigator = auth(**INVESTIGATOR)
    document_id = upload(incident, investigator).json()["document_id"]
    incident.do(
        "serve-allegations",
        investigator,
        subject_refs=["carer-1"],
        method="email",
        document_id=document_id,
    )
    read_models_caught_up(client)

    for feed in ("ssr", "ccyp"):
        response = client.get(f"/v1/feeds/{feed}", headers=auth("regulator", org=feed))
        assert response.status_code == 200, response.text
        assert document_id not in response.text
        assert hashlib.sha256(PDF).hexdigest() not in response.text
        assert "letter.pdf" not in response.text
    ssr = client.get("/v1/feeds/ssr", headers=auth("regulator", org="ssr")).json()["items"]
    assert ssr  # a notifiable incident: the feed is not simply empty


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("letter.pdf", "attachment; filename=\"letter.pdf\"; filename*=UTF-8''letter.pdf"),
        (
            'Lettre "déf" ;x.pdf',
            'attachment; filename="Lettre _d_f_ _x.pdf"; '
            "filename*=UTF-8''Lettre%20%22d%C3%A9f%22%20%3Bx.pdf",
        ),
    ],
)
def test_the_download_name_is_safe_in_both_forms(name: str, expected: str) -> None:
    assert attachment(name) == expected


def test_an_upload_cut_off_halfway_records_nothing_and_leaves_no_spool(
    settings: Settings, auth: Auth, spool_dir: Path, clock: Any
) -> None:
    import socket
    import time

    from api.main import create_app
    from tests.web.conftest import Served

    app = create_app(settings, clock=clock)
    with Served(app) as served, TestClient(app) as client:
        incident = investigation(client, auth)
        half = b"%PDF-1.7\n" + b"x" * 30_000
        head = (
            b"--cut\r\n"
            b'Content-Disposition: form-data; name="kind"\r\n\r\nevidence\r\n'
            b"--cut\r\n"
            b'Content-Disposition: form-data; name="expected_version"\r\n\r\n'
            + str(incident.version).encode()
            + b"\r\n--cut\r\n"
            b'Content-Disposition: form-data; name="file"; filename="cctv.pdf"\r\n'
            b"Content-Type: application/pdf\r\n\r\n"
        )
        token = auth(**INVESTIGATOR)["Authorization"]
        request = (
            f"POST /v1/incidents/{incident.id}/documents HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\nAuthorization: {token}\r\n"
            "Content-Type: multipart/form-data; boundary=cut\r\n"
            f"Content-Length: {len(head) + 60_000}\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", served.port)) as conn:
            conn.sendall(request + head + half)
            deadline = time.monotonic() + 10
            while not list(spool_dir.iterdir()):  # the spool is being written...
                assert time.monotonic() < deadline, "the upload never reached the spool"
                time.sleep(0.02)
        # ...and the connection is gone halfway through the file.
        deadline = time.monotonic() + 10
        while list(spool_dir.iterdir()):
            assert time.monotonic() < deadline, "the spool was left behind"
            time.sleep(0.05)

        assert stored_chunks(incident) == []
        assert incident.get(auth(), "").json()["version"] == incident.version
        assert incident.get(auth(), "/documents").json()["items"] == []
