"""Direct ledger commands/s against the library's own application with a trivial aggregate.

Run on demand: `.venv/bin/python -m bench.bench_ledger [--events N] [--postgres URL]`. Prints a
table and one JSON line. The reference is `eventsourcing`'s plain `Application` saving a
one-field aggregate the same number of times on the same store, so the ratio shows what our
rules, pydantic events, hash chain and obligation folding cost over the library's floor.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from domain.ledger import Ledger
from domain.persistence import store_env
from domain.values import (
    Actor,
    CareContext,
    Client,
    Details,
    Impact,
    IncidentType,
    Program,
    RegulatorCategory,
    Role,
    Stamp,
)

ACTOR = Actor(id="bench", role=Role.INCIDENT_MANAGER, organisation="Bench Org")
START = datetime(2025, 3, 4, 1, tzinfo=UTC)


class Counter(Aggregate):
    @event("Created")
    def __init__(self) -> None:
        self.n = 0

    @event("Incremented")
    def increment(self) -> None:
        self.n += 1


def _timed(n: int, step: Callable[[int], None]) -> tuple[float, list[float]]:
    latencies = []
    began = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        step(i)
        latencies.append(time.perf_counter() - t)
    return n / (time.perf_counter() - began), latencies


def bench_ledger(url: str, n: int) -> tuple[float, list[float]]:
    ledger = Ledger.from_url(url)
    accepted = ledger.report(
        stamp=Stamp(actor=ACTOR, now=START),
        program=Program.CSO,
        care_context=CareContext.CSO_PLACEMENT,
        clients=[Client(ref="c", aboriginal=False)],
        types=[IncidentType.INJURY_EXPLAINED],
        impact=Impact.NON_MAJOR,
        regulator_category=RegulatorCategory.NONE,
        subjects_of_allegation=[],
        details=Details(occurred_at=START, became_aware_at=START, location="l", description="d"),
    )
    version = accepted.version

    def step(i: int) -> None:
        nonlocal version
        version = ledger.execute(
            accepted.incident_id,
            "record_client_voice",
            expected_version=version,
            stamp=Stamp(actor=ACTOR, now=START + timedelta(seconds=i)),
            client_ref="c",
            said=f"voice {i}",
        ).version

    return _timed(n, step)


def bench_library(url: str, n: int) -> tuple[float, list[float]]:
    env = {k: v for k, v in store_env(url).items() if not k.endswith("_TOPIC")}
    app: Application[uuid.UUID] = Application(env=env)
    counter = Counter()
    app.save(counter)

    def step(i: int) -> None:
        c: Counter = app.repository.get(counter.id)
        c.increment()
        app.save(c)

    return _timed(n, step)


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    stores = {"sqlite": lambda: f"sqlite:///{tempfile.mkdtemp()}/bench.db"}
    try:
        psycopg.connect(args.postgres, connect_timeout=3).close()

        def fresh_schema() -> str:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {schema}")
            return f"{args.postgres}?schema={schema}"

        stores["postgres"] = fresh_schema
    except psycopg.Error as exc:
        print(f"postgres skipped: {exc}")
    rows = []
    for store, make_url in stores.items():
        ours, our_lat = bench_ledger(make_url(), args.events)
        floor, floor_lat = bench_library(make_url(), args.events)
        rows.append(
            {
                "store": store,
                "events": args.events,
                "ledger_cmds_per_s": round(ours),
                "library_saves_per_s": round(floor),
                "ratio": round(ours / floor, 3),
                "ledger_p50_ms": round(_pct(our_lat, 50), 2),
                "ledger_p99_ms": round(_pct(our_lat, 99), 2),
                "library_p50_ms": round(_pct(floor_lat, 50), 2),
            }
        )
    print(f"{'store':10}{'ledger/s':>10}{'library/s':>11}{'ratio':>8}{'p50 ms':>9}{'p99 ms':>9}")
    for r in rows:
        print(
            f"{r['store']:10}{r['ledger_cmds_per_s']:>10}{r['library_saves_per_s']:>11}"
            f"{r['ratio']:>8}{r['ledger_p50_ms']:>9}{r['ledger_p99_ms']:>9}"
        )
    print(json.dumps({"bench": "ledger_direct", "results": rows}))


if __name__ == "__main__":
    main()
