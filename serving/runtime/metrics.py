"""Prometheus metrics of one application (a registry of its own, so apps never share counters).

Exposed at ``/metrics`` in the text format: requests by route template, method and status,
latency histograms by route, the model version served, swaps, audit rows written, prepared-list
cache hits and misses. Labels are route templates (``/api/v1/households/{household_ref}``),
never concrete paths, so no household reference reaches the metrics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from serving.runtime.masking import shorten_decimals

if TYPE_CHECKING:
    from serving.runtime.service import Service

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class _ServiceCollector:
    def __init__(self, service: Service) -> None:
        self.service = service

    def collect(self):  # noqa: ANN201 - prometheus_client's collector protocol
        s = self.service
        ref = s.watcher.current()
        info = GaugeMetricFamily(
            "outreach_model_info", "The model version served (value 1).", labels=["version"]
        )
        if ref is not None:
            info.add_metric([ref.version], 1)
        yield info
        yield GaugeMetricFamily(
            "outreach_model_swaps", "Champion swaps seen.", value=s.watcher.swaps
        )
        yield GaugeMetricFamily(
            "outreach_audit_rows_written", "Audit rows committed.", value=s.audit.rows_written
        )
        yield GaugeMetricFamily("outreach_audit_commits", "Audit commits.", value=s.audit.commits)
        yield GaugeMetricFamily(
            "outreach_list_cache_hits", "Prepared visit lists served.", value=s.lists.hits
        )
        yield GaugeMetricFamily(
            "outreach_list_cache_misses", "Visit lists prepared.", value=s.lists.misses
        )


class Metrics:
    """The application's metrics."""

    def __init__(self, service: Service) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "outreach_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "outreach_http_request_duration_seconds",
            "HTTP request latency by route template.",
            ["route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_ServiceCollector(service))

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one request."""
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def render(self) -> bytes:
        """The text exposition."""
        text = generate_latest(self.registry).decode("utf-8")
        return shorten_decimals(text).encode("utf-8")
