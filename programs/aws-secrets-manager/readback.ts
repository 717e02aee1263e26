/**
 * Reads an `aws-secrets-manager` pair back from its refreshed state, for `esc-sync drift`. The
 * program writes one `Secret` (input `name`: the entry's name) and one `SecretVersion` (input
 * `secretId`: the secret's ARN; same resource name) per entry. What esc-sync wrote is the
 * version's `secretString` input; what the store holds, its `secretString` output.
 *
 * A refresh reads the version esc-sync wrote, by its version id: a value put into the secret
 * outside esc-sync makes a new version and takes the `AWSCURRENT` label off ours, whose own value
 * is unchanged. Such an entry reads back as a value that matches nothing: it is drifted, but what
 * the store serves now is not in state. (The program declares `versionStages: [AWSCURRENT]`, so
 * the next sync moves the label back.)
 */
import type { EntryReadback, Shape, StateResource } from "../contract.js";
import { documentFindings, emptyReadback, inPlannedForm, ofType, text, urnName } from "../shared/readback.js";

export const SECRET_TYPE = "aws:secretsmanager/secret:Secret";
export const VERSION_TYPE = "aws:secretsmanager/secretVersion:SecretVersion";

/** Stands for "the store serves another version": never equal to a value esc-sync wrote. */
export const NOT_CURRENT = "\u0000esc-sync: the secret's current version is not the one esc-sync wrote";

export function readBack(resources: readonly StateResource[], shape: Shape): EntryReadback {
  const out = emptyReadback();
  const secrets = ofType(resources, SECRET_TYPE);
  const byArn = new Map<string, StateResource>();
  const byResourceName = new Map<string, StateResource>();
  for (const secret of secrets) {
    for (const ref of [text(secret.outputs, "arn"), text(secret.outputs, "id")]) if (ref !== undefined) byArn.set(ref, secret);
    byResourceName.set(urnName(secret.urn), secret);
  }
  for (const version of ofType(resources, VERSION_TYPE)) {
    const secretId = text(version.inputs, "secretId");
    const secret = (secretId !== undefined ? byArn.get(secretId) : undefined) ?? byResourceName.get(urnName(version.urn));
    const name = text(secret?.inputs, "name") ?? urnName(version.urn);
    const applied = text(version.inputs, "secretString");
    if (applied === undefined) continue;
    out.applied.set(name, applied);
    // Gone: the secret deleted (or scheduled for deletion), or this version removed.
    if (version.outputs === undefined || (secret !== undefined && secret.outputs === undefined)) continue;
    const stages = version.outputs.versionStages;
    if (Array.isArray(stages) && !stages.includes("AWSCURRENT")) {
      out.actual.set(name, NOT_CURRENT);
      continue;
    }
    const actual = text(version.outputs, "secretString");
    if (actual === undefined) continue;
    out.actual.set(name, inPlannedForm(shape, actual, applied));
    if (shape === "json") (out.findings ??= []).push(...documentFindings(name, applied, actual));
  }
  return out;
}
