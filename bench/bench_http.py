"""Commands through HTTP (uvicorn, 1 and 2 workers; 1, 8, 32 clients) beside the durability floor.

Run on demand: `.venv/bin/python -m bench.bench_http [--seconds S] [--postgres URL]`. Prints a
table and one JSON line. The reference, measured in the same run on the same database, is one
client doing raw psycopg `INSERT …; COMMIT` of one row at a time: the most a durable single-row
write can do here. Each client reports an incident, then records the client's voice on it again
and again with `If-Match` (a new incident every 20 commands), so every request is a full
command: token, body, load, rules, hash chain, insert, commit. The read models run out of
process (as in docker-compose), so these are the write path's figures. The load generator (a
bare keep-alive HTTP/1.1 client on asyncio streams) shares the machine's two cores with the server.
Beside each rate, the server's CPU time per command: the API processes' user + system CPU
seconds (from /proc/<pid>/stat) over the measured window ÷ the requests answered in it, a
figure that stays put on a noisy machine where wall-clock rates do not. `--servers` runs the
same configurations against other checkouts too (e.g. `main=/work/wt/main-copy`), interleaved
in the same run, beside the same floor.
"Workers" are separate uvicorn processes on their own ports, the clients shared among them:
uvicorn's `--workers` share one listening socket, and on Linux one idle worker was seen to
accept every keep-alive connection while the other sat idle.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg

from api.auth import mint_token
from api.settings import Settings
from bench.common import POSTGRES, percentile_ms, store_url
from domain.values import Role

# Incidents in the field gather tens of events, not thousands: each client starts a new one
# after this many commands, so the figures are not of an ever-longer history.
PER_INCIDENT = 20
SECRET = "bench-secret-" + "b" * 32
REPORT = {
    "program": "cso",
    "care_context": "cso_placement",
    "clients": [{"ref": "client-1", "aboriginal": False}],
    "types": ["Injury-explained"],
    "impact": "non_major",
    "occurred_at": "2025-03-04T09:00:00+11:00",
    "became_aware_at": "2025-03-04T10:00:00+11:00",
    "location": "Residential unit",
    "description": "The client fell in the garden and grazed a knee.",
    "subjects_of_allegation": [],
    "immediate_actions": "First aid given.",
    "regulator_category": "none",
}


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)
    # Requests answered (any status), and the server CPU seconds, over the measured window.
    answered: int = 0
    cpu_seconds: float = 0.0


def durability_floor(url: str, seconds: float) -> tuple[float, list[float]]:
    """One client, one row per transaction: `INSERT …; COMMIT`, each waiting for its fsync."""
    latencies = []
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TEMP TABLE floor (id bigserial PRIMARY KEY, body jsonb)")
        conn.commit()
        began = time.perf_counter()
        while time.perf_counter() - began < seconds:
            t = time.perf_counter()
            conn.execute("INSERT INTO floor (body) VALUES (%s)", ['{"voice": "x"}'])
            conn.commit()
            latencies.append(time.perf_counter() - t)
    return len(latencies) / (time.perf_counter() - began), latencies


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_api(url: str, log: Path, cwd: str = ".") -> tuple[subprocess.Popen[bytes], str]:
    """One uvicorn process serving the API from the checkout at `cwd`; its process and base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "CIMS_DATABASE_URL": url,
        "CIMS_JWT_SECRET": SECRET,
        # A served process on PostgreSQL refuses to start without its own secrets.
        "CIMS_FEED_SECRET": "bench-feed-" + "f" * 32,
        "CIMS_CHECKPOINT_KEY": "bench-checkpoint-" + "c" * 32,
        "CIMS_RUN_PROJECTIONS_IN_PROCESS": "false",
    }
    command = [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory"]
    command += ["--port", str(port), "--no-access-log"]
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the API did not start: {log.read_text()[-2000:]}")


class Connection:
    """One keep-alive HTTP/1.1 connection, as lean as a client can be: httpx was seen taking
    over a millisecond of the two cores per request, which the server then could not use."""

    def __init__(self, base: str) -> None:
        self.host, self.port = base.removeprefix("http://").split(":")

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, int(self.port))

    async def post(
        self, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, Any]:
        payload = orjson.dumps(body)
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n{head}\r\n".encode()
            + payload
        )
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) != b"\r\n":
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return int(status_line.split()[1]), orjson.loads(await self.reader.readexactly(length))

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def _client(http: Connection, token: str, until: float, warm: float, load: Load) -> None:
    await http.open()
    headers = {"Authorization": f"Bearer {token}"}
    incident, version, n = "", 0, 0
    while (now := time.perf_counter()) < until:
        t = time.perf_counter()
        key = {"Idempotency-Key": str(uuid.uuid4())}
        if n % PER_INCIDENT == 0:
            status, body = await http.post("/v1/incidents", REPORT, {**headers, **key})
            ok = status == 201
        else:
            status, body = await http.post(
                f"/v1/incidents/{incident}/client-voice",
                {"client_ref": "client-1", "said": f"voice {n}"},
                {**headers, **key, "If-Match": f'"{version}"'},
            )
            ok = status == 200
        n += 1
        load.answered += 1
        if not ok:
            load.errors[status] = load.errors.get(status, 0) + 1
            n = 0  # start again on a new incident
            continue
        incident, version = body["id"], body["version"]
        if now >= warm:
            load.latencies.append(time.perf_counter() - t)
    await http.close()


def _cpu(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat(5)
    return ticks / os.sysconf("SC_CLK_TCK")


async def drive(
    bases: list[str], clients: int, seconds: float, pids: list[int], warmup: float = 1.5
) -> Load:
    # One principal per client, as people are: the per-principal rate limit (1000/s) is not
    # what is measured here, and eight clients as one principal were seen to reach it.
    tokens = [
        mint_token(
            Settings(jwt_secret=SECRET), sub=f"bench-{n}", role=Role.INCIDENT_MANAGER, org="B"
        )
        for n in range(clients)
    ]
    load = Load()
    start = time.perf_counter()
    until, warm = start + warmup + seconds, start + warmup
    # One connection per client, the clients shared round-robin among the server processes.
    connections = [Connection(bases[n % len(bases)]) for n in range(clients)]

    async def window() -> None:
        await asyncio.sleep(warm - time.perf_counter())
        cpu, answered = _cpu(pids), load.answered
        await asyncio.sleep(until - time.perf_counter())
        load.cpu_seconds, load.answered = _cpu(pids) - cpu, load.answered - answered

    await asyncio.gather(
        window(),
        *(_client(c, t, until, warm, load) for c, t in zip(connections, tokens, strict=True)),
    )
    return load


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--postgres", default=POSTGRES)
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--stores", default="postgres,sqlite")
    parser.add_argument(
        "--servers",
        default="this=.",
        help="label=checkout,... : serve each configuration from each checkout in turn",
    )
    args = parser.parse_args()
    servers = [tuple(s.split("=", 1)) for s in args.servers.split(",")]
    floor, floor_lat = durability_floor(args.postgres, args.seconds)
    print(f"durability floor (psycopg INSERT; COMMIT, 1 client): {floor:.0f}/s")
    stores = args.stores.split(",")
    runs = [("postgres", w) for w in map(int, args.workers.split(",")) if "postgres" in stores]
    if "sqlite" in stores:
        runs.append(("sqlite", 1))  # one process per SQLite file
    rows = []
    log = Path(tempfile.mkdtemp()) / "api.log"
    for (store, workers), (label, checkout) in (
        (run, server) for run in runs for server in servers
    ):
        url = store_url(store, args.postgres)
        apis = [start_api(url, log, checkout) for _ in range(workers)]
        try:
            for clients in map(int, args.clients.split(",")):
                pids = [api.pid for api, _ in apis]
                load = asyncio.run(drive([base for _, base in apis], clients, args.seconds, pids))
                rate = len(load.latencies) / args.seconds
                cpu_ms = 1000 * load.cpu_seconds / max(load.answered, 1)
                rows.append(
                    {
                        "server": label,
                        "store": store,
                        "workers": workers,
                        "clients": clients,
                        "cmds_per_s": round(rate),
                        "floor_per_s": round(floor),
                        "ratio": round(rate / floor, 3),
                        "p50_ms": percentile_ms(load.latencies, 50),
                        "p95_ms": percentile_ms(load.latencies, 95),
                        "p99_ms": percentile_ms(load.latencies, 99),
                        "floor_p99_ms": percentile_ms(floor_lat, 99),
                        "cpu_ms_per_cmd": round(cpu_ms, 3),
                        "errors": load.errors,
                    }
                )
                r = rows[-1]
                print(
                    f"{label:8}{store:9}{workers:>4}{clients:>8}{r['cmds_per_s']:>9}{r['ratio']:>8}"
                    f"{r['p50_ms']:>9}{r['p95_ms']:>9}{r['p99_ms']:>9}{cpu_ms:>9.2f}"
                    f"  {load.errors or ''}",
                    flush=True,
                )
        finally:
            for api, _ in apis:
                api.terminate()
                api.wait(timeout=20)
    print(json.dumps({"bench": "http_commands", "floor_per_s": round(floor), "results": rows}))


if __name__ == "__main__":
    print(
        f"{'server':8}{'store':9}{'wkr':>4}{'clients':>8}{'cmds/s':>9}{'÷floor':>8}{'p50':>9}"
        f"{'p95':>9}{'p99':>9}{'cpu ms':>9}"
    )
    main()
