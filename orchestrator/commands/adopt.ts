/**
 * `esc-sync migrate adopt`: take over entries that already exist in the targets, instead of
 * failing with "already exists" or overwriting them blindly. Each such entry is imported into its
 * pair's stack as it is (Pulumi import); the next `sync` writes ESC's values and ownership tags.
 * A dry run lists what would be adopted and which entries differ from ESC, by fingerprint.
 */
import { armTimeout, openSession, selectionOf, type CommandContext, type LockFlags, type SessionFlags, lockOptionsOf } from "../command-context.js";
import { chooseReporter } from "../reporters/choose.js";
import { renderTable } from "../reporters/table.js";

export interface AdoptOptions extends SessionFlags, LockFlags {
  output: "text" | "json";
  dryRun: boolean;
}

export async function adoptCommand(opts: AdoptOptions, ctx: CommandContext): Promise<number> {
  armTimeout(opts, ctx);
  const session = await openSession(opts, ctx, opts.dryRun ? "read" : "write");
  const prepared = await session.prepare(selectionOf(opts), ctx.signal);
  const stacks = await session.stacks(prepared);
  const { candidates, notes, adopt } = await session.adoptions(prepared, stacks, ctx.signal);
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
  const runPlan = session.decide(prepared, stacks, { operation: "adopt", dryRun: false, refresh: false, force: false, deletions: { allowAll: false, max: 0 }, adopt });
  runPlan.warnings.push(...notes);
  const reporter = chooseReporter(opts.output, ctx.redactor, process.stdout, ctx.signal);
  try {
    return (await session.execute(runPlan, { emit: reporter.sink, signal: ctx.signal, ...lockOptionsOf(opts) })).exitCode;
  } finally {
    reporter.finish();
  }
}
