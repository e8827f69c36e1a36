"""The reference web front end (`web/`), served as static files at `/`.

The pages call only the public `/v1` API. Their responses carry the usual security headers and a
Content-Security-Policy that lets a page load scripts, styles and data only from this origin
(and, with OIDC sign-in configured, talk to the issuer's token endpoint).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import TYPE_BASE
from api.responses import ProblemJSON
from api.settings import Settings

# Installed beside the packages (see pyproject's package-data); in a checkout, the top-level web/.
WEB_ROOT = Path(__file__).resolve().parent.parent / "web"


def content_security_policy(settings: Settings) -> str:
    connect = "'self'"
    if settings.oidc_issuer:
        # The browser fetches the issuer's discovery document and exchanges the code itself.
        connect += " " + _origin(settings.oidc_issuer)
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        f" connect-src {connect}; object-src 'none'; base-uri 'none'; form-action 'self';"
        " frame-ancestors 'none'"
    )


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


class WithPolicy:
    """Adds the Content-Security-Policy header to the front end's responses."""

    def __init__(self, app: ASGIApp, policy: str) -> None:
        self.app = app
        self.policy = policy.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if path == "/v1" or path.startswith("/v1/"):
            # An API path no route took is the API's 404 (any method), not a missing page.
            problem = {
                "type": TYPE_BASE + "http-404",
                "title": "Not Found",
                "status": 404,
                "detail": f"no resource {path}",
                "instance": path,
            }
            await ProblemJSON(problem, status_code=404)(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    *message.get("headers", []),
                    (b"content-security-policy", self.policy),
                    # Pages and scripts hold no personal data (that comes from /v1, never
                    # stored): the browser may keep them, asking each time whether they changed
                    # (ETag), instead of fetching every script again on each first load.
                    (b"cache-control", b"no-cache"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_policy)


class CompressedAssets:
    """gzip for the front end's scripts and styles and `/openapi.json` (which a browser fetches
    on every first load: ~450 KB as sent, under a fifth of that compressed), when the browser
    accepts it. `/v1` answers are left as they are: they are small, and a compressed answer
    that reflects a request beside a secret is how BREACH-style attacks read secrets."""

    def __init__(self, app: ASGIApp, minimum_size: int = 1024) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else "/v1"
        if path == "/v1" or path.startswith("/v1/"):
            await self.app(scope, receive, send)
        else:
            await self.gzip(scope, receive, send)


def install(app: FastAPI, settings: Settings) -> None:
    """Serve `web/` at `/` (after every API route, so none is shadowed), if it is there."""
    if not (WEB_ROOT / "index.html").is_file():
        return
    static = StaticFiles(directory=WEB_ROOT, html=True)
    app.mount("/", WithPolicy(static, content_security_policy(settings)), name="web")
