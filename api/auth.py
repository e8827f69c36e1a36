"""Bearer JWT: HS256 with a shared secret in development, RS256 from a JWKS in production."""

from __future__ import annotations

import json
import os
import secrets
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from api.settings import Settings
from domain.values import Actor, Role


class AuthError(Exception):
    """The request carries no usable token."""


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
) -> str:
    issued = now or datetime.now(UTC)
    claims = {"sub": sub, "role": role.value, "org": org, "iat": issued, "exp": issued + ttl}
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, shared_secret(settings), algorithm="HS256")


def discovered_jwks_url(issuer: str) -> str:
    """The `jwks_uri` of an OpenID Connect issuer's discovery document."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    with urllib.request.urlopen(url, timeout=10) as answer:
        document = json.load(answer)
    return str(document["jwks_uri"])


class Verifier:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._jwks: jwt.PyJWKClient | None = None
        if settings.jwks_url:
            self._jwks = jwt.PyJWKClient(settings.jwks_url)
        elif settings.oidc_issuer:
            # Tokens from the web front end's OIDC sign-in: the issuer's own keys, found once.
            self._jwks = jwt.PyJWKClient(discovered_jwks_url(settings.oidc_issuer))
        self._secret = None if self._jwks else shared_secret(settings)

    @property
    def fetches_keys(self) -> bool:
        """Whether checking a token may fetch the issuer's keys over the network."""
        return self._jwks is not None

    def actor(self, authorization: str | None) -> Actor:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise AuthError("a bearer token is required")
        token = authorization[7:].strip()
        try:
            claims = self._decode(token)
            return Actor(id=claims["sub"], role=Role(claims["role"]), organisation=claims["org"])
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            raise AuthError(f"the token is not valid: {exc}") from None

    def _decode(self, token: str) -> dict[str, Any]:
        options: Any = {"require": ["sub", "exp"]}
        audience = self.settings.jwt_audience
        if self._jwks is not None:
            key = self._signing_key(token)
            issuer = self.settings.oidc_issuer
            if issuer:  # an OIDC ID token: issued by that issuer, to the web front end
                audience = audience or self.settings.oidc_client_id
                options["require"] = [*options["require"], "iss"]
            return jwt.decode(
                token, key, algorithms=["RS256"], audience=audience, issuer=issuer, options=options
            )
        assert self._secret is not None
        return jwt.decode(
            token, self._secret, algorithms=["HS256"], audience=audience, options=options
        )

    def _signing_key(self, token: str) -> Any:
        """The issuer's key named by the token's `kid`; a token without one (some issuers
        sign ID tokens so) is checked with the issuer's only signing key, if it has one."""
        assert self._jwks is not None
        if jwt.get_unverified_header(token).get("kid"):
            return self._jwks.get_signing_key_from_jwt(token).key
        keys = self._jwks.get_signing_keys()
        if len(keys) != 1:
            raise jwt.InvalidTokenError("the token names no key and the issuer has several")
        return keys[0].key
