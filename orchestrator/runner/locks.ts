/**
 * Stack locks. A run killed hard (SIGKILL, an evicted pod) leaves its lock behind; the next run
 * must tell such a stale lock from the lock of a run still going, and clear only the former.
 */
import { hostname } from "node:os";

/** One lock, as the Pulumi CLI describes it in a "stack is currently locked" error (read by failures.ts). */
export interface LockInfo {
  user: string;
  host: string;
  pid: number;
  createdAt: Date;
}


/** True when a process of that pid runs on this machine. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface StaleLockPolicy {
  /** Locks from other hosts older than this are stale (a pair's update takes seconds). */
  maxAgeMs: number;
  now?: () => number;
  host?: string;
  alive?: (pid: number) => boolean;
}

/**
 * Why a lock is stale, or undefined when it may belong to a live run: its process is gone from
 * this host, or (from another host, where that cannot be checked) it is older than the policy's age.
 */
export function staleReason(lock: LockInfo, policy: StaleLockPolicy): string | undefined {
  const here = policy.host ?? hostname();
  const alive = policy.alive ?? processAlive;
  const now = (policy.now ?? Date.now)();
  if (lock.host === here) return alive(lock.pid) ? undefined : `its process, pid ${lock.pid} on ${lock.host}, is gone`;
  const age = now - lock.createdAt.getTime();
  if (policy.maxAgeMs > 0 && age > policy.maxAgeMs) return `taken ${Math.round(age / 60_000)} min ago on host ${lock.host}, more than --stale-lock-minutes ${Math.round(policy.maxAgeMs / 60_000)}`;
  return undefined;
}
