/**
 * `esc-sync migrate adopt`: take over entries that already exist in the targets, instead of
 * failing with "already exists" or overwriting them blindly. Each such entry is imported into its
 * pair's stack as it is (Pulumi import); the next `sync` writes ESC's values and ownership tags.
 * A dry run lists what would be adopted and which entries differ from ESC, by fingerprint.
 */
import { fingerprintKey, prepare, type CommonOptions } from "../app.js";
import { valueFingerprint } from "../drift/compare.js";
import { envFullName } from "../sources/source.js";
import { programInput, type Pair } from "../planner/plan.js";
import { renderTable } from "../reporters/table.js";
import { redacting } from "../reporters/run.js";
import { findTargetKind } from "../../programs/registry.js";
import { chooseReporter, runPrepared, type RunPolicy } from "./sync.js";

export interface AdoptOptions extends CommonOptions, RunPolicy {
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

export async function adoptCommand(opts: AdoptOptions): Promise<number> {
  const prepared = await prepare(opts);
  const key = fingerprintKey();
  const candidates: AdoptionCandidate[] = [];
  const notes: string[] = [];
  const adopt = new Map<string, Set<string>>();
  const pairs: Pair[] = [];

  const reporter = redacting(chooseReporter(opts.output), prepared.redactor);
  const write = (text: string) => process.stdout.write(prepared.redactor.text(text));
  try {
    const summary = await runPrepared(
      prepared,
      opts.dryRun ? "preview" : "sync",
      { ...opts, refresh: false },
      opts.dryRun ? () => undefined : reporter.sink,
      async (inventory) => {
        for (const pair of prepared.plan.pairs) {
          if (pair.blocked) continue;
          const kind = findTargetKind(pair.kind)!;
          if (!kind.findExisting) {
            notes.push(`${pair.stack}: ${pair.kind} cannot list what its store holds; nothing to adopt there`);
            continue;
          }
          const managed = new Set(inventory.byName.get(pair.stack)?.record?.entries ?? []);
          const found = await kind.findExisting(programInput(pair));
          const names = new Set<string>();
          for (const entry of pair.entries) {
            const actual = found.get(entry.name);
            if (!actual || managed.has(entry.name)) continue;
            names.add(entry.name);
            const expected = valueFingerprint(key, entry.value.reveal());
            const got = valueFingerprint(key, actual.reveal());
            candidates.push({ stack: pair.stack, environment: envFullName(pair.env), target: pair.targetId, entry: entry.name, differs: expected !== got, expected, actual: got });
          }
          if (names.size > 0) {
            adopt.set(pair.stack, names);
            pairs.push(pair);
          }
        }
        // A dry run stops here: it lists, it does not import.
        return { adopt: opts.dryRun ? new Map() : adopt, pairs: opts.dryRun ? [] : pairs };
      },
    );
    if (opts.dryRun) {
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
    for (const n of notes) reporter.sink({ kind: "warning", message: n, at: Date.now() });
    return summary.exitCode;
  } finally {
    if (!opts.dryRun) reporter.finish();
  }
}
