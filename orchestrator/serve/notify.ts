/**
 * `--notify URL`: a short message when a pair starts failing (or is held, or refused) and when it
 * recovers. Plain JSON by default; Slack's incoming-webhook format (`{"text": ...}`) for a
 * `hooks.slack.com` URL or one written `slack:https://...`. Rate-limited: one message per pair
 * and kind per `perPairMs`, and at most `perMinute` in all; what is dropped is counted and logged.
 * A message holds names, statuses and the pair's error text (which never holds a value) passed
 * through the redactor; never a value, never the URL itself in a log (it can hold a token).
 */
import type { Logger } from "pino";
import type { Transition } from "./status.js";

export interface NotifyTarget {
  url: string;
  format: "json" | "slack";
}

/** `slack:https://…` or a Slack incoming-webhook URL: Slack format; any other http(s) URL: JSON. */
export function parseNotifyTarget(text: string): NotifyTarget | undefined {
  const slack = text.startsWith("slack:");
  const raw = slack ? text.slice("slack:".length) : text;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  return { url: url.toString(), format: slack || url.hostname === "hooks.slack.com" ? "slack" : "json" };
}

/** The message's JSON form (also what the Slack text is made from). */
export interface Notice {
  event: "pair-failing" | "pair-recovered";
  stack: string;
  environment: string;
  target: string;
  status: string;
  error?: string;
  hint?: string;
  at: string;
}

export function noticeOf(t: Transition): Notice {
  const p = t.pair;
  return {
    event: t.kind === "failing" ? "pair-failing" : "pair-recovered",
    stack: p.stack,
    environment: p.environment,
    target: p.target,
    status: p.status,
    ...(p.error ? { error: p.error.slice(0, 500) } : {}),
    ...(p.hint ? { hint: p.hint.slice(0, 300) } : {}),
    at: p.lastResultAt,
  };
}

function slackText(n: Notice): string {
  const head = n.event === "pair-failing" ? `:red_circle: esc-sync: ${n.environment} → ${n.target} is ${n.status}` : `:large_green_circle: esc-sync: ${n.environment} → ${n.target} recovered (${n.status})`;
  return [head, n.error ? `error: ${n.error}` : "", n.hint ? `hint: ${n.hint}` : ""].filter(Boolean).join("\n");
}

export interface NotifierOptions {
  targets: NotifyTarget[];
  logger: Logger;
  /** Every text leaves through this (the run's redactor). */
  redact: (text: string) => string;
  perPairMs?: number;
  perMinute?: number;
  now?: () => number;
  /** Counts what was sent, dropped by the rate limit, or failed to send. */
  onResult?: (result: "sent" | "rate_limited" | "failed") => void;
}

export class Notifier {
  #lastByKey = new Map<string, number>();
  #window: number[] = [];
  #inflight = new Set<Promise<void>>();
  readonly #now: () => number;
  constructor(private readonly opts: NotifierOptions) {
    this.#now = opts.now ?? Date.now;
  }

  /** Sends (in the background) what a transition means, unless the rate limit drops it. */
  notify(t: Transition): void {
    if (this.opts.targets.length === 0) return;
    const now = this.#now();
    const key = `${t.pair.stack}\u0000${t.kind}`;
    const perPair = this.opts.perPairMs ?? 5 * 60_000;
    this.#window = this.#window.filter((at) => at > now - 60_000);
    const last = this.#lastByKey.get(key);
    if ((last !== undefined && now - last < perPair) || this.#window.length >= (this.opts.perMinute ?? 20)) {
      this.opts.onResult?.("rate_limited");
      this.opts.logger.warn({ stack: t.pair.stack, notice: t.kind }, "notification dropped by the rate limit");
      return;
    }
    this.#lastByKey.set(key, now);
    this.#window.push(now);
    const notice = noticeOf(t);
    for (const target of this.opts.targets) {
      const body = this.opts.redact(JSON.stringify(target.format === "slack" ? { text: slackText(notice) } : notice));
      const sent = this.#post(target, body, notice);
      this.#inflight.add(sent);
      void sent.finally(() => this.#inflight.delete(sent));
    }
  }

  /** Waits for messages under way (at stop). */
  async settled(): Promise<void> {
    await Promise.all([...this.#inflight]);
  }

  async #post(target: NotifyTarget, body: string, notice: Notice): Promise<void> {
    // Only the host is logged: a Slack URL's path is its credential.
    const host = new URL(target.url).host;
    try {
      const r = await fetch(target.url, { method: "POST", headers: { "Content-Type": "application/json" }, body, signal: AbortSignal.timeout(10_000) });
      if (!r.ok) throw new Error(`answered ${r.status}`);
      this.opts.onResult?.("sent");
      this.opts.logger.info({ host, notice: notice.event, stack: notice.stack }, "notification sent");
    } catch (err) {
      this.opts.onResult?.("failed");
      this.opts.logger.warn({ host, notice: notice.event, stack: notice.stack }, `notification not sent: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
