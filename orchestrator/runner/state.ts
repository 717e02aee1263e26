/**
 * Reading a stack's exported state: its resources, with secrets decrypted (the export is taken
 * with `--show-secrets` and stays in memory; nothing of it is printed).
 */
import type * as automation from "@pulumi/pulumi/automation/index.js";
import type { StateResource } from "../../programs/contract.js";

/** Pulumi's marker of a secret value in state: `{ [SIG]: SECRET_SIG, plaintext | ciphertext }`. */
const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Replaces Pulumi's secret envelopes by the values they hold. */
export function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value === null || typeof value !== "object") return value;
  const obj = value as Record<string, unknown>;
  if (obj[SIG] === SECRET_SIG) {
    return typeof obj.plaintext === "string" ? unwrapSecrets(JSON.parse(obj.plaintext)) : undefined;
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, unwrapSecrets(v)]));
}

/** The resources of a deployment that a kind wrote: not the stack itself, not providers. */
export function stateResources(state: automation.Deployment): StateResource[] {
  const resources = ((state.deployment as { resources?: unknown[] } | undefined)?.resources ?? []) as {
    urn: string;
    type: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
  }[];
  return resources
    .filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:"))
    .map((r) => ({
      urn: r.urn,
      type: r.type,
      inputs: (unwrapSecrets(r.inputs ?? {}) as Record<string, unknown>) ?? {},
      outputs: unwrapSecrets(r.outputs ?? {}) as Record<string, unknown>,
    }));
}

/**
 * What a kind's read-back compares, from the state before and after a refresh: each resource's
 * inputs as esc-sync last wrote them (before), its outputs as the store holds them now (after);
 * a resource the refresh found gone keeps its inputs, without outputs. The inputs are taken from
 * before because a refresh may rewrite them too: the Terraform bridge derives a refreshed
 * resource's inputs from what it read (found with the real AWS provider: an SSM parameter
 * overwritten outside esc-sync read back as written that way by esc-sync, so `drift` called it
 * `pending` rather than `drifted`).
 */
export function refreshedResources(before: readonly StateResource[], after: readonly StateResource[]): StateResource[] {
  const wrote = new Map(before.map((r) => [r.urn, r]));
  const present = after.map((r) => ({ ...r, inputs: wrote.get(r.urn)?.inputs ?? r.inputs }));
  const gone = before.filter((r) => !after.some((a) => a.urn === r.urn)).map((r) => ({ ...r, outputs: undefined }));
  return [...present, ...gone];
}
