"""Prometheus metrics served at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

webhook_acks = Counter(
    "tsunagari_webhook_requests_total", "Webhook requests by answer status", ["status"]
)
webhook_ack_seconds = Histogram(
    "tsunagari_webhook_ack_seconds",
    "Time from request to acknowledgement",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2),
)
events_stored = Counter("tsunagari_events_stored_total", "Webhook events stored", ["type"])
events_duplicate = Counter(
    "tsunagari_events_duplicate_total", "Webhook events already stored (redeliveries)"
)
events_stale = Counter(
    "tsunagari_events_stale_total",
    "Webhook events refused for being older than the dedupe window (possible replays)",
)
events_processed = Counter(
    "tsunagari_events_processed_total", "Events processed by outcome", ["outcome"]
)
line_responses = Counter(
    "tsunagari_line_responses_total",
    "LINE API responses by endpoint and status",
    ["endpoint", "status"],
)
deliveries = Counter(
    "tsunagari_deliveries_total", "Outbox deliveries by kind and outcome", ["kind", "outcome"]
)
deliveries_queued = Gauge("tsunagari_deliveries_queued", "Outbox batches waiting to be sent")
quota_used = Gauge("tsunagari_line_quota_used", "Messages used this month (per LINE)")
quota_limit = Gauge("tsunagari_line_quota_limit", "Monthly message limit (0 = unlimited)")
