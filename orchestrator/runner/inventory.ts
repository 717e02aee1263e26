/**
 * What the backend holds: the stacks of the esc-sync project, each with the record its last
 * successful update wrote (a stack output), so that a run can tell unchanged pairs, entries about
 * to be deleted, orphans and operations left pending by an interrupted run, with one cheap
 * `stack export` per stack (no engine, no plugins, no decryption).
 */
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import * as automation from "@pulumi/pulumi/automation/index.js";
import pLimit from "p-limit";
import picomatch from "picomatch";
import type { Pair, PairRevision, Selection } from "../planner/plan.js";
import { inShard } from "../planner/shard.js";
import { PROJECT_NAME, workspaceOptions, withWorkDir, type Backend } from "./stack.js";
import type { Toolchain } from "./toolchain.js";

const execFileAsync = promisify(execFile);
const gunzipAsync = promisify(gunzip);

/** The stack output every esc-sync program writes: who the stack belongs to, and what it wrote. */
export const RECORD_OUTPUT = "esc-sync";

/** The record of a stack's last successful update. Names and a keyed fingerprint, no values. */
export interface StackRecord {
  environment: string;
  target: string;
  binding: string;
  kind: string;
  fingerprint: string;
  entries: string[];
  /** Where the pair wrote (the kind's location): a change is a move, whose old entries are deleted. */
  location?: string;
  /** The manifest file the stack was last written from: another one is never silently taken over. */
  manifest?: string;
  /** The environment's revision the entries were written from (Pulumi Cloud source), and its pin. */
  revision?: PairRevision;
}

/** A stack of the esc-sync project found in the backend. */
export interface ExistingStack {
  name: string;
  /** Absent for a stack never updated successfully (or written by something else). */
  record?: StackRecord;
  /** Resources a kind wrote (not the stack itself, not providers). */
  resources: number;
  /** Operations an interrupted update left unfinished. */
  pendingOperations: number;
  /** When the state was last written (the deployment's checkpoint time, ISO 8601), where the export says. */
  updatedAt?: string;
  /**
   * Why the stack's state cannot be read (a truncated or hand-damaged file): its pair is refused
   * with this, the others run; it is never taken for absent (that would write over it) nor deleted.
   */
  unreadable?: string;
}

interface ExportedResource {
  type: string;
  outputs?: Record<string, unknown>;
}

/** Reads the inventory from an exported deployment (`pulumi stack export`, secrets encrypted). */
export function describeExport(name: string, exported: unknown): ExistingStack {
  const deployment = (exported as { deployment?: { resources?: ExportedResource[]; pending_operations?: unknown[]; manifest?: { time?: unknown } } }).deployment ?? {};
  const time = deployment.manifest?.time;
  const resources = deployment.resources ?? [];
  const stack = resources.find((r) => r.type === "pulumi:pulumi:Stack");
  const raw = stack?.outputs?.[RECORD_OUTPUT] as Partial<StackRecord> | undefined;
  const record =
    raw && typeof raw.environment === "string" && typeof raw.target === "string" && Array.isArray(raw.entries)
      ? {
          environment: raw.environment,
          target: raw.target,
          binding: String(raw.binding ?? ""),
          kind: String(raw.kind ?? ""),
          fingerprint: String(raw.fingerprint ?? ""),
          entries: raw.entries.map(String),
          ...(typeof raw.location === "string" ? { location: raw.location } : {}),
          ...(typeof raw.manifest === "string" ? { manifest: raw.manifest } : {}),
          ...revisionOf(raw.revision),
        }
      : undefined;
  return {
    name,
    ...(record ? { record } : {}),
    resources: resources.filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:")).length,
    pendingOperations: deployment.pending_operations?.length ?? 0,
    ...(typeof time === "string" ? { updatedAt: time } : {}),
  };
}

function revisionOf(raw: unknown): { revision?: PairRevision } {
  const r = raw as Partial<PairRevision> | undefined;
  if (typeof r?.number !== "number") return {};
  return { revision: { number: r.number, ...(typeof r.tag === "string" ? { tag: r.tag } : {}), ...(r.pinned === true ? { pinned: true } : {}) } };
}

/**
 * Lists the project's stacks and reads each one's record; `wanted` (a shard) limits which stacks
 * are read. A `file://` backend's state files are read directly, all at once (one CLI process per
 * stack was most of an unchanged run's time); any other backend, an unknown layout, or a file that
 * does not parse goes through `pulumi stack ls` / `stack export`.
 */
export async function listStacks(backend: Backend, toolchain: Toolchain, concurrency: number, wanted: (stack: string) => boolean = () => true): Promise<ExistingStack[]> {
  const files = await readFileBackend(backend, wanted);
  if (files && files.unreadable.length === 0) return files.stacks;
  return withWorkDir("inventory", async (dir) => {
    const options = workspaceOptions(backend, toolchain, dir);
    const env = { ...process.env, ...options.envVars } as Record<string, string>;
    // The workspace writes the project file naming the backend: without it, `stack export` in
    // this folder would ask Pulumi Cloud (and say PULUMI_ACCESS_TOKEN must be set).
    const ws = await automation.LocalWorkspace.create(options);
    const names = files ? files.unreadable : (await ws.listStacks()).map((s) => s.name).filter(wanted);
    const limit = pLimit(Math.max(2, concurrency));
    const exported = await Promise.all(
      names.map((name) =>
        limit(async () => {
          // Without --show-secrets: the inventory needs names only, so nothing is decrypted.
          try {
            const { stdout } = await execFileAsync(toolchain.command.command, ["stack", "export", "--stack", name], {
              cwd: dir,
              env,
              maxBuffer: 256 * 1024 * 1024,
            });
            return describeExport(name, JSON.parse(stdout));
          } catch (err) {
            // One damaged stack costs its own pair, not the run.
            const why = ((err as { stderr?: string }).stderr || (err instanceof Error ? err.message : String(err))).trim().split("\n")[0];
            return { name, resources: 0, pendingOperations: 0, unreadable: `the state of stack ${name} cannot be read (${why})` } satisfies ExistingStack;
          }
        }),
      ),
    );
    return [...(files?.stacks ?? []), ...exported];
  });
}

/**
 * The stacks of a `file://` backend read from its files: `.pulumi/stacks/<project>/<stack>.json`
 * (or `.json.gz`), each a checkpoint whose `latest` is what `stack export` prints as `deployment`.
 * Undefined where the backend is not a plain `file://` folder laid out per project (Pulumi's
 * `meta.yaml` version 1): then the CLI reads it. Files are read when the run asks, so a stack
 * another process updated meanwhile is read as it is now, exactly as an export would.
 */
export async function readFileBackend(backend: Backend, wanted: (stack: string) => boolean = () => true): Promise<{ stacks: ExistingStack[]; unreadable: string[] } | undefined> {
  if (!backend.url.startsWith("file://") || backend.url.includes("?")) return undefined;
  const root = join(fileURLToPath(backend.url), ".pulumi");
  try {
    if (!/^version:\s*1\s*$/m.test(await readFile(join(root, "meta.yaml"), "utf8"))) return undefined;
  } catch {
    return undefined;
  }
  const dir = join(root, "stacks", PROJECT_NAME);
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { stacks: [], unreadable: [] };
    return undefined;
  }
  const byName = new Map<string, string>();
  for (const file of entries) {
    const m = /^(.+)\.json(\.gz)?$/.exec(file);
    // Pulumi keeps one of the two; where both are left, the CLI knows which is current.
    if (m && wanted(m[1]!)) byName.set(m[1]!, byName.has(m[1]!) ? "" : file);
  }
  const stacks: ExistingStack[] = [];
  const unreadable: string[] = [];
  // Bounded: thousands of stacks must not open thousands of files at once (EMFILE would send
  // every one of them to the slow CLI path).
  const limit = pLimit(64);
  await Promise.all(
    [...byName].map(([name, file]) => limit(async () => {
      try {
        if (!file) throw new Error("two state files");
        const raw = await readFile(join(dir, file));
        const text = (file.endsWith(".gz") ? await gunzipAsync(raw) : raw).toString("utf8");
        const checkpoint = (JSON.parse(text) as { checkpoint?: { latest?: unknown } }).checkpoint;
        if (!checkpoint) throw new Error("not a checkpoint");
        stacks.push(describeExport(name, { deployment: checkpoint.latest ?? {} }));
      } catch {
        unreadable.push(name);
      }
    })),
  );
  return { stacks, unreadable };
}

/** What the inventory means for a run. */
export interface Inventory {
  byName: Map<string, ExistingStack>;
  /** Stacks whose environment or binding no longer exists, within the selection. */
  orphans: ExistingStack[];
  /** Empty stacks that no pair claims: left by a run interrupted before its first update. */
  leftovers: ExistingStack[];
  /** Stacks with resources but no esc-sync record: never touched. */
  unknown: ExistingStack[];
  /** Stacks of targets this manifest does not define (another manifest's, or a removed target). */
  foreign: ExistingStack[];
  /**
   * Stacks of a binding that selects no environment at all: more likely a mistyped glob than a
   * wish to delete everything it wrote, so they are left alone (with a warning), never orphans.
   */
  idle: ExistingStack[];
}

/**
 * Sorts the stacks against the plan. A stack without esc-sync's record is never deleted, and
 * neither is one whose target this manifest does not define: a backend shared by several
 * manifests must not see the others' stacks as orphans.
 */
export function classifyStacks(
  stacks: readonly ExistingStack[],
  pairs: readonly Pair[],
  sel: Selection,
  targetIds: ReadonlySet<string>,
  idleBindings: ReadonlySet<string> = new Set(),
): Inventory {
  const planned = new Set(pairs.map((p) => p.stack));
  // A shard sees only the stacks it owns: another shard's are neither orphans nor leftovers to it.
  const owned = stacks.filter((s) => inShard(s.name, sel.shard));
  const inv: Inventory = { byName: new Map(owned.map((s) => [s.name, s])), orphans: [], leftovers: [], unknown: [], foreign: [], idle: [] };
  for (const s of owned) {
    if (planned.has(s.name)) continue;
    // Unreadable: not known to be empty, so never a leftover to remove.
    if (s.unreadable) {
      inv.unknown.push(s);
      continue;
    }
    if (!s.record) {
      if (s.resources === 0 && s.pendingOperations === 0) inv.leftovers.push(s);
      else inv.unknown.push(s);
      continue;
    }
    if (!targetIds.has(s.record.target)) {
      inv.foreign.push(s);
      continue;
    }
    if (sel.targets?.length && !sel.targets.includes(s.record.target)) continue;
    const projectAndName = s.record.environment.split("/").slice(1).join("/");
    if (sel.filter?.length && !picomatch.isMatch(projectAndName, sel.filter)) continue;
    if (idleBindings.has(s.record.binding)) inv.idle.push(s);
    else inv.orphans.push(s);
  }
  return inv;
}
