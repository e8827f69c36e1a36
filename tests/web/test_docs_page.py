"""Swagger UI at /docs runs under its Content-Security-Policy (no inline script but its own)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect


def test_swagger_ui_renders_under_its_content_security_policy(page: Any) -> None:
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )

    page.goto("/docs")

    expect(page.get_by_role("button", name="Authorize")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("/v1/incidents/{incident_id}/history").first).to_be_visible()
    assert violations == []
    assert "authorized" not in page.evaluate("() => Object.keys(window.localStorage).join()")
