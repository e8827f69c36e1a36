"""Prometheus metrics: request counts and latency, events appended, read-model lag."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        # A registry per app, so test apps do not collide in the process-wide default one.
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "cims_http_requests",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "cims_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.events = Counter(
            "cims_events_appended", "Events appended to the ledger", registry=self.registry
        )
        self.lag = Gauge(
            "cims_projection_lag_events",
            "Events not yet in each read model",
            ["read_model"],
            registry=self.registry,
        )

        self.reminders = Gauge(
            "cims_reminders",
            "Reminder notices in the outbox, by status (pending includes those retrying)",
            ["status"],
            registry=self.registry,
        )

    def render(
        self,
        lags: Callable[[], dict[str, int]],
        reminders: Callable[[], dict[str, int]] | None = None,
    ) -> bytes:
        for name, lag in lags().items():
            self.lag.labels(read_model=name).set(lag)
        for status, count in (reminders() if reminders is not None else {}).items():
            self.reminders.labels(status=status).set(count)
        return generate_latest(self.registry)
