/**
 * `POST /webhooks/esc`: Pulumi's deliveries, verified against the webhook secret, read, told apart
 * (duplicate, ignored, already synced, a rotation), and handed to the cycle runner. Also the app's
 * error handler, which counts a body too large as a delivery refused.
 */
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { CycleRunner } from "./cycle-runner.js";
import { RecentIds } from "./deliveries.js";
import { alreadySynced, readEvent, type WebhookEvent } from "./events.js";
import { MAX_BODY_BYTES } from "./http-app.js";
import type { DeliveryResult, ServeMetrics } from "./metrics.js";
import { verifySignature } from "./signature.js";
import type { StatusBook } from "./status.js";

/** What a refused sender is told to wait before retrying. */
const RETRY_AFTER_SECONDS = 5;

export interface WebhookDeps {
  logger: Logger;
  metrics: ServeMetrics;
  /** Which revisions every pair already wrote (a delivery of an older one is not synced again). */
  book: StatusBook;
  runner: CycleRunner;
  /** The manifest's organisation: deliveries of another are ignored. */
  org: string;
  /** Whether serve keeps `project/name` in sync. */
  inSelection: (env: string) => boolean;
  /** False: every delivery is refused (no secret and no `--insecure-no-verify`). */
  webhooks: boolean;
  /** The webhook secret; undefined: deliveries are not verified. */
  secret: string | undefined;
}

/** Registers `POST /webhooks/esc` and the error handler on `app`; each delivery is counted and logged (`webhook delivery`). */
export function webhookRoutes(app: FastifyInstance, deps: WebhookDeps): void {
  const { logger, metrics, book, runner, org } = deps;
  const seen = new RecentIds();
  const delivery = (result: DeliveryResult, details: Record<string, unknown> = {}) => {
    metrics.deliveries.inc({ result });
    logger.info({ result, ...details }, "webhook delivery");
  };
  /** A kind as a metric label: what the sender wrote, if it looks like a kind (the label set stays small). */
  const kindLabel = (kind: string) => (/^[a-z_]{1,64}$/.test(kind) ? kind : "other");

  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (req.url.startsWith("/webhooks/") && status === 413) delivery("too_large", { id: req.headers["pulumi-webhook-id"] });
    else if (status >= 500) logger.error({ url: req.url }, err.message);
    void reply.code(status).send({ error: status === 413 ? `body over ${MAX_BODY_BYTES} bytes` : err.message });
  });

  app.post("/webhooks/esc", async (req, reply) => {
    const id = typeof req.headers["pulumi-webhook-id"] === "string" ? req.headers["pulumi-webhook-id"] : undefined;
    const kind = typeof req.headers["pulumi-webhook-kind"] === "string" ? req.headers["pulumi-webhook-kind"] : undefined;
    if (runner.stopping) {
      delivery("stopping", { id, kind });
      return reply.code(503).header("Retry-After", String(RETRY_AFTER_SECONDS)).send({ error: "shutting down: retry later" });
    }
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!deps.webhooks) {
      delivery("unauthorized", { id, kind, reason: "no webhook secret configured" });
      return reply.code(401).send({ error: "webhooks are not configured on this server (no ESC_SYNC_WEBHOOK_SECRET)" });
    }
    if (deps.secret !== undefined) {
      const signature = req.headers["pulumi-webhook-signature"];
      if (!verifySignature(deps.secret, body, typeof signature === "string" ? signature : undefined)) {
        delivery("unauthorized", { id, kind, reason: signature === undefined ? "no Pulumi-Webhook-Signature header" : "signature mismatch" });
        return reply.code(401).send({ error: "invalid or missing Pulumi-Webhook-Signature" });
      }
    }
    if (kind === undefined || kind === "") {
      delivery("malformed", { id, reason: "no Pulumi-Webhook-Kind header" });
      return reply.code(400).send({ error: "missing header Pulumi-Webhook-Kind: Pulumi sends the event kind in it (environment, environment_revision, environment_revision_tag, environment_tag, imported_environment_changed)" });
    }
    let event: WebhookEvent;
    try {
      event = readEvent(kind, body.toString("utf8"));
    } catch {
      delivery("malformed", { id, kind });
      return reply.code(400).send({ error: "the body is not JSON" });
    }
    if (id !== undefined && seen.has(id)) {
      delivery("duplicate", { id, kind });
      return reply.code(202).send({ status: "duplicate" });
    }
    const ignore = (reason: string) => {
      if (id !== undefined) seen.add(id);
      metrics.events.inc({ kind: kindLabel(kind), outcome: "ignored" });
      delivery("ignored", { id, kind, reason });
      return reply.code(202).send({ status: "ignored", reason });
    };
    if (event.kind === "ignored") return ignore(event.reason);
    if (event.org !== undefined && event.org !== org) return ignore(`organisation ${event.org} is not the manifest's (${org})`);
    // The body names the importer for imported_environment_changed: that is the one to sync.
    const env = `${event.project}/${event.name}`;
    const details = { id, kind, environment: env, action: event.action, revision: event.revision, tag: event.tag, imported: event.imported ? `${event.imported.project}/${event.imported.name}` : undefined };
    if (alreadySynced(event, book.syncedRevisions(env))) {
      if (id !== undefined) seen.add(id);
      metrics.events.inc({ kind: kindLabel(kind), outcome: "already_synced" });
      delivery("already_synced", details);
      return reply.code(202).send({ status: "already-synced", reason: `every pair of ${env} already wrote revision ${event.revision} or a later one` });
    }
    const rotation = event.event === "rotation" || (event.event === "environment_revision" && event.action === "created" && runner.rotating.has(env));
    // Recorded before the request: the cycle it starts may begin at once, and must count.
    const reached = runner.graph.affected(env).filter(deps.inSelection);
    const fresh = rotation && reached.length > 0 && runner.rotations.delivered(env, Date.now(), reached, event.revision);
    if (!runner.changed(env, rotation)) {
      if (fresh) runner.rotations.cancel(env);
      // Not recorded as seen: the sender's retry of this delivery must be taken.
      delivery("queue_full", details);
      return reply.code(503).header("Retry-After", String(RETRY_AFTER_SECONDS)).send({ error: "too many syncs waiting: retry later" });
    }
    if (id !== undefined) seen.add(id);
    metrics.events.inc({ kind: kindLabel(kind), outcome: "accepted" });
    delivery("accepted", { ...details, ...(rotation ? { rotation: true } : {}) });
    return reply.code(202).send({ status: "accepted", ...(runner.scheduler.paused ? { paused: true } : {}) });
  });
}
