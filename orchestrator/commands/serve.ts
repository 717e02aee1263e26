/**
 * `esc-sync serve`: a long-running process that keeps every selected pair in sync, reacting to
 * ESC webhooks (or, with `--watch`, to the local source's folder) within seconds, with a full
 * reconcile at start and every `--reconcile-every`. Operators get `/status`, and with
 * `ESC_SYNC_ADMIN_TOKEN[_FILE]` `POST /sync`, `/pause`, `/resume`; `--notify` posts failures and
 * recoveries. Every line it prints is JSON, a signal's notice and a start error included (a port
 * in use, an address that cannot be bound, no watch folder: one line, exit 1). Ends on
 * SIGTERM/SIGINT with exit code 0.
 */
import { pino } from "pino";
import { deletionsOf, openSession, selectionOf, type CommandContext, type DeletionFlags, type LockFlags, type SessionFlags, lockOptionsOf } from "../command-context.js";
import { ConfigError } from "../errors.js";
import { parseNotifyTarget, type NotifyTarget } from "../serve/notify.js";
import { adminToken, webhookSecret } from "../serve/secret.js";
import { ServeStartError, startServer, type Server } from "../serve/server.js";

export interface ServeCommandOptions extends SessionFlags, DeletionFlags, LockFlags {
  listen: string;
  /** `--reconcile-every`, in milliseconds. */
  reconcileEvery: number;
  /** `--debounce`, in milliseconds. */
  debounce: number;
  /** `--shutdown-grace`, in milliseconds. */
  shutdownGrace: number;
  maxQueue: number;
  watch: boolean;
  insecureNoVerify: boolean;
  /** `--notify URL` (repeatable): where failures and recoveries are posted. */
  notify?: string[] | undefined;
}

/** `--notify` values, checked before anything starts. */
export function parseNotify(values: readonly string[]): NotifyTarget[] {
  return values.map((v) => {
    const target = parseNotifyTarget(v);
    // The value itself is not repeated: a Slack URL's path is its credential.
    if (!target) throw new ConfigError("--notify: not an http(s) URL", [], "pass --notify https://hooks.example.com/path (JSON) or --notify slack:https://hooks.slack.com/services/… (Slack format)");
    return target;
  });
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
  const admin = adminToken(ctx.env);
  const notify = parseNotify(opts.notify ?? []);
  if (!secret && !opts.insecureNoVerify && !opts.watch) {
    throw new ConfigError(
      "serve needs the webhook secret to verify deliveries: set ESC_SYNC_WEBHOOK_SECRET (or ESC_SYNC_WEBHOOK_SECRET_FILE) to the secret the ESC webhook was created with",
      [],
      "for local development only: --insecure-no-verify accepts unsigned deliveries; --watch syncs the local source's folder without webhooks",
    );
  }
  const session = await openSession(opts, ctx);
  if (secret) ctx.redactor.add(secret);
  if (admin) ctx.redactor.add(admin);
  // A notify URL can hold a token (Slack's does, in its path): never in a log line.
  for (const n of notify) ctx.redactor.add(n.url);
  for (const raw of opts.notify ?? []) ctx.redactor.add(raw.replace(/^slack:/, ""));
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
  // From here on every line is JSON, the signal handler's too.
  ctx.notice = (text) => logger.warn(text.trim());
  if (opts.insecureNoVerify) logger.warn("--insecure-no-verify: webhook deliveries are NOT verified; anyone who can reach this port can trigger syncs. For local development only.");
  else if (!secret) logger.warn("no ESC_SYNC_WEBHOOK_SECRET: webhook deliveries are refused (401); changes are seen by watching the folder and by the reconcile");

  let server: Server;
  try {
    server = await startServer({
    session,
    logger,
    selection: selectionOf(opts).acceptingEmpty(),
    deletions: deletionsOf(opts),
    execute: lockOptionsOf(opts),
    host: listen.host,
    port: listen.port,
    reconcileEveryMs: opts.reconcileEvery,
    debounceMs: opts.debounce,
    maxQueue: opts.maxQueue,
    secret: opts.insecureNoVerify ? undefined : secret,
    webhooks: Boolean(secret) || opts.insecureNoVerify,
    watchFolder: opts.watch && source.kind === "local" ? source.folder : undefined,
    adminToken: admin,
    notify,
    redact: (text) => redactor.text(text),
  });
  } catch (err) {
    // One JSON line, like every other line of serve: what is wrong and how to fix it.
    if (!(err instanceof ServeStartError)) throw err;
    logger.fatal({ hint: err.hint }, err.message);
    return 1;
  }
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await server.stop(opts.shutdownGrace);
  return 0;
}
