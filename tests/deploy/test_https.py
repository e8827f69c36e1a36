"""Served over https (issue 23 item 6, issue 19 item 8): `cims serve` ends TLS itself with
--ssl-certfile/--ssl-keyfile, or believes a trusted proxy's X-Forwarded-Proto; answers given over
https carry Strict-Transport-Security, answers over plain http never do."""

from __future__ import annotations

import ipaddress
import os
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.deploy.installed import free_port, wait_until_up

CIMS = Path(sys.executable).parent / "cims"
HSTS = "strict-transport-security"


def self_signed(into: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, in PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = into / "cert.pem", into / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certfile, keyfile


def _env(tmp_path: Path) -> dict[str, str]:
    found = {k: v for k, v in os.environ.items() if not k.startswith("CIMS_")}
    return {**found, "CIMS_DATABASE_URL": f"sqlite:///{tmp_path / 'cims.db'}"}


@contextmanager
def served(
    tmp_path: Path, *args: str, scheme: str = "http", context: ssl.SSLContext | None = None
) -> Iterator[str]:
    """`cims serve ARGS` on a free loopback port, once it answers; stopped (by its id) after."""
    port = free_port()
    process = subprocess.Popen(
        [str(CIMS), "serve", "--port", str(port), *args],
        cwd=tmp_path,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"{scheme}://127.0.0.1:{port}"
    try:
        wait_until_up(process, lambda: _get(f"{base}/healthz", context))
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _get(url: str, context: ssl.SSLContext | None = None, **headers: str) -> dict[str, str]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=5, context=context) as answer:
        assert answer.status == 200
        return {k.lower(): v for k, v in answer.headers.items()}


def test_https_served_directly_carries_hsts(tmp_path: Path) -> None:
    certfile, keyfile = self_signed(tmp_path)
    trusting = ssl.create_default_context(cafile=str(certfile))

    tls = ("--ssl-certfile", str(certfile), "--ssl-keyfile", str(keyfile))
    with served(tmp_path, *tls, scheme="https", context=trusting) as base:
        for path in ("/healthz", "/v1/rules", "/"):
            headers = _get(f"{base}{path}", trusting)
            assert headers[HSTS] == "max-age=31536000", path


def test_plain_http_has_no_hsts_and_a_trusted_proxys_https_does(tmp_path: Path) -> None:
    # By default the proxy believed is one on this host (uvicorn's 127.0.0.1 and ::1).
    with served(tmp_path) as base:
        assert HSTS not in _get(f"{base}/healthz")
        assert HSTS not in _get(f"{base}/", **{"X-Forwarded-Proto": "http"})
        forwarded = _get(f"{base}/healthz", **{"X-Forwarded-Proto": "https"})
        assert forwarded[HSTS] == "max-age=31536000"


def test_x_forwarded_proto_from_a_proxy_not_trusted_is_ignored(tmp_path: Path) -> None:
    with served(tmp_path, "--forwarded-allow-ips", "192.0.2.10") as base:
        headers = _get(f"{base}/healthz", **{"X-Forwarded-Proto": "https"})

        assert HSTS not in headers


@pytest.mark.parametrize(("base_url", "hsts"), [("https://cims.test", True), ("http://x", False)])
def test_every_answer_over_https_has_hsts_whoever_gave_it(
    tmp_path: Path, base_url: str, hsts: bool
) -> None:
    """Handlers, guards and errors alike (the header is added outside them all)."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'cims.db'}", jwt_secret="s" * 40)
    with TestClient(create_app(settings), base_url=base_url) as client:
        answers = [
            client.get("/healthz"),
            client.get("/v1/incidents"),  # 401: no token
            client.get("/v1/no-such-thing"),  # 404
            client.post("/v1/incidents", content=b"{", headers={"content-type": "x"}),
        ]
    for answer in answers:
        assert (answer.headers.get(HSTS) == "max-age=31536000") is hsts, answer.request.url


def _refusal(tmp_path: Path, *args: str) -> str:
    """The one line `cims serve ARGS` refuses with, before it starts anything (exit 2)."""
    found = subprocess.run(
        [str(CIMS), "serve", "--port", str(free_port()), *args],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.returncode == 2, found.stderr
    (line,) = found.stderr.strip().splitlines()
    return line


def _encrypted(key: Path, into: Path) -> Path:
    loaded = serialization.load_pem_private_key(key.read_bytes(), password=None)
    into.write_bytes(
        loaded.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
    )
    return into


def test_each_unusable_certificate_or_key_is_one_line_naming_the_option(tmp_path: Path) -> None:
    certfile, keyfile = self_signed(tmp_path)
    (tmp_path / "other").mkdir()
    _, other_key = self_signed(tmp_path / "other")
    junk = tmp_path / "junk.pem"
    junk.write_text("not PEM at all")
    locked = _encrypted(keyfile, tmp_path / "locked.pem")
    cert, key = "--ssl-certfile", "--ssl-keyfile"
    error = "cims: error: "

    assert _refusal(tmp_path, cert, str(tmp_path / "nope.pem")) == (
        f"{error}{cert}: no file {tmp_path / 'nope.pem'}"
    )
    assert _refusal(tmp_path, key, str(keyfile)) == (
        f"{error}{key}: give the certificate too, with {cert}"
    )
    assert _refusal(tmp_path, cert, str(junk), key, str(keyfile)) == (
        f"{error}{cert}: {junk} holds no PEM certificate"
    )
    assert _refusal(tmp_path, cert, str(certfile), key, str(junk)) == (
        f"{error}{key}: {junk} holds no PEM private key"
    )
    assert _refusal(tmp_path, cert, str(certfile)) == (
        f"{error}{cert}: {certfile} holds no PEM private key"
    )
    assert _refusal(tmp_path, cert, str(certfile), key, str(locked)) == (
        f"{error}{key}: the private key is encrypted: give it unencrypted, readable by this user"
    )
    assert _refusal(tmp_path, cert, str(certfile), key, str(other_key)) == (
        f"{error}{cert}/{key}: the private key is not the certificate's"
    )
