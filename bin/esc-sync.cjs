#!/usr/bin/env node
// Launcher for `npx esc-sync`. Plain CommonJS so that it runs on any Node: it picks the Node
// (>= 22) and the Pulumi CLI that scripts/provision.sh chose, then runs the built CLI with them.
"use strict";
const { existsSync, readFileSync } = require("node:fs");
const { join } = require("node:path");
const { spawn } = require("node:child_process");

const repo = join(__dirname, "..");
const cli = join(repo, "dist", "orchestrator", "cli.js");
const recorded = {};
try {
  for (const line of readFileSync(join(repo, ".esc-sync", "toolchain.env"), "utf8").split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) recorded[line.slice(0, eq)] = line.slice(eq + 1);
  }
} catch {
  // Not provisioned yet: handled below.
}
if (!existsSync(cli)) {
  process.stderr.write("esc-sync is not built yet: run scripts/provision.sh (or scripts/run.sh) first\n");
  process.exit(1);
}
if (!process.env.ESC_SYNC_PULUMI_ROOT && recorded.ESC_SYNC_PULUMI_ROOT) process.env.ESC_SYNC_PULUMI_ROOT = recorded.ESC_SYNC_PULUMI_ROOT;
// Installed as a package (npm install -g): no toolchain.env. Find the Pulumi CLI as
// scripts/run.sh does: ESC_SYNC_PULUMI_ROOT, a `pulumi` of the pinned version on PATH, the tools cache.
const PULUMI_VERSION = "3.274.1";
const tools = process.env.ESC_SYNC_TOOLS_DIR || join(process.env.XDG_CACHE_HOME || join(require("node:os").homedir(), ".cache"), "esc-sync", "tools");
if (!process.env.ESC_SYNC_PULUMI_ROOT) {
  const onPath = (() => {
    try {
      return require("node:child_process").execFileSync("pulumi", ["version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 30_000 }).trim();
    } catch {
      return undefined;
    }
  })();
  const cached = join(tools, `pulumi-v${PULUMI_VERSION}`);
  if (onPath === `v${PULUMI_VERSION}`) {
    // toolchain.ts takes the first `pulumi` on PATH.
  } else if (existsSync(join(cached, "bin", "pulumi"))) {
    process.env.ESC_SYNC_PULUMI_ROOT = cached;
  } else if (!onPath && !/^(--version|-v|--help|-h|help|schema)?$/.test(process.argv[2] || "")) {
    process.stderr.write(`esc-sync: no Pulumi CLI found (looked at $ESC_SYNC_PULUMI_ROOT: unset, \`pulumi\` on PATH: none, ${cached}/bin/pulumi: absent): install Pulumi v${PULUMI_VERSION} (https://www.pulumi.com/docs/install/; any 3.x from 3.181 works) or set ESC_SYNC_PULUMI_ROOT to its folder\n`);
    process.exit(1);
  }
}

const major = Number(process.versions.node.split(".")[0]);
if (major >= 22) {
  // This Node will do: run the CLI in this process (importing it runs nothing by itself).
  import(require("node:url").pathToFileURL(cli).href).then(async (m) => {
    process.exitCode = await m.main(process.argv.slice(2));
  });
} else {
  const node = recorded.ESC_SYNC_NODE || join(tools, "node-v24.21.0", "bin", "node");
  if (!node || !existsSync(node)) {
    process.stderr.write(`esc-sync needs Node >= 22 (this is ${process.version}; none at ${node} either): install Node 22 or later, or run scripts/provision.sh in a clone\n`);
    process.exit(1);
  }
  const child = spawn(node, [cli, ...process.argv.slice(2)], { stdio: "inherit" });
  // A terminal's Ctrl-C reaches the child directly (same process group); forward the rest.
  for (const sig of ["SIGTERM", "SIGHUP", "SIGINT"]) {
    process.on(sig, () => {
      if (sig !== "SIGINT" || !process.stdin.isTTY) child.kill(sig);
    });
  }
  child.on("error", (err) => {
    process.stderr.write(`esc-sync: cannot start ${node}: ${err.message}\n`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => process.exit(code === null ? (signal ? 128 + (require("node:os").constants.signals[signal] || 0) : 1) : code));
}
