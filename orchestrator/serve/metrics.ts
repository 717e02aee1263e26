/**
 * serve's Prometheus metrics: one more consumer of the run events (pairs by status, their
 * duration), plus the queue and the webhook deliveries. A registry of its own, so that two
 * servers in one process (tests) never share counts.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { RunEvent } from "../runner/events.js";

/** What a webhook delivery came to: the `result` label. */
export type DeliveryResult = "accepted" | "duplicate" | "ignored" | "unauthorized" | "too_large" | "malformed" | "queue_full" | "stopping" | "already_synced";

export class ServeMetrics {
  readonly registry = new Registry();
  readonly syncs = new Counter({ name: "esc_sync_syncs_total", help: "Pairs synced, by the status they ended with", labelNames: ["status"], registers: [this.registry] });
  readonly latency = new Histogram({
    name: "esc_sync_sync_duration_seconds",
    help: "How long one pair's sync took",
    buckets: [0.5, 1, 2, 3, 5, 8, 13, 30, 60, 120, 300],
    registers: [this.registry],
  });
  readonly cycles = new Counter({ name: "esc_sync_cycles_total", help: "Plan and execute cycles, by what started them", labelNames: ["trigger"], registers: [this.registry] });
  readonly queueDepth = new Gauge({ name: "esc_sync_queue_depth", help: "Environments waiting for a sync", registers: [this.registry] });
  readonly retrying = new Gauge({ name: "esc_sync_retrying", help: "Environments (and the reconcile) that failed and wait for their retry: above 0, serve is degraded", registers: [this.registry] });
  readonly deliveries = new Counter({ name: "esc_sync_webhook_deliveries_total", help: "Webhook deliveries received, by result", labelNames: ["result"], registers: [this.registry] });
  readonly lastReconcile = new Gauge({
    name: "esc_sync_last_successful_reconcile_timestamp_seconds",
    help: "When the last reconcile in which every pair succeeded ended (Unix time)",
    registers: [this.registry],
  });

  readonly events = new Counter({
    name: "esc_sync_webhook_events_total",
    help: "Verified deliveries by Pulumi-Webhook-Kind and what serve did (accepted, ignored, already_synced)",
    labelNames: ["kind", "outcome"],
    registers: [this.registry],
  });
  readonly notifications = new Counter({ name: "esc_sync_notifications_total", help: "--notify messages, by result (sent, rate_limited, failed)", labelNames: ["result"], registers: [this.registry] });
  readonly rotations = new Counter({ name: "esc_sync_rotations_propagated_total", help: "Rotations whose new values reached every pair built from them", registers: [this.registry] });
  readonly rotationLatency = new Histogram({
    name: "esc_sync_rotation_propagation_seconds",
    help: "From a rotation's delivery to the last target written",
    buckets: [1, 2, 5, 10, 30, 60, 120, 300, 900],
    registers: [this.registry],
  });

  constructor() {
    // Every result is shown from the start, at 0: an alert on a rate needs the series to exist.
    for (const r of ["accepted", "duplicate", "ignored", "unauthorized", "too_large", "malformed", "queue_full", "stopping", "already_synced"] satisfies DeliveryResult[]) this.deliveries.inc({ result: r }, 0);
  }

  /** Consumes a run's events. */
  observe(event: RunEvent): void {
    if (event.kind !== "pair-done") return;
    this.syncs.inc({ status: event.status });
    this.latency.observe(event.durationMs / 1000);
  }
}
