#!/usr/bin/env node
// How fast `esc-sync serve` carries an ESC change to a target, through the loopback ESC server's
// real signed webhook deliveries (no timed assertion anywhere: this prints). The deliveries have
// the kinds and bodies Pulumi documents (`Pulumi-Webhook-Kind: environment_revision`, `revision`,
// `action`...; test/fixtures/esc-webhooks/, checked by test/unit/orchestrator/serve/webhook-contract.test.ts).
//   node bench/serve.mjs [edits=50] [burst=20]
// Needs the build and the toolchain: run scripts/provision.sh first. Compiles the test support
// (the loopback server) into a temp folder first.
// Measures, with `file` targets and a file:// backend:
//   - `edits` single edits one after another (each through the API, as `esc env set` does):
//     time from the PATCH's response to the target file holding the new value; p50 and p95,
//     against the goals (p50 ≤ 3 s, p95 ≤ 6 s) as ratios;
//   - `burst` edits of one environment within one second: how many engine runs its pair got
//     (goal ≤ 2).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const repo = join(import.meta.dirname, "..");
const edits = Number(process.argv[2] ?? 50);
const burst = Number(process.argv[3] ?? 20);
const toolchain = Object.fromEntries(
  readFileSync(join(repo, ".esc-sync", "toolchain.env"), "utf8")
    .split("\n")
    .filter((l) => l.includes("="))
    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
);
const TOKEN = "bench-token";
const HOOK_SECRET = "bench-webhook-secret";
const ENVS = 4;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The loopback server is TypeScript under test/: compiled once into a temp folder.
const compiled = mkdtempSync(join(tmpdir(), "esc-sync-bench-build-"));
execFileSync(toolchain.ESC_SYNC_NODE, [join(repo, "node_modules", "typescript", "bin", "tsc"), "-p", join(repo, "tsconfig.test.json"), "--noEmit", "false", "--outDir", compiled], { stdio: "inherit" });
// The compiled modules resolve packages from the repository's node_modules.
execFileSync("ln", ["-s", join(repo, "node_modules"), join(compiled, "node_modules")]);
writeFileSync(join(compiled, "package.json"), JSON.stringify({ type: "module" }));
const { startEscServer } = await import(pathToFileURL(join(compiled, "test", "support", "esc-server", "index.js")).href);

const dir = mkdtempSync(join(tmpdir(), "esc-sync-bench-serve-"));
const definition = (value) => `values:\n  environmentVariables:\n    N: "${value}"\n    S:\n      fn::secret: s-${value}\n`;
for (let i = 0; i < ENVS; i++) {
  mkdirSync(join(dir, "environments", "svc"), { recursive: true });
  writeFileSync(join(dir, "environments", "svc", `e${i}.yaml`), definition(`start-${i}`));
}
const server = await startEscServer({ folder: join(dir, "environments"), org: "acme", token: TOKEN });
writeFileSync(
  join(dir, "environments.yaml"),
  `version: 1\nsource: { kind: pulumi-cloud, org: acme, apiUrl: "${server.url}" }\nstate: { backend: file://./state }\ntargets:\n  out: { kind: file, path: "out/{env}.env" }\nbindings:\n  - { environments: "svc/*", target: out }\n`,
);

const lines = [];
const child = spawn(toolchain.ESC_SYNC_NODE, [join(repo, "dist", "orchestrator", "cli.js"), "serve", "--listen", "127.0.0.1:0", "--reconcile-every", "1h"], {
  cwd: dir,
  env: { ...process.env, CI: "1", PULUMI_ACCESS_TOKEN: TOKEN, ESC_SYNC_WEBHOOK_SECRET: HOOK_SECRET, PULUMI_CONFIG_PASSPHRASE: "bench", ESC_SYNC_PULUMI_ROOT: toolchain.ESC_SYNC_PULUMI_ROOT, XDG_STATE_HOME: join(dir, "xdg") },
  stdio: ["ignore", "pipe", "inherit"],
});
let partial = "";
child.stdout.on("data", (d) => {
  const parts = (partial + d).split("\n");
  partial = parts.pop();
  for (const p of parts) {
    try {
      lines.push(JSON.parse(p));
    } catch {}
  }
});
async function until(check, what, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) {
      // What serve said last: a pair that failed, a delivery refused.
      const tail = lines.slice(-25).map((l) => JSON.stringify(l)).join("\n");
      throw new Error(`timed out: ${what}\nserve's last log lines:\n${tail}`);
    }
    await sleep(10);
  }
}
const api = async (method, path, body, type = "application/x-yaml") => {
  const r = await fetch(server.url + path, { method, headers: { Authorization: `token ${TOKEN}`, "Content-Type": type }, body });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status}`);
};
const holds = (env, value) => {
  const file = join(dir, "out", `${env}.env`);
  return existsSync(file) && readFileSync(file, "utf8").includes(`N=${value}\n`);
};

try {
  const url = (await until(() => lines.find((l) => l.msg === "listening"), "serve listening")).url;
  await until(() => lines.find((l) => l.msg === "cycle done" && l.trigger === "reconcile"), "the first reconcile");
  await api("POST", "/api/orgs/acme/hooks", JSON.stringify({ organizationName: "acme", displayName: "bench", payloadUrl: `${url}/webhooks/esc`, secret: HOOK_SECRET, active: true, format: "raw" }), "application/json");

  const latencies = [];
  for (let i = 0; i < edits; i++) {
    const env = `e${i % ENVS}`;
    await api("PATCH", `/api/esc/environments/acme/svc/${env}`, definition(`edit-${i}`));
    const t0 = performance.now();
    await until(() => holds(env, `edit-${i}`), `edit ${i} in out/${env}.env`);
    latencies.push((performance.now() - t0) / 1000);
  }
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)];

  // Let what the single edits started settle, then the burst.
  await sleep(3000);
  const from = lines.length;
  for (let i = 0; i < burst; i++) {
    await api("PATCH", `/api/esc/environments/acme/svc/e0`, definition(`burst-${i}`));
    await sleep(Math.floor(1000 / burst));
  }
  await until(() => holds("e0", `burst-${burst - 1}`), "the burst's last value");
  await server.webhooks.settled();
  await sleep(3000);
  const runs = lines.slice(from).filter((l) => (l.msg === "pair done" || l.msg === "pair not synced") && l.stack === "svc.e0.out" && l.status !== "unchanged").length;

  console.log(`serve, ${edits} single edits (PATCH answered → target file holds the value), ${ENVS} environments, file targets:`);
  console.log(`  p50 ${pct(50).toFixed(2)} s  (goal 3 s: ${(pct(50) / 3).toFixed(2)}× the goal)`);
  console.log(`  p95 ${pct(95).toFixed(2)} s  (goal 6 s: ${(pct(95) / 6).toFixed(2)}× the goal)`);
  console.log(`  min ${latencies[0].toFixed(2)} s, max ${latencies.at(-1).toFixed(2)} s`);
  console.log(`burst: ${burst} edits of svc/e0 within 1 s → ${runs} engine run(s) of its pair (goal ≤ 2)`);
  const kinds = [...new Set(server.webhooks.deliveries.map((d) => d.kind))].join(", ");
  const skipped = lines.filter((l) => l.msg === "webhook delivery" && l.result === "already_synced").length;
  console.log(`deliveries: ${server.webhooks.deliveries.length} (kinds: ${kinds}); ${skipped} named a revision every pair had already written (no engine run)`);
} finally {
  child.kill("SIGTERM");
  await new Promise((r) => child.on("close", r));
  await server.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(compiled, { recursive: true, force: true });
}
