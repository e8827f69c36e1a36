"""`/openapi.json` as the contract, and `/docs` served with no internet.

FastAPI writes the document from the routes; this adds what it cannot know: the shared `Problem`
schema, a description of every enum value and field (`api.vocabulary`), an example body per
request model (`api.examples`), and the rule catalogue behind every problem `type`. Swagger UI's
assets come from the `swagger-ui-bundle-v2` package (Apache-2.0), served by the app itself."""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from swagger_ui_bundle import swagger_ui_path

from api import webhooks
from api.examples import EXAMPLES, RESPONSE_EXAMPLES
from api.resources import ProblemDetails
from api.vocabulary import ENUMS, FIELDS, LABELS

ASSETS = "/docs/assets"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def with_policy(page: HTMLResponse) -> HTMLResponse:
    """The page with a Content-Security-Policy: scripts only from this origin plus the page's
    own inline script (by its SHA-256, so no other inline script runs), data only from this
    origin, never framed. Swagger UI sets inline styles and draws icons from data: URIs."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(found.encode()).digest()).decode() + "'"
        for found in _INLINE_SCRIPT.findall(bytes(page.body).decode())
    )
    page.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline';"
        " img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none';"
        " form-action 'self'; frame-ancestors 'none'"
    )
    return page


def _describe_enum(name: str, schema: dict[str, Any]) -> None:
    meanings = ENUMS.get(name, {})
    schema["x-enum-descriptions"] = [meanings.get(str(v), "") for v in schema["enum"]]
    listing = "\n".join(f"- `{v}`: {meanings.get(str(v), '')}" for v in schema["enum"])
    schema["description"] = (schema.get("description", "").strip() + "\n\n" + listing).strip()


def _describe_properties(name: str, schema: dict[str, Any]) -> None:
    for field, prop in schema.get("properties", {}).items():
        label = LABELS.get(f"{name}.{field}") or LABELS.get(field)
        if label is not None:
            prop["title"] = label
        if "description" in prop:
            continue
        meaning = FIELDS.get(f"{name}.{field}") or FIELDS.get(field)
        if meaning is not None:
            prop["description"] = meaning


BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")


def integer_bounds(node: Any) -> None:
    """Write the bounds of every integer schema in `node` as integers again.

    FastAPI checks the document against its own OpenAPI model, whose `Schema.maximum` (and the
    other bounds) are `float`: a bound inside an `anyOf` (an optional integer's) comes out as
    `4.611686018427388e+18` for `le=2**62`, which a generated client reads as a float and a
    strict one refuses. Every bound the code gives is an integer of at most 2**62, exact in a
    float, so the integer is the one the code wrote."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            for key in BOUNDS:
                value = node.get(key)
                if isinstance(value, float) and value.is_integer():
                    node[key] = int(value)
        for value in node.values():
            integer_bounds(value)
    elif isinstance(node, list):
        for value in node:
            integer_bounds(value)


def _response_examples(doc: dict[str, Any]) -> None:
    """Each successful answer's example beside it (`content.<type>.example`), from its
    model's (an error's example would mislead: the Problem schema carries one of its own)."""
    for item in [*doc.get("paths", {}).values(), *doc.get("webhooks", {}).values()]:
        for op in item.values():
            answers = [r for code, r in op.get("responses", {}).items() if code.startswith("2")]
            for response in answers:
                for media in response.get("content", {}).values():
                    name = media.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
                    if name in RESPONSE_EXAMPLES:
                        media["example"] = RESPONSE_EXAMPLES[name]


_BUILDING = threading.Lock()


def document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of `app`, completed (built once, then cached on the app)."""
    if app.openapi_schema:
        return app.openapi_schema
    with _BUILDING:
        if not app.openapi_schema:
            app.openapi_schema = _build(app)
    return app.openapi_schema


def _build(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        webhooks=app.webhooks.routes,
        tags=app.openapi_tags,
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    problem = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    # Nothing answers with FastAPI's own validation error shape: every error is a Problem.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for name, schema in schemas.items():
        if "enum" in schema:
            _describe_enum(name, schema)
        _describe_properties(name, schema)
        if name in EXAMPLES:
            schema["examples"] = [EXAMPLES[name]]
        if name in RESPONSE_EXAMPLES:
            schema["examples"] = [RESPONSE_EXAMPLES[name]]
    _response_examples(doc)
    integer_bounds(doc)
    return doc


def install(app: FastAPI) -> None:
    """`/openapi.json` completed by `document`, and Swagger UI at `/docs` from local assets."""
    webhooks.describe(app)
    app.openapi = lambda: document(app)  # type: ignore[method-assign]
    # Building the document takes seconds (FastAPI walks every model); FastAPI's own route
    # builds it on the event loop, which stalls every other request meanwhile (a front end's
    # first page waited for it). This route builds it in a worker thread instead.
    path = app.openapi_url or "/openapi.json"
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) != path]

    @app.get(path, include_in_schema=False)
    async def openapi_json() -> JSONResponse:
        return JSONResponse(await run_in_threadpool(document, app))

    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        # "Authorize" keeps the bearer token in the page only: never in localStorage, where it
        # would outlive signing out (no persistAuthorization).
        page = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_ui_parameters={"persistAuthorization": False},
        )
        return with_policy(page)

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def oauth2_redirect() -> HTMLResponse:
        return with_policy(get_swagger_ui_oauth2_redirect_html())
