// Prometheus metrics. Each process (web, worker) has its own registry; the worker
// publishes its registry to Redis every few seconds and the web process merges all
// published registries into GET /metrics with prom-client's AggregatorRegistry, so one
// scrape sees deliveries, queue depth, lag and processing-time histograms of every process.
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValue } from "prom-client";

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: "crm_" });

export const webhookDeliveries = new Counter({
  name: "crm_webhook_deliveries_total",
  help: "Webhook deliveries received, by outcome (accepted, ignored: authentic but its unsigned headers do not match its route or body, duplicate, unauthorized, bad_request, too_large, method_not_allowed, unavailable)",
  labelNames: ["outcome"] as const,
  registers: [registry],
});

export const webhookAckSeconds = new Histogram({
  name: "crm_webhook_ack_seconds",
  help: "Time from request start to acknowledgement for authentic deliveries",
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

export const enqueueFailures = new Counter({
  name: "crm_webhook_enqueue_failures_total",
  help: "Inbox rows persisted but not enqueued (Redis unavailable); the sweeper re-enqueues them",
  registers: [registry],
});

export const eventProcessingSeconds = new Histogram({
  name: "crm_event_processing_seconds",
  help: "Time to apply a webhook event to the CRM model (its whole batch: events waiting together are applied in one transaction), by topic",
  labelNames: ["topic"] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export const eventLagSeconds = new Histogram({
  name: "crm_event_lag_seconds",
  help: "Time from receipt of a webhook to its event being applied",
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  registers: [registry],
});

export const eventsApplied = new Counter({
  name: "crm_events_total",
  help: "Webhook events handled by the worker, by outcome (processed, ignored, failed, dead)",
  labelNames: ["outcome", "topic"] as const,
  registers: [registry],
});

export const queueDepth = new Gauge({
  name: "crm_queue_depth",
  help: "Jobs in the webhook queue by state",
  labelNames: ["state"] as const,
  registers: [],
});

export const inboxEvents = new Gauge({
  name: "crm_inbox_events",
  help: "Inbox rows by status",
  labelNames: ["status"] as const,
  registers: [],
});

export const oldestPendingSeconds = new Gauge({
  name: "crm_inbox_oldest_pending_seconds",
  help: "Age of the oldest received-but-unprocessed inbox row (event lag now)",
  registers: [],
});

export const reconcileChecked = new Counter({
  name: "crm_reconcile_checked_total",
  help: "Objects the reconciliation compared with Shopify, by object (customer, order); decision 048",
  labelNames: ["object"] as const,
  registers: [registry],
});

export const reconcileRepaired = new Counter({
  name: "crm_reconcile_repaired_total",
  help: "Objects the reconciliation repaired (webhooks missed: created, updated or deleted), by object",
  labelNames: ["object"] as const,
  registers: [registry],
});

export const reconcileLastSuccessAge = new Gauge({
  name: "crm_reconcile_last_success_age_seconds",
  help: "Seconds since the oldest of the shops' last successful reconciliations (the most out-of-date shop)",
  registers: [],
});

export const reconcileRepairs24h = new Gauge({
  name: "crm_reconcile_repairs_24h",
  help: "Repairs recorded by reconciliation in the last 24 hours, by object and action",
  labelNames: ["object", "action"] as const,
  registers: [],
});

export const reconcileFailedRuns24h = new Gauge({
  name: "crm_reconcile_failed_runs_24h",
  help: "Reconciliation runs that failed in the last 24 hours",
  registers: [],
});

export const importObjects = new Gauge({
  name: "crm_import_objects_total",
  help: "Objects saved by each shop's latest history import, summed over shops, by type (customers, orders, products); issue 13",
  labelNames: ["type"] as const,
  registers: [],
});

export const importRunning = new Gauge({
  name: "crm_import_running",
  help: "History imports running now",
  registers: [],
});

export const importLastDuration = new Gauge({
  name: "crm_import_last_duration_seconds",
  help: "Duration of the history import that finished last (done or failed)",
  registers: [],
});

export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/** Merges registries published by several processes (counters and histograms are summed). */
export function mergeSnapshots(snapshots: MetricsSnapshot[]): Registry {
  return AggregatorRegistry.aggregate(snapshots as never);
}
