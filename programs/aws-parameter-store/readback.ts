/**
 * Reads an `aws-parameter-store` pair back from its refreshed state, for `esc-sync drift`. The
 * program writes one SecureString `ssm.Parameter` per entry, its input `name` the entry's name.
 * What esc-sync wrote is the `value` input; what the store holds, the `value` output (a refresh
 * reads the parameter's current, decrypted value). With the `json` shape, the top-level keys of a
 * document that differs are named too (`/path#/key`).
 */
import type { EntryReadback, Shape, StateResource } from "../contract.js";
import { documentFindings, emptyReadback, ofType, text, urnName } from "../shared/readback.js";

export const PARAMETER_TYPE = "aws:ssm/parameter:Parameter";

export function readBack(resources: readonly StateResource[], shape: Shape): EntryReadback {
  const out = emptyReadback();
  for (const parameter of ofType(resources, PARAMETER_TYPE)) {
    const name = text(parameter.inputs, "name") ?? urnName(parameter.urn);
    const applied = text(parameter.inputs, "value");
    if (applied === undefined) continue;
    out.applied.set(name, applied);
    const actual = text(parameter.outputs, "value");
    if (actual === undefined) continue;
    // Compared as text: a parameter holds the string it was given, and the provider rewrites any
    // other string, the same document in another layout included.
    out.actual.set(name, actual);
    if (shape === "json") (out.findings ??= []).push(...documentFindings(name, applied, actual));
  }
  return out;
}
