/**
 * What every fault case shares: its one line of figures, and the proof that no process of the
 * case is left (serve itself, and every Pulumi process carrying a serve's run mark).
 */
import { appendFileSync, readdirSync, readFileSync } from "node:fs";
import { markedProcesses } from "../../orchestrator/runner/processes.js";

/**
 * Prints `[faults] <case>: k=v k=v` and, when `ESC_SYNC_FAULT_FIGURES` names a file (scripts/test.sh
 * sets it), appends the line there too, for the run's closing note.
 */
export function figures(name: string, values: Record<string, string | number | boolean>): void {
  const line = `[faults] ${name}: ${Object.entries(values).map(([k, v]) => `${k}=${v}`).join(" ")}`;
  console.log(line);
  const file = process.env.ESC_SYNC_FAULT_FIGURES;
  if (file) appendFileSync(file, line + "\n");
}

/** Processes still alive among `pids`, those marked by one of them, and any whose command line names `dir`. */
export function leftovers(pids: number[], dir: string): string[] {
  const left: string[] = [];
  for (const pid of pids) {
    try {
      process.kill(pid, 0);
      left.push(`serve ${pid}`);
    } catch {
      // gone
    }
  }
  for (const p of markedProcesses()) if (pids.some((pid) => p.run.startsWith(`${pid}.`))) left.push(`marked ${p.pid} (${p.run})`);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline = "";
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue;
    }
    if (cmdline.includes(dir)) left.push(`${entry}: ${cmdline.slice(0, 160)}`);
  }
  return left;
}

/** Percentile `p` (0..1) of `values`, 0 for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}
