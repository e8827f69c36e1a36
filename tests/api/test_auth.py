"""Tokens: RS256 from a JWKS (production OIDC) and the development secret kept beside the store."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
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
    # A short poll: shutdown() waits for it (the default half second).
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()
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
        "iat": datetime.now(UTC),
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
            "iat": datetime.now(UTC),
            "exp": datetime.now(UTC) + timedelta(minutes=5),
        },
        "s" * 40,
        algorithm="HS256",
    )

    with pytest.raises(AuthError):
        Verifier(settings).actor(f"Bearer {token}")


# ---- issue 10 §5: what a token must carry; §4: bounded work per token; issue 15: the cache -------

SECRET = "s" * 40


def hs256(**overrides: object) -> str:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": "mel",
        "role": "incident_manager",
        "org": "Northside",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, SECRET, "HS256")


def refused(verifier: Verifier, token: str) -> str:
    with pytest.raises(AuthError) as caught:
        verifier.actor(f"Bearer {token}")
    return str(caught.value)


def test_the_issuer_is_checked_when_one_is_configured() -> None:
    verifier = Verifier(Settings(jwt_secret=SECRET, jwt_issuer="https://idp.example"))

    assert verifier.actor("Bearer " + hs256(iss="https://idp.example")).id == "mel"
    assert refused(verifier, hs256(iss="https://elsewhere.example")) == "invalid token"
    assert refused(verifier, hs256()) == "invalid token"  # no iss at all
    anyone = Verifier(Settings(jwt_secret=SECRET))
    assert anyone.actor("Bearer " + hs256(iss="https://elsewhere.example")).id == "mel"


def test_iat_is_required_and_the_lifetime_bounded() -> None:
    verifier = Verifier(Settings(jwt_secret=SECRET, jwt_max_lifetime_seconds=3600))
    now = datetime.now(UTC)

    assert refused(verifier, hs256(iat=None)) == "invalid token"
    assert refused(verifier, hs256(exp=now + timedelta(hours=2))) == "invalid token"
    assert refused(verifier, hs256(iat=now + timedelta(hours=1))) == "invalid token"  # future
    assert verifier.actor("Bearer " + hs256(exp=now + timedelta(minutes=59))).id == "mel"
    with pytest.raises(ValueError, match="CIMS_JWT_MAX_LIFETIME_SECONDS"):
        mint_token(
            Settings(jwt_secret=SECRET, jwt_max_lifetime_seconds=3600),
            sub="x",
            role=Role.REPORTER,
            org="o",
            ttl=timedelta(hours=2),
        )


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "mel\x00"},
        {"sub": "mel\nrole: admin"},
        {"org": "North\x1bside"},
        {"org": "North\u2028side"},
        {"sub": 7},
        {"role": "incident_manager\x00"},
    ],
)
def test_claims_with_control_characters_or_not_text_are_refused(claims: dict[str, object]) -> None:
    assert refused(Verifier(Settings(jwt_secret=SECRET)), hs256(**claims)) == "invalid token"


def test_a_numeric_date_given_as_a_string_is_refused() -> None:
    verifier = Verifier(Settings(jwt_secret=SECRET))
    now = datetime.now(UTC)
    later = int((now + timedelta(minutes=5)).timestamp())

    assert refused(verifier, hs256(exp=str(later))) == "invalid token"
    assert refused(verifier, hs256(iat=str(int(now.timestamp())))) == "invalid token"
    assert refused(verifier, hs256(nbf=str(int(now.timestamp())))) == "invalid token"
    assert refused(verifier, hs256(exp=True)) == "invalid token"
    assert verifier.actor("Bearer " + hs256(exp=later, nbf=int(now.timestamp()))).id == "mel"


def test_a_refusal_says_invalid_token_and_nothing_of_the_library() -> None:
    verifier = Verifier(Settings(jwt_secret=SECRET))
    forged = jwt.encode(
        {"sub": "x", "role": "reporter", "org": "o", "iat": 1, "exp": 9e9}, "x" * 40
    )

    for token in (forged, "not-a-token", hs256(exp=datetime(2000, 1, 1, tzinfo=UTC))):
        assert refused(verifier, token) == "invalid token"


def test_a_token_over_the_size_limit_is_refused_before_it_is_decoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verifier = Verifier(Settings(jwt_secret=SECRET, max_token_bytes=4096))
    huge = hs256(padding="x" * 8000)

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded a token over the limit")

    monkeypatch.setattr(jwt, "decode", never)
    monkeypatch.setattr(jwt, "get_unverified_header", never)
    assert refused(verifier, huge) == "invalid token"


def test_a_verified_token_is_kept_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    verifier = Verifier(Settings(jwt_secret=SECRET))
    token = hs256(exp=datetime.now(UTC) + timedelta(seconds=60))
    decoded: list[str] = []
    real = jwt.decode

    def counting(*args: object, **kwargs: object) -> object:
        decoded.append("once")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jwt, "decode", counting)
    for _ in range(3):
        assert verifier.actor(f"Bearer {token}").id == "mel"
    assert decoded == ["once"]

    later = time.time() + 120  # past `exp`: the kept answer is not used, the token is decoded
    monkeypatch.setattr(time, "time", lambda: later)
    verifier.actor(f"Bearer {token}")  # (PyJWT reads its own clock, so it still verifies)
    assert decoded == ["once", "once"]


class SlowIssuer:
    """A JWKS endpoint that counts its fetches and answers after `delay` seconds."""

    def __init__(self) -> None:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
        body = json.dumps({"keys": [{**public, "kid": "k1", "use": "sig"}]}).encode()
        self.fetches = 0
        self.delay = 0.0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.fetches += 1
                time.sleep(issuer.delay)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/jwks.json"


@pytest.fixture
def issuer() -> Iterator[SlowIssuer]:
    found = SlowIssuer()
    try:
        yield found
    finally:
        found.server.shutdown()


def test_a_fetch_for_an_unknown_key_holds_no_request_with_a_known_one(issuer: SlowIssuer) -> None:
    verifier = Verifier(
        Settings(jwks_url=issuer.url, jwks_timeout_seconds=0.5, jwks_min_refresh_seconds=0)
    )
    now = datetime.now(UTC)
    claims = {"sub": "oidc-user", "role": "auditor", "org": "DFFH", "iat": now}
    known = "Bearer " + rs256({**claims, "exp": now + timedelta(minutes=5)})
    unknown = "Bearer " + jwt.encode(
        {**claims, "exp": now + timedelta(minutes=5)}, KEY, "RS256", headers={"kid": "k2"}
    )

    async def scenario() -> tuple[float, float, BaseException | None]:
        await verifier.actor_async(known)  # the first fetch loads k1
        issuer.delay = 3.0  # the next fetch hangs
        began = time.monotonic()
        waiting = [asyncio.create_task(verifier.actor_async(unknown)) for _ in range(20)]
        await asyncio.sleep(0.05)
        assert (await verifier.actor_async(known)).id == "oidc-user"
        known_took = time.monotonic() - began
        outcome = await asyncio.gather(*waiting, return_exceptions=True)
        return known_took, time.monotonic() - began, outcome[0] if outcome else None

    known_took, unknown_took, outcome = asyncio.run(scenario())

    assert known_took < 0.5
    assert isinstance(outcome, AuthError) and str(outcome) == "invalid token"
    assert unknown_took < 2.0  # the fetch's timeout, not the issuer's 3 s
    assert issuer.fetches == 2  # twenty requests for one unknown key: one fetch


def test_unknown_keys_cannot_make_the_verifier_fetch_more_than_once_per_interval(
    issuer: SlowIssuer,
) -> None:
    verifier = Verifier(Settings(jwks_url=issuer.url, jwks_min_refresh_seconds=60))
    now = datetime.now(UTC)
    claims = {
        "sub": "u",
        "role": "auditor",
        "org": "DFFH",
        "iat": now,
        "exp": now + timedelta(hours=1),
    }

    for n in range(10):
        token = jwt.encode(claims, KEY, "RS256", headers={"kid": f"random-{n}"})
        assert refused(verifier, token) == "invalid token"

    assert issuer.fetches == 1


def test_the_issuers_keys_are_fetched_at_start_up_in_the_background(issuer: SlowIssuer) -> None:
    verifier = Verifier(Settings(jwks_url=issuer.url))
    now = datetime.now(UTC)
    token = rs256(
        {"sub": "u", "role": "auditor", "org": "DFFH", "iat": now, "exp": now + timedelta(hours=1)}
    )

    verifier.prefetch_keys()
    deadline = time.monotonic() + 5
    while verifier.principal(f"Bearer {token}") is None and time.monotonic() < deadline:
        time.sleep(0.02)

    assert verifier.principal(f"Bearer {token}") is not None  # `principal` itself never fetches
    assert issuer.fetches == 1
