/**
 * serve's HTTP surface under hostile clients: slow clients (slowloris: headers one line a second;
 * a body one byte a second) are cut off by the header and request timeouts while serve keeps
 * answering; oversized headers get 431 and oversized bodies 413; /metrics and /status carry no
 * value, token or secret (canaries), also after a failed pair and refused admin requests.
 */
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HTTP_LIMITS } from "../../orchestrator/serve/server.js";
import { startEscServer, type EscServer } from "../support/esc-server/index.js";
import { cloudToFiles, Sandbox } from "../support/sandbox.js";
import { ServeProcess, waitUntil } from "../support/serve.js";
import { figures, leftovers } from "./support.js";

const TOKEN = "pul-canary-token-faults-http-41d7";
const HOOK_SECRET = "whsec-canary-faults-http-9e02";
const ADMIN = "admin-canary-faults-http-c3a8";
const SECRET = "canary-faults-http-value-77b1";
const CANARIES = [TOKEN, HOOK_SECRET, ADMIN, SECRET];

/** A client that sends `head` then one more `drip` every second, and what became of it. */
interface Slow {
  socket: Socket;
  sent: number;
  closedAt?: number;
  response: string;
}

describe("HTTP hardening", () => {
  const box = new Sandbox({ PULUMI_ACCESS_TOKEN: TOKEN, ESC_SYNC_WEBHOOK_SECRET: HOOK_SECRET, ESC_SYNC_ADMIN_TOKEN: ADMIN });
  let server: EscServer;
  let serve: ServeProcess;
  const pids: number[] = [];
  const env = (v: string) => `values:\n  environmentVariables:\n    VALUE: ${v}\n    TOKEN:\n      fn::secret: ${SECRET}\n`;

  beforeAll(async () => {
    box.writeEnvironment("app", "dev", env("one"));
    box.writeEnvironment("app", "prod", env("one"));
    server = await startEscServer({ folder: box.envDir, org: "acme", token: TOKEN });
    box.writeManifest(cloudToFiles(server.url, "app/*", "out/{project}-{env}.env"));
    serve = await ServeProcess.start(box, ["--debounce", "0s", "--reconcile-every", "1h"]);
    pids.push(serve.pid);
    await serve.reconciled();
  });
  afterAll(async () => {
    await serve?.stop("SIGKILL");
    await server?.close();
    expect(leftovers(pids, box.dir)).toEqual([]);
    box.cleanup();
  });

  function slowClient(head: string, drip: string, maxDrips: number): Slow {
    const { hostname, port } = new URL(serve.url);
    const socket = connect(Number(port), hostname);
    const slow: Slow = { socket, sent: 0, response: "" };
    socket.on("data", (d) => (slow.response += d.toString()));
    socket.on("error", () => undefined);
    socket.on("close", () => (slow.closedAt = Date.now()));
    socket.write(head);
    const timer = setInterval(() => {
      if (slow.closedAt !== undefined || slow.sent >= maxDrips) return clearInterval(timer);
      slow.sent++;
      socket.write(drip);
    }, 1000);
    socket.on("close", () => clearInterval(timer));
    return slow;
  }

  it("cuts off slow clients (headers a line a second, a body a byte a second) and keeps answering others", async () => {
    // Each would go on far longer than the limits: 3x the request timeout.
    const maxDrips = (3 * HTTP_LIMITS.requestTimeoutMs) / 1000;
    const started = Date.now();
    const headerClients = Array.from({ length: 20 }, (_, i) => slowClient(`POST /webhooks/esc HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-${i}: 1\r\n`, "X-More: 1\r\n", maxDrips));
    const bodyClients = Array.from({ length: 5 }, () =>
      slowClient(`POST /webhooks/esc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`, " ", maxDrips),
    );
    const all = [...headerClients, ...bodyClients];
    // While they hang on, serve answers everyone else.
    let answered = 0;
    while (all.some((c) => c.closedAt === undefined) && Date.now() - started < 2 * HTTP_LIMITS.requestTimeoutMs) {
      const r = await serve.get("/healthz");
      expect(r.status).toBe(200);
      answered++;
      await new Promise((r) => setTimeout(r, 1000));
    }
    await waitUntil("every slow client closed", () => all.every((c) => c.closedAt !== undefined), 3 * HTTP_LIMITS.requestTimeoutMs);
    // Cut off by serve before they were done, with 408 Request Timeout.
    for (const c of all) expect(c.sent).toBeLessThan(maxDrips);
    for (const c of all) expect(c.response).toMatch(/^HTTP\/1\.1 408/);
    const held = (cs: Slow[]) => Math.max(...cs.map((c) => (c.closedAt! - started) / 1000)).toFixed(1);
    figures("http slowloris", {
      headerClients: headerClients.length,
      bodyClients: bodyClients.length,
      cutOff: all.filter((c) => c.sent < maxDrips).length,
      status408: all.filter((c) => c.response.startsWith("HTTP/1.1 408")).length,
      maxHeldHeadersS: held(headerClients),
      maxHeldBodyS: held(bodyClients),
      healthzAnsweredMeanwhile: answered,
    });
    expect(answered).toBeGreaterThan(0);
  });

  it("refuses oversized headers (431) and bodies (413) and stays up", async () => {
    const big = "x".repeat(2 * HTTP_LIMITS.maxHeaderBytes);
    const header = await fetch(`${serve.url}/webhooks/esc`, { method: "POST", headers: { "X-Big": big }, body: "{}" });
    const body = await serve.post("/webhooks/esc", "x".repeat(2 * 1024 * 1024), { "Pulumi-Webhook-Kind": "environment_revision" });
    const manyHeaders: Record<string, string> = {};
    for (let i = 0; i < 1000; i++) manyHeaders[`X-H-${i}`] = "y".repeat(20);
    const many = await fetch(`${serve.url}/healthz`, { headers: manyHeaders });
    figures("http limits", { bigHeaderStatus: header.status, manyHeadersStatus: many.status, bigBodyStatus: body.status, healthzAfter: (await serve.get("/healthz")).status });
    expect(header.status).toBe(431);
    expect(many.status).toBe(431);
    expect(body.status).toBe(413);
    expect((await serve.get("/healthz")).status).toBe(200);
  });

  it("/metrics and /status carry no value, token or secret, also after a failure and refused admin requests", async () => {
    const from = serve.lines.length;
    // Refused admin requests (one sends a wrong token that contains a canary's prefix).
    expect((await serve.post("/sync", "", { Authorization: `Bearer ${ADMIN.slice(0, -2)}` })).status).toBe(401);
    expect((await serve.post("/pause", "", { Authorization: `Bearer ${SECRET}` })).status).toBe(401);
    // A failed pair: the ESC API refuses app/dev's open for this cycle.
    server.inject500(1000, { path: "/app/dev/open" });
    expect((await serve.post("/sync", "", { Authorization: `Bearer ${ADMIN}` })).status).toBe(202);
    await serve.waitFor((l) => l.msg === "cycle done" && l.trigger === "reconcile", 180_000, from);
    server.clearFaults();
    const metrics = (await serve.get("/metrics")).text;
    const status = (await serve.get("/status")).text;
    const found = CANARIES.filter((c) => metrics.includes(c) || status.includes(c) || serve.stdout.includes(c) || serve.stderr.includes(c));
    figures("http canaries", { canaries: CANARIES.length, found: found.length, metricsBytes: metrics.length, statusBytes: status.length, statusHasFailure: status.includes('"ok":false') });
    expect(status).toContain('"ok":false');
    expect(found).toEqual([]);
  });
});
