"""Prometheus metrics: request counts and latency, events appended, read models' lag and
failures, and the regulators' webhook deliveries (read from the store, whichever process
pushes them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest


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

        self.lag_seconds = Gauge(
            "cims_projection_lag_seconds",
            "How long the oldest event not yet in each read model has waited",
            ["read_model"],
            registry=self.registry,
        )
        self.failed = Gauge(
            "cims_projection_failed",
            "1 while a read model is stopped on an event it cannot apply, else 0",
            ["read_model"],
            registry=self.registry,
        )
        self.failure = Info(
            "cims_projection_failure",
            "Why a read model stopped: the log position and the error",
            ["read_model"],
            registry=self.registry,
        )
        self.webhook_cursor = Gauge(
            "cims_webhook_delivered_cursor",
            "The feed item a regulator's webhook has been delivered up to",
            ["regulator"],
            registry=self.registry,
        )
        self.webhook_failing = Gauge(
            "cims_webhook_consecutive_failures",
            "Failed deliveries to a regulator's webhook since the last success",
            ["regulator"],
            registry=self.registry,
        )
        self.webhook_failures = Gauge(
            "cims_webhook_failures",
            "Failed deliveries to a regulator's webhook, in all",
            ["regulator"],
            registry=self.registry,
        )
        self.webhook_delivered = Gauge(
            "cims_webhook_delivered_items",
            "Feed items delivered to a regulator's webhook, in all",
            ["regulator"],
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
        read_models: Callable[[], list[dict[str, Any]]],
        deliveries: Callable[[], list[dict[str, Any]]] = list,
        reminders: Callable[[], dict[str, int]] | None = None,
    ) -> bytes:
        """The registry as Prometheus text, with the read models' rows (`ReadModels.status`),
        the webhook deliveries (`projections.webhooks.deliveries`) and the reminder outbox's
        counts by status, as they are now."""
        self.failure.clear()  # a read model that recovered has no failure to show
        for r in read_models():
            name = r["name"]
            self.lag.labels(read_model=name).set(r["lag"])
            self.lag_seconds.labels(read_model=name).set(r.get("lag_seconds", 0.0))
            self.failed.labels(read_model=name).set(1 if r["error"] else 0)
            if r["error"]:
                self.failure.labels(read_model=name).info(
                    {"position": str(r["error_position"]), "error": str(r["error"])[:200]}
                )
        for d in deliveries():
            regulator = d["regulator"]
            self.webhook_cursor.labels(regulator=regulator).set(d["cursor"])
            self.webhook_failing.labels(regulator=regulator).set(d["failures"])
            self.webhook_failures.labels(regulator=regulator).set(d["failures_total"])
            self.webhook_delivered.labels(regulator=regulator).set(d["delivered_total"])
        for status, count in (reminders() if reminders is not None else {}).items():
            self.reminders.labels(status=status).set(count)
        return generate_latest(self.registry)
