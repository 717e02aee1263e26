/**
 * `esc-sync serve`: a long-running process that keeps every selected pair in sync, reacting to
 * ESC webhooks (or, with `--watch`, to the local source's folder) within seconds, with a full
 * reconcile at start and every `--reconcile-every`. Ends on SIGTERM/SIGINT with exit code 0.
 */
import { pino } from "pino";
import { deletionsOf, openSession, selectionOf, type CommandContext, type DeletionFlags, type LockFlags, type SessionFlags } from "../command-context.js";
import { ConfigError } from "../errors.js";
import { webhookSecret } from "../serve/secret.js";
import { startServer } from "../serve/server.js";

export interface ServeCommandOptions extends SessionFlags, DeletionFlags, LockFlags {
  listen: string;
  reconcileEveryMs: number;
  debounceMs: number;
  shutdownGraceMs: number;
  maxQueue: number;
  watch: boolean;
  insecureNoVerify: boolean;
}

/** `host:port` (`[::1]:8080` for IPv6; port 0 picks a free one). */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`--listen ${text}: must be host:port, e.g. 127.0.0.1:8080 or 0.0.0.0:8080 (in a container)`);
  return { host: (m[1] ?? m[2])!, port };
}

export async function serveCommand(opts: ServeCommandOptions, ctx: CommandContext): Promise<number> {
  const listen = parseListen(opts.listen);
  const secret = webhookSecret(ctx.env);
  if (!secret && !opts.insecureNoVerify && !opts.watch) {
    throw new ConfigError(
      "serve needs the webhook secret to verify deliveries: set ESC_SYNC_WEBHOOK_SECRET (or ESC_SYNC_WEBHOOK_SECRET_FILE) to the secret the ESC webhook was created with",
      [],
      "for local development only: --insecure-no-verify accepts unsigned deliveries; --watch syncs the local source's folder without webhooks",
    );
  }
  const session = await openSession(opts, ctx);
  if (secret) ctx.redactor.add(secret);
  const source = session.manifest.source;
  if (opts.watch && source.kind !== "local") {
    throw new ConfigError(`--watch watches a local source's folder; the manifest's source is ${source.kind}: drop --watch (webhooks tell serve about changes)`);
  }
  session.checkSelection(selectionOf(opts));
  // JSON lines on stdout; every string passes the redactor first.
  const redactor = ctx.redactor;
  const logger = pino({
    base: { name: "esc-sync" },
    hooks: {
      logMethod(args, method) {
        method.apply(this, redactor.deep(args) as Parameters<typeof method>);
      },
    },
  });
  if (opts.insecureNoVerify) logger.warn("--insecure-no-verify: webhook deliveries are NOT verified; anyone who can reach this port can trigger syncs. For local development only.");
  else if (!secret) logger.warn("no ESC_SYNC_WEBHOOK_SECRET: webhook deliveries are refused (401); changes are seen by watching the folder and by the reconcile");

  const server = await startServer({
    session,
    logger,
    selection: { ...selectionOf(opts), allowEmpty: true },
    deletions: deletionsOf(opts),
    execute: { staleLockMinutes: opts.staleLockMinutes, lockWaitSeconds: opts.lockWaitSeconds, pairTimeoutMs: opts.pairTimeoutMs },
    host: listen.host,
    port: listen.port,
    reconcileEveryMs: opts.reconcileEveryMs,
    debounceMs: opts.debounceMs,
    maxQueue: opts.maxQueue,
    secret: opts.insecureNoVerify ? undefined : secret,
    webhooks: Boolean(secret) || opts.insecureNoVerify,
    watchFolder: opts.watch && source.kind === "local" ? source.folder : undefined,
  });
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await server.stop(opts.shutdownGraceMs);
  return 0;
}
