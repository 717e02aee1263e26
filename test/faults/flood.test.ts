/**
 * A flood of webhook deliveries: 2,000 in about 10 s (ESC_SYNC_FLOOD_DELIVERIES to change), over
 * 40 environments, as the loopback ESC server's hub builds them (Pulumi's documented bodies and
 * headers), with duplicates (the same Pulumi-Webhook-ID resent) and bad signatures mixed in, to a
 * serve whose queue holds 8 environments. serve does not crash, its memory stays bounded, it
 * refuses past its queue with 503 + Retry-After, counts every 401, and every environment it
 * accepted converges; refused ones are sent again after Retry-After, as Pulumi retries, and
 * converge too.
 */
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import parsePrometheus from "parse-prometheus-text-format";
import pLimit from "p-limit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sign } from "../../orchestrator/serve/signature.js";
import { startEscServer, type EscServer } from "../support/esc-server/index.js";
import { cloudToFiles, Sandbox } from "../support/sandbox.js";
import { ServeProcess, waitUntil } from "../support/serve.js";
import { figures, leftovers, rssMiB } from "./support.js";

const TOKEN = "pul-canary-token-faults-flood-77a0";
const HOOK_SECRET = "whsec-canary-faults-flood-1c4f";
const SECRET = "canary-faults-flood-value-3b9d";
const ENVS = Array.from({ length: 40 }, (_, i) => `f${String(i + 1).padStart(2, "0")}`);
const DELIVERIES = Number(process.env.ESC_SYNC_FLOOD_DELIVERIES ?? 2000);
const SECONDS = 10;
const MAX_QUEUE = 8;

describe("a flood of deliveries", () => {
  const box = new Sandbox({ PULUMI_ACCESS_TOKEN: TOKEN, ESC_SYNC_WEBHOOK_SECRET: HOOK_SECRET });
  let server: EscServer;
  let serve: ServeProcess;
  const pids: number[] = [];
  const definition = (v: string) => `values:\n  environmentVariables:\n    VALUE: ${v}\n    TOKEN:\n      fn::secret: ${SECRET}\n`;
  const out = (env: string) => join(box.outDir, `app-${env}.env`);
  const holds = (env: string, v: string) => existsSync(out(env)) && readFileSync(out(env), "utf8").includes(`VALUE=${v}`);

  beforeAll(async () => {
    for (const e of ENVS) box.writeEnvironment("app", e, definition("v1"));
    server = await startEscServer({ folder: box.envDir, org: "acme", token: TOKEN });
    box.writeManifest(cloudToFiles(server.url, "app/*", "out/{project}-{env}.env"));
    serve = await ServeProcess.start(box, ["--debounce", "2s", "--reconcile-every", "1h", "--max-queue", String(MAX_QUEUE)]);
    pids.push(serve.pid);
    await serve.reconciled();
  });
  afterAll(async () => {
    await serve?.stop("SIGKILL");
    await server?.close();
    expect(leftovers(pids, box.dir)).toEqual([]);
    box.cleanup();
  });

  it("refuses past its queue, counts bad signatures, stays bounded, and converges every accepted environment", async () => {
    // New revisions through the API (no hook registered: the flood is the only news of them).
    const revision = new Map<string, number>();
    for (const e of ENVS) {
      const r = await fetch(`${server.url}/api/esc/environments/acme/app/${e}`, { method: "PATCH", headers: { Authorization: `token ${TOKEN}`, "Content-Type": "application/x-yaml" }, body: definition("v2") });
      expect(r.status).toBe(200);
      revision.set(e, Number(r.headers.get("Pulumi-ESC-Revision")));
    }
    type Sent = { env: string; id: string; bad: boolean; status: number; retryAfter: string | null; text: string };
    const deliver = async (env: string, id: string, bad: boolean): Promise<Sent> => {
      const body = server.webhooks.payload("environment_revision_created", "acme", "app", env, { revision: revision.get(env)! });
      const r = await fetch(`${serve.url}/webhooks/esc`, {
        method: "POST",
        body,
        headers: { "Content-Type": "application/json", "Pulumi-Webhook-ID": id, "Pulumi-Webhook-Kind": "environment_revision", "Pulumi-Webhook-Signature": sign(bad ? "not-the-secret" : HOOK_SECRET, body) },
      });
      return { env, id, bad, status: r.status, retryAfter: r.headers.get("Retry-After"), text: await r.text() };
    };
    // The plan: mostly fresh deliveries, 10% bad signatures, 15% a resend of an earlier id.
    // Fresh ones go round the environments in turn, so that every environment gets some.
    const plan: { env: string; id: string; bad: boolean }[] = [];
    let fresh = 0;
    for (let i = 0; i < DELIVERIES; i++) {
      const roll = i % 20;
      if (roll < 2) plan.push({ env: ENVS[i % ENVS.length]!, id: randomUUID(), bad: true });
      else if (roll < 5 && plan.length > 0) plan.push({ ...plan[Math.floor(plan.length / 2)]!, bad: false });
      else plan.push({ env: ENVS[fresh++ % ENVS.length]!, id: randomUUID(), bad: false });
    }
    const rss0 = rssMiB(serve.pid);
    let rssMax = rss0;
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssMiB(serve.pid))), 250);
    const limit = pLimit(32);
    const started = Date.now();
    const sent = await Promise.all(
      plan.map((d, i) =>
        limit(async () => {
          // Paced: delivery i leaves no earlier than i/N of the way through the 10 s.
          const due = started + (i * SECONDS * 1000) / DELIVERIES - Date.now();
          if (due > 0) await new Promise((r) => setTimeout(r, due));
          return deliver(d.env, d.id, d.bad);
        }),
      ),
    );
    const floodS = (Date.now() - started) / 1000;
    const by = (pred: (s: Sent) => boolean) => sent.filter(pred).length;
    const accepted = new Set(sent.filter((s) => s.status === 202 && s.text.includes('"accepted"')).map((s) => s.env));
    const refused = sent.filter((s) => s.status === 503);

    // Pulumi retries a refused delivery later: the same id, after Retry-After.
    let resent = 0;
    let resent503 = 0;
    const pending = new Map(refused.filter((s) => !accepted.has(s.env)).map((s) => [s.env, s.id]));
    while (pending.size > 0) {
      await new Promise((r) => setTimeout(r, Number(refused[0]!.retryAfter) * 1000));
      for (const [env, id] of [...pending]) {
        const r = await deliver(env, id, false);
        resent++;
        if (r.status === 503) resent503++;
        if (r.status === 202) pending.delete(env);
      }
      if (resent > 40 * ENVS.length) break;
    }
    await waitUntil("every environment at v2", () => ENVS.every((e) => holds(e, "v2")), 300_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${serve.stdout.slice(-4000)}`);
    });
    clearInterval(sampler);
    const metrics = parsePrometheus((await serve.get("/metrics")).text);
    const delivered = metrics.find((m) => m.name === "esc_sync_webhook_deliveries_total")!;
    const count = (result: string) => Number((delivered.metrics as { labels: { result: string }; value: string }[]).find((m) => m.labels.result === result)?.value ?? 0);
    const badSent = by((s) => s.bad);

    figures("flood", {
      deliveries: sent.length,
      floodS: floodS.toFixed(1),
      envs: ENVS.length,
      maxQueue: MAX_QUEUE,
      accepted: by((s) => s.text.includes('"accepted"')),
      duplicates: by((s) => s.text.includes('"duplicate"')),
      refused503: refused.length,
      refusedWithRetryAfter: refused.filter((s) => s.retryAfter !== null).length,
      status401: by((s) => s.status === 401),
      badSignaturesSent: badSent,
      unauthorizedMetric: count("unauthorized"),
      other: by((s) => ![202, 401, 503].includes(s.status)),
      resentAfterRetryAfter: resent,
      resentRefusedAgain: resent503,
      envsAcceptedInFlood: accepted.size,
      lost: ENVS.filter((e) => !holds(e, "v2")).length,
      rssStartMiB: rss0.toFixed(0),
      rssMaxMiB: rssMax.toFixed(0),
      cycles: serve.lines.filter((l) => l.msg === "cycle start" && l.trigger === "change").length,
    });
    // No crash: it answers, and never answered 5xx other than the queue's 503.
    expect((await serve.get("/healthz")).status).toBe(200);
    expect(serve.child.exitCode).toBeNull();
    expect(by((s) => ![202, 401, 503].includes(s.status))).toBe(0);
    // Past the queue: 503 with Retry-After, and the bound was reached.
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((s) => Number(s.retryAfter) > 0)).toBe(true);
    expect(count("queue_full")).toBe(refused.length + resent503);
    // Every bad signature was refused and counted.
    expect(by((s) => s.status === 401)).toBe(badSent);
    expect(count("unauthorized")).toBe(badSent);
    // Bounded memory: a flood of small requests may not double serve's memory.
    expect(rssMax).toBeLessThan(2 * rss0 + 64);
    expect(serve.stdout + serve.stderr).not.toContain(SECRET);
  });
});
