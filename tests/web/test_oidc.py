"""Production sign-in: OpenID Connect authorization code with PKCE, done by the browser against
a local provider (oidc-provider-mock), and the API accepting the issuer's tokens via its JWKS.

The provider is wrapped so that it answers the browser across origins (as real issuers do for
single-page apps) and so that it enforces PKCE (S256), which the mock alone does not."""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Iterator
from io import BytesIO
from typing import Any
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import Served, free_port

ORG = "Northside Community Services"


class PkceProvider:
    """WSGI middleware: CORS for the browser, and the S256 code challenge checked at the token
    endpoint against the verifier (the mock provider does not check it)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.challenges: list[str] = []
        self.verified: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.endswith("/authorize") and environ["REQUEST_METHOD"] == "GET":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            if query.get("code_challenge_method") != ["S256"]:
                start_response("400 Bad Request", [("Content-Type", "text/plain")])
                return [b"PKCE with S256 is required"]
            self.challenges.append(query["code_challenge"][0])
        if path.endswith("/token") and environ["REQUEST_METHOD"] == "POST":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = BytesIO(body)
            verifier = parse_qs(body.decode()).get("code_verifier", [""])[0]
            digest = hashlib.sha256(verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if challenge not in self.challenges:
                start_response(
                    "400 Bad Request",
                    [("Content-Type", "application/json"), ("Access-Control-Allow-Origin", "*")],
                )
                return [b'{"error": "invalid_grant", "error_description": "PKCE failed"}']
            self.verified.append(challenge)

        def with_cors(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            return start_response(status, [*headers, ("Access-Control-Allow-Origin", "*")], *rest)

        return self.app(environ, with_cors)


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[str, PkceProvider]]:
    import werkzeug.serving
    from oidc_provider_mock import User, _app, app

    # The browser is a public client (no secret: PKCE instead), which real issuers allow for
    # single-page apps; the mock's code grant accepts only client_secret_basic unless told.
    _app.AuthorizationCodeGrant.TOKEN_ENDPOINT_AUTH_METHODS = [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]

    wrapped = PkceProvider(
        app(
            require_nonce=True,
            user_claims=[
                User(
                    sub="olivia.manager",
                    claims={"role": "incident_manager", "org": ORG, "name": "Olivia Manager"},
                )
            ],
        )
    )
    port = free_port()
    server = werkzeug.serving.make_server("localhost", port, wrapped, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"http://localhost:{port}", wrapped
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture(scope="module")
def production(provider: tuple[str, PkceProvider], demo_store: str) -> Iterator[str]:
    from api.main import create_app
    from api.settings import Settings

    settings = Settings(
        database_url=demo_store.replace("cims.db", "cims-oidc.db"),
        jwt_secret=None,
        jwks_url=None,
        oidc_issuer=provider[0],
        oidc_client_id="cims-web",
    )
    with Served(create_app(settings)) as served:
        yield served.url


def test_sign_in_with_openid_connect_code_and_pkce(
    browser: Any, production: str, provider: tuple[str, PkceProvider]
) -> None:
    context = browser.new_context(base_url=production, locale="en-AU", timezone_id="UTC")
    page: Page = context.new_page()
    try:
        page.goto("/")
        # No development sign-in in production: no demo identities, and no route to mint one.
        expect(
            page.get_by_role("button", name="Sign in with localhost", exact=False)
        ).to_be_visible()
        expect(page.get_by_role("button", name="Sign in as Auditor, DFFH")).to_have_count(0)
        assert page.request.post("/v1/dev/token", data={}).status == 404
        assert page.request.get("/v1/dev/identities").status == 404

        page.get_by_role("button", name="Sign in with localhost", exact=False).click()
        page.get_by_role("button", name="olivia.manager").click()  # the provider's own page
        expect(page.get_by_role("heading", name="Worklist", level=1)).to_be_visible()
        expect(page.get_by_text(f"olivia.manager · incident manager · {ORG}")).to_be_visible()
        expect(page.get_by_text("Nothing matches these filters.")).to_be_visible()
        assert provider[1].verified, "the token request carried no valid PKCE verifier"
    finally:
        context.close()


def test_signing_out_ends_the_session_at_the_issuer_too(
    browser: Any, production: str, provider: tuple[str, PkceProvider]
) -> None:
    context = browser.new_context(base_url=production, locale="en-AU", timezone_id="UTC")
    page: Page = context.new_page()
    try:
        page.goto("/")
        page.get_by_role("button", name="Sign in with localhost", exact=False).click()
        page.get_by_role("button", name="olivia.manager").click()
        expect(page.get_by_role("heading", name="Worklist", level=1)).to_be_visible()

        with page.expect_request(lambda r: "/oauth2/end_session" in r.url) as ended:
            page.get_by_role("button", name="Sign out").click()

        asked = parse_qs(ended.value.url.split("?", 1)[1])
        assert asked["post_logout_redirect_uri"] == [f"{production}/"]
        assert asked["client_id"] == ["cims-web"] and asked["id_token_hint"][0].count(".") == 2
        page.goto(production)
        assert page.evaluate("() => sessionStorage.length") == 0
        expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    finally:
        context.close()


def test_the_api_refuses_a_token_the_issuer_did_not_sign(production: str) -> None:
    import httpx
    import jwt

    forged = jwt.encode(
        {"sub": "x", "role": "auditor", "org": "DFFH", "exp": 4102444800}, "guess", "HS256"
    )
    answer = httpx.get(f"{production}/v1/incidents", headers={"Authorization": f"Bearer {forged}"})
    assert answer.status_code == 401
