"""Direct ledger commands/s against the library's own application with a trivial aggregate.

Run on demand: `.venv/bin/python -m bench.bench_ledger [--events N] [--postgres URL]`. Prints
tables and one JSON line. The reference is `eventsourcing`'s plain `Application` saving a
one-field aggregate the same number of times on the same store, so the ratio shows what our
rules, pydantic events, hash chain and obligation folding cost over the library's floor.

Then many writers at once (8 and 32 threads, each on incidents of its own), with group commit
and without it (`GROUP_COMMIT_MAX_BATCH=1`): the ratio is what sharing a transaction buys.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.common import POSTGRES, percentile_ms, store_url
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
from ledger.application import Accepted, Ledger
from ledger.persistence import store_env

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


def _report(ledger: Ledger) -> Accepted:
    return ledger.report(
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


def _voice(ledger: Ledger, accepted: Accepted, version: int, i: int) -> int:
    return ledger.execute(
        accepted.incident_id,
        "record_client_voice",
        expected_version=version,
        stamp=Stamp(actor=ACTOR, now=START + timedelta(seconds=i)),
        client_ref="c",
        said=f"voice {i}",
    ).version


def bench_ledger(url: str, n: int) -> tuple[float, list[float]]:
    ledger = Ledger.from_url(url)
    accepted = _report(ledger)
    version = accepted.version

    def step(i: int) -> None:
        nonlocal version
        version = _voice(ledger, accepted, version, i)

    return _timed(n, step)


def bench_concurrent(url: str, threads: int, per_thread: int, max_batch: int) -> dict[str, float]:
    """Commands/s with `threads` writers at once, each reporting an incident and recording four
    more events on it, again and again; and how many commands each transaction carried."""
    ledger = Ledger(env=store_env(url) | {"GROUP_COMMIT_MAX_BATCH": str(max_batch)})

    def writer() -> None:
        for _ in range(per_thread // 5):
            accepted = _report(ledger)
            version = accepted.version
            for i in range(4):
                version = _voice(ledger, accepted, version, i)

    workers = [threading.Thread(target=writer) for _ in range(threads)]
    began = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    rate = threads * (per_thread // 5) * 5 / (time.perf_counter() - began)
    ledger.close()
    return {"cmds_per_s": rate, "per_txn": ledger.commits.saves / ledger.commits.batches}


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--postgres", default=POSTGRES)
    args = parser.parse_args()
    stores = {"sqlite": lambda: store_url("sqlite")}
    try:
        psycopg.connect(args.postgres, connect_timeout=3).close()
        stores["postgres"] = lambda: store_url("postgres", args.postgres)
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
                "ledger_p50_ms": percentile_ms(our_lat, 50),
                "ledger_p99_ms": percentile_ms(our_lat, 99),
                "library_p50_ms": percentile_ms(floor_lat, 50),
            }
        )
    print(f"{'store':10}{'ledger/s':>10}{'library/s':>11}{'ratio':>8}{'p50 ms':>9}{'p99 ms':>9}")
    for r in rows:
        print(
            f"{r['store']:10}{r['ledger_cmds_per_s']:>10}{r['library_saves_per_s']:>11}"
            f"{r['ratio']:>8}{r['ledger_p50_ms']:>9}{r['ledger_p99_ms']:>9}"
        )
    print(
        f"\n{'store':10}{'threads':>8}{'grouped/s':>11}{'cmds/txn':>10}{'single/s':>10}{'ratio':>8}"
    )
    together = []
    for store, make_url in stores.items():
        for threads in (8, 32):
            grouped = bench_concurrent(make_url(), threads, 1000 // threads, 64)
            single = bench_concurrent(make_url(), threads, 1000 // threads, 1)
            together.append(
                {
                    "store": store,
                    "threads": threads,
                    "group_commit_cmds_per_s": round(grouped["cmds_per_s"]),
                    "cmds_per_transaction": round(grouped["per_txn"], 2),
                    "one_per_transaction_cmds_per_s": round(single["cmds_per_s"]),
                    "ratio": round(grouped["cmds_per_s"] / single["cmds_per_s"], 2),
                }
            )
            r = together[-1]
            print(
                f"{store:10}{threads:>8}{r['group_commit_cmds_per_s']:>11}"
                f"{r['cmds_per_transaction']:>10}{r['one_per_transaction_cmds_per_s']:>10}"
                f"{r['ratio']:>8}"
            )
    print(json.dumps({"bench": "ledger_direct", "results": rows, "concurrent": together}))


if __name__ == "__main__":
    main()
