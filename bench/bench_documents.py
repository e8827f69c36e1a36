"""A 200 MB document up and down through HTTP, on each store, with the server's memory watched.

Run on demand: `.venv/bin/python -m bench.bench_documents [--megabytes 200] [--store sqlite]`.
The API runs in a uvicorn process of its own; its resident memory (VmRSS from
/proc/<pid>/status) is sampled every 20 ms while a client uploads one file of `--megabytes`
(multipart, streamed from disk) and then downloads it (streamed, hashed, thrown away). The
claim measured: memory stays flat, as the upload is spooled to disk and hashed as it arrives
and the bytes go into and out of the database one 1 MiB chunk at a time, so the peak during
either transfer is the idle process plus a few MiB, whatever the file's size. Prints a table
and one JSON line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from api.auth import mint_token
from api.settings import Settings
from bench.common import POSTGRES, store_url
from domain.values import Role

SECRET = "bench-secret-" + "d" * 32
ORG = "Northside CSO"
MIB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Watch:
    """The highest VmRSS of `pid` while the block runs, sampled every 20 ms."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(0.02)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mib(self.pid))


REPORT = {
    "program": "cso",
    "care_context": "cso_placement",
    "clients": [{"ref": "client-1", "aboriginal": False}],
    "types": ["Physical abuse"],
    "impact": "major",
    "occurred_at": "2025-03-04T09:00:00+11:00",
    "became_aware_at": "2025-03-04T10:00:00+11:00",
    "location": "Residential unit",
    "description": "Bruising on the client's arm; the client says a carer grabbed them.",
    "subjects_of_allegation": [{"ref": "carer-1", "role": "carer"}],
    "immediate_actions": "Client safe; carer stood down.",
    "regulator_category": "notifiable",
}


def incident_under_investigation(client: httpx.Client) -> str:
    """An incident reported, its investigation determined and its investigator appointed."""
    reported = client.post("/v1/incidents", json=REPORT)
    reported.raise_for_status()
    incident = str(reported.json()["id"])
    steps: list[tuple[str, dict[str, Any]]] = [
        ("notifications", {"kind": "police", "recipient": "Victoria Police"}),
        ("follow-up", {"kind": "investigation", "reason": "abuse by a carer"}),
        (
            "appoint-investigator",
            {"investigator_ref": "ivan", "independence_declared": True, "declaration": "d"},
        ),
    ]
    for version, (action, body) in enumerate(steps, start=1):
        done = client.post(
            f"/v1/incidents/{incident}/{action}", json={**body, "expected_version": version}
        )
        done.raise_for_status()
    return incident


def big_file(megabytes: int) -> Path:
    """A PDF-headed file of `megabytes` MiB on disk (random bytes: nothing compresses it)."""
    path = Path(tempfile.mkdtemp()) / "big.pdf"
    with path.open("wb") as f:
        f.write(b"%PDF-1.7\n")
        for _ in range(megabytes):
            f.write(os.urandom(MIB))
    return path


def run(kind: str, megabytes: int, postgres: str) -> dict[str, Any]:
    url = store_url(kind, postgres)
    port = free_port()
    env = {
        **os.environ,
        "CIMS_DATABASE_URL": url,
        "CIMS_JWT_SECRET": SECRET,
        "CIMS_FEED_SECRET": "f" * 32,
        "CIMS_CHECKPOINT_KEY": "c" * 32,
        "CIMS_DOCUMENT_MAX_BYTES": str((megabytes + 1) * MIB),
        "CIMS_RATE_LIMIT_ENABLED": "false",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    path = big_file(megabytes)
    try:
        base = f"http://127.0.0.1:{port}"
        settings = Settings(jwt_secret=SECRET)
        token = mint_token(settings, sub="mel.manager", role=Role.INCIDENT_MANAGER, org=ORG)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=600) as client:
            for _ in range(200):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            incident = incident_under_investigation(client)
            # Warm: one small upload and download, so the idle figure includes what any
            # request loads once (routes, the store's pool, puremagic's tables).
            small = client.post(
                f"/v1/incidents/{incident}/documents",
                data={"kind": "other", "expected_version": "4"},
                files={"file": ("small.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")},
            )
            small.raise_for_status()
            client.get(small.headers["Location"]).raise_for_status()
            time.sleep(0.5)
            idle = rss_mib(server.pid)
            with Watch(server.pid) as up, path.open("rb") as source:
                began = time.perf_counter()
                added = client.post(
                    f"/v1/incidents/{incident}/documents",
                    data={"kind": "evidence", "expected_version": "5"},
                    files={"file": ("big.pdf", source, "application/pdf")},
                )
                up_seconds = time.perf_counter() - began
            added.raise_for_status()
            digest = hashlib.sha256()
            with Watch(server.pid) as down:
                began = time.perf_counter()
                with client.stream("GET", added.headers["Location"]) as response:
                    response.raise_for_status()
                    for piece in response.iter_bytes(MIB):
                        digest.update(piece)
                down_seconds = time.perf_counter() - began
        assert digest.hexdigest() == added.json()["event"]["sha256"]
        size_mb = path.stat().st_size / MIB
        return {
            "store": kind,
            "megabytes": round(size_mb, 1),
            "idle_rss_mib": round(idle, 1),
            "upload_peak_rss_mib": round(up.peak, 1),
            "download_peak_rss_mib": round(down.peak, 1),
            "upload_s": round(up_seconds, 2),
            "download_s": round(down_seconds, 2),
            "upload_mb_s": round(size_mb / up_seconds, 1),
            "download_mb_s": round(size_mb / down_seconds, 1),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
        path.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--postgres", default=POSTGRES)
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.store == "both" else [args.store]
    results = [run(kind, args.megabytes, args.postgres) for kind in kinds]
    print(
        f"{'store':9} {'MiB':>6} {'idle RSS':>9} {'peak up':>8} {'peak down':>10}"
        f" {'up MB/s':>8} {'down MB/s':>10}"
    )
    for r in results:
        print(
            f"{r['store']:9} {r['megabytes']:>6} {r['idle_rss_mib']:>9} "
            f"{r['upload_peak_rss_mib']:>8} {r['download_peak_rss_mib']:>10}"
            f" {r['upload_mb_s']:>8} {r['download_mb_s']:>10}"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
