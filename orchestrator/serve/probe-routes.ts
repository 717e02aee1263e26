/**
 * serve's probes: `GET /healthz` (the process answers), `GET /readyz` (the first reconcile has
 * ended; paused or degraded stay ready) and `GET /metrics` (Prometheus text).
 */
import type { FastifyInstance } from "fastify";
import type { CycleRunner } from "./cycle-runner.js";
import type { ServeMetrics } from "./metrics.js";

/** Registers the probes on `app`. */
export function probeRoutes(app: FastifyInstance, runner: CycleRunner, metrics: ServeMetrics): void {
  app.get("/healthz", async () => ({ status: "ok" }));
  // Paused stays ready: webhooks must keep reaching serve (they queue) while syncs are held.
  // Degraded (something failing is being retried: the ESC API down, a store refusing) stays ready
  // too, and says so: failing readiness would turn away deliveries serve can still queue, on every
  // replica at once when the fault is the ESC API's.
  app.get("/readyz", async (_req, reply) => {
    const retrying = runner.retrying();
    if (runner.stopping) return reply.code(503).send({ status: "stopping" });
    if (!runner.ready) return reply.code(503).send({ status: "starting: the first reconcile has not ended", ...(retrying.length ? { retrying } : {}) });
    if (retrying.length > 0) return { status: "degraded", retrying };
    return { status: runner.scheduler.paused ? "paused" : "ready" };
  });
  app.get("/metrics", async (_req, reply) => reply.header("Content-Type", metrics.registry.contentType).send(await metrics.registry.metrics()));
}
