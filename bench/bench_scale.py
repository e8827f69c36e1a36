"""The 10M-event run: a PostgreSQL ledger of N incidents seeded with COPY, then its size on disk,
the rebuild of every read model, and list/worklist latency at that scale.

Run on demand: `.venv/bin/python -m bench.bench_scale [--incidents 1000000] [--workers 2]`
(a quick end-to-end check: `--incidents 10000 --verify`). Prints progress, a table and one JSON
line; each figure stands beside a reference measured in the same run:
- seeding events/s (COPY through the ledger's own mapper), beside a bare COPY of the same rows;
- bytes per event on disk (events table, its indexes and TOAST; receipts; each read model),
  beside the average stored JSON state of an event;
- rebuild events/s of all read models (`ReadModels.rebuild`), beside a bare read of the log
  (`select_notifications` pages, as the rebuild reads it) and a `count(*)` scan;
- p50/p95 of `list_incidents` (all, one organisation's overdue, one type) and `worklist`
  (all overdue, one organisation), beside a primary-key lookup of one summary row;
  with `--plans FILE` the EXPLAIN ANALYZE of each query is written to FILE.

How the log is seeded. Generating 10M events through the domain one command at a time would
take hours on two cores, so a pool of `--templates` incident histories is made through the
domain (`demo.dataset`'s lifecycle: every incident type, stage 0 to 7, twenty organisations,
reports spread over 600 days, each command stamped with a command id as the API stamps it).
Each of the N incidents copies one template and is re-keyed: its own incident id (derived from
its report's idempotency key, as `Ledger.report` derives it), its own client and subject
references and command ids; then every event's `prev_hash` and `hash` are computed again, in
order, by `domain.base.chain_hash` (the function the events seal themselves with and
`verify_all` checks with). Rows are written in the recorder's layout (`cims_events`:
originator_id, originator_version, topic, state; `notification_id` from its own sequence) with
`COPY`, one transaction per chunk holding the recorder's `EXCLUSIVE` table lock and sending its
`NOTIFY`, as the recorder's insert does; the `rm_notify_events` trigger fires as on any insert.
Each command's idempotency receipt is copied into `cims_receipts` too (`--no-receipts` to
leave them out), since the web front end sends a key with every command. Within a chunk,
incidents' events are interleaved in waves of `--wave` incidents, as a live log has them.
`--verify` runs `verify_all` over the whole log afterwards; every run checks a sample of
incidents (folded through the ledger, and `verify` of each chain).
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import json
import multiprocessing
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import orjson
import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from bench import common
from bench.common import POSTGRES, store_url
from demo.dataset import PROVIDERS, _progress, _Script, incident_spec
from domain.base import GENESIS_HASH, chain_hash
from domain.values import (
    Actor,
    Client,
    Details,
    IncidentType,
    Role,
    Stamp,
)
from ledger.application import Ledger, incident_id_for
from ledger.persistence import OrjsonTranscoder, PydanticMapper
from ledger.receipts import CommandKey
from projections import incident_summary as summary_model
from projections import obligations as obligations_model
from projections.base import Batch
from projections.db import Db, Tx
from projections.runner import LIVE
from projections.service import ReadModels
from replay.auditor import Auditor

# The moment the queries are asked at; every template's history ends before it.
NOW = datetime(2026, 11, 30, 1, tzinfo=UTC)
ORGS = [f"Provider {n}" for n in range(20)]
STAGES = 8
# Markers in a template's state, replaced in each copy.
TAG = "@T{:05d}@"
CLIENT = "client-"


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# ---- templates: real incident histories made through the domain ------------------------------


class _StampedScript(_Script):
    """The demo's lifecycle driver, each command stamped with a command id as the API does."""

    def __call__(self, command: str, actor: Actor | None = None, **args: Any) -> None:
        self.at += timedelta(days=1)
        stamp = Stamp(actor=actor or self.manager, now=self.at, command_id=f"cmd-{uuid4()}")
        self.version = self.ledger.execute(
            self.id, command, expected_version=self.version, stamp=stamp, **args
        ).version


@dataclass(frozen=True)
class Template:
    """One incident's stored events, with the markers a copy replaces."""

    incident_text: bytes  # the template incident's id, as its JSON states spell it
    tag: bytes  # the marker in its client, subject and line-manager references
    topics: tuple[str, ...]
    states: tuple[bytes, ...]  # JSON states as the mapper stored them
    command_ids: tuple[bytes, ...]
    principals: tuple[tuple[str, str], ...]  # (organisation, subject) of each event's actor


def _spec(t: int) -> dict[str, Any]:
    """The t-th template's incident: organisation, type, impact, stage and report time vary."""
    _, program, care = PROVIDERS[(t // len(ORGS)) % len(PROVIDERS)]
    incident_type = list(IncidentType)[(t * 7) % len(IncidentType)]
    stage = (t * 3 + t // 19) % STAGES
    spec = incident_spec(
        t, incident_type, ORGS[t % len(ORGS)], program, care, tag=TAG.format(t), stage=stage
    )
    return spec | {
        # Reported between 5 and ~660 days before NOW: later stages longer ago.
        "start": NOW - timedelta(days=5 + 8 * stage + (t * 7919) % 600, minutes=(t * 37) % 1440),
        "other_provider": ORGS[(t + 1) % len(ORGS)] if t % 7 == 3 else None,
    }


def make_templates(count: int) -> list[Template]:
    """`count` incident histories, each made by the ledger's own commands (in memory)."""
    ledger = Ledger(
        env={
            "TRANSCODER_TOPIC": get_topic(OrjsonTranscoder),
            "MAPPER_TOPIC": get_topic(PydanticMapper),
        }
    )
    found = []
    for t in range(count):
        spec = _spec(t)
        org, start, tag = spec["org"], spec["start"], TAG.format(t)
        reporter = Actor(id=f"practitioner@{org}", role=Role.REPORTER, organisation=org)
        client = Client(ref=f"{CLIENT}{tag}", aboriginal=spec["aboriginal"])
        accepted = ledger.report(
            stamp=Stamp(actor=reporter, now=start, command_id=f"cmd-{uuid4()}"),
            program=spec["program"],
            care_context=spec["care"],
            clients=[client],
            types=[spec["type"]],
            impact=spec["impact"],
            regulator_category=spec["category"],
            subjects_of_allegation=spec["subjects"],
            details=Details(
                occurred_at=start - timedelta(hours=5),
                became_aware_at=start - timedelta(hours=2),
                location=f"{org} — site {t % 3 + 1}",
                description=f"Synthetic incident: {spec['type']}.",
                immediate_actions="Client made safe; supervisor informed.",
                other_provider=spec["other_provider"],
            ),
        )
        run = _StampedScript(ledger, accepted.incident_id, accepted.version, start, org)
        # What the client said, recorded over the first hours (0 to 7 times): histories of
        # about ten events on average, as the 10M events for 1M incidents have them.
        for k in range(t % 8):
            run.at += timedelta(hours=1)
            stamp = Stamp(actor=run.manager, now=run.at, command_id=f"cmd-{uuid4()}")
            run.version = ledger.execute(
                run.id,
                "record_client_voice",
                expected_version=run.version,
                stamp=stamp,
                client_ref=client.ref,
                said=f"Told staff what happened ({k + 1}).",
            ).version
        run.at = start
        _progress(run, spec, client)
        stored = ledger.recorder.select_events(accepted.incident_id)
        states = [orjson.loads(s.state) for s in stored]
        found.append(
            Template(
                incident_text=str(accepted.incident_id).encode(),
                tag=tag.encode(),
                topics=tuple(s.topic for s in stored),
                states=tuple(s.state for s in stored),
                command_ids=tuple(str(s["command_id"]).encode() for s in states),
                principals=tuple((s["actor"]["organisation"], s["actor"]["id"]) for s in states),
            )
        )
    return found


# ---- copies: re-keyed, re-hashed ---------------------------------------------------------------

_DUMMY = Stamp(actor=Actor(id="x", role=Role.REPORTER, organisation="x"), now=NOW)
EventRow = tuple[str, int, str, bytes]
ReceiptRow = tuple[str, str, str, str, str, int]


def copy_of(template: Template, n: int) -> tuple[list[EventRow], list[ReceiptRow]]:
    """Incident number `n` as a copy of `template`: its events (id, version, topic, state) and
    one idempotency receipt per command."""
    keys = [str(uuid4()) for _ in template.states]
    org, subject = template.principals[0]
    # The report's key decides the incident's id, as `Ledger.report` does with a keyed report.
    first = CommandKey(org, subject, keys[0], "")
    incident_text = str(incident_id_for(_DUMMY, first))
    new_id = incident_text.encode()
    new_tag = f"N{n:08d}".encode()
    # One client in ten is also the client of the incident before (patterns see repeats).
    client_tag = f"N{n - 1 if n % 10 == 1 else n:08d}".encode()
    events: list[EventRow] = []
    receipts: list[ReceiptRow] = []
    prev = GENESIS_HASH
    for version, (topic, state, command_id, (who_org, who), key) in enumerate(
        zip(
            template.topics,
            template.states,
            template.command_ids,
            template.principals,
            keys,
            strict=True,
        ),
        start=1,
    ):
        data = (
            state.replace(template.incident_text, new_id)
            .replace(CLIENT.encode() + template.tag, CLIENT.encode() + client_tag)
            .replace(template.tag, new_tag)
            .replace(command_id, f"cmd-{uuid4()}".encode())
        )
        fields = orjson.loads(data)
        fields["prev_hash"] = prev
        prev = fields["hash"] = chain_hash(topic, fields)
        events.append((incident_text, version, topic, orjson.dumps(fields)))
        fingerprint = hashlib.sha256(f"{key}:{incident_text}:{version}".encode()).hexdigest()
        receipts.append((who_org, who, key, fingerprint, incident_text, version))
    return events, receipts


def interleaved(copies: list[list[EventRow]], wave: int) -> Iterator[EventRow]:
    """The copies' events as a live log has them: in waves of `wave` incidents, every
    incident's first event, then every one's second, and so on."""
    for start in range(0, len(copies), wave):
        group = copies[start : start + wave]
        for k in range(max(len(c) for c in group)):
            for c in group:
                if k < len(c):
                    yield c[k]


# ---- seeding workers (forked after the templates are made, before any connection) -----------

_TEMPLATES: list[Template] = []
_TARGET: dict[str, Any] = {}


Copies = list[tuple[str, int, int]]  # each copy's incident id, template and number


def _seed_chunk(span: tuple[int, int]) -> tuple[int, int, float, float, float, Copies]:
    """Write incidents [start, stop) in one transaction. Returns incidents, events, seconds
    generating, seconds copying, process CPU seconds, and which template each copy is."""
    start, stop = span
    cpu, began = time.process_time(), time.perf_counter()
    rng = random.Random(start)
    copies, receipts, made = [], [], []
    for n in range(start, stop):
        t = rng.randrange(len(_TEMPLATES))
        events, keyed = copy_of(_TEMPLATES[t], n)
        copies.append(events)
        receipts += keyed
        made.append((events[0][0], t, n))
    rows = list(interleaved(copies, _TARGET["wave"]))
    generated = time.perf_counter()
    schema = _TARGET["schema"]
    with psycopg.connect(_TARGET["postgres"]) as conn, conn.cursor() as cur:
        # As the recorder inserts: receipts first, then the log's lock, its NOTIFY, its rows.
        if _TARGET["receipts"]:
            with cur.copy(f'COPY "{schema}".cims_receipts FROM STDIN') as copy:
                for r in receipts:
                    copy.write_row(r)
        cur.execute(f'LOCK TABLE "{schema}".cims_events IN EXCLUSIVE MODE')
        cur.execute("NOTIFY cims_events")
        with cur.copy(
            f'COPY "{schema}".cims_events (originator_id, originator_version, topic, state)'
            " FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
    done = time.perf_counter()
    cpu = time.process_time() - cpu
    return stop - start, len(rows), generated - began, done - generated, cpu, made


def _init_worker(templates: list[Template], target: dict[str, Any]) -> None:
    _TEMPLATES[:] = templates
    _TARGET.update(target)


def seed(
    postgres: str, schema: str, args: argparse.Namespace, templates: list[Template]
) -> tuple[dict[str, Any], Copies]:
    target = {"postgres": postgres, "schema": schema, "wave": args.wave, "receipts": args.receipts}
    spans = [(s, min(s + args.chunk, args.incidents)) for s in range(0, args.incidents, args.chunk)]
    began = time.perf_counter()
    incidents = events = 0
    generating = copying = cpu = 0.0
    copies: Copies = []
    context = multiprocessing.get_context("fork")
    with context.Pool(args.workers, _init_worker, (templates, target)) as pool:
        for i, e, g, c, p, m in pool.imap_unordered(_seed_chunk, spans):
            copies += m
            incidents, events = incidents + i, events + e
            generating, copying, cpu = generating + g, copying + c, cpu + p
            elapsed = time.perf_counter() - began
            if len(spans) < 20 or incidents % (args.chunk * 10) == 0 or incidents == args.incidents:
                log(
                    f"seeded {incidents:,} incidents, {events:,} events,"
                    f" {events / elapsed:,.0f} events/s"
                )
    elapsed = time.perf_counter() - began
    return {
        "seed_incidents": incidents,
        "seed_events": events,
        "seed_s": round(elapsed, 1),
        "seed_events_per_s": round(events / elapsed),
        # Worker time split: making the copies (re-keying, hashing) and COPYing them.
        "seed_generate_s": round(generating, 1),
        "seed_copy_s": round(copying, 1),
        "seed_worker_cpu_us_per_event": round(cpu / max(events, 1) * 1e6, 1),
    }, copies


# ---- measurements --------------------------------------------------------------------------


def copy_floor(postgres: str, schema: str, rows: int = 200_000) -> float:
    """A bare COPY of ready-made rows shaped like the log's (same widths, same indexes), in a
    scratch table: the write floor the seeding rate stands beside. Rows/s."""
    with psycopg.connect(postgres) as conn, conn.cursor() as cur:
        cur.execute(
            f'CREATE TABLE "{schema}".copy_floor (LIKE "{schema}".cims_events INCLUDING ALL)'
        )
        cur.execute(
            f'SELECT originator_id, originator_version, topic, state FROM "{schema}".cims_events'
            " ORDER BY notification_id LIMIT %s",
            [rows],
        )
        sample = [(uuid4(), r[1], r[2], r[3]) for r in cur.fetchall()]
        began = time.perf_counter()
        with cur.copy(
            f'COPY "{schema}".copy_floor (originator_id, originator_version, topic, state)'
            " FROM STDIN"
        ) as copy:
            for r in sample:
                copy.write_row(r)
        conn.commit()
        took = time.perf_counter() - began
        cur.execute(f'DROP TABLE "{schema}".copy_floor')
        conn.commit()
    return len(sample) / took


def log_sizes(db: Db, events: int) -> dict[str, Any]:
    """Bytes on disk per event of the log (heap, TOAST, indexes) and of the receipts, beside
    the average stored JSON state."""
    with db.transaction(write=False) as tx:
        ((heap, toast, indexes, total, state),) = tx.execute(
            "SELECT pg_relation_size('cims_events'), pg_table_size('cims_events')"
            " - pg_relation_size('cims_events'), pg_indexes_size('cims_events'),"
            " pg_total_relation_size('cims_events'),"
            " (SELECT avg(octet_length(state)) FROM cims_events TABLESAMPLE SYSTEM (1))"
        )
        (receipts,) = tx.execute("SELECT pg_total_relation_size('cims_receipts')")[0]
    per = max(events, 1)
    return {
        "state_json_bytes_per_event": round(float(state or 0)),
        "events_heap_bytes_per_event": round(heap / per),
        "events_toast_bytes_per_event": round(toast / per),
        "events_index_bytes_per_event": round(indexes / per),
        "events_total_bytes_per_event": round(total / per),
        "receipts_bytes_per_event": round(receipts / per),
        "log_total_gib": round((total + receipts) / 2**30, 2),
    }


def read_model_sizes(db: Db, events: int, label: str) -> dict[str, Any]:
    """Bytes on disk of every read model's tables (with their indexes), per event replayed."""
    with db.transaction(write=False) as tx:
        found = tx.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
            " AND left(c.relname, 3) = 'rm_' ORDER BY 2 DESC"
        )
    total = sum(int(size) for _, size in found)
    return {
        f"{label}_bytes_per_event": round(total / max(events, 1)),
        f"{label}_mib": {name: round(int(size) / 2**20, 1) for name, size in found[:6]},
    }


# ---- the query read models' rows for every copy, from each template's own rows ---------------

QUERY_MODELS = (summary_model, obligations_model)


class Capturing:
    """A stand-in for `Tx` that keeps the rows a read model's `handle` inserts, by table."""

    postgres = True

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = {}
        self.columns: dict[str, str] = {}

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        if sql.lstrip().startswith("INSERT"):
            self.executemany(sql, [params])
        return []

    def insert(self, table: str, rows: Sequence[Sequence[Any]], columns: str = "") -> None:
        self.columns[table] = f"({columns})" if columns else ""
        self.rows.setdefault(table, []).extend(tuple(r) for r in rows)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        head = sql.split("VALUES")[0].split(None, 2)[2]
        table, _, columns = head.partition(" ")
        self.columns[table] = columns.strip()
        self.rows.setdefault(table, []).extend(tuple(r) for r in rows)


def template_rows(templates: list[Template]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Each template's rows in the query read models, made by the read models' own `handle`
    over its decoded events; and each table's column list."""
    mapper = PydanticMapper(transcoder=OrjsonTranscoder())
    found: list[dict[str, list[tuple[Any, ...]]]] = []
    columns: dict[str, str] = {}
    for template in templates:
        history = [
            mapper.to_domain_event(
                StoredEvent(
                    originator_id=UUID(template.incident_text.decode()),
                    originator_version=v,
                    topic=topic,
                    state=state,
                )
            )
            for v, (topic, state) in enumerate(
                zip(template.topics, template.states, strict=True), start=1
            )
        ]

        def load(_id: UUID, _version: int, h: list[Any] = history) -> list[Any]:
            return h

        batch = Batch(list(enumerate(history, start=1)), load)
        capture = Capturing()
        for model in QUERY_MODELS:
            model.handle(capture, "rm_", batch)  # type: ignore[arg-type]
        found.append(capture.rows)
        columns |= capture.columns
    return found, columns


def fill_query_models(
    db: Db, prefix: str, copies: Copies, templates: list[Template], positions: dict[str, int]
) -> int:
    """Write every copy's rows into the query read models' tables named with `prefix`: the
    template's rows with the copy's id, references and log position. Returns rows written."""
    rows_of, columns = template_rows(templates)
    written = 0
    conn = psycopg.connect(db.conninfo())
    with conn, conn.cursor() as cur:
        for table, cols in columns.items():
            target = prefix + table.removeprefix("rm_")
            with cur.copy(f"COPY {target} {cols} FROM STDIN") as copy:
                for incident_text, t, n in copies:
                    template = templates[t]
                    old_id = template.incident_text.decode()
                    tag = template.tag.decode()
                    new_tag = f"N{n:08d}"
                    client = f"{CLIENT}N{n - 1 if n % 10 == 1 else n:08d}"

                    pairs = ((old_id, incident_text), (CLIENT + tag, client), (tag, new_tag))
                    for row in rows_of[t].get(table, ()):
                        out = [_substituted(v, pairs) for v in row]
                        if table == "rm_incident_summary":
                            out[-1] = positions[incident_text]
                        copy.write_row(out)
                        written += 1
    return written


def _substituted(value: Any, pairs: Sequence[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for old, new in pairs:
            value = value.replace(old, new)
    return value


def last_positions(db: Db) -> dict[str, int]:
    with db.transaction(write=False) as tx:
        return {
            str(i): int(p)
            for i, p in tx.execute(
                "SELECT originator_id, max(notification_id) FROM cims_events GROUP BY 1"
            )
        }


def same_rows(db: Db, prefix: str) -> list[str]:
    """The query read models' tables that differ between `rm_` and `prefix` (empty: equal)."""
    differ = []
    with db.transaction(write=False) as tx:
        for model in QUERY_MODELS:
            for live in model.rebuilt_tables("rm_"):
                other = prefix + live.removeprefix("rm_")
                for a, b in ((live, other), (other, live)):
                    (count,) = tx.execute(
                        f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b}) d"
                    )[0]
                    if count:
                        differ.append(f"{a} has {count} rows not in {b}")
    return differ


def log_read(ledger: Ledger, most: int) -> tuple[int, float]:
    """A bare read of the log from its start, in the rebuild's pages: events, seconds."""
    began, start, read = time.perf_counter(), 1, 0
    while read < most and (page := ledger.recorder.select_notifications(start=start, limit=5000)):
        read += len(page)
        start = page[-1].id + 1
    return read, time.perf_counter() - began


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """p50 and p95 of `repeat` calls, in milliseconds (after one warm-up call)."""
    fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), statistics.quantiles(samples, n=20)[-1]


class Explaining:
    """A stand-in for `Tx` that runs each SELECT under EXPLAIN ANALYZE, keeping the plan, then
    runs it for its rows."""

    def __init__(self, tx: Tx) -> None:
        self.tx, self.postgres = tx, tx.postgres
        self.plans: list[str] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        plan = self.tx.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        self.plans.append(sql + "\n" + "\n".join(r[0] for r in plan))
        return self.tx.execute(sql, params)


def queries(models: ReadModels) -> dict[str, Callable[[Any], Any]]:
    """The measured queries, each taking a transaction (so they can also be explained)."""
    org = ORGS[3]
    return {
        "list_all": lambda tx: summary_model.list_incidents(
            tx, organisations=None, now=NOW, limit=50
        ),
        "list_org_overdue": lambda tx: summary_model.list_incidents(
            tx, organisations={org}, now=NOW, overdue=True, limit=50
        ),
        "list_type": lambda tx: summary_model.list_incidents(
            tx, organisations=None, now=NOW, incident_type="Neglect", limit=50
        ),
        "worklist_overdue": lambda tx: obligations_model.worklist(
            tx, organisations=None, now=NOW, status="overdue", limit=100
        ),
        "worklist_org": lambda tx: obligations_model.worklist(
            tx, organisations={org}, now=NOW, limit=100
        ),
        "worklist_org_overdue": lambda tx: obligations_model.worklist(
            tx, organisations={org}, now=NOW, status="overdue", limit=100
        ),
    }


def measure_queries(models: ReadModels, repeat: int, plans_to: str | None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    db = models.db
    with db.transaction(write=False) as tx:
        ids = [r[0] for r in tx.execute("SELECT incident_id FROM rm_incident_summary LIMIT 1000")]
    pick = random.Random(1)

    def lookup() -> None:
        with db.transaction(write=False) as tx:
            tx.execute(
                "SELECT * FROM rm_incident_summary WHERE incident_id = ?", [pick.choice(ids)]
            )

    p50, p95 = timed(lookup, repeat)
    found["ref_pk_lookup_p50_ms"], found["ref_pk_lookup_p95_ms"] = round(p50, 2), round(p95, 2)
    explained = []
    for name, query in queries(models).items():

        def run(q: Callable[[Any], Any] = query) -> Any:
            with db.transaction(write=False) as tx:
                return q(tx)

        p50, p95 = timed(run, repeat)
        found[f"{name}_p50_ms"], found[f"{name}_p95_ms"] = round(p50, 2), round(p95, 2)
        with db.transaction(write=False) as tx:
            explaining = Explaining(tx)
            rows, _ = query(explaining)
            found[f"{name}_rows"] = len(rows)
        explained.append(f"==== {name} (p95 {p95:.1f} ms)\n" + "\n".join(explaining.plans))
    if plans_to:
        with open(plans_to, "w") as out:
            out.write("\n\n".join(explained) + "\n")
    return found


# Indexes and a query shape that the worklist's plans at 1M incidents call for (`--candidates`):
# each obligation's sort key `COALESCE(due, '9999')` indexed after the column a worklist filters
# on, and the one-organisation worklist as two index ranges (reporter, responsible provider)
# merged, as `list_incidents` already does for incidents.
CANDIDATE_INDEXES = [
    # Partial: `settled_status IS NULL` is no equality, so an index led by settled_status does
    # not give the sort order (seen at 1M incidents: still a sequential scan).
    "CREATE INDEX IF NOT EXISTS rm_obligations_open_sort ON rm_obligations"
    " ((COALESCE(due, '9999')), incident_id, kind) WHERE settled_status IS NULL",
    "CREATE INDEX IF NOT EXISTS rm_obligations_org_sort ON rm_obligations"
    " (organisation, (COALESCE(due, '9999')), incident_id, kind)",
    "CREATE INDEX IF NOT EXISTS rm_obligations_provider_sort ON rm_obligations"
    " (other_provider, (COALESCE(due, '9999')), incident_id, kind)",
]


def worklist_org_union(tx: Any, org: str, limit: int = 100) -> tuple[list[Any], None]:
    """The one-organisation worklist (no status filter) as two ordered index ranges merged."""
    cols = obligations_model._COLUMNS
    order = "ORDER BY COALESCE(due, '9999'), incident_id, kind LIMIT ?"
    halves = [
        f"SELECT * FROM (SELECT {cols}, COALESCE(due, '9999') AS sort_due FROM rm_obligations"
        f" WHERE {column} = ? {order}) AS {column}"
        for column in ("organisation", "other_provider")
    ]
    sql = f"{halves[0]} UNION {halves[1]} ORDER BY sort_due, incident_id, kind LIMIT ?"
    return tx.execute(sql, [org, limit + 1, org, limit + 1, limit + 1]), None


def measure_candidates(db: Db, repeat: int, plans_to: str | None) -> dict[str, Any]:
    """The worklist queries again with the candidate indexes in place, and the union shape."""
    found: dict[str, Any] = {}
    t = time.perf_counter()
    with db.transaction() as tx:
        for ddl in CANDIDATE_INDEXES:
            tx.execute(ddl)
        tx.execute("ANALYZE rm_obligations")
    found["candidate_index_build_s"] = round(time.perf_counter() - t, 1)
    org = ORGS[3]
    chosen: dict[str, Callable[[Any], Any]] = {
        "worklist_overdue": lambda tx: obligations_model.worklist(
            tx, organisations=None, now=NOW, status="overdue", limit=100
        ),
        "worklist_org": lambda tx: obligations_model.worklist(
            tx, organisations={org}, now=NOW, limit=100
        ),
        "worklist_org_union": lambda tx: worklist_org_union(tx, org),
    }
    explained = []
    for name, query in chosen.items():

        def run(q: Callable[[Any], Any] = query) -> Any:
            with db.transaction(write=False) as tx:
                return q(tx)

        p50, p95 = timed(run, repeat)
        found[f"candidate_{name}_p50_ms"] = round(p50, 2)
        found[f"candidate_{name}_p95_ms"] = round(p95, 2)
        with db.transaction(write=False) as tx:
            explaining = Explaining(tx)
            query(explaining)
        explained.append(
            f"==== candidate {name} (p95 {p95:.1f} ms)\n" + "\n".join(explaining.plans)
        )
    if plans_to:
        with open(plans_to, "a") as out:
            out.write("\n\n" + "\n\n".join(explained) + "\n")
    return found


def sample_check(ledger: Ledger, db: Db, count: int) -> int:
    """Fold and verify a sample of incidents spread over the log; raises on the first that
    fails. Returns how many were checked."""
    with db.transaction(write=False) as tx:
        (head,) = tx.execute("SELECT max(notification_id) FROM cims_events")[0]
        ids = []
        for k in range(count):
            found = tx.execute(
                "SELECT originator_id FROM cims_events WHERE notification_id >= ?"
                " ORDER BY notification_id LIMIT 1",
                [1 + head * k // count],
            )
            ids.append(UUID(str(found[0][0])))
    auditor = Auditor(ledger, db)
    for incident_id in ids:
        incident = ledger.incident(incident_id)
        verification = auditor.verify(incident_id)
        if not verification.ok or verification.events_checked != incident.version:
            raise AssertionError(f"seeded incident {incident_id} fails: {verification}")
    return len(ids)


def rebuild(models: ReadModels, db: Db, events: int, most: int | None) -> dict[str, Any]:
    """Rebuild every read model from the log's start (`ReadModels.rebuild`), or, with `most`,
    replay only the log's first `most` events into every read model (the rebuild's own
    replay, stopped there): events/s and CPU per event, and the time the whole log would take
    at that rate."""
    with db.transaction(write=False) as tx:
        stop = None
        if most is not None and most < events:
            (stop,) = tx.execute(
                "SELECT notification_id FROM cims_events ORDER BY notification_id OFFSET ? LIMIT 1",
                [most - 1],
            )[0]
    replayed = events if stop is None else most
    assert replayed is not None
    last, started = [time.perf_counter()], time.perf_counter()

    def progress(position: int, head: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 60:
            last[0] = now
            rate = position / (now - started)
            log(
                f"rebuild at {position:,}/{head:,}: {rate:,.0f} events/s,"
                f" {(head - position) / rate / 60:.0f} min to go"
            )

    cpu = time.process_time()
    if stop is None:
        models.rebuild(progress=progress)
    else:
        # What `Runner.rebuild` does after emptying the tables (they are empty here), stopped.
        runner = models.runner
        runner._replay(runner.models, LIVE, stop=stop, progress=progress)
    took = time.perf_counter() - started
    rate = replayed / took
    return {
        "rebuild_events": replayed,
        "rebuild_s": round(took),
        "rebuild_events_per_s": round(rate),
        "rebuild_cpu_us_per_event": round((time.process_time() - cpu) / replayed * 1e6, 1),
        "rebuild_whole_log_min": round(events / rate / 60, 1),
        "rebuild_whole_log_measured": stop is None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--templates", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2, help="seeding processes")
    parser.add_argument("--chunk", type=int, default=10_000, help="incidents per COPY transaction")
    parser.add_argument("--wave", type=int, default=1000, help="incidents interleaved in the log")
    parser.add_argument("--no-receipts", dest="receipts", action="store_false")
    parser.add_argument(
        "--rebuild-events",
        type=int,
        help="replay only the log's first N events into the read models, and extrapolate; the"
        " query read models are then filled for every incident from their templates' rows",
    )
    parser.add_argument("--repeat", type=int, default=100, help="samples per query")
    parser.add_argument("--verify", action="store_true", help="verify_all over the whole log")
    parser.add_argument("--plans", help="write each query's EXPLAIN ANALYZE to this file")
    parser.add_argument(
        "--candidates", action="store_true", help="then try the candidate worklist indexes"
    )
    parser.add_argument("--postgres", default=POSTGRES)
    parser.add_argument("--keep", action="store_true", help="keep the schema (default: drop it)")
    args = parser.parse_args()

    results: dict[str, Any] = {"incidents": args.incidents, "templates": args.templates}
    began = time.perf_counter()
    templates = make_templates(args.templates)
    made = sum(len(t.states) for t in templates)
    results["templates_s"] = round(time.perf_counter() - began, 1)
    results["template_events_per_incident"] = round(made / len(templates), 2)
    log(f"{len(templates)} templates, {made} events, in {results['templates_s']} s")

    url = store_url("postgres", args.postgres)
    if args.keep:
        atexit.unregister(common._drop)
    schema = url.rsplit("schema=", 1)[1]
    log(f"schema {schema}")
    # The ledger's tables and the read models' tables and trigger, as a normal start leaves them.
    setup = Ledger.from_url(url)
    ReadModels.open(url, setup, feed_secret=b"bench").close()
    setup.close()
    seeded, copies = seed(args.postgres, schema, args, templates)
    results |= seeded
    events = results["seed_events"]

    ledger = Ledger.from_url(url)
    db = Db(url)
    with db.transaction() as tx:
        tx.execute("ANALYZE cims_events")
        tx.execute("ANALYZE cims_receipts")
    results |= log_sizes(db, events)
    log(f"log on disk: {results['events_total_bytes_per_event']} bytes/event")
    results["sample_incidents_checked"] = sample_check(ledger, db, 200)
    results["seed_copy_floor_rows_per_s"] = round(copy_floor(args.postgres, schema))

    t = time.perf_counter()
    with db.transaction(write=False) as tx:
        (counted,) = tx.execute("SELECT count(*) FROM cims_events")[0]
    results["ref_count_scan_events_per_s"] = round(counted / (time.perf_counter() - t))
    read, took = log_read(ledger, min(events, 1_000_000))
    results["ref_log_read_events_per_s"] = round(read / took)
    log(f"log read {read / took:,.0f}/s; count(*) {results['ref_count_scan_events_per_s']:,}/s")

    models = ReadModels.open(url, ledger, feed_secret=b"bench")
    results |= rebuild(models, db, events, args.rebuild_events)
    results["rebuild_ratio_to_log_read"] = round(
        results["rebuild_events_per_s"] / results["ref_log_read_events_per_s"], 4
    )
    log(f"rebuilt {results['rebuild_events']:,} events in {results['rebuild_s']:,} s")
    results |= read_model_sizes(db, results["rebuild_events"], "read_models")

    positions = last_positions(db)
    if results["rebuild_whole_log_measured"]:
        # The template-row path, checked against the real rebuild: equal rows.
        with db.transaction() as tx:
            for model in QUERY_MODELS:
                for ddl in model.tables("rmk_"):
                    tx.execute(ddl)
        fill_query_models(db, "rmk_", copies, templates, positions)
        differ = same_rows(db, "rmk_")
        results["template_rows_equal_rebuild"] = not differ
        if differ:
            log("template rows differ from the rebuild: " + "; ".join(differ))
        with db.transaction() as tx:
            for model in QUERY_MODELS:
                for table in model.rebuilt_tables("rmk_"):
                    tx.execute(f"DROP TABLE {table}")
    else:
        with db.transaction() as tx:
            for model in QUERY_MODELS:
                for table in model.rebuilt_tables("rm_"):
                    tx.execute(f"TRUNCATE {table}")
        t = time.perf_counter()
        results["query_model_rows_filled"] = fill_query_models(
            db, "rm_", copies, templates, positions
        )
        results["query_model_fill_s"] = round(time.perf_counter() - t)
        log(f"query read models filled for {len(copies):,} incidents")
    with db.transaction() as tx:
        for model in QUERY_MODELS:
            for table in model.rebuilt_tables("rm_"):
                tx.execute(f"ANALYZE {table}")
        (summaries,) = tx.execute("SELECT count(*) FROM rm_incident_summary")[0]
        (owed,) = tx.execute("SELECT count(*) FROM rm_obligations")[0]
    results["summary_rows"], results["obligation_rows"] = summaries, owed
    results |= read_model_sizes(db, events, "read_models_now")
    results |= measure_queries(models, args.repeat, args.plans)
    if args.candidates:
        results |= measure_candidates(db, args.repeat, args.plans)

    if args.verify:
        t = time.perf_counter()
        report = Auditor(ledger, db).verify_all()
        results["verify_all_ok"] = report.ok
        results["verify_all_events_per_s"] = round(events / (time.perf_counter() - t))
    models.close()
    db.close()
    ledger.close()

    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps({"bench": "scale", "at": datetime.now(UTC).isoformat(), **results}))


if __name__ == "__main__":
    main()
