/**
 * `esc-sync inventory`: where every entry esc-sync writes lives, and where its value comes from,
 * from the stacks' records and the run plan of a sync. Reads the state (no decryption), opens the
 * environments; reads no store, runs no engine, prints no value.
 */
import { writeFile } from "node:fs/promises";
import { envId } from "../../programs/environment-ref.js";
import { openSession, selectionOf, type CommandContext, type SessionFlags } from "../command-context.js";
import { UserError } from "../errors.js";
import { renderInventory, summarise, type InventoryDocument, type InventoryFormat } from "../inventory/render.js";
import { inventoryRows, parseSecretQuery, rowsDerivedFrom } from "../inventory/rows.js";
import { INVENTORY_SCHEMA_VERSION } from "../inventory/schema.js";
import { outputWidth } from "../reporters/table.js";
import { bindingId, openKey } from "../planner/plan.js";

export interface InventoryOptions extends SessionFlags {
  output: InventoryFormat;
  out?: string | undefined;
  /** `--secret ORG/PROJECT/ENV[:PATH]`: only entries derived from that declaration. */
  secret?: string | undefined;
}

const TRACED = "traced by the local evaluator through imports, references, interpolation and fn:: functions";

export async function inventoryCommand(opts: InventoryOptions, ctx: CommandContext): Promise<number> {
  // Checked before anything is read: a malformed query is the user's to fix.
  const query = opts.secret === undefined ? undefined : parseSecretQuery(opts.secret);
  if (opts.secret !== undefined && !query) {
    throw new UserError(
      `--secret ${opts.secret}: not ORG/PROJECT/ENV:PATH`,
      "name the environment in full and the property path under its values, e.g. --secret local/shared/common:db.password (or ORG/PROJECT/ENV alone for all of it)",
    );
  }
  const session = await openSession(opts, ctx, "read");
  const prepared = await session.prepare(selectionOf(opts), ctx.signal);
  const runPlan = session.decide(prepared, await session.stacks(prepared), {
    operation: "sync",
    dryRun: true,
    refresh: false,
    force: false,
    deletions: { allowAll: false, max: 0 },
  });
  const latest = new Map(prepared.environments.map((e) => [envId(e.ref), e]));
  const all = inventoryRows({
    runPlan,
    bindingPaths: new Map(session.manifest.bindings.map((b) => [bindingId(b), b.from])),
    provenanceOf: (pair) => {
      const pin = pair.revision?.pinned ? (pair.revision.tag ?? pair.revision.number) : undefined;
      return (pin === undefined ? latest.get(envId(pair.env)) : prepared.pinned.get(openKey(pair.env, pin)))?.provenance;
    },
    fingerprintKey: session.fingerprintKey(),
  });
  const entries = query ? rowsDerivedFrom(all, query) : all;
  // A source traces values or it does not (the local evaluator does; the ESC API says too little).
  const traced = prepared.environments.every((e) => e.provenance !== undefined);
  const doc: InventoryDocument = {
    schemaVersion: INVENTORY_SCHEMA_VERSION,
    generatedAt: new Date().toISOString(),
    manifest: session.manifestFile,
    source: session.source.description,
    provenance: {
      traced,
      note: traced
        ? TRACED
        : `not available from ${session.source.description}: the ESC API gives each value's defining source range, not the property path it is defined at nor what an interpolation or fn:: call read; derivedFrom is empty and --secret finds the entries that read the named environment and path directly`,
    },
    secret: opts.secret ?? null,
    summary: summarise(entries),
    entries,
    warnings: runPlan.warnings,
  };
  for (const w of runPlan.warnings) process.stderr.write(ctx.redactor.text(`warning: ${w}`) + "\n");
  if (query && entries.length === 0) {
    process.stderr.write(ctx.redactor.text(`no entry derives from ${opts.secret} (${all.length} entries checked): check the environment's full name and the path under its values`) + "\n");
  }
  const text = ctx.redactor.text(renderInventory[opts.output](doc, opts.out ? undefined : outputWidth()));
  if (opts.out) {
    await writeFile(opts.out, text, { mode: 0o600 });
    process.stderr.write(`inventory (${opts.output}) written to ${opts.out}\n`);
  } else process.stdout.write(text);
  return 0;
}
