/**
 * Reads a `vault-kv` pair back from its refreshed state, for `esc-sync drift`. The program writes
 * one KV v2 `SecretV2` per pair whose fields are the entries: the `dataJson` input is what
 * esc-sync wrote, the `dataJson` output what the secret's latest version holds. A `keys` field
 * holds the key's text; the `json` shape's field holds the document as nested JSON, read back as
 * its compact JSON text. Vault returns objects with their keys sorted: a document equal to the
 * one written reads back as the text written. A field esc-sync did not write is an `extra` finding:
 * the next sync writes the secret's data without it.
 */
import type { EntryReadback, Shape, StateResource } from "../contract.js";
import { documentFindings, emptyReadback, inPlannedForm, parseJson, text, valueText } from "../shared/readback.js";

export const SECRET_TYPE = "vault:kv/secretV2:SecretV2";

export function readBack(resources: readonly StateResource[], shape: Shape): EntryReadback {
  const out = emptyReadback();
  for (const secret of resources.filter((r) => r.type === SECRET_TYPE)) {
    const applied = fields(text(secret.inputs, "dataJson"), shape);
    for (const [name, value] of applied) out.applied.set(name, value);
    // Gone, or its latest version deleted (no data): every field is gone.
    const actual = fields(text(secret.outputs, "dataJson"), shape);
    const findings = (out.findings ??= []);
    for (const [name, value] of actual) {
      const wrote = applied.get(name);
      // A field esc-sync did not write: the next sync writes the secret's data without it.
      if (wrote === undefined) findings.push({ name, reason: "extra", value });
      // A nested object (a sync: item's field) reads back in the key order it was written in.
      else out.actual.set(name, inPlannedForm(shape === "json" || isDocument(value) ? "json" : shape, value, wrote));
      if (wrote !== undefined && shape === "json") findings.push(...documentFindings(name, wrote, value));
    }
  }
  return out;
}

/** True when a field's text is the JSON of an object or array. */
function isDocument(text: string): boolean {
  const doc = parseJson(text)?.value;
  return doc !== null && typeof doc === "object";
}

/**
 * Field name → the field's text: with the `json` shape the document's compact JSON text (a
 * string document included), with `keys` strings as they are and anything else as compact JSON.
 */
function fields(dataJson: string | undefined, shape: Shape): Map<string, string> {
  const data = dataJson === undefined ? undefined : parseJson(dataJson)?.value;
  if (data === null || typeof data !== "object" || Array.isArray(data)) return new Map();
  const asText = shape === "json" ? (value: unknown) => JSON.stringify(value) : valueText;
  return new Map(Object.entries(data).map(([name, value]) => [name, asText(value)]));
}
