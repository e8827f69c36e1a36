"""How the web front end signs in: the configuration it needs, and development tokens.

`GET /v1/sign-in` is public: it says whether development sign-in is on and, in production,
which OpenID Connect issuer and client the browser signs in with (authorization code + PKCE).
`POST /v1/dev/token` and `GET /v1/dev/identities` exist only when development sign-in is on
(`api.settings.development_sign_in`): on the embedded SQLite store with no `CIMS_JWT_SECRET`,
`CIMS_JWKS_URL` or `CIMS_OIDC_ISSUER`, or where an operator sets `CIMS_DEV_SIGN_IN=true`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from api.auth import mint_token
from api.problems import error_responses
from api.query import strict_query
from api.settings import Settings, development_sign_in
from demo.dataset import demo_identities
from domain.values import Role

DEV_TOKEN_TTL = timedelta(hours=8)


class DevTokenIn(BaseModel):
    """Who the development token is for."""

    model_config = ConfigDict(extra="forbid")

    sub: str = Field(min_length=1, max_length=200, description="The user's id (`sub`).")
    role: Role = Field(description="The user's role (`role`).")
    organisation: str = Field(
        min_length=1, max_length=200, description="The user's organisation (`org`)."
    )


class OidcSignIn(BaseModel):
    issuer: str = Field(description="The OpenID Connect issuer (its discovery document).")
    client_id: str = Field(description="The front end's public client id at the issuer.")
    scope: str = Field(description="The scopes to ask for.")


class SignInOut(BaseModel):
    development: bool = Field(
        description="Whether development sign-in (`/v1/dev/token`) exists on this server."
    )
    oidc: OidcSignIn | None = Field(
        description="Sign in with this issuer (code + PKCE), or null when none is configured."
    )


class DevIdentity(BaseModel):
    sub: str = Field(description="The demo user's id.")
    role: Role = Field(description="The demo user's role.")
    organisation: str = Field(description="The demo user's organisation.")
    label: str = Field(description="How the sign-in page names the demo user.")


class DevIdentities(BaseModel):
    items: list[DevIdentity] = Field(description="The demo data set's people, by organisation.")


class DevToken(BaseModel):
    access_token: str = Field(description="The bearer token (HS256, development secret).")
    token_type: str = Field(description="Always `Bearer`.")
    expires_in: int = Field(description="Seconds the token is valid.")


def install(app: FastAPI, settings: Settings) -> None:
    """Add the sign-in configuration, and the development endpoints when they may exist."""
    public = APIRouter(prefix="/v1", tags=["sign-in"], dependencies=[Depends(strict_query)])
    development = development_sign_in(settings)

    @public.get(
        "/sign-in",
        summary="Say how a front end signs in.",
        response_model=None,
        responses={200: {"model": SignInOut}, **error_responses(429, 431)},
    )
    async def sign_in() -> dict[str, Any]:
        """`{development: bool, oidc: {issuer, client_id, scope} | null}`; no token needed."""
        oidc = None
        if settings.oidc_issuer:
            oidc = {
                "issuer": settings.oidc_issuer,
                "client_id": settings.oidc_client_id,
                "scope": "openid profile",
            }
        return {"development": development, "oidc": oidc}

    app.include_router(public)
    if not development:
        return
    dev = APIRouter(prefix="/v1/dev", tags=["development"], dependencies=[Depends(strict_query)])

    @dev.get(
        "/identities",
        summary="List the demo identities (development only).",
        response_model=None,
        responses={200: {"model": DevIdentities}, **error_responses(429, 431)},
    )
    async def identities() -> dict[str, Any]:
        """`{items: [{sub, role, organisation, label}]}`: who the demo data set is about."""
        return {"items": demo_identities()}

    @dev.post(
        "/token",
        summary="Mint a development token (development only).",
        response_model=None,
        responses={200: {"model": DevToken}, **error_responses(400, 413, 422, 429, 431)},
    )
    async def token(body: DevTokenIn) -> dict[str, Any]:
        """`{access_token, token_type: "Bearer", expires_in}` (seconds), signed with the
        embedded development secret; any identity may be asked for, as with `cims token`."""
        value = mint_token(
            settings, sub=body.sub, role=body.role, org=body.organisation, ttl=DEV_TOKEN_TTL
        )
        return {
            "access_token": value,
            "token_type": "Bearer",
            "expires_in": int(DEV_TOKEN_TTL.total_seconds()),
        }

    app.include_router(dev)
