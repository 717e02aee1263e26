import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderInventory, summarise, type InventoryDocument, type InventoryFormat } from "../../../../orchestrator/inventory/render.js";
import { inventoryRows, parseSecretQuery, rowsDerivedFrom, type InventoryRow } from "../../../../orchestrator/inventory/rows.js";
import { INVENTORY_SCHEMA_VERSION, inventoryDocumentSchema, inventoryJsonSchema } from "../../../../orchestrator/inventory/schema.js";
import { workOf, type PlannedStep, type RunPlan } from "../../../../orchestrator/planner/decide.js";
import type { ExistingStack, StackRecord } from "../../../../orchestrator/planner/stacks.js";
import type { Provenance } from "../../../../orchestrator/values.js";
import { filePair } from "../../../support/pairs.js";

const CANARY = "canary-inventory-7be21d";

const record = (name: string, entries: string[], extra: Partial<StackRecord> = {}): StackRecord => ({
  environment: `o/app/${name}`,
  target: "out",
  binding: "out",
  kind: "file",
  fingerprint: `fp-${name}`,
  entries,
  location: `/out/${name}.env`,
  ...extra,
});
const existing = (name: string, entries: string[], extra: Partial<StackRecord> = {}): ExistingStack => ({
  name: `app.${name}.out`,
  record: record(name, entries, extra),
  resources: 1,
  pendingOperations: 0,
  updatedAt: "2026-11-30T12:00:00Z",
});

/** `A` reads `shared` through an import; `B` interpolates it. */
const provenance: Provenance = {
  "environmentVariables.A": { definedIn: { environment: "o/lib/shared", path: "token" }, derivedFrom: ["o/app/x:environmentVariables.A", "o/lib/shared:token"] },
  "environmentVariables.B": { definedIn: { environment: "o/app/x", path: "environmentVariables.B" }, derivedFrom: ["o/app/x:environmentVariables.B", "o/lib/shared:token.part"] },
};

/** A dry run's plan of these decisions, each step's work as `decide` gives it. */
function plan(steps: Omit<PlannedStep, "does">[]): RunPlan {
  const planned = steps.map((s) => ({ ...s, does: workOf(s, "preview", { refresh: false }) }));
  return { operation: "sync", engineOperation: "preview", dryRun: true, refresh: false, steps: planned, leftovers: [], warnings: [] };
}

/** `traced: false`: a source that gives no provenance. */
function rowsOf(steps: Omit<PlannedStep, "does">[], traced = true): InventoryRow[] {
  return inventoryRows({ runPlan: plan(steps), bindingPaths: new Map([["out", "environmentVariables"]]), provenanceOf: () => (traced ? provenance : undefined), fingerprintKey: "k" });
}

const valueFor = () => CANARY;

describe("inventory rows", () => {
  it("lists every planned entry with its path, provenance, location and status; never its value", () => {
    const synced = filePair("synced", { valueFor });
    const rows = rowsOf([{ stack: synced.stack, pair: synced, decision: { action: "skip-unchanged" }, existing: existing("synced", ["A", "B"]) }]);
    expect(rows.map((r) => [r.entry, r.path, r.status, r.lastWritten, r.location])).toEqual([
      ["A", "environmentVariables.A", "synced", "2026-11-30T12:00:00Z", "/out/synced.env"],
      ["B", "environmentVariables.B", "synced", "2026-11-30T12:00:00Z", "/out/synced.env"],
    ]);
    expect(rows[0]!.definedIn).toEqual({ environment: "o/lib/shared", path: "token" });
    expect(rows[0]!.secret).toBe(true);
    // Equal values, equal keyed fingerprints; the value itself appears nowhere.
    expect(rows[0]!.fingerprint).toBe(rows[1]!.fingerprint);
    expect(rows[0]!.fingerprint).toMatch(/^[0-9a-f]{12}$/);
    expect(JSON.stringify(rows)).not.toContain(CANARY);
  });

  it("marks entries a sync would write pending, and entries on record but no longer planned orphaned", () => {
    const changed = filePair("changed", { entryNames: ["A", "NEW"] });
    const fresh = filePair("fresh");
    const rows = rowsOf([
      { stack: changed.stack, pair: changed, decision: { action: "run", why: "input-changed", deletes: ["GONE"] }, existing: existing("changed", ["A", "GONE"]) },
      { stack: fresh.stack, pair: fresh, decision: { action: "run", why: "new", deletes: [] } },
      { stack: "app.removed.out", decision: { action: "destroy-orphan", entries: ["OLD"] }, existing: existing("removed", ["OLD"]) },
    ]);
    const byKey = new Map(rows.map((r) => [`${r.environment} ${r.entry}`, r]));
    expect(byKey.get("o/app/changed A")).toMatchObject({ status: "pending", detail: "input changed", lastWritten: "2026-11-30T12:00:00Z" });
    expect(byKey.get("o/app/changed NEW")).toMatchObject({ status: "pending", detail: "new", lastWritten: null });
    expect(byKey.get("o/app/changed GONE")).toMatchObject({ status: "orphaned", path: null, secret: null, fingerprint: null });
    expect(byKey.get("o/app/fresh A")).toMatchObject({ status: "pending", lastWritten: null });
    expect(byKey.get("o/app/removed OLD")).toMatchObject({ status: "orphaned", target: "out", location: "/out/removed.env", stack: "app.removed.out" });
  });

  it("marks a refused pair's entries refused", () => {
    const refused = filePair("bad");
    const rows = rowsOf([{ stack: refused.stack, pair: refused, decision: { action: "refuse", message: "m", hint: "h" }, existing: existing("bad", ["A"]) }]);
    expect(rows.map((r) => r.status)).toEqual(["refused", "refused"]);
  });

  it("--secret finds the entries derived from a declaration, through imports and interpolation", () => {
    const a = filePair("x");
    const rows = rowsOf([{ stack: a.stack, pair: a, decision: { action: "skip-unchanged" }, existing: existing("x", ["A", "B"]) }]);
    const find = (q: string) => rowsDerivedFrom(rows, parseSecretQuery(q)!).map((r) => r.entry);
    expect(find("o/lib/shared:token")).toEqual(["A", "B"]); // B reads token.part: below the declaration asked
    expect(find("o/lib/shared:token.part")).toEqual(["B"]);
    expect(find("o/lib/shared")).toEqual(["A", "B"]);
    expect(find("o/app/x:environmentVariables.A")).toEqual(["A"]);
    expect(find("o/lib/shared:tok")).toEqual([]); // a path prefix is not a parent
    expect(find("o/lib/other:token")).toEqual([]);
  });

  it("without provenance (a source that cannot trace), --secret matches the entries that read the path directly", () => {
    const a = filePair("x");
    const rows = rowsOf([{ stack: a.stack, pair: a, decision: { action: "skip-unchanged" }, existing: existing("x", ["A", "B"]) }], false);
    expect(rows[0]!.derivedFrom).toEqual([]);
    expect(rows[0]!.definedIn).toBeNull();
    expect(rowsDerivedFrom(rows, parseSecretQuery("o/app/x:environmentVariables.B")!).map((r) => r.entry)).toEqual(["B"]);
  });

  it("an environment's own sync: block is read at sync.<key>, with the provenance below it", () => {
    const own = filePair("x", { bindingId: "sync:awsSecretsManager", shape: "json", entryNames: ["prod/db"] });
    const rows = inventoryRows({
      runPlan: plan([{ stack: own.stack, pair: own, decision: { action: "run", why: "new", deletes: [] } }]),
      bindingPaths: new Map([["out", "environmentVariables"]]),
      provenanceOf: () => ({ "sync.awsSecretsManager.value": { derivedFrom: ["o/lib/shared:token"] } }),
      fingerprintKey: "k",
    });
    expect(rows.map((r) => [r.path, r.derivedFrom])).toEqual([["sync.awsSecretsManager", ["o/lib/shared:token"]]]);
  });

  it("parses --secret strictly", () => {
    expect(parseSecretQuery("local/shared/common:db.password")).toEqual({ environment: "local/shared/common", path: "db.password" });
    expect(parseSecretQuery("local/shared/common")).toEqual({ environment: "local/shared/common", path: "" });
    for (const bad of ["shared/common:db", "db.password", "a/b/c:.x", "a/b/c:x.", "a b/c/d:x"]) expect(parseSecretQuery(bad)).toBeUndefined();
  });
});

describe("inventory outputs", () => {
  const a = filePair("x", { valueFor, entryNames: ["A", "=cmd|' /C calc'!A0"] });
  const entries = rowsOf([{ stack: a.stack, pair: a, decision: { action: "skip-unchanged" }, existing: existing("x", ["A"]) }]);
  const doc: InventoryDocument = {
    schemaVersion: INVENTORY_SCHEMA_VERSION,
    generatedAt: "2026-11-30T12:00:00Z",
    manifest: "/m/environments.yaml",
    source: "local environments",
    provenance: { traced: true, note: "traced" },
    secret: null,
    summary: summarise(entries),
    entries,
    warnings: [],
  };

  it.each(["table", "json", "csv", "markdown"] as InventoryFormat[])("%s holds names and fingerprints, never a value", (format) => {
    const text = renderInventory[format](doc);
    expect(text).not.toContain(CANARY);
    expect(text).toContain("environmentVariables.A");
    expect(text).toContain(entries[0]!.fingerprint!);
  });

  it("JSON carries its schema version and the summary, and reads back through its schema", () => {
    const parsed = inventoryDocumentSchema.parse(JSON.parse(renderInventory.json(doc)));
    expect(parsed.schemaVersion).toBe(1);
    expect(parsed.summary).toEqual({ entries: 2, synced: 1, pending: 1, orphaned: 0, refused: 0 });
  });

  it("CSV quotes fields and defuses a name a spreadsheet would run as a formula", () => {
    const lines = renderInventory.csv(doc).trimEnd().split("\r\n");
    expect(lines[0]!.split(",").slice(0, 3)).toEqual(["environment", "path", "secret"]);
    const formulaRow = lines.find((l) => l.includes("calc"))!;
    expect(formulaRow).toContain(`'=cmd|' /C calc'!A0`);
    expect(formulaRow).not.toMatch(/,=cmd/);
  });

  it("Markdown escapes pipes in cells so that a name cannot break the table", () => {
    const row = renderInventory.markdown(doc).split("\n").find((l) => l.includes("calc"))!;
    expect(row).toContain("=cmd\\|' /C calc'!A0");
  });
});

describe("the inventory's JSON Schema", () => {
  it("is committed as schema/inventory.schema.json, generated from the zod schema", () => {
    const committed = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "..", "..", "schema", "inventory.schema.json"), "utf8"));
    expect(committed, "schema/inventory.schema.json is stale: run `npm run schema`").toEqual(inventoryJsonSchema());
    expect(JSON.stringify(committed)).toContain('"orphaned"');
  });

  it("refuses a document of another version", () => {
    expect(inventoryDocumentSchema.safeParse({ schemaVersion: 2 }).success).toBe(false);
  });
});
