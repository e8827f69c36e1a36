"""Bearer JWT: HS256 with a shared secret in development, RS256 from a JWKS in production.

A token is accepted when its signature verifies and it carries `sub`, `role`, `org`, `exp` and
`iat`; `iss` must equal `CIMS_JWT_ISSUER` when that is set, `aud` `CIMS_JWT_AUDIENCE` likewise;
`exp - iat` may not exceed `CIMS_JWT_MAX_LIFETIME_SECONDS`; a token longer than
`CIMS_MAX_TOKEN_BYTES` is refused before it is decoded; claims with control characters are
refused. Every refusal is the same 401 "invalid token": no library internals.

Verified tokens are kept (by digest) until they expire, so a client's next request costs a
dictionary look-up. The issuer's keys are fetched off the request path: one fetch at a time, in
its own thread, with a short timeout, at most once per `CIMS_JWKS_MIN_REFRESH_SECONDS` for keys
not seen before; requests whose key is known never wait for it, and those waiting for a new key
wait without holding a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import threading
import time
import urllib.request
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from api.settings import Settings
from domain.values import Actor, Role

log = logging.getLogger("cims.auth")
INVALID = "invalid token"
NUMERIC_DATES = ("exp", "iat", "nbf")
# C0 and C1 controls, DEL and the Unicode line and paragraph separators.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class AuthError(Exception):
    """The request carries no usable token."""


class _UnknownKey(Exception):
    """The token names a signing key the verifier has not loaded (yet)."""


def shared_secret(settings: Settings) -> str:
    """The configured secret, or one generated once and kept beside the embedded store, so
    `cims serve` and `cims token` run in the same folder agree."""
    if settings.jwt_secret:
        return settings.jwt_secret
    path = settings.secret_file()
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


def mint_token(
    settings: Settings,
    *,
    sub: str,
    role: Role,
    org: str,
    ttl: timedelta = timedelta(hours=8),
    now: datetime | None = None,
    email: str | None = None,
) -> str:
    """A development token (HS256, the shared secret). Raises ValueError when `ttl` is longer
    than the verifier accepts (`jwt_max_lifetime_seconds`)."""
    if ttl.total_seconds() > settings.jwt_max_lifetime_seconds:
        raise ValueError(
            f"a token may live at most {settings.jwt_max_lifetime_seconds} seconds"
            " (CIMS_JWT_MAX_LIFETIME_SECONDS)"
        )
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": sub,
        "role": role.value,
        "org": org,
        "iat": issued,
        "exp": issued + ttl,
    }
    if email:
        claims["email"] = email
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    return jwt.encode(claims, shared_secret(settings), algorithm="HS256")


def discovered_jwks_url(issuer: str) -> str:
    """The `jwks_uri` of an OpenID Connect issuer's discovery document (read once, at start)."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    with urllib.request.urlopen(url, timeout=10) as answer:
        document = json.load(answer)
    return str(document["jwks_uri"])


class Verifier:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # With OIDC sign-in configured, the issuer's discovery document names its keys.
        self._jwks_url = settings.jwks_url or (
            discovered_jwks_url(settings.oidc_issuer) if settings.oidc_issuer else None
        )
        self._jwks = (
            jwt.PyJWKClient(
                self._jwks_url, cache_jwk_set=False, timeout=settings.jwks_timeout_seconds
            )
            if self._jwks_url
            else None
        )
        self._secret = None if self._jwks else shared_secret(settings)
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._fetching: Future[None] | None = None
        self._fetch_lock = threading.Lock()
        self._fetcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jwks")
        self._verified: OrderedDict[bytes, tuple[Actor, float]] = OrderedDict()
        self._cache_lock = threading.Lock()

    def prefetch_keys(self) -> None:
        """Start fetching the issuer's keys in the background (at start-up), if there is an
        issuer; the first requests then find them loaded."""
        if self._jwks is not None:
            self._start_fetch()

    # ---- the two ways in ---------------------------------------------------------------------

    def actor(self, authorization: str | None) -> Actor:
        """The caller a bearer `Authorization` header names; raises AuthError. Blocks for a key
        fetch when the token names a key not loaded yet (not for use on the event loop)."""
        token = self._token(authorization)
        found = self._recall(token)
        if found is not None:
            return found
        try:
            return self._verify(token)
        except _UnknownKey:
            self._wait_for_keys()
            return self._verify_or_refuse(token)

    async def actor_async(self, authorization: str | None) -> Actor:
        """As `actor`, for the event loop: verification is CPU only (and usually a cache hit);
        a token naming a new key awaits one shared fetch, holding no worker thread."""
        token = self._token(authorization)
        found = self._recall(token)
        if found is not None:
            return found
        try:
            return self._verify(token)
        except _UnknownKey:
            fetch = self._start_fetch()
            if fetch is not None:
                # A failed or slow fetch is logged by the fetch; the token is refused below.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(
                        asyncio.shield(asyncio.wrap_future(fetch)),
                        self.settings.jwks_timeout_seconds + 0.5,
                    )
            return self._verify_or_refuse(token)

    def principal(self, authorization: str | None) -> Actor | None:
        """The caller if the token verifies with what is at hand (never fetches), else None:
        for rate limiting, which keys authenticated requests by principal."""
        try:
            token = self._token(authorization)
            return self._recall(token) or self._verify(token)
        except (AuthError, _UnknownKey):
            return None

    def email(self, authorization: str | None) -> str | None:
        """The `email` claim of a token already verified for this request, if it has one as
        text (reminders are sent there unless the person names another address)."""
        try:
            claims = self._decode(self._token(authorization))
        except (AuthError, _UnknownKey, jwt.PyJWTError, ValueError, TypeError):
            return None
        found = claims.get("email")
        return found if isinstance(found, str) else None

    # ---- verification ------------------------------------------------------------------------

    def _token(self, authorization: str | None) -> str:
        if not authorization or not authorization[:7].lower() == "bearer ":
            raise AuthError("a bearer token is required")
        token = authorization[7:].strip()
        if len(token) > self.settings.max_token_bytes:
            raise AuthError(INVALID)  # refused before any decoding
        return token

    def _recall(self, token: str) -> Actor | None:
        digest = hashlib.sha256(token.encode()).digest()
        with self._cache_lock:
            found = self._verified.get(digest)
            if found is None:
                return None
            actor, expires = found
            if time.time() >= expires:
                del self._verified[digest]
                return None
            self._verified.move_to_end(digest)
        return actor

    def _verify_or_refuse(self, token: str) -> Actor:
        try:
            return self._verify(token)
        except _UnknownKey:
            raise AuthError(INVALID) from None

    def _verify(self, token: str) -> Actor:
        try:
            claims = self._decode(token)
            actor = self._actor_of(claims)
        except (jwt.PyJWTError, KeyError, ValueError, TypeError):
            raise AuthError(INVALID) from None
        self._remember(token, actor, float(claims["exp"]))
        return actor

    def _actor_of(self, claims: dict[str, Any]) -> Actor:
        for name in NUMERIC_DATES:
            # RFC 7519 §2: a NumericDate is a JSON number; PyJWT would also take "1767225600".
            if name in claims and (
                isinstance(claims[name], bool) or not isinstance(claims[name], int | float)
            ):
                raise ValueError(f"the {name} claim is not a number")
        lifetime = float(claims["exp"]) - float(claims["iat"])
        if lifetime > self.settings.jwt_max_lifetime_seconds:
            raise ValueError("the token lives longer than allowed")
        for name in ("sub", "org", "role"):
            value = claims[name]
            if not isinstance(value, str) or CONTROL.search(value):
                raise ValueError(f"the {name} claim is not plain text")
        return Actor(id=claims["sub"], role=Role(claims["role"]), organisation=claims["org"])

    def _remember(self, token: str, actor: Actor, expires: float) -> None:
        digest = hashlib.sha256(token.encode()).digest()
        with self._cache_lock:
            self._verified[digest] = (actor, expires)
            self._verified.move_to_end(digest)
            while len(self._verified) > self.settings.token_cache_size:
                self._verified.popitem(last=False)

    def _decode(self, token: str) -> dict[str, Any]:
        required = ["sub", "exp", "iat"]
        issuer = self.settings.jwt_issuer or self.settings.oidc_issuer
        audience = self.settings.jwt_audience
        if self.settings.oidc_issuer and not audience:
            audience = self.settings.oidc_client_id  # ID tokens are issued to the web client
        required += ["iss"] if issuer else []
        required += ["aud"] if audience else []
        options: Any = {"require": required}
        leeway = self.settings.jwt_leeway_seconds
        if self._jwks is not None:
            kid = jwt.get_unverified_header(token).get("kid")
            if not isinstance(kid, str) and len(self._keys) == 1:
                kid = next(iter(self._keys))  # no kid: the issuer's only key (some sign so)
            key = self._keys.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise _UnknownKey(kid)
            algorithms = ["RS256"]
        else:
            assert self._secret is not None
            key, algorithms = self._secret, ["HS256"]
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=audience,
            issuer=issuer,
            options=options,
            leeway=leeway,
        )
        return claims

    # ---- the issuer's keys -------------------------------------------------------------------

    def _start_fetch(self) -> Future[None] | None:
        """The fetch under way, or a new one if the last ended long enough ago; else None."""
        with self._fetch_lock:
            if self._fetching is not None and not self._fetching.done():
                return self._fetching
            since = time.monotonic() - self._fetched_at
            if since < self.settings.jwks_min_refresh_seconds:
                return None
            self._fetching = self._fetcher.submit(self._fetch)
            return self._fetching

    def _wait_for_keys(self) -> None:
        fetch = self._start_fetch()
        if fetch is not None:
            # A failed or slow fetch is logged by the fetch; the token is refused by the caller.
            with contextlib.suppress(Exception):
                fetch.result(timeout=self.settings.jwks_timeout_seconds + 0.5)

    def _fetch(self) -> None:
        assert self._jwks is not None
        try:
            found = self._jwks.get_jwk_set(refresh=True)
            self._keys = {
                k.key_id or "": k.key for k in found.keys if k.public_key_use in (None, "sig")
            }
        except jwt.PyJWKClientError as exc:
            log.warning("could not fetch the issuer's keys from %s: %s", self._jwks_url, exc)
        finally:
            self._fetched_at = time.monotonic()
