/**
 * serve's operator endpoints: `GET /status` (every pair's last result, no values), and, with the
 * admin bearer token, `POST /sync` (now; optionally only what a filter matches), `POST /pause`
 * and `POST /resume` (deliveries and changes keep queueing while paused).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import picomatch from "picomatch";
import type { Logger } from "pino";
import { z } from "zod";
import type { Scheduler } from "./scheduler.js";
import { bearerMatches } from "./secret.js";
import type { StatusBook } from "./status.js";

/** What a refused sender is told to wait before retrying. */
const RETRY_AFTER_SECONDS = 5;

/** `POST /sync`'s optional body. */
const syncRequest = z.object({ filter: z.union([z.string(), z.array(z.string()).min(1)]).optional() }).strict();

export interface OperatorDeps {
  /** undefined: the admin endpoints answer 403. */
  adminToken: string | undefined;
  logger: Logger;
  scheduler: Scheduler;
  book: StatusBook;
  /** Hides every value and token learnt so far. */
  redact: (text: string) => string;
  /** `retrying`: what failed and waits for its retry (environments, and `(reconcile)`). */
  state: () => { ready: boolean; stopping: boolean; retrying: string[] };
  /** The environments serve keeps in sync (`project/name`), listed now. */
  environments: () => Promise<string[]>;
}

export function operatorRoutes(app: FastifyInstance, deps: OperatorDeps): void {
  const { logger, scheduler, book } = deps;
  app.get("/status", async (_req, reply) => {
    const body = { ...deps.state(), paused: scheduler.paused, queueDepth: scheduler.depth, busy: scheduler.busy, pairs: book.list() };
    // Errors come from pair events, which hold no values; the redactor makes sure of it.
    return reply.header("Content-Type", "application/json; charset=utf-8").send(deps.redact(JSON.stringify(body)));
  });

  /** The admin endpoints' guard: 403 without a configured token, 401 without the right bearer. */
  const admitted = (req: FastifyRequest, reply: FastifyReply, action: string): boolean => {
    if (deps.adminToken === undefined) {
      logger.warn({ action }, "admin request refused: no admin token configured");
      void reply.code(403).send({ error: "admin endpoints are off: set ESC_SYNC_ADMIN_TOKEN (or ESC_SYNC_ADMIN_TOKEN_FILE) and send Authorization: Bearer <token>" });
      return false;
    }
    if (!bearerMatches(deps.adminToken, req.headers.authorization)) {
      logger.warn({ action }, "admin request refused: missing or wrong bearer token");
      void reply.code(401).header("WWW-Authenticate", "Bearer").send({ error: "missing or wrong Authorization: Bearer <ESC_SYNC_ADMIN_TOKEN>" });
      return false;
    }
    return true;
  };

  app.post("/sync", async (req, reply) => {
    if (!admitted(req, reply, "sync")) return reply;
    if (deps.state().stopping) return reply.code(503).send({ error: "shutting down" });
    const text = Buffer.isBuffer(req.body) ? req.body.toString("utf8").trim() : "";
    let parsed;
    try {
      parsed = syncRequest.safeParse(text === "" ? {} : JSON.parse(text));
    } catch {
      return reply.code(400).send({ error: 'the body is not JSON: send nothing, or {"filter": ["project/env-glob", ...]}' });
    }
    if (!parsed.success) return reply.code(400).send({ error: `the body must be {"filter": "glob" | ["glob", ...]}: ${parsed.error.issues[0]!.message}` });
    const filter = parsed.data.filter === undefined ? undefined : [parsed.data.filter].flat();
    if (filter === undefined) {
      scheduler.reconcile();
      logger.info({ action: "sync", environments: "all" }, "sync requested");
      return reply.code(202).send({ status: "queued", environments: "all", ...(scheduler.paused ? { paused: true } : {}) });
    }
    const matched = (await deps.environments()).filter((e) => picomatch.isMatch(e, filter));
    if (matched.length === 0) return reply.code(404).send({ error: `no environment serve syncs matches ${filter.join(", ")}` });
    if (!scheduler.request(matched, { urgent: true })) return reply.code(503).header("Retry-After", String(RETRY_AFTER_SECONDS)).send({ error: "too many syncs waiting: retry later" });
    logger.info({ action: "sync", environments: matched }, "sync requested");
    return reply.code(202).send({ status: "queued", environments: matched, ...(scheduler.paused ? { paused: true } : {}) });
  });
  app.post("/pause", async (req, reply) => {
    if (!admitted(req, reply, "pause")) return reply;
    scheduler.pause();
    logger.warn({ action: "pause" }, "paused: no new sync starts; webhooks and changes are queued until POST /resume");
    return { status: "paused", queueDepth: scheduler.depth, busy: scheduler.busy };
  });
  app.post("/resume", async (req, reply) => {
    if (!admitted(req, reply, "resume")) return reply;
    // What waited is reported before resuming: the first cycle takes it at once.
    const queued = scheduler.depth;
    scheduler.resume();
    logger.info({ action: "resume", queued }, "resumed");
    return { status: "resumed", queued };
  });
}
