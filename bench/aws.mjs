#!/usr/bin/env node
// esc-sync into AWS Secrets Manager through a real AWS provider (issue #24), run on demand, not
// in CI. Needs scripts/test.sh (or scripts/provision.sh, scripts/moto.sh .esc-sync/moto.env and
// scripts/aws-provider/build.sh .esc-sync/aws-provider.env) first.
//   node bench/aws.mjs [N=20] [--json]
// N environments, one `aws-secrets-manager` pair each (two secrets a pair), into moto on
// 127.0.0.1 through the AWS provider built from upstream parts (the upstream Terraform provider's
// logic through the real Pulumi bridge, not pulumi-aws's release), a file:// backend in a temp folder:
//   (a) the seed's way: one esc-sync process per pair, one after another;
//   (b) esc-sync's default: one process, the manifest's concurrency;
// and for each: wall time, AWS provider processes started per pair (a wrapper installed as the
// plugin logs each start), their peak RSS (VmHWM, polled every 100 ms while they run), and the
// orchestrator's own peak RSS. Prints the ratios.
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const repo = join(import.meta.dirname, "..");
const args = process.argv.slice(2);
const N = Number(args.find((a) => /^\d+$/.test(a)) ?? 20);
const JSON_OUT = args.includes("--json");
const log = (line) => process.stderr.write(`[aws] ${line}\n`);

const record = (file) => {
  const path = join(repo, ".esc-sync", file);
  if (!existsSync(path)) throw new Error(`${path} is missing: run scripts/test.sh first (it provisions moto and builds the AWS provider)`);
  return Object.fromEntries(
    readFileSync(path, "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
};
const toolchain = record("toolchain.env");
const provider = record("aws-provider.env");
const moto = record("moto.env");
if (provider.ESC_SYNC_AWS_PROVIDER_ERROR) throw new Error(`the AWS provider could not be built: ${provider.ESC_SYNC_AWS_PROVIDER_ERROR}`);
if (moto.ESC_SYNC_MOTO_ERROR) throw new Error(`moto could not be installed: ${moto.ESC_SYNC_MOTO_ERROR}`);

const work = mkdtempSync(join(tmpdir(), "esc-sync-bench-aws-"));
const CLI = join(repo, "dist", "orchestrator", "cli.js");
const pulumi = join(toolchain.ESC_SYNC_PULUMI_ROOT, "bin", "pulumi");

// The orchestrator's own peak RSS, written at exit by a hook loaded into it.
const rssHook = join(work, "rss-hook.mjs");
writeFileSync(rssHook, `import { writeFileSync } from "node:fs";\nprocess.on("exit", () => { if (process.env.BENCH_RSS_FILE) writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)); });\n`);

// A PULUMI_HOME of the bench's own, the provider installed as a wrapper that logs each start.
const home = join(work, "pulumi-home");
const starts = join(work, "provider-starts.log");
const wrapper = join(work, "pulumi-resource-aws");
mkdirSync(home);
writeFileSync(wrapper, `#!/bin/sh\necho "$$" >> "${starts}"\nexec "${provider.ESC_SYNC_AWS_PROVIDER}" "$@"\n`);
chmodSync(wrapper, 0o755);
const homeEnv = { PULUMI_HOME: home, PULUMI_IGNORE_AMBIENT_PLUGINS: "true", PULUMI_SKIP_UPDATE_CHECK: "true" };
execFileSync(pulumi, ["plugin", "install", "resource", "aws", "7.48.0", "--file", wrapper], { env: { ...process.env, ...homeEnv }, stdio: ["ignore", "ignore", "inherit"] });

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const motoUrl = `http://127.0.0.1:${port}`;
const motoChild = spawn(moto.ESC_SYNC_MOTO_SERVER, ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
const awsEnv = {
  AWS_ENDPOINT_URL: motoUrl,
  AWS_ACCESS_KEY_ID: "testing",
  AWS_SECRET_ACCESS_KEY: "testing",
  AWS_REGION: "us-east-1",
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_CONFIG_FILE: "/nonexistent",
  AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
};

/** Peak RSS (MB) of every provider process seen, polled from /proc while they run. */
const peaks = new Map();
const poller = setInterval(() => {
  if (!existsSync(starts)) return;
  for (const pid of readFileSync(starts, "utf8").split("\n").filter(Boolean)) {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (hwm) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, Number(hwm[1]) / 1024));
    } catch {
      // gone
    }
  }
}, 100);

function takeStarts() {
  const n = existsSync(starts) ? readFileSync(starts, "utf8").split("\n").filter(Boolean).length : 0;
  rmSync(starts, { force: true });
  const peak = Math.max(0, ...peaks.values());
  peaks.clear();
  return { n, peakMB: peak };
}

function esc(dir, cliArgs) {
  const rssFile = join(work, `rss-${process.hrtime.bigint()}`);
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(toolchain.ESC_SYNC_NODE, ["--import", pathToFileURL(rssHook).href, CLI, ...cliArgs], {
      cwd: dir,
      env: { ...process.env, ...homeEnv, ...awsEnv, CI: "1", PULUMI_CONFIG_PASSPHRASE: "bench", ESC_SYNC_PULUMI_ROOT: toolchain.ESC_SYNC_PULUMI_ROOT, XDG_STATE_HOME: join(dir, "xdg"), BENCH_RSS_FILE: rssFile },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const rssMB = existsSync(rssFile) ? Number(readFileSync(rssFile, "utf8")) / 1024 : NaN;
      if (code !== 0) return reject(new Error(`esc-sync ${cliArgs.join(" ")} exited ${code}:\n${stderr.slice(-2000)}`));
      resolve({ seconds, rssMB });
    });
  });
}

function project(name) {
  const dir = join(work, name);
  mkdirSync(join(dir, "environments", name), { recursive: true });
  for (let i = 0; i < N; i++) {
    writeFileSync(join(dir, "environments", name, `e${i}.yaml`), `values:\n  environmentVariables:\n    N: "${i}"\n    S:\n      fn::secret: bench-secret-${name}-${i}\n`);
  }
  writeFileSync(
    join(dir, "environments.yaml"),
    `version: 1\nsource: { kind: local, folder: environments }\nstate: { backend: file://./state }\ntargets:\n  sm: { kind: aws-secrets-manager, region: eu-west-1, recoveryWindowInDays: 0 }\nbindings:\n  - { environments: "${name}/*", target: sm, name: "{project}/{env}/{key}" }\n`,
  );
  return dir;
}

const figures = { machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version }, pairs: N };
try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${motoUrl}/moto-api/data.json`)).ok) break;
    } catch {
      // not yet
    }
    if (i > 300) throw new Error("moto_server did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
  const a = project("seed");
  log(`(a) the seed's way: ${N} processes, one pair each, one after another`);
  takeStarts();
  let total = 0;
  let rssA = 0;
  for (let i = 0; i < N; i++) {
    const r = await esc(a, ["sync", "--filter", `seed/e${i}`, "--concurrency", "1"]);
    total += r.seconds;
    rssA = Math.max(rssA, r.rssMB);
  }
  const sa = takeStarts();
  figures.a = { seconds: +total.toFixed(1), providerProcesses: sa.n, providerProcessesPerPair: +(sa.n / N).toFixed(2), providerPeakRssMB: +sa.peakMB.toFixed(0), orchestratorPeakRssMB: +rssA.toFixed(0) };

  const b = project("default");
  log(`(b) esc-sync's default: one process, ${N} pairs`);
  const rb = await esc(b, ["sync"]);
  const sb = takeStarts();
  figures.b = { seconds: +rb.seconds.toFixed(1), providerProcesses: sb.n, providerProcessesPerPair: +(sb.n / N).toFixed(2), providerPeakRssMB: +sb.peakMB.toFixed(0), orchestratorPeakRssMB: +rb.rssMB.toFixed(0) };
  figures.ratios = {
    wallTimeSeedOverDefault: +(figures.a.seconds / figures.b.seconds).toFixed(2),
    providerProcessesSeedOverDefault: +(figures.a.providerProcesses / Math.max(1, figures.b.providerProcesses)).toFixed(2),
  };
} finally {
  clearInterval(poller);
  motoChild.kill("SIGTERM");
  rmSync(work, { recursive: true, force: true });
}

if (JSON_OUT) {
  process.stdout.write(JSON.stringify(figures, null, 2) + "\n");
} else {
  const m = figures.machine;
  console.log(`${N} aws-secrets-manager pairs (2 secrets each) into moto through the AWS provider built from upstream parts; ${m.cpus} × ${m.cpuModel}, ${m.memoryGB} GB, node ${m.node}`);
  console.log(`way                     seconds  provider processes (per pair)  provider peak RSS  orchestrator peak RSS`);
  for (const [name, f] of [["(a) one process a pair", figures.a], ["(b) default", figures.b]]) {
    console.log(`${name.padEnd(24)}${String(f.seconds).padStart(7)}  ${String(f.providerProcesses).padStart(18)} (${f.providerProcessesPerPair})${"".padStart(6)}${String(f.providerPeakRssMB).padStart(10)} MB${String(f.orchestratorPeakRssMB).padStart(18)} MB`);
  }
  console.log(`ratios (a)/(b): wall time ${figures.ratios.wallTimeSeedOverDefault}×, provider processes ${figures.ratios.providerProcessesSeedOverDefault}×`);
}
