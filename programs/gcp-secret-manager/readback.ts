/**
 * Reads a `gcp-secret-manager` pair back from its refreshed state, for `esc-sync drift`. The
 * program writes one `secretmanager.Secret` (input `secretId`: the entry's name) and one
 * `SecretVersion` (input `secret`: the secret's id, `projects/P/secrets/NAME`; same resource
 * name) per entry. What esc-sync wrote is the version's `secretData` input; what the store holds,
 * its `secretData` output. A disabled or destroyed version serves nothing: the entry is gone.
 *
 * A refresh reads the version esc-sync wrote: a newer version added outside esc-sync (which
 * `latest` then serves) is not in state, so it cannot be seen here.
 */
import type { EntryReadback, Shape, StateResource } from "../contract.js";
import { documentFindings, emptyReadback, inPlannedForm, ofType, text, urnName } from "../shared/readback.js";

export const SECRET_TYPE = "gcp:secretmanager/secret:Secret";
export const VERSION_TYPE = "gcp:secretmanager/secretVersion:SecretVersion";

export function readBack(resources: readonly StateResource[], shape: Shape): EntryReadback {
  const out = emptyReadback();
  const byId = new Map<string, StateResource>();
  const byResourceName = new Map<string, StateResource>();
  for (const secret of ofType(resources, SECRET_TYPE)) {
    const id = text(secret.outputs, "id");
    if (id !== undefined) byId.set(id, secret);
    const secretId = text(secret.inputs, "secretId");
    const project = text(secret.inputs, "project");
    if (secretId !== undefined && project !== undefined) byId.set(`projects/${project}/secrets/${secretId}`, secret);
    byResourceName.set(urnName(secret.urn), secret);
  }
  for (const version of ofType(resources, VERSION_TYPE)) {
    const ref = text(version.inputs, "secret");
    const secret = (ref !== undefined ? byId.get(ref) : undefined) ?? byResourceName.get(urnName(version.urn));
    // The secret's own id, else the last part of the version's `secret` reference.
    const name = text(secret?.inputs, "secretId") ?? ref?.split("/").pop() ?? urnName(version.urn);
    const applied = text(version.inputs, "secretData");
    if (applied === undefined) continue;
    out.applied.set(name, applied);
    const o = version.outputs;
    if (o === undefined || (secret !== undefined && secret.outputs === undefined)) continue;
    if (o.enabled === false || (typeof o.destroyTime === "string" && o.destroyTime !== "")) continue;
    const actual = text(o, "secretData");
    if (actual === undefined) continue;
    out.actual.set(name, inPlannedForm(shape, actual, applied));
    if (shape === "json") (out.findings ??= []).push(...documentFindings(name, applied, actual));
  }
  return out;
}
