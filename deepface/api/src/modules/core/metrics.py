"""The server's metrics in Prometheus' text format (``/metrics``), one registry per application.

``deepface_api_requests_total`` and ``deepface_api_request_errors_total`` (by route and
status code), ``deepface_api_request_seconds`` (by route), ``deepface_api_batch_size``
(images per pipeline call, by route), ``deepface_api_queue_depth`` (requests a worker
holds), ``deepface_api_stage_seconds`` (by stage: ``queue`` and ``run`` here, ``decode``,
``detect``, ``forward`` and ``search`` from the pipeline's :mod:`deepface.commons.timings`).
"""

from typing import Tuple

from deepface.commons import timings

try:
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
except ImportError as import_err:  # pragma: no cover - depends on the installation
    from deepface.commons.exceptions import MissingDependencyError

    raise MissingDependencyError(
        f"{import_err.name} is required by the deepface API's /metrics: pip install 'deepface[api]'"
    ) from import_err

BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)
STAGE_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class ServerMetrics:
    """The counters, gauges and histograms of one server (its own registry)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "deepface_api_requests", "Requests answered, by route and status code", ["route", "code"],
            registry=self.registry,
        )
        self.errors = Counter(
            "deepface_api_request_errors", "Requests answered with a 4xx or 5xx status", ["route", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "deepface_api_request_seconds", "Time from a request's arrival to its answer", ["route"],
            buckets=STAGE_BUCKETS, registry=self.registry,
        )
        self.batch_size = Histogram(
            "deepface_api_batch_size", "Images per pipeline call", ["route"],
            buckets=BATCH_BUCKETS, registry=self.registry,
        )
        self.queue_depth = Gauge(
            "deepface_api_queue_depth", "Requests this worker holds, waiting or running", registry=self.registry
        )
        self.stage_seconds = Histogram(
            "deepface_api_stage_seconds", "Time per stage: queue, run, decode, detect, forward, search", ["stage"],
            buckets=STAGE_BUCKETS, registry=self.registry,
        )

    def listen_to_pipeline(self) -> None:
        """Receive the pipeline's stage times (one listener per process: the latest server's)."""
        timings.listen(self.observe_stage)

    def observe_stage(self, stage: str, seconds: float) -> None:
        self.stage_seconds.labels(stage=stage).observe(seconds)

    def observe_request(self, route: str, code: int, seconds: float) -> None:
        self.requests.labels(route=route, code=str(code)).inc()
        if code >= 400:
            self.errors.labels(route=route, code=str(code)).inc()
        self.latency.labels(route=route).observe(seconds)

    def exposition(self) -> Tuple[bytes, str]:
        """The text format's body and content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
