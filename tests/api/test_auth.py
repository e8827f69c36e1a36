"""Tokens: RS256 from a JWKS (production OIDC) and the development secret kept beside the store."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from api.auth import AuthError, Verifier, mint_token, shared_secret
from api.settings import Settings
from domain.values import Role

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks_url() -> Iterator[str]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    body = json.dumps({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/jwks.json"
    finally:
        server.shutdown()


def rs256(claims: dict[str, object], key: rsa.RSAPrivateKey = KEY) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


def test_an_rs256_token_from_the_identity_provider_is_accepted(jwks_url: str) -> None:
    verifier = Verifier(Settings(jwks_url=jwks_url))
    claims = {
        "sub": "oidc-user",
        "role": "auditor",
        "org": "DFFH",
        "exp": datetime.now(UTC) + timedelta(minutes=5),
    }

    actor = verifier.actor("Bearer " + rs256(claims))

    assert (actor.id, actor.role, actor.organisation) == ("oidc-user", Role.AUDITOR, "DFFH")
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(AuthError):
        verifier.actor("Bearer " + rs256(claims, other_key))
    with pytest.raises(AuthError):  # an HS256 token signed with anything is refused here
        verifier.actor("Bearer " + jwt.encode(claims, "x" * 40, algorithm="HS256"))


def test_serve_and_token_in_one_folder_agree_on_a_generated_secret(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/cims.db", jwt_secret=None)

    token = mint_token(settings, sub="mel", role=Role.INCIDENT_MANAGER, org="Northside")
    again = Settings(database_url=f"sqlite:///{tmp_path}/cims.db", jwt_secret=None)

    assert (tmp_path / ".cims-jwt-secret").exists()
    assert shared_secret(again) == shared_secret(settings)
    assert Verifier(again).actor(f"Bearer {token}").id == "mel"


def test_a_token_with_an_unknown_role_is_refused(tmp_path: Path) -> None:
    settings = Settings(jwt_secret="s" * 40)
    token = jwt.encode(
        {
            "sub": "x",
            "role": "superuser",
            "org": "o",
            "exp": datetime.now(UTC) + timedelta(minutes=5),
        },
        "s" * 40,
        algorithm="HS256",
    )

    with pytest.raises(AuthError):
        Verifier(settings).actor(f"Bearer {token}")
