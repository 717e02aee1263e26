/**
 * `esc-sync migrate adopt`: take over entries that already exist in the targets, instead of
 * failing with "already exists" or overwriting them blindly. Each such entry is imported into its
 * pair's stack as it is (Pulumi import); the next `sync` writes ESC's values and ownership tags.
 * A dry run lists what would be adopted and which entries differ from ESC, by fingerprint.
 */
import { findTargetKind } from "../../programs/registry.js";
import { envFullName } from "../../programs/environment-ref.js";
import { StoreReadError } from "../../programs/shared/reader.js";
import { armTimeout, openSession, selectionOf, type CommandContext, type LockFlags, type SessionFlags } from "../command-context.js";
import { valueFingerprint } from "../drift/compare.js";
import { UserError } from "../errors.js";
import { programInput } from "../planner/plan.js";
import { chooseReporter } from "../reporters/choose.js";
import { renderTable } from "../reporters/table.js";
import type { Prepared } from "../session.js";
import type { StackClassification } from "../planner/stacks.js";

export interface AdoptOptions extends SessionFlags, LockFlags {
  output: "text" | "json";
  dryRun: boolean;
}

/** One entry found in a store that no stack manages yet. */
export interface AdoptionCandidate {
  stack: string;
  environment: string;
  target: string;
  entry: string;
  /** True when the store's value differs from ESC's (the next sync changes it). */
  differs: boolean;
  expected: string;
  actual: string;
}

/**
 * Reads each pair's store for planned entries that exist there but no stack manages. A store that
 * cannot be read is the user's to fix (credentials, endpoint): a {@link UserError} naming it.
 */
async function findCandidates(prepared: Prepared, inventory: StackClassification, key: string, signal: AbortSignal) {
  const candidates: AdoptionCandidate[] = [];
  const notes: string[] = [];
  const adopt = new Map<string, Set<string>>();
  for (const pair of prepared.plan.pairs) {
    if (pair.refusal) continue;
    const kind = findTargetKind(pair.kind)!;
    if (!kind.findExisting) {
      notes.push(`${pair.stack}: ${pair.kind} cannot list what its store holds; nothing to adopt there`);
      continue;
    }
    const managed = new Set(inventory.byName.get(pair.stack)?.record?.entries ?? []);
    let found;
    try {
      found = await kind.findExisting(programInput(pair), signal);
    } catch (err) {
      if (!(err instanceof StoreReadError)) throw err;
      throw new UserError(
        `cannot read target "${pair.targetId}" (${pair.location}) for ${pair.stack}: ${err.message}`,
        err.retryable ? "the store answered with a transient error: run again later" : "check the target's settings and the credentials esc-sync runs with",
      );
    }
    const names = new Set<string>();
    for (const entry of pair.entries) {
      const actual = found.get(entry.name);
      if (!actual || managed.has(entry.name)) continue;
      names.add(entry.name);
      const expected = valueFingerprint(key, entry.value.reveal());
      const got = valueFingerprint(key, actual.reveal());
      candidates.push({ stack: pair.stack, environment: envFullName(pair.env), target: pair.targetId, entry: entry.name, differs: expected !== got, expected, actual: got });
    }
    if (names.size > 0) adopt.set(pair.stack, names);
  }
  return { candidates, notes, adopt };
}

export async function adoptCommand(opts: AdoptOptions, ctx: CommandContext): Promise<number> {
  armTimeout(opts, ctx);
  const session = await openSession(opts, ctx, opts.dryRun ? "read" : "write");
  const prepared = await session.prepare(selectionOf(opts), ctx.signal);
  const inventory = await session.inventory(prepared);
  const { candidates, notes, adopt } = await findCandidates(prepared, inventory, session.fingerprintKey(), ctx.signal);
  const write = (text: string) => process.stdout.write(ctx.redactor.text(text));
  if (opts.dryRun) {
    // A dry run lists; it does not import.
    if (opts.output === "json") write(JSON.stringify({ candidates, notes }, null, 2) + "\n");
    else {
      write(
        candidates.length === 0
          ? "Nothing to adopt: no planned entry exists in its store outside esc-sync.\n"
          : renderTable(
              ["STACK", "ENTRY", "ADOPT", "DIFFERS FROM ESC", "EXPECTED", "ACTUAL"],
              candidates.map((c) => [c.stack, c.entry, "would adopt", c.differs ? "yes" : "no", c.expected, c.actual]),
            ) + "\n",
      );
      for (const n of notes) write(`note: ${n}\n`);
    }
    return 0;
  }
  const runPlan = session.decide(prepared, inventory, { operation: "adopt", dryRun: false, refresh: false, force: false, deletions: { allowAll: false, max: 0 }, adopt });
  runPlan.warnings.push(...notes);
  const reporter = chooseReporter(opts.output, ctx.redactor, process.stdout, ctx.signal);
  try {
    return (await session.execute(runPlan, { emit: reporter.sink, signal: ctx.signal, ...opts })).exitCode;
  } finally {
    reporter.finish();
  }
}
