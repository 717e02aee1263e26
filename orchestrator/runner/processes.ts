/**
 * The processes a run starts (Pulumi CLIs, dynamic-provider `node` processes, provider plugins),
 * found by a mark they inherit: every Pulumi process gets `ESC_SYNC_RUN=<pid>.<start time>` of
 * the orchestrator that started it, and `ESC_SYNC_PAIR=<stack>` for a pair's own operations.
 * Plugins run in process groups of their own, and outlive a killed CLI as orphans, so neither the
 * process tree nor a process group finds them all; the environment they inherit does.
 *
 * Linux only (`/proc`); elsewhere the functions find nothing and kill nothing.
 */
import { readdirSync, readFileSync } from "node:fs";

export const RUN_MARK = "ESC_SYNC_RUN";
export const PAIR_MARK = "ESC_SYNC_PAIR";

/** One marked process. */
export interface MarkedProcess {
  pid: number;
  run: string;
  pair?: string;
}

/** `<pid>.<start time in clock ticks>`: a process's identity, safe against pid reuse. */
function identity(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return `${pid}.${fields[19]}`;
  } catch {
    return undefined;
  }
}

/** This process's mark, which every process it starts inherits. */
export function ownRunMark(): string {
  return identity(process.pid) ?? `${process.pid}.0`;
}

let executions = 0;

/**
 * A mark for one `execute`: `<pid>.<start time>.<n>`. A long-running process (serve) may run
 * several executes over its life, or at once; each kills only its own processes at its end.
 */
export function executionMark(): string {
  return `${ownRunMark()}.${++executions}`;
}

/** Whether a process's mark belongs to `run`: the same mark, or an execute mark under it. */
export function belongsTo(mark: string, run: string): boolean {
  return mark === run || mark.startsWith(`${run}.`);
}

/** The orchestrator part of a mark (`<pid>.<start time>`), whatever execute it names. */
export function ownerOf(mark: string): string {
  return mark.split(".").slice(0, 2).join(".");
}

/** Every process that carries a run mark (other than this one). */
export function markedProcesses(): MarkedProcess[] {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  const out: MarkedProcess[] = [];
  for (const p of pids) {
    const pid = Number(p);
    if (pid === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, "latin1");
    } catch {
      continue; // gone, or not ours to read
    }
    if (!environ.includes(`${RUN_MARK}=`)) continue;
    const vars = new Map(environ.split("\0").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)] as const));
    const run = vars.get(RUN_MARK);
    if (!run) continue;
    const pair = vars.get(PAIR_MARK);
    out.push({ pid, run, ...(pair ? { pair } : {}) });
  }
  return out;
}

function kill(pids: readonly number[], signal: NodeJS.Signals): number {
  let n = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
      n++;
    } catch {
      // already gone
    }
  }
  return n;
}

/**
 * Kills the processes of a run: of an execute's mark, or of every execute under an orchestrator's
 * mark (of one pair, when given). Returns how many were signalled.
 */
export function killRun(run: string, signal: NodeJS.Signals, pair?: string): number {
  return kill(
    markedProcesses()
      .filter((p) => belongsTo(p.run, run) && (pair === undefined || p.pair === pair))
      .map((p) => p.pid),
    signal,
  );
}

/**
 * Ends what earlier runs left behind: marked processes whose orchestrator is gone (killed with
 * SIGKILL, an evicted pod). Processes of live runs, another esc-sync's included, are left alone.
 */
export function reapOrphans(): number {
  const orphans = markedProcesses().filter((p) => {
    // Only the orchestrator part counts: a live process's other executes are not orphans.
    const owner = ownerOf(p.run);
    return identity(Number(owner.split(".")[0])) !== owner;
  });
  return kill(
    orphans.map((p) => p.pid),
    "SIGKILL",
  );
}
