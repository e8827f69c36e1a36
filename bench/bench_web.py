"""The web front end's speed: the worklist's time to show its first rows at N incidents, and the
JavaScript and CSS a browser is sent, gzipped.

Run on demand: `.venv/bin/python -m bench.bench_web [--incidents 100000] [--store postgres]`
(a quick check: `--incidents 500`). Needs Chromium at /usr/bin/chromium. Prints a table and one
JSON line. Aims (issue 13, issue 21): first rows under 1 s at 100k incidents with full
histories, beside the worklist API call's own time; JS and CSS under 200 KB gzipped, and what
the browser was actually sent (scripts, styles and `/openapi.json`, compressed by the server
since issue 21).

Full histories (`--histories lifecycle`, the default): `--templates` incident histories are made
through the domain by the demo's lifecycle (every incident type, stages 0 to 7: reported,
consulted, notified, investigated, outcome, review, plan, closed; twenty organisations; reports
spread over 600 days; see `bench.bench_scale`), and each of the N incidents is one of them
re-keyed and re-hashed (its own id, client, subject and command ids), written through the
ledger's own recorder in the order a live log has them (waves of incidents interleaved); every
read model is then rebuilt from that log (`ReadModels.rebuild`), so the worklist, its possible
patterns and the access log stand as a deployment's would. One client in ten recurs in the next
incident, so the manager's possible patterns are not empty. `--histories synthetic` is the
older, quicker set: each report followed by `--steps` recorded client voices.

Time to first rows is measured in the browser, from navigation start to the first worklist row
in the DOM, for an incident manager whose organisation has 1/20 of the incidents; "cold" is the
first load (nothing cached), "warm" the median of five reloads.
"""

from __future__ import annotations

import argparse
import gzip
import json
import secrets
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from api.web import WEB_ROOT
from bench.bench_read_side import ORGS, seed
from bench.bench_scale import Template, copy_of, interleaved, log, make_templates
from bench.common import store_url

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync"]


def gzipped_assets() -> dict[str, int]:
    """Gzipped bytes of the JS and CSS: what every page loads, and the chart library that only
    the statistics page loads."""
    sizes = {"pages": 0, "charts": 0}
    for path in WEB_ROOT.rglob("*"):
        if path.suffix not in (".js", ".css"):
            continue
        size = len(gzip.compress(path.read_bytes(), compresslevel=6))
        sizes["charts" if path.name.startswith("chart-") else "pages"] += size
    sizes["total"] = sizes["pages"] + sizes["charts"]
    return sizes


def serve(app: Any) -> tuple[str, Any]:
    import socket

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


# In the page, after the first rows: the worklist API call's own time, and what the browser
# received for scripts, styles and the OpenAPI document (encoded: as sent, compressed or not).
MEASURED = """() => {
  const entries = performance.getEntriesByType('resource');
  const api = entries.filter((e) => e.name.includes('/v1/obligations'));
  const asset = /\\.(js|css)$|openapi\\.json$/;
  const assets = entries.filter((e) => asset.test(new URL(e.name).pathname));
  return {
    api_ms: api.length ? api[0].duration : null,
    sent_bytes: assets.reduce((n, e) => n + e.encodedBodySize, 0),
    decoded_bytes: assets.reduce((n, e) => n + e.decodedBodySize, 0),
  };
}"""


def first_rows_ms(url: str, token: str, loads: int = 6) -> list[float]:
    return [load["first_rows_ms"] for load in measured_loads(url, token, loads)]


def measured_loads(url: str, token: str, loads: int = 6) -> list[dict[str, Any]]:
    """Each load's time to first rows, the worklist call's own time and the bytes received."""
    from playwright.sync_api import sync_playwright

    found = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(base_url=url).new_page()
        page.add_init_script(f"sessionStorage.setItem('cims.token', {json.dumps(token)})")
        for n in range(loads):
            page.goto("/#/worklist") if n == 0 else page.reload()
            page.wait_for_selector("main table tbody tr", timeout=60_000)
            shown = page.evaluate("performance.now()")
            found.append({"first_rows_ms": shown, **page.evaluate(MEASURED)})
        browser.close()
    return found


def seed_histories(
    ledger: Any, incidents: int, templates: list[Template]
) -> tuple[int, list[UUID]]:
    """N incidents, each a re-keyed copy of a template's history, written through the ledger's
    recorder in chunks of 1,000 incidents (their events interleaved as a live log has them).
    Returns the events written and one incident id per chunk (for the sample check)."""
    import random

    from eventsourcing.persistence import StoredEvent

    rng = random.Random(21)
    events, sampled = 0, []
    for start in range(0, incidents, 1000):
        copies = [
            copy_of(templates[rng.randrange(len(templates))], n)[0]
            for n in range(start, min(start + 1000, incidents))
        ]
        rows = [
            StoredEvent(originator_id=UUID(i), originator_version=v, topic=t, state=s)
            for i, v, t, s in interleaved(copies, 1000)
        ]
        for at in range(0, len(rows), 5000):
            ledger.recorder.insert_events(rows[at : at + 5000])
        events += len(rows)
        sampled.append(UUID(copies[-1][0][0]))
        if start % 20_000 == 0:
            log(f"seeded {start + len(copies):,} incidents, {events:,} events")
    return events, sampled


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--histories", choices=["lifecycle", "synthetic"], default="lifecycle")
    parser.add_argument("--templates", type=int, default=2000, help="lifecycle histories made")
    parser.add_argument(
        "--steps",
        type=int,
        default=10,
        help="with --histories synthetic: client voices recorded after each report",
    )
    parser.add_argument("--rebuild-workers", type=int, default=2)
    args = parser.parse_args()

    from api.auth import mint_token
    from api.main import create_app
    from api.settings import Settings
    from domain.values import Role
    from ledger.application import Ledger
    from projections.service import ReadModels
    from replay.auditor import Auditor

    with tempfile.TemporaryDirectory() as tmp:
        url = store_url(args.store) if args.store == "postgres" else f"sqlite:///{tmp}/cims.db"
        ledger = Ledger.from_url(url)
        began = time.perf_counter()
        if args.histories == "synthetic":
            events = seed(ledger, args.incidents, args.steps)
            sampled: list[UUID] = []
        else:
            templates = make_templates(args.templates)
            log(f"{len(templates)} templates made")
            events, sampled = seed_histories(ledger, args.incidents, templates)
        seeded = time.perf_counter() - began
        # Every read model rebuilt from the log, as after a deployment's rebuild; then a
        # sample of incidents folded and verified (the copies are real, chained histories).
        began = time.perf_counter()
        models = ReadModels.open(url, ledger, feed_secret=b"bench")
        models.rebuild(progress=None, workers=args.rebuild_workers)
        rebuilt = time.perf_counter() - began
        log(f"{events:,} events rebuilt in {rebuilt:.0f} s")
        auditor = Auditor(ledger, models.db)
        for incident_id in sampled:
            if not auditor.verify(incident_id).ok:
                raise AssertionError(f"seeded incident {incident_id} fails verification")
        # The log's checkpoint, as a running deployment's follower keeps it (every
        # `CIMS_CHECKPOINT_EVERY_SECONDS`, carrying on from the last). Without it the server's
        # first catch-up would digest the whole seeded log while the first page loads: a
        # one-off per store, timed here on its own.
        began = time.perf_counter()
        auditor.checkpoint()
        first_checkpoint = time.perf_counter() - began
        models.close()
        ledger.close()
        # A signing secret of its own: tokens on PostgreSQL need one (development sign-in is
        # only for the embedded store).
        secret = secrets.token_urlsafe(32)
        settings = Settings(database_url=url, jwt_secret=secret, rate_limit_enabled=False)
        settings.secret_file().parent.mkdir(parents=True, exist_ok=True)
        app = create_app(settings)
        base, server = serve(app)
        app.state.services.read_models.catch_up()
        token = mint_token(settings, sub="bench", role=Role.INCIDENT_MANAGER, org=ORGS[0])
        loads = measured_loads(base, token)
        server.should_exit = True
    sizes = gzipped_assets()
    result = {
        "at": datetime.now(UTC).isoformat(),
        "incidents": args.incidents,
        "store": args.store,
        "events": events,
        "histories": args.histories,
        "seed_s": round(seeded, 1),
        "rebuild_s": round(rebuilt, 1),
        "first_checkpoint_s": round(first_checkpoint, 1),
        "sample_verified": len(sampled),
        "first_rows_cold_ms": round(loads[0]["first_rows_ms"]),
        "first_rows_warm_ms": round(statistics.median(x["first_rows_ms"] for x in loads[1:])),
        "worklist_api_cold_ms": round(loads[0]["api_ms"] or 0),
        "worklist_api_warm_ms": round(statistics.median(x["api_ms"] or 0 for x in loads[1:])),
        "assets_sent_kb": round(loads[0]["sent_bytes"] / 1024, 1),
        "assets_uncompressed_kb": round(loads[0]["decoded_bytes"] / 1024, 1),
        "gzip_pages_kb": round(sizes["pages"] / 1024, 1),
        "gzip_with_charts_kb": round(sizes["total"] / 1024, 1),
    }
    for key, value in result.items():
        print(f"{key:>22}  {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
