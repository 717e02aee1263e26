/**
 * The inventory's JSON document as a zod schema: the one definition of its fields, from which
 * the TypeScript types and the committed JSON Schema (`schema/inventory.schema.json`) come, so
 * that scripts reading `inventory --format json` can check what they read.
 */
import { z } from "zod";

/** The version of the inventory's JSON document; raised when a field changes meaning or goes. */
export const INVENTORY_SCHEMA_VERSION = 1;

export const entryStatusSchema = z
  .enum(["synced", "pending", "orphaned", "refused"])
  .describe(
    "synced: on record, a sync would not rewrite it; pending: a sync would write it (new, input changed, held, moving); orphaned: on record, no longer planned; refused: its pair cannot run as configured",
  );

export const inventoryRowSchema = z.object({
  environment: z.string().describe("The environment the pair reads, org/project/name"),
  path: z.string().nullable().describe("The property path of the entry's value in that environment; null where unknown (an orphan's record holds names only)"),
  definedIn: z
    .object({ environment: z.string(), path: z.string().optional() })
    .nullable()
    .describe("Where the value is defined, through imports and plain references; null where the source cannot say"),
  derivedFrom: z.array(z.string()).describe("Every declaration the value derives from (org/project/name:path), through references, interpolation, imports and fn:: arguments; empty where the source cannot say"),
  secret: z.boolean().nullable().describe("Whether ESC marks the value (or a part of it) secret; null for an orphan"),
  target: z.string().describe("The target's id in the manifest"),
  kind: z.string().describe("The target's kind"),
  binding: z.string().describe("The binding's id (sync:<key> for an environment's own sync: block)"),
  location: z.string().describe("Where the pair writes: the kind's location (file path, account/region, vault, project, repository)"),
  entry: z.string().describe("The entry's name in the store"),
  status: entryStatusSchema,
  detail: z.string().describe("Why, for people; never a value"),
  stack: z.string().describe("The Pulumi stack holding the entry"),
  revision: z.number().int().nullable().describe("The environment's revision last written (Pulumi Cloud source); null where the source has none"),
  lastWritten: z.string().nullable().describe("When the pair's stack was last written (ISO 8601); null for an entry never written"),
  fingerprint: z.string().nullable().describe("Keyed fingerprint of the value a sync writes (equal values, equal fingerprints); null for an orphan"),
});

export const inventoryDocumentSchema = z.object({
  schemaVersion: z.literal(INVENTORY_SCHEMA_VERSION),
  generatedAt: z.string(),
  manifest: z.string().describe("The manifest file, absolute"),
  source: z.string().describe("The source of environments, e.g. local environments or pulumi-cloud acme"),
  provenance: z
    .object({ traced: z.boolean(), note: z.string() })
    .describe("Whether rows name the declarations their values derive from, and why not when they cannot"),
  secret: z.string().nullable().describe("The --secret asked, or null for the whole inventory"),
  summary: z.object({ entries: z.number().int(), synced: z.number().int(), pending: z.number().int(), orphaned: z.number().int(), refused: z.number().int() }),
  entries: z.array(inventoryRowSchema),
  warnings: z.array(z.string()),
});

/**
 * The JSON Schema of `inventory --format json`, committed as `schema/inventory.schema.json`. Read
 * as input: open to fields a later esc-sync adds within the same `schemaVersion`.
 */
export function inventoryJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(inventoryDocumentSchema, { io: "input" }),
    $id: "https://esc-sync.dev/schema/inventory.json",
    title: `esc-sync inventory (schemaVersion ${INVENTORY_SCHEMA_VERSION})`,
  };
}
