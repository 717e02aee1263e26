#!/usr/bin/env node
// Speed of esc-sync's main job, as ratios against a baseline (absolute times vary by machine).
//   node bench/sync.mjs [pairs=12]
// Needs the build and the toolchain: run scripts/provision.sh first.
// Measures, on N pairs of `file` targets in a temp folder with a file:// backend:
//   - the first sync at --concurrency 1 (baseline) against --concurrency 4;
//   - a sync with nothing to do: `--force` (pulumi up for every pair, the baseline) against the
//     default (pairs whose input is unchanged are recognised from the inventory, no engine run);
//   - a sync after one environment changed, against the same baseline.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const repo = join(import.meta.dirname, "..");
const pairs = Number(process.argv[2] ?? 12);
const toolchain = Object.fromEntries(
  readFileSync(join(repo, ".esc-sync", "toolchain.env"), "utf8")
    .split("\n")
    .filter((l) => l.includes("="))
    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
);

function project() {
  const dir = mkdtempSync(join(tmpdir(), "esc-sync-bench-"));
  for (let i = 0; i < pairs; i++) {
    mkdirSync(join(dir, "environments", "svc"), { recursive: true });
    writeFileSync(join(dir, "environments", "svc", `e${i}.yaml`), `values:\n  environmentVariables:\n    N: "${i}"\n    S:\n      fn::secret: s${i}\n`);
  }
  writeFileSync(
    join(dir, "environments.yaml"),
    `version: 1\nsource: { kind: local, folder: environments }\nstate: { backend: file://./state }\ntargets:\n  out: { kind: file, path: "out/{env}.env" }\nbindings:\n  - { environments: "svc/*", target: out }\n`,
  );
  return dir;
}

function sync(dir, ...args) {
  const t0 = process.hrtime.bigint();
  execFileSync(toolchain.ESC_SYNC_NODE, [join(repo, "dist", "orchestrator", "cli.js"), "sync", ...args], {
    cwd: dir,
    env: { ...process.env, CI: "1", PULUMI_CONFIG_PASSPHRASE: "bench", ESC_SYNC_PULUMI_ROOT: toolchain.ESC_SYNC_PULUMI_ROOT, XDG_STATE_HOME: join(dir, "xdg") },
    stdio: "ignore",
  });
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const rows = [];
const a = project();
const b = project();
try {
  const create1 = sync(a, "--concurrency", "1");
  const create4 = sync(b, "--concurrency", "4");
  rows.push(["first sync", "--concurrency 1", create1, "--concurrency 4", create4]);
  const forced = sync(a, "--concurrency", "4", "--force");
  const skipped = sync(a, "--concurrency", "4");
  rows.push(["nothing to do", "--force (up per pair)", forced, "default", skipped]);
  writeFileSync(join(a, "environments", "svc", "e0.yaml"), `values:\n  environmentVariables:\n    N: "changed"\n    S:\n      fn::secret: s\n`);
  const changedForced = sync(a, "--concurrency", "4", "--force");
  writeFileSync(join(a, "environments", "svc", "e1.yaml"), `values:\n  environmentVariables:\n    N: "changed"\n    S:\n      fn::secret: s\n`);
  const changed = sync(a, "--concurrency", "4");
  rows.push(["one environment changed", "--force (up per pair)", changedForced, "default", changed]);
} finally {
  rmSync(a, { recursive: true, force: true });
  rmSync(b, { recursive: true, force: true });
}

console.log(`esc-sync sync, ${pairs} pairs (file targets, file:// backend)\n`);
console.log(["case".padEnd(26), "baseline".padEnd(24), "s".padStart(7), "  ", "measured".padEnd(16), "s".padStart(7), "speed-up".padStart(10)].join(""));
for (const [name, baseName, base, measName, meas] of rows) {
  console.log([name.padEnd(26), baseName.padEnd(24), base.toFixed(1).padStart(7), "  ", measName.padEnd(16), meas.toFixed(1).padStart(7), `${(base / meas).toFixed(1)}x`.padStart(10)].join(""));
}
