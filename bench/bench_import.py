"""Legacy import rows/s into PostgreSQL, beside the ledger's own `report` rate, and its memory.

Run on demand: `.venv/bin/python -m bench.bench_import [--rows 100000] [--reports 5000]
[--store postgres|sqlite] [--postgres URL]`. Writes a synthetic legacy CSV of `--rows` rows
(renamed, split and removed types; open and closed; about 1 in 100 rows bad, so refused), imports
it into a fresh store exactly as `cims import legacy` does, and in the same run times `--reports`
ordinary `Ledger.report` commands into another fresh store: the reference. Memory is the
process's resident set sampled every tenth of the file, so "flat" can be read off the samples,
and its peak. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.bench_ledger import _report
from bench.common import POSTGRES, store_url
from domain.legacy_records import REQUIRED_COLUMNS
from domain.values import Actor, Role
from ledger.application import Ledger
from ledger.legacy_import import Summary, import_rows

OFFICER = Actor(id="bench-officer", role=Role.DEPARTMENT_OFFICER, organisation="DFFH")
NOW = datetime(2025, 3, 4, 1, tzinfo=UTC)
LABELS = [
    "Sexual exploitation",
    "Emotional and psychological trauma",
    "Injury",
    "Self-harm/attempted suicide",
    "Dangerous actions",
    "Poor quality of care",
    "Absent client",
    "Medication error",
    "Serious risk",
]


def write_file(path: Path, rows: int, seed: int = 14) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[*REQUIRED_COLUMNS, "department_client_id"])
        writer.writeheader()
        for n in range(rows):
            aware = datetime(2018, 6, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(3_000_000))
            bad = n % 100 == 99
            submitted = (aware + timedelta(hours=rng.randrange(1, 72))).isoformat()
            writer.writerow(
                {
                    "legacy_id": f"BENCH-{n:07d}",
                    # A bad row: its submission instant lost its offset in the export.
                    "submitted_at": submitted[:19] if bad else submitted,
                    "organisation": f"Provider {n % 40}",
                    "program": "cso",
                    "care_context": "cso_placement",
                    "client_ref": f"C-{rng.randrange(20_000)}",
                    "client_aboriginal": rng.choice(["yes", "no"]),
                    "incident_types": ";".join(rng.sample(LABELS, rng.choice([1, 1, 2]))),
                    "impact": "non_major",
                    "occurred_at": (aware - timedelta(hours=1)).isoformat(),
                    "became_aware_at": aware.isoformat(),
                    "description": "Synthetic legacy record for the import benchmark.",
                    "subject_roles": "",
                    "regulator_category": "none",
                    "status": rng.choice(["open", "closed", "closed", "closed"]),
                    "outcome": "",
                    "department_client_id": str(1_000_000 + rng.randrange(50_000)),
                }
            )


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return round(pages * resource.getpagesize() / 2**20, 1)


def bench_import(url: str, path: Path, rows: int) -> dict[str, object]:
    summary = Summary()
    samples = []
    step = max(rows // 10, 1)
    with Ledger.from_url(url) as ledger, path.open(newline="") as f:
        reader = csv.DictReader(f)
        lines: Iterator[tuple[int, dict[str, str]]] = ((reader.line_num, r) for r in reader)
        began = time.perf_counter()
        for done, result in enumerate(import_rows(ledger, lines, actor=OFFICER, now=NOW), 1):
            summary.count(result)
            if done % step == 0:
                samples.append(rss_mib())
        seconds = time.perf_counter() - began
    return {
        "rows_per_s": round(rows / seconds),
        "seconds": round(seconds, 1),
        "summary": summary.as_dict(),
        "rss_mib_every_tenth": samples,
    }


def bench_reports(url: str, n: int) -> float:
    with Ledger.from_url(url) as ledger:
        began = time.perf_counter()
        for _ in range(n):
            _report(ledger)
        return n / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--reports", type=int, default=5_000)
    parser.add_argument("--store", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--postgres", default=POSTGRES)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "legacy.csv"
        write_file(path, args.rows)
        imported = bench_import(store_url(args.store, args.postgres), path, args.rows)
    reports = bench_reports(store_url(args.store, args.postgres), min(args.reports, args.rows))
    peak = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    ratio = round(float(imported["rows_per_s"]) / reports, 2)  # type: ignore[arg-type]
    print(
        f"{'store':10}{'rows':>9}{'import rows/s':>15}{'report/s':>10}{'ratio':>7}{'peak MiB':>10}"
    )
    print(
        f"{args.store:10}{args.rows:>9}{imported['rows_per_s']:>15}{round(reports):>10}"
        f"{ratio:>7}{peak:>10}"
    )
    print(f"summary {imported['summary']}; RSS MiB every tenth {imported['rss_mib_every_tenth']}")
    print(
        json.dumps(
            {
                "bench": "legacy_import",
                "store": args.store,
                "rows": args.rows,
                **imported,
                "report_cmds_per_s": round(reports),
                "import_to_report_ratio": ratio,
                "peak_rss_mib": peak,
            }
        )
    )


if __name__ == "__main__":
    main()
