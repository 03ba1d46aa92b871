"""Prometheus metrics: requests by route and status, escalations by reason, the live index.

Each app gets its own registry, so several apps in one process (tests) don't collide. With
``PROMETHEUS_MULTIPROC_DIR`` set (several uvicorn workers), counters are written to shared
files and ``/metrics`` aggregates them over all workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

# Queries take a few ms; reloads and cold paths up to seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class IndexCollector(Collector):
    """Reads the live index at scrape time, so a reload shows without extra bookkeeping."""

    def __init__(self, manifest: Callable[[], dict | None]):
        self._manifest = manifest

    def collect(self) -> Iterator[Any]:
        m = self._manifest()
        ready = GaugeMetricFamily("qa_index_ready", "1 when an index is loaded")
        ready.add_metric([], 1.0 if m else 0.0)
        yield ready
        if not m:
            return
        info = InfoMetricFamily("qa_index", "The live index: build id, embedder, corpus hash")
        info.add_metric(
            [],
            {
                "build_id": str(m.get("build_id", "")),
                "embedder": str(m.get("embedder", "")),
                "built_at": str(m.get("built_at", "")),
                "corpus_sha256": str(m.get("corpus_sha256", ""))[:12],
                "index_type": str(m.get("index_type", "")),
            },
        )
        yield info
        for key, help_text in (
            ("passage_count", "Passages in the live index"),
            ("entry_count", "FAQ entries in the live index"),
            ("vector_count", "Vectors in the live dense index"),
        ):
            g = GaugeMetricFamily(f"qa_index_{key.removesuffix('_count')}s", help_text)
            g.add_metric([], float(m.get(key, 0) or 0))
            yield g


class CountCollector:
    """A count kept elsewhere, read at scrape time: query-log lines the database could not
    take, rate-limit steps that failed (both let the customer through regardless)."""

    def __init__(self, name: str, help_text: str, count: Callable[[], int]):
        self._name, self._help, self._count = name, help_text, count

    def collect(self):
        c = CounterMetricFamily(self._name, self._help)
        c.add_metric([], float(self._count()))
        yield c


class Metrics:
    def __init__(
        self,
        manifest: Callable[[], dict | None],
        dropped_logs: Callable[[], int] | None = None,
        rate_limit_errors: Callable[[], int] | None = None,
    ):
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ["method", "route", "status"]
        self.requests = Counter("qa_http_requests", "HTTP requests", labels, registry=self.registry)
        self.latency = Histogram(
            "qa_http_request_duration_seconds",
            "HTTP request latency",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.queries = Counter(
            "qa_queries", "Answered questions, by outcome", ["outcome"], registry=self.registry
        )
        self.escalations = Counter(
            "qa_escalations", "Escalated questions, by reason", ["reason"], registry=self.registry
        )
        self.webhooks = Counter(
            "qa_handoff_webhook",
            "Handoff webhook deliveries, by outcome (delivered, retried, failed)",
            ["outcome"],
            registry=self.registry,
        )
        self.reloads = Counter(
            "qa_index_reloads", "Index reloads, by result", ["result"], registry=self.registry
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._index = IndexCollector(manifest)
        self.registry.register(self._index)
        if dropped_logs is not None:
            self.registry.register(
                CountCollector(
                    "qa_query_log_dropped",
                    "Query-log lines dropped because the database failed",
                    dropped_logs,
                )
            )
        if rate_limit_errors is not None:
            self.registry.register(
                CountCollector(
                    "qa_rate_limit_errors",
                    "Rate-limit steps that failed and let the request through",
                    rate_limit_errors,
                )
            )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            # ``labels()`` validates and locks on every call; a route's children never change.
            labels = (method, route, str(status))
            children = self.requests.labels(*labels), self.latency.labels(*labels)
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def observe_answer(self, answer: Any) -> None:
        """Count one answer; escalation rate = qa_escalations_total / qa_queries_total."""
        if answer.escalate:
            self.queries.labels("escalated").inc()
            reason = (answer.escalation or {}).get("reason") or "unknown"
            self.escalations.labels(reason).inc()
        else:
            self.queries.labels("answered").inc()

    def render(self) -> tuple[bytes, str]:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            registry.register(self._index)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def observe_answer(app_state: Any, answer: Any) -> None:
    """Count an answer on the app's metrics, if it has any (routes call this)."""
    metrics = getattr(app_state, "metrics", None)
    if metrics is not None:
        metrics.observe_answer(answer)
