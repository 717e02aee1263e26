/**
 * Reads an `aws-parameter-store` pair back from its refreshed state, for `esc-sync drift`. The
 * program writes one SecureString `ssm.Parameter` per entry, its input `name` the entry's name.
 * What esc-sync wrote is the `value` input; what the store holds, the `value` output (a refresh
 * reads the parameter's current, decrypted value).
 */
import type { EntryReadback, Shape, StateResource } from "../contract.js";
import { emptyReadback, inPlannedForm, ofType, text, urnName } from "../shared/readback.js";

export const PARAMETER_TYPE = "aws:ssm/parameter:Parameter";

export function readBack(resources: readonly StateResource[], shape: Shape): EntryReadback {
  const out = emptyReadback();
  for (const parameter of ofType(resources, PARAMETER_TYPE)) {
    const name = text(parameter.inputs, "name") ?? urnName(parameter.urn);
    const applied = text(parameter.inputs, "value");
    if (applied === undefined) continue;
    out.applied.set(name, applied);
    const actual = text(parameter.outputs, "value");
    if (actual !== undefined) out.actual.set(name, inPlannedForm(shape, actual, applied));
  }
  return out;
}
