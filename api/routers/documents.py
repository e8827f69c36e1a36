"""Documents on an incident's record: add one (multipart, streamed), list them, download one.

Reports, letters and evidence (policy §7, §8, §9, §10) are kept beside the events by
`ledger.documents`; here they come in and go out. An upload is read as a stream into a spool
(bounded memory, refused past `CIMS_DOCUMENT_MAX_BYTES` as soon as it is), never trusted for
its type (sniffed from the bytes, refused when its name or declared type says otherwise, or
when the type is not in `CIMS_DOCUMENT_TYPES`). A download follows the incident's visibility,
is written to the access log first like every read, and is always an attachment that no
browser renders or sniffs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import Field, StrictInt, ValidationError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import ClientDisconnect

from api import authorisation as authz
from api import reads
from api import resources as out
from api.deps import ActorDep, Services, ServicesDep
from api.idempotency import Stored
from api.problems import Problem, error_responses, invalid
from api.query import strict_query
from api.responses import JSON
from api.routers.incidents import (
    ETAG,
    IdempotencyKey,
    IfMatch,
    _expected_version,
    accepted_body,
    idempotent,
    request_stamp,
    stale_if_match,
)
from api.schemas import MAX_INT, CommandIn
from domain.incident import Incident
from domain.rules.documents import KIND_WORDS
from domain.values import Actor, DocumentKind
from ledger.application import Accepted
from ledger.documents import RENDERED, Limits, Spool, Upload, allowed
from ledger.receipts import CommandKey

router = APIRouter(prefix="/v1/incidents", tags=["documents"], dependencies=[Depends(strict_query)])
# The upload's path, which the body guard lets through as a stream (api.main).
UPLOAD_PATH = re.compile(r"^/v1/incidents/[^/]+/documents/?$")
# The form's text fields: few and short (a reason is the longest).
MAX_FIELDS, MAX_FIELD_BYTES = 20, 20_000
# Headroom for the multipart framing and fields around a file at the size limit.
FRAMING_BYTES = 256 * 1024
UPLOAD_ERRORS = error_responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 428, 429, 431, 503)
READ_ERRORS = error_responses(401, 403, 404, 422, 429, 431, 503)


class DocumentIn(CommandIn):
    """The form fields of an upload (the file is the part named `file`)."""

    kind: DocumentKind = Field(description="what the document is")
    supports_version: StrictInt | None = Field(
        default=None, ge=1, le=MAX_INT, description="the step (incident version) it supports"
    )
    supersedes: UUID | None = Field(
        default=None, description="a document on the record this corrected copy replaces"
    )
    reason: str | None = Field(
        default=None, max_length=20_000, description="why (required with `supersedes`)"
    )
    # Not form fields: the file as received, so a retry with other bytes is another request.
    sha256: str = ""
    file_name: str = ""


def limits(svc: Services) -> Limits:
    settings = svc.settings
    return Limits(
        max_bytes=settings.document_max_bytes,
        allowed_types=allowed(settings.document_types.split(",")),
    )


def _may_add(
    svc: Services, actor: Actor, incident_id: UUID
) -> tuple[list[Incident.Event], Incident]:
    return reads.authorised_state(
        svc, actor, incident_id, "command:add-document", action=authz.ADD_DOCUMENT
    )


class _Form:
    """A multipart/form-data body read as it arrives: the part named `file` into `spool`, the
    other parts as short text fields."""

    def __init__(self, boundary: bytes, spool: Spool) -> None:
        self.spool = spool
        self.fields: dict[str, str] = {}
        self.file_name: str | None = None
        self.content_type: str | None = None
        self._headers: dict[bytes, bytes] = {}
        self._field, self._value = b"", b""
        self._name: str | None = None
        self._into_file = False
        self._buffer = bytearray()
        self.parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._data,
                "on_part_end": self._end,
            },
        )

    def _begin(self) -> None:
        self._headers, self._name, self._into_file = {}, None, False
        self._buffer = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = params.get(b"name")
        self._name = name.decode("utf-8", "replace") if name is not None else None
        if self._name == "file":
            if self.file_name is not None:
                raise invalid("file", "schema.one-file", "send one file per upload")
            raw = params.get(b"filename")
            if raw is None:
                raise invalid("file", "schema.file-required", "the part named file is not a file")
            try:
                self.file_name = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise invalid(
                    "file_name", "document.file-name-unsafe", "the file name is not UTF-8"
                ) from None
            declared = self._headers.get(b"content-type")
            self.content_type = declared.decode("latin-1") if declared else None
            self._into_file = True
        elif len(self.fields) >= MAX_FIELDS:
            raise invalid("body", "schema.too-many-fields", f"at most {MAX_FIELDS} form fields")

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._into_file:
            self.spool.write(data[start:end])
            return
        self._buffer += data[start:end]
        if len(self._buffer) > MAX_FIELD_BYTES:
            raise invalid(self._name or "body", "schema.too-long", "the field is too long")

    def _end(self) -> None:
        if not self._into_file and self._name is not None:
            try:
                self.fields[self._name] = self._buffer.decode("utf-8")
            except UnicodeDecodeError:
                raise invalid(self._name, "schema.utf8", "the field is not UTF-8 text") from None


async def read_form(request: Request, spool: Spool) -> _Form:
    """The upload's fields and file (into `spool`), read as the body arrives. A 400 for a body
    that is not multipart/form-data; a 422 naming `file` when no file was sent."""
    kind, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise Problem(
            400,
            "http-400",
            "Bad request",
            "send the document as multipart/form-data, its file in the part named file",
        )
    form = _Form(boundary, spool)
    async for piece in request.stream():
        form.parser.write(piece)
    form.parser.finalize()
    if form.file_name is None:
        raise invalid("file", "schema.file-required", "send the document in the part named file")
    return form


def _fields(form: _Form, upload: Upload) -> DocumentIn:
    try:
        return DocumentIn.model_validate(
            {
                **{k: v for k, v in form.fields.items() if v != ""},
                "sha256": upload.sha256,
                "file_name": upload.file_name,
            }
            | _numbers(form.fields)
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise invalid(field, f"schema.{first['type']}", first["msg"]) from None


def _numbers(fields: dict[str, str]) -> dict[str, Any]:
    """Form fields are text: the numbers among them, as numbers when they are digits."""
    found: dict[str, Any] = {}
    for name in ("expected_version", "supports_version"):
        text = fields.get(name, "")
        if text.isascii() and text.isdigit():
            found[name] = int(text)
    return found


@router.post(
    "/{incident_id}/documents",
    status_code=201,
    summary="Add a document (report, letter, evidence) to an incident's record.",
    response_model=None,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file", "kind"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "kind": {"type": "string", "enum": [k.value for k in DocumentKind]},
                            "expected_version": {"type": "integer", "minimum": 0},
                            "supports_version": {"type": "integer", "minimum": 1},
                            "supersedes": {"type": "string", "format": "uuid"},
                            "reason": {"type": "string", "maxLength": 20000},
                        },
                    }
                }
            },
        }
    },
    responses={
        201: {"model": out.Accepted, "description": "Recorded.", "headers": ETAG},
        **UPLOAD_ERRORS,
    },
)
async def add_document(
    incident_id: UUID,
    request: Request,
    svc: ServicesDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> JSON:
    """Multipart form: `file` (the document), `kind`, and `expected_version` (or `If-Match`),
    optionally `supports_version` (the step it supports), `supersedes` with `reason` (a
    corrected copy). The media type is sniffed from the bytes. Refusals, each naming its rule,
    nothing stored: an empty file (`document.empty`, 422); over `CIMS_DOCUMENT_MAX_BYTES`
    (`document.too-large`, 413, as soon as the body passes it); a name or declared type the
    bytes contradict (`document.type-contradicted`, 422); a type outside `CIMS_DOCUMENT_TYPES`
    (`document.type-not-allowed`, 415); a file name with a folder separator, a control
    character or over 255 characters (`document.file-name-unsafe`, 422); an incident the caller
    may not see (404, before a byte of the file is read). An upload cut off part-way records
    nothing and leaves no temporary file. The event and the bytes are written in one
    transaction; `Idempotency-Key` as for every command."""
    await run_in_threadpool(_may_add, svc, actor, incident_id)
    settings = svc.settings
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.document_max_bytes + FRAMING_BYTES:
        await run_in_threadpool(_too_large, svc)
    with Spool(limits(svc), settings.document_spool_dir) as spool:
        try:
            form = await read_form(request, spool)
        except ClientDisconnect:
            raise Problem(400, "http-400", "Bad request", "the upload was cut off") from None
        upload = await run_in_threadpool(spool.finish, form.file_name or "", form.content_type)
        body = _fields(form, upload)
        expected = _expected_version(body, if_match)

        def run(key: CommandKey | None, found: tuple[list[Incident.Event], Incident]) -> Accepted:
            history, state = found
            with stale_if_match(body):
                return svc.ledger.add_document(
                    incident_id,
                    upload,
                    body.kind,
                    expected_version=expected,
                    stamp=request_stamp(svc, actor),
                    history=history,
                    state=state,
                    key=key,
                    supports_version=body.supports_version,
                    supersedes=body.supersedes,
                    reason=body.reason,
                )

        def answer(accepted: Accepted) -> Stored:
            added = _new_document(accepted.event)
            return Stored(
                201,
                {**accepted_body(accepted), "document_id": str(added)},
                {
                    "ETag": f'"{accepted.version}"',
                    "Location": f"/v1/incidents/{incident_id}/documents/{added}",
                },
            )

        return await idempotent(
            svc,
            request,
            actor,
            idempotency_key,
            body,
            run,
            lambda: _may_add(svc, actor, incident_id),
            answer,
            expected_version=expected,
        )


def _new_document(event: Incident.Event) -> UUID | None:
    """The document an upload added, from the last event it recorded (a corrected copy's is
    the supersession of the copy it replaced, naming it)."""
    if isinstance(event, Incident.DocumentAdded):
        return event.document_id
    return getattr(event, "superseded_by", None)


def _too_large(svc: Services) -> None:
    from domain.rules.documents import require_within_size

    require_within_size(svc.settings.document_max_bytes + 1, svc.settings.document_max_bytes)


def documents_of(events: list[Incident.Event], incident_id: UUID) -> list[dict[str, Any]]:
    """Every document on the record, oldest first, each with the step it supports and, if a
    correction superseded it, by what and why."""
    superseded: dict[UUID, Incident.DocumentSuperseded] = {
        e.document_id: e for e in events if isinstance(e, Incident.DocumentSuperseded)
    }
    resting: dict[UUID, list[int]] = {}
    for e in events:
        named = getattr(e, "document_id", None)
        if named is not None and not isinstance(
            e, Incident.DocumentAdded | Incident.DocumentSuperseded
        ):
            resting.setdefault(named, []).append(e.originator_version)
    found = []
    for e in events:
        if not isinstance(e, Incident.DocumentAdded):
            continue
        gone = superseded.get(e.document_id)
        found.append(
            {
                "document_id": str(e.document_id),
                "kind": e.kind.value,
                "kind_label": KIND_WORDS[e.kind],
                "file_name": e.file_name,
                "media_type": e.media_type,
                "size": e.size,
                "sha256": e.sha256,
                "version": e.originator_version,
                "supports_version": e.supports_version,
                "named_by_versions": resting.get(e.document_id, []),
                "added_at": e.timestamp,
                "added_by": e.actor.model_dump(mode="json"),
                "superseded": gone is not None,
                "superseded_by": str(gone.superseded_by) if gone and gone.superseded_by else None,
                "superseded_reason": gone.reason if gone else None,
                "href": f"/v1/incidents/{incident_id}/documents/{e.document_id}",
            }
        )
    return found


@router.get(
    "/{incident_id}/documents",
    summary="List the documents on an incident's record.",
    response_model=None,
    responses={200: {"model": out.DocumentList}, **READ_ERRORS},
)
async def list_documents(incident_id: UUID, svc: ServicesDep, actor: ActorDep) -> dict[str, Any]:
    """Each document: kind, file name, sniffed media type, size in bytes, SHA-256, the version
    that added it, the step it supports (`supports_version`) and the steps that name it
    (`named_by_versions`), who added it and when, and whether a correction superseded it
    (by which document, why). Follows the incident's visibility; the read is access-logged.
    Also what a front end needs to offer an upload: whether this caller may add one
    (`may_add`), the kinds in the policy's words, the largest file and the types kept."""
    incident = await reads.read_incident(svc, actor, incident_id, "documents")
    events = await run_in_threadpool(svc.ledger.incident_events, incident_id)
    kept = limits(svc)
    return {
        "id": str(incident_id),
        "items": documents_of(events, incident_id),
        "may_add": authz.may_act(actor, authz.ADD_DOCUMENT, incident),
        "kinds": [{"value": k.value, "label": KIND_WORDS[k]} for k in DocumentKind],
        "max_bytes": kept.max_bytes,
        "allowed_types": sorted(kept.allowed_types),
    }


def attachment(file_name: str) -> str:
    """`Content-Disposition: attachment` with the name as a plain-ASCII fallback and, in full,
    as RFC 5987 UTF-8 (RFC 6266 §4.3): never a quote, backslash or control character."""
    fallback = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\%;' else "_" for c in file_name)
    encoded = quote(file_name, safe="")
    return f"attachment; filename=\"{fallback or 'document'}\"; filename*=UTF-8''{encoded}"


@router.get(
    "/{incident_id}/documents/{document_id}",
    summary="Download a document on an incident's record.",
    response_model=None,
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The document's bytes, as an attachment.",
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        },
        **READ_ERRORS,
    },
)
async def get_document(
    incident_id: UUID,
    document_id: UUID,
    svc: ServicesDep,
    actor: ActorDep,
) -> StreamingResponse:
    """The bytes as stored, streamed chunk by chunk, as an attachment (`Content-Disposition`
    with the file's name), `X-Content-Type-Options: nosniff` and a sandboxing
    `Content-Security-Policy`; a type a browser would render (HTML, XML, SVG) is served as
    `application/octet-stream`. `ETag` is the SHA-256. Follows the incident's visibility (404 as
    for an unknown incident); the read is access-logged (`document:<id>`) before a byte goes
    out. A document not on this incident: 404 `document-not-found`."""
    await reads.read_incident(svc, actor, incident_id, f"document:{document_id}")
    events = await run_in_threadpool(svc.ledger.incident_events, incident_id)
    added = next(
        (
            e
            for e in events
            if isinstance(e, Incident.DocumentAdded) and e.document_id == document_id
        ),
        None,
    )
    if added is None:
        raise Problem(
            404,
            "document-not-found",
            "No such document",
            f"no document {document_id} on incident {incident_id}",
        )
    media_type = "application/octet-stream" if added.media_type in RENDERED else added.media_type
    chunks: Iterator[bytes] = svc.ledger.document_bytes(added.sha256)
    return StreamingResponse(
        iterate_in_threadpool(chunks),
        media_type=media_type,
        headers={
            "Content-Disposition": attachment(added.file_name),
            "Content-Length": str(added.size),
            "ETag": f'"{added.sha256}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
