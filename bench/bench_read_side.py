"""Read-side figures: rebuild speed against a bare read of the log, replay and query latency.

Run on demand: `.venv/bin/python -m bench.bench_read_side [--incidents N] [--steps K]
[--store postgres]`.
Prints a table and one JSON line. Each figure stands beside its reference from the same run:
rebuild events/s beside a bare `select_notifications` of the same log (the read floor), and
`state_as_of`/`verify` at 20, 200 and 2,000 events per incident; query latency at N incidents.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from bench.common import POSTGRES, store_url
from domain.incident import Incident
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
    SubjectOfAllegation,
    SubjectRole,
)
from ledger.application import Ledger
from projections.db import Db
from projections.service import ReadModels
from replay.as_of import state_as_of
from replay.auditor import Auditor

START = datetime(2025, 3, 4, 1, tzinfo=UTC)
ORGS = [f"Provider {n}" for n in range(20)]


def synthetic(n: int, extra_events: int = 8) -> Incident:
    """An incident with `extra_events` steps after its report, made through its own commands."""
    org = ORGS[n % len(ORGS)]
    actor = Actor(id=f"u{n}", role=Role.INCIDENT_MANAGER, organisation=org)
    at = START + timedelta(minutes=n)
    incident = Incident.report(
        stamp=Stamp(actor=actor, now=at),
        program=Program.CSO,
        care_context=CareContext.CSO_PLACEMENT,
        clients=[Client(ref=f"c{n}", aboriginal=n % 5 == 0)],
        types=[list(IncidentType)[n % 19]],
        impact=Impact.MAJOR,
        regulator_category=RegulatorCategory.NOTIFIABLE,
        subjects_of_allegation=[SubjectOfAllegation(ref=f"s{n}", role=SubjectRole.STAFF)],
        details=Details(occurred_at=at, became_aware_at=at, location="l", description="d"),
    )
    for k in range(extra_events):
        incident.record_client_voice(
            f"c{n}", f"said {k}", stamp=Stamp(actor=actor, now=at + timedelta(hours=k))
        )
    return incident


def seed(ledger: Ledger, incidents: int, per: int) -> int:
    made = 0
    for start in range(0, incidents, 200):
        batch = [synthetic(n, per) for n in range(start, min(start + 200, incidents))]
        ledger.save(*batch)
        made += sum(i.version for i in batch)
    return made


def seed_interleaved(ledger: Ledger, incidents: int, per: int) -> int:
    """The same incidents, but their steps interleaved as a live log has them: every report
    first, then each incident's first step, then each one's second... so an incident's history
    spans many rebuild batches (where `seed` keeps each incident's events together)."""
    made = 0
    for start in range(0, incidents, 1000):
        wave = [synthetic(n, 0) for n in range(start, min(start + 1000, incidents))]
        ledger.save(*wave)
        for k in range(per):
            for n, incident in enumerate(wave, start):
                actor = Actor(id=f"u{n}", role=Role.INCIDENT_MANAGER, organisation=ORGS[n % 20])
                at = START + timedelta(minutes=n, hours=k)
                incident.record_client_voice(f"c{n}", f"said {k}", stamp=Stamp(actor=actor, now=at))
            for chunk in range(0, len(wave), 200):
                ledger.save(*wave[chunk : chunk + 200])
        made += sum(i.version for i in wave)
    return made


def timed(fn: Callable[[], Any], repeat: int = 20) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), max(statistics.quantiles(samples, n=20)[-1], 0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=2000)
    parser.add_argument(
        "--steps", type=int, default=8, help="events after each report (0 for query-scale runs)"
    )
    parser.add_argument(
        "--interleaved",
        action="store_true",
        help="steps interleaved across incidents in waves of 1,000, as a live log has them",
    )
    parser.add_argument(
        "--rebuild-workers",
        default="1",
        help="processes for the rebuild (1 or 2); '1,2' rebuilds once with each, in turn",
    )
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres", default=POSTGRES)
    args = parser.parse_args()
    url = store_url(args.store, args.postgres)
    ledger = Ledger.from_url(url)
    events = (seed_interleaved if args.interleaved else seed)(ledger, args.incidents, args.steps)
    results: dict[str, Any] = {
        "store": args.store,
        "incidents": args.incidents,
        "events": events,
        "interleaved": args.interleaved,
    }

    t = time.perf_counter()
    start, read = 1, 0
    while page := ledger.recorder.select_notifications(start=start, limit=500):
        read += len(page)
        start = page[-1].id + 1
    floor = read / (time.perf_counter() - t)

    seeded_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    models = ReadModels.open(url, ledger, feed_secret=b"bench")
    results |= {
        "log_read_floor_events_per_s": round(floor),
        # Peak resident memory after seeding: a rebuild whose memory grew with the log would
        # show in the peak after it (below) as well above this.
        "peak_rss_seeded_mib": round(seeded_rss),
    }
    for workers in (int(w) for w in args.rebuild_workers.split(",")):
        # Process CPU time (this process and a second rebuild process, if any): stable on a
        # shared machine where wall-clock figures are not.
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu, t = time.process_time(), time.perf_counter()
        models.rebuild(workers=workers)
        rebuild = events / (time.perf_counter() - t)
        cpu = time.process_time() - cpu
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        helper_cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
        results |= {
            f"rebuild_{workers}w_events_per_s": round(rebuild),
            f"rebuild_{workers}w_ratio": round(rebuild / floor, 4),
            f"rebuild_{workers}w_cpu_us_per_event": round((cpu + helper_cpu) / events * 1e6, 1),
            f"peak_rss_rebuilt_{workers}w_mib": round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            ),
        }

    now = START + timedelta(days=40)
    for name, query in {
        "list_all": lambda: models.list_incidents(organisations=None, now=now, limit=50),
        "list_org_overdue": lambda: models.list_incidents(
            organisations={ORGS[3]}, now=now, overdue=True, limit=50
        ),
        "list_type": lambda: models.list_incidents(
            organisations=None, now=now, incident_type="Neglect", limit=50
        ),
        "worklist_overdue": lambda: models.worklist(
            organisations=None, now=now, status="overdue", limit=100
        ),
    }.items():
        p50, p95 = timed(query)
        results[f"{name}_p50_ms"], results[f"{name}_p95_ms"] = round(p50, 2), round(p95, 2)

    # A clock past every synthetic event (the big incidents are stamped years after START).
    auditor = Auditor(ledger, Db(url), clock=lambda: START + timedelta(days=10_000))
    # Each replay figure beside a same-run reference: verify_all beside a bare read of the same
    # log rows; state_as_of beside the plain fold, a read+decode of the same events and a bare
    # read of their rows; verify beside the bare read of its rows. Wall ms are medians; CPU ms
    # (process time) are the stable figure on a shared machine.
    t, c = time.perf_counter(), time.process_time()
    report = auditor.verify_all()
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    read = sum(1 for _ in auditor.rows.all())
    read_wall, read_cpu = time.perf_counter() - t, time.process_time() - c
    results["verify_all_s"] = round(wall, 2)
    results["verify_all_events_per_s"] = round(events / wall)
    results["verify_all_events_per_cpu_s"] = round(events / cpu)
    results["verify_all_ok"] = report.ok
    results["log_rows_read_events_per_s"] = round(read / read_wall)
    results["log_rows_read_events_per_cpu_s"] = round(read / read_cpu)

    def both(name: str, fn: Callable[[], Any], repeat: int = 5) -> None:
        walls, cpus = [], []
        for _ in range(repeat):
            t, c = time.perf_counter(), time.process_time()
            fn()
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
        results[f"{name}_ms"] = round(statistics.median(walls) * 1000, 2)
        results[f"{name}_cpu_ms"] = round(statistics.median(cpus) * 1000, 2)

    for size in (20, 200, 2000):
        incident = synthetic(10**6 + size, size - 1)
        ledger.save(incident)
        i = incident.id
        # The first call folds from the first event (and keeps snapshots); the rest start from one.
        both(f"as_of_{size}_first", partial(auditor.state_as_of, i, version=size), 1)
        both(f"as_of_{size}", partial(auditor.state_as_of, i, version=size))
        both(f"as_of_{size}_plain_fold", partial(state_as_of, ledger, i, version=size))
        both(f"read_decode_{size}", partial(ledger.incident_events, i))
        both(f"read_rows_{size}", partial(auditor.rows.states_of, i))
        both(f"verify_{size}", partial(auditor.verify, i))
        both(f"verify_rows_{size}", partial(auditor.rows.of_incident, i))
        if size == 2000:  # an instant between events, and an earlier version off a snapshot
            moment = incident.created_on + timedelta(hours=1234, minutes=30)
            both("as_of_2000_at_instant", partial(auditor.state_as_of, i, at=moment))
            both("as_of_2000_v1001", partial(auditor.state_as_of, i, version=1001))
    models.close()

    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps({"bench": "read_side", **results}))


if __name__ == "__main__":
    main()
