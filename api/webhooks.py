"""The regulators' webhook, as `/openapi.json`'s `webhooks` describes it: what a receiver is
sent (`cims projections push`, projections/webhooks.py, sends it), so an integrator can generate
or check a receiver from the same document as the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, FastAPI, Header

from api.resources import FeedItem
from projections.webhooks import CONTENT_TYPE, ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER

FEED_BATCH = "feed-batch"


def describe(app: FastAPI) -> None:
    """Add the pushed feed batch to `app.webhooks` (documentation only: nothing is served)."""

    @app.webhooks.post(
        FEED_BATCH,
        summary="Receive a page of a regulator's feed, signed, as a CloudEvents batch.",
        tags=["feeds"],
        operation_id="webhooks-feed-batch",
        responses={
            200: {
                "description": "Any 2xx: accepted. The delivered cursor advances past the page."
                " Any other answer, a redirect included, or none in time, is a failure: the same"
                " page is sent again later (backing off) with the same `webhook-id`."
            }
        },
    )
    def feed_batch(
        items: Annotated[
            list[FeedItem],
            Body(
                media_type=CONTENT_TYPE,
                description="The feed's next items in order, each a CloudEvent exactly as"
                " `GET /v1/feeds/{regulator}` gives it.",
            ),
        ],
        webhook_id: Annotated[
            str,
            Header(
                alias=ID_HEADER,
                description="The delivery: `<regulator>-<first cursor>-<last cursor>`, the same"
                " when a page is sent again; drop a repeat by it (or by each item's `id`).",
            ),
        ],
        webhook_timestamp: Annotated[
            int,
            Header(
                alias=TIMESTAMP_HEADER,
                description="When it was sent, in seconds since the epoch; refuse one too old.",
            ),
        ],
        webhook_signature: Annotated[
            str,
            Header(
                alias=SIGNATURE_HEADER,
                description="`v1,` + base64 HMAC-SHA256, keyed with the shared `whsec_` secret,"
                " over `<webhook-id>.<webhook-timestamp>.<body>` (Standard Webhooks); verify"
                " it before reading the body (README: the regulators' webhooks).",
            ),
        ],
    ) -> None:
        """Pages of the feed are pushed in order, at least once, to the regulator's `https`
        URL; a receiver verifies the signature, answers 2xx, and drops repeats."""
