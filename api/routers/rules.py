"""The catalogue of rules and problems: what each refusal's `rule` and `type` mean."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.problems import catalogue, error_responses
from api.resources import Rules

router = APIRouter(prefix="/v1", tags=["rules"])
_CATALOGUE = {"items": catalogue()}


@router.get(
    "/rules",
    summary="List every rule id and problem type a request can be refused with.",
    response_model=None,
    responses={200: {"model": Rules}, **error_responses(429, 431)},
)
async def rules() -> Any:
    """Each policy rule (with its section of the CIMS policy) and each API problem, with the
    problem `type` URI a refusal by it carries; no sign-in needed, so a front end can explain a
    refusal before the user signs in. Field-level rules (`schema.*`) carry the `validation`
    problem type."""
    return _CATALOGUE
