"""What the benchmarks share: a fresh store of each kind, and percentiles in milliseconds."""

from __future__ import annotations

import atexit
import statistics
import tempfile
import uuid

import psycopg

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def store_url(kind: str, postgres: str = POSTGRES) -> str:
    """An empty store: a new SQLite file, or a new schema in the PostgreSQL database."""
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    atexit.register(_drop, postgres, schema)
    return f"{postgres}?schema={schema}"


def _drop(postgres: str, schema: str) -> None:
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def percentile_ms(seconds: list[float], q: int) -> float:
    if len(seconds) < 2:
        return float("nan")
    return round(statistics.quantiles(seconds, n=100)[q - 1] * 1000, 2)
