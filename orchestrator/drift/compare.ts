/**
 * Drift, computed in process from three views of each entry: what ESC holds now (the plan),
 * what esc-sync last wrote (the state's inputs), and what the store holds (the refreshed
 * outputs). Pure: no I/O, no Pulumi.
 */
import { createHmac } from "node:crypto";
import type { DriftReason, EntryReadback, PlannedEntry } from "../../programs/contract.js";

/** An entry's status. */
export type EntryStatus = "in-sync" | "pending" | "drifted" | "missing" | "unverifiable";

/** A pair's status: the worst of its entries', or a pair-level condition. */
export type DriftStatus = EntryStatus | "orphaned" | "error";

/** One entry of a drift report. Fingerprints are keyed hashes, never values. */
export interface EntryDrift {
  name: string;
  status: EntryStatus;
  /** Fingerprint of the value ESC holds now; absent when ESC no longer has the entry. */
  expected?: string;
  /** Fingerprint of the value in the store; absent when the store has none or cannot say. */
  actual?: string;
  /** Why it differs when the value alone does not say (an extra line, the layout, the mode). */
  reason?: DriftReason;
  /** A few words for people on what differs; never a value. */
  detail?: string;
}

/** Worst first: the order a pair's status is chosen in. */
const SEVERITY: readonly DriftStatus[] = ["error", "drifted", "missing", "orphaned", "pending", "unverifiable", "in-sync"];

/** A short keyed fingerprint of a value: equal values give equal fingerprints under one key. */
export function valueFingerprint(key: string | Buffer, value: string): string {
  return createHmac("sha256", key).update("entry\0").update(value).digest("hex").slice(0, 12);
}

/**
 * Compares each entry's desired value with what was last written and what the store holds.
 * `readback` undefined means the store cannot be read back (every entry unverifiable, except
 * that a pair never synced is pending); `synced` false means the pair has no stack yet.
 */
export function compareEntries(
  desired: readonly PlannedEntry[],
  readback: EntryReadback | undefined,
  synced: boolean,
  key: string | Buffer,
): EntryDrift[] {
  const fp = (v: string | undefined) => (v === undefined ? undefined : valueFingerprint(key, v));
  const want = new Map(desired.map((e) => [e.name, e.value.reveal()]));
  if (!synced) return [...want].map(([name, v]) => ({ name, status: "pending" as const, expected: fp(v)! }));
  if (!readback) return [...want].map(([name, v]) => ({ name, status: "unverifiable" as const, expected: fp(v)! }));

  const names = new Set([...want.keys(), ...readback.applied.keys()]);
  const out: EntryDrift[] = [];
  for (const name of [...names].sort()) {
    const wanted = want.get(name);
    const applied = readback.applied.get(name);
    const actual = readback.actual.get(name);
    const entry = { name, ...(wanted !== undefined ? { expected: fp(wanted) } : {}), ...(actual !== undefined ? { actual: fp(actual) } : {}) };
    let status: EntryStatus;
    if (applied === undefined) status = "pending"; // new in ESC: never written
    else if (actual === undefined) status = "missing"; // written once, gone from the store
    else if (actual !== applied) status = "drifted"; // changed outside esc-sync
    else if (wanted !== applied) status = "pending"; // ESC changed (or the key was removed)
    else status = "in-sync";
    out.push(entry.expected === undefined && entry.actual === undefined ? { name, status } : { ...entry, status });
  }
  // What the store holds besides the entries: each is rewritten by the next sync. An entry of
  // the same name (a key ESC gained, that someone also added by hand) already says so.
  for (const f of readback.findings ?? []) {
    if (names.has(f.name)) continue;
    names.add(f.name);
    out.push({
      name: f.name,
      status: f.status ?? "drifted",
      ...(f.value !== undefined ? { actual: fp(f.value) } : {}),
      ...(f.reason ? { reason: f.reason } : {}),
      ...(f.detail ? { detail: f.detail } : {}),
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The pair's status from its entries: the worst one; in sync when there are none. */
export function pairStatus(entries: readonly { status: DriftStatus }[]): DriftStatus {
  let worst: DriftStatus = "in-sync";
  for (const e of entries) if (SEVERITY.indexOf(e.status) < SEVERITY.indexOf(worst)) worst = e.status;
  return worst;
}

/** Exit code of a drift run: 1 if any pair errored, else 2 if anything is not in sync, else 0. */
export function driftExitCode(statuses: readonly DriftStatus[]): number {
  if (statuses.includes("error")) return 1;
  return statuses.every((s) => s === "in-sync") ? 0 : 2;
}
