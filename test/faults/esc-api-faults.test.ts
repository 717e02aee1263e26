/**
 * The ESC API failing in the middle of a cycle: 500s, then connection resets, then requests never
 * answered, for a window (ESC_SYNC_FAULT_WINDOW_SECONDS, default 24 s; the 60 s by hand)
 * that starts once half of the cycle's environments are opened (the other half open slowly). Pairs already written stay
 * written; the rest fail and are retried until they converge; /readyz and /metrics say serve is
 * degraded while it retries; with --allow-deletes, nothing is deleted because the environments
 * could not be listed (a failed listing, or a failed later page, is an error, never a short list).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEscServer, type EscServer } from "../support/esc-server/index.js";
import { cloudToFiles, Sandbox } from "../support/sandbox.js";
import { ServeProcess, waitUntil } from "../support/serve.js";
import { figures, leftovers } from "./support.js";

const TOKEN = "pul-canary-token-faults-esc-0b3e";
const ADMIN = "admin-canary-faults-esc-5d21";
const SECRET = "canary-faults-esc-value-e9a4";
const ENVS = Array.from({ length: 12 }, (_, i) => `e${String(i + 1).padStart(2, "0")}`);
const WINDOW_MS = Number(process.env.ESC_SYNC_FAULT_WINDOW_SECONDS ?? 24) * 1000;

describe("ESC API faults in the middle of a cycle", () => {
  const box = new Sandbox({ PULUMI_ACCESS_TOKEN: TOKEN, ESC_SYNC_ADMIN_TOKEN: ADMIN, ESC_SYNC_WEBHOOK_SECRET: "whsec-faults-esc-not-used" });
  let server: EscServer;
  let serve: ServeProcess;
  const pids: number[] = [];
  const definition = (v: string) => `values:\n  environmentVariables:\n    VALUE: ${v}\n    TOKEN:\n      fn::secret: ${SECRET}\n`;
  const out = (env: string) => join(box.outDir, `app-${env}.env`);
  const holds = (env: string, v: string) => existsSync(out(env)) && readFileSync(out(env), "utf8").includes(`VALUE=${v}`);
  const admin = { Authorization: `Bearer ${ADMIN}` };

  beforeAll(async () => {
    for (const e of ENVS) box.writeEnvironment("app", e, definition("v1"));
    // Pages of 5: a listing takes three requests, so a later page can fail alone.
    server = await startEscServer({ folder: box.envDir, org: "acme", token: TOKEN, pageSize: 5 });
    box.writeManifest(cloudToFiles(server.url, "app/*", "out/{project}-{env}.env"));
    serve = await ServeProcess.start(box, ["--debounce", "0s", "--reconcile-every", "1h", "--allow-deletes"]);
    pids.push(serve.pid);
    await serve.reconciled();
    for (const e of ENVS) expect(holds(e, "v1")).toBe(true);
  });
  afterAll(async () => {
    await serve?.stop("SIGKILL");
    await server?.close();
    expect(leftovers(pids, box.dir)).toEqual([]);
    box.cleanup();
  });

  it("keeps what was written, retries the rest until it converges, says it is degraded, deletes nothing", async () => {
    // Edited in ESC's folder (no webhook): a requested reconcile takes them all in one cycle.
    for (const e of ENVS) writeFileSync(join(box.envDir, "app", `${e}.yaml`), definition("v2"));
    // Half of them open slowly: the window finds the cycle with half its environments opened.
    server.injectDelay(Infinity, 4000, { path: /\/app\/e(0[7-9]|1[0-2])\/(versions\/[^/]+\/)?open$/, method: "POST" });
    const readsBefore = server.requests.length;
    const opened = () => server.requests.slice(readsBefore).filter((r) => r.method === "GET" && r.path.includes("/open/") && r.status === 200).length;
    const from = serve.lines.length;
    expect((await serve.post("/sync", "", admin)).status).toBe(202);
    // The window opens once a third of the environments are opened (session read back).
    await waitUntil("half of the environments opened", () => opened() >= ENVS.length / 2, 120_000);
    const windowStart = Date.now();
    const third = WINDOW_MS / 3;
    const readyz = new Set<string>();
    let missing = 0;
    let retryingMax = 0;
    const sample = async () => {
      missing = Math.max(missing, ENVS.filter((e) => !existsSync(out(e))).length);
      const r = await serve.get("/readyz");
      readyz.add(`${r.status}:${(JSON.parse(r.text) as { status: string }).status}`);
      const m = /^esc_sync_retrying (\d+)/m.exec((await serve.get("/metrics")).text);
      retryingMax = Math.max(retryingMax, Number(m?.[1] ?? 0));
    };
    const phase = async (start: () => void, ms: number) => {
      server.clearFaults();
      start();
      const end = Date.now() + ms;
      while (Date.now() < end) {
        await sample();
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    const writtenAtStart = ENVS.filter((e) => holds(e, "v2"));
    await phase(() => server.inject500(Infinity, { path: "/api/esc/" }), third);
    // A reconcile asked for during the window lists nothing: it must fail, not delete.
    expect((await serve.post("/sync", "", admin)).status).toBe(202);
    await phase(() => server.injectReset(Infinity, { path: "/api/esc/" }), third);
    await phase(() => server.injectHang(Infinity, { path: "/api/esc/" }), third);
    const hungAtEnd = server.hanging;
    server.clearFaults();
    // From the cycle's start: a request delayed into the window was recorded before it began.
    const window = server.requests.slice(readsBefore).filter((r) => r.fault !== undefined);
    const writtenInWindow = ENVS.filter((e) => holds(e, "v2"));

    // Later list pages failing alone: the reconcile must fail (no short list, no deletion). First
    // the cycles asked for during the window end, so that the next reconcile is this one.
    await waitUntil("the cycles asked for during the window", async () => {
      const st = JSON.parse((await serve.get("/status")).text) as { busy: boolean; queueDepth: number };
      return !st.busy && st.queueDepth === 0;
    }, 240_000);
    const pageFaultFrom = serve.lines.length;
    server.inject500(Infinity, { path: /^\/api\/esc\/environments\/acme$/, query: "continuationToken" });
    expect((await serve.post("/sync", "", admin)).status).toBe(202);
    const pageFailure = await serve.waitFor((l) => l.msg.startsWith("cycle failed") || (l.msg === "cycle done" && l.trigger === "reconcile"), 180_000, pageFaultFrom);
    await sample();
    server.clearFaults();

    // Then it converges by its own retries (no new edit, no request).
    await waitUntil("every environment at v2", () => ENVS.every((e) => holds(e, "v2")), 240_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${serve.stdout.slice(-5000)}`);
    });
    await waitUntil("/readyz ready again", async () => (await serve.get("/readyz")).text.includes('"ready"'), 240_000);
    const recoveredS = ((Date.now() - windowStart - WINDOW_MS) / 1000).toFixed(1);
    const lines = serve.lines.slice(from);
    const pairLines = lines.filter((l) => l.msg === "pair done" || l.msg === "pair not synced");
    const deleted = pairLines.filter((l) => l.status === "deleted" || Number((l.changes as { delete?: number } | undefined)?.delete ?? 0) > 0);
    const failedPairs = pairLines.filter((l) => l.status === "failed").length;
    const retryableRefusals = pairLines.filter((l) => l.status === "refused" && /serve retries it/.test(String(l.hint))).length;
    const cycleFailures = lines.filter((l) => String(l.msg).startsWith("cycle failed")).length;
    const retriesLogged = lines.filter((l) => String(l.msg).includes("retrying")).length;

    figures("esc-api faults", {
      envs: ENVS.length,
      windowS: WINDOW_MS / 1000,
      writtenBeforeWindow: writtenAtStart.length,
      writtenDuringWindow: writtenInWindow.length - writtenAtStart.length,
      delayedOpens: server.requests.slice(readsBefore).filter((r) => r.method === "POST" && /e(0[7-9]|1[0-2])\/(versions\/[^/]+\/)?open$/.test(r.path)).length,
      faulted500: window.filter((r) => r.fault === "5xx").length,
      faultedReset: window.filter((r) => r.fault === "reset").length,
      faultedHang: window.filter((r) => r.fault === "hang").length,
      hungAtEnd,
      failedPairs,
      retryableRefusals,
      cycleFailures,
      retriesLogged,
      pageFaultOutcome: pageFailure.msg.startsWith("cycle failed") ? "reconcile failed" : "reconcile done",
      readyzSeen: [...readyz].join("|"),
      retryingMax,
      maxMissingFiles: missing,
      deleted: deleted.length,
      lost: ENVS.filter((e) => !holds(e, "v2")).length,
      recoveredAfterWindowS: recoveredS,
    });
    // What was written before the window is still written, and nothing went missing meanwhile.
    // Part of the cycle got through: the environments opened before the window were written.
    expect(writtenInWindow.length).toBeGreaterThan(0);
    for (const e of writtenInWindow) expect(holds(e, "v2")).toBe(true);
    expect(missing).toBe(0);
    expect(deleted).toEqual([]);
    // The faults were met, the window failed something, and serve said it was degraded.
    expect(window.some((r) => r.fault === "5xx") && window.some((r) => r.fault === "reset") && window.some((r) => r.fault === "hang")).toBe(true);
    expect(retryableRefusals).toBeGreaterThan(0);
    expect(cycleFailures).toBeGreaterThan(0);
    expect([...readyz]).toContain("200:degraded");
    expect(retryingMax).toBeGreaterThan(0);
    expect(pageFailure.msg).toMatch(/^cycle failed/);
    // No secret value in what serve printed.
    expect(serve.stdout + serve.stderr).not.toContain(SECRET);
  });
});
