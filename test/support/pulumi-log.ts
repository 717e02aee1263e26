/**
 * A `pulumi` that logs when each invocation starts and ends, with its arguments, then runs the
 * real CLI: tests measure what Pulumi really ran (concurrency, calls made or not made).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { recordedToolchain } from "./toolchain.js";

export interface PulumiLog {
  /** Give this as ESC_SYNC_PULUMI_ROOT. */
  root: string;
  log: string;
  /** Every call's arguments. */
  calls(): string[];
}

export function loggingPulumi(dir: string): PulumiLog {
  const root = join(dir, "pulumi-wrapper");
  const log = join(dir, "pulumi-calls.log");
  mkdirSync(join(root, "bin"), { recursive: true });
  const real = join(recordedToolchain().pulumiRoot, "bin", "pulumi");
  writeFileSync(
    join(root, "bin", "pulumi"),
    `#!/usr/bin/env bash
stack=""; prev=""
for a in "$@"; do [ "$prev" = "--stack" ] && stack="$a"; prev="$a"; done
echo "start $$ $stack $(date +%s%N) $*" >> "${log}"
"${real}" "$@"; code=$?
echo "end $$ $stack $(date +%s%N)" >> "${log}"
exit $code
`,
  );
  chmodSync(join(root, "bin", "pulumi"), 0o755);
  return {
    root,
    log,
    calls: () =>
      existsSync(log)
        ? readFileSync(log, "utf8")
            .split("\n")
            .filter((l) => l.startsWith("start "))
            .map((l) => l.split(" ").slice(4).join(" "))
        : [],
  };
}

/** The most stacks that had a Pulumi process running at the same moment. */
export function maxStacksInFlight(log: string): number {
  const events = readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((l) => l.split(" "))
    .filter(([, , stack]) => stack)
    .map(([what, , stack, t]) => ({ what: what!, stack: stack!, t: BigInt(t!) }))
    .sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.what === "end" ? -1 : 1));
  const running = new Map<string, number>();
  let max = 0;
  for (const e of events) {
    running.set(e.stack, (running.get(e.stack) ?? 0) + (e.what === "start" ? 1 : -1));
    if (running.get(e.stack) === 0) running.delete(e.stack);
    max = Math.max(max, running.size);
  }
  return max;
}
