/**
 * Provider configuration from the environment: a pair whose target or binding says
 * `providerConfigFrom: environment` (and every `sync:` block pair, unless its target says
 * `manifest`) reads its provider settings from the environment's `pulumiConfig` and its
 * credentials from its `environmentVariables`, as a Pulumi stack with the environment attached
 * does. Which keys a kind reads is the kind's own declaration (`TargetKind.providerConfig`);
 * this file never names a kind. Pure.
 *
 * Precedence: a setting written in the manifest wins over the environment (as a stack's own
 * config wins over its attached environment); a binding's `credentials:` path wins over the
 * environment's variables; without either, the provider finds credentials in esc-sync's process.
 */
import type { z } from "zod";
import type { TargetKind } from "../../programs/contract.js";
import { SecretValue } from "../../programs/secret-value.js";
import type { ResolvedEnvironment } from "../sources/source.js";
import { containsSecret, containsUnknown, type ValueNode } from "../values.js";

/** Where one provider setting or credential of a pair came from: shown by `plan`, never a value. */
export interface ProviderConfigReport {
  /** Setting → `manifest`, `pulumiConfig aws:region`, `environmentVariables AWS_REGION`... */
  settings: Record<string, string>;
  /**
   * Where the credentials come from: the sources used (`environmentVariables AWS_ACCESS_KEY_ID`),
   * `binding credentials: <path>`, or `esc-sync's process` (the provider's usual chain).
   */
  credentials: string[];
}

/** What {@link providerConfig} gives a pair. */
export type ProviderConfigResult =
  | { settings: Record<string, unknown>; report?: ProviderConfigReport; credentials?: Record<string, SecretValue> }
  | { problem: string };

/**
 * The provider settings a target leaves to each environment and does not have yet (required by
 * the kind, absent from `settings`): until an environment gives them there is no location to show.
 */
export function missingSettings(kind: TargetKind<any>, settings: Record<string, unknown>): string[] {
  const shape = (kind.settingsSchema as unknown as { shape?: Record<string, z.ZodType> }).shape ?? {};
  return Object.keys(kind.providerConfig?.settings ?? {}).filter((k) => settings[k] === undefined && shape[k] !== undefined && !shape[k]!.safeParse(undefined).success);
}

/** Where a pair writes, or which settings its environment has to give first. */
export function locationOf(kind: TargetKind<any>, settings: Record<string, unknown>): string {
  const missing = missingSettings(kind, settings);
  return missing.length ? `(${missing.join(", ")} from the environment)` : kind.location(settings);
}

/** The label of a source: `pulumiConfig aws:region` or `environmentVariables AWS_REGION`. */
export function sourceLabel(source: string): string {
  return source.includes(":") ? `pulumiConfig ${source}` : `environmentVariables ${source}`;
}

function lookup(env: ResolvedEnvironment, source: string): ValueNode | undefined {
  const bag = env.properties[source.includes(":") ? "pulumiConfig" : "environmentVariables"]?.value;
  if (bag === null || bag === undefined || typeof bag !== "object" || Array.isArray(bag)) return undefined;
  const node = Object.hasOwn(bag, source) ? (bag as Record<string, ValueNode>)[source] : undefined;
  return node === undefined || node.value === null || node.value === undefined ? undefined : node;
}

/**
 * The pair's provider settings (the manifest's, with what the environment fills in), where each
 * came from, and the credentials the environment gives. `useEnvironment` false: the manifest's
 * settings, still checked when the target left a required one out.
 *
 * @param settings the target's settings as the manifest holds them (without `kind`)
 * @param explicitCredentials the binding's `credentials:` path, which wins over the environment
 */
export function providerConfig(
  kind: TargetKind<any>,
  targetId: string,
  settings: Record<string, unknown>,
  env: ResolvedEnvironment,
  useEnvironment: boolean,
  explicitCredentials?: string,
): ProviderConfigResult {
  const sources = kind.providerConfig;
  if (!sources) return { settings };
  const merged: Record<string, unknown> = { ...settings };
  const report: ProviderConfigReport = { settings: {}, credentials: [] };
  const where = `environment ${env.ref.org}/${env.ref.project}/${env.ref.name}`;
  let fromEnvironment = false;
  const settingSources = Object.entries(sources.settings as Record<string, readonly string[]>);
  if (useEnvironment) {
    for (const [setting, list] of settingSources) {
      const found = list.map((src) => [src, lookup(env, src)] as const).find(([, node]) => node !== undefined);
      if (merged[setting] !== undefined) {
        // The manifest wins; the plan says what it wins over.
        report.settings[setting] = found ? `manifest (over ${sourceLabel(found[0])})` : "manifest";
        continue;
      }
      if (!found) continue;
      const [src, node] = found;
      if (containsUnknown(node!)) return { problem: `${sourceLabel(src)} of ${where} could not be computed (provider setting ${setting})` };
      // Settings are shown in plans, locations and stack records: a secret has no place there.
      if (containsSecret(node!)) {
        return { problem: `${sourceLabel(src)} of ${where} is secret, but it sets ${setting}, which plans and reports show: make it a plain value, or set ${setting} in the manifest` };
      }
      if (typeof node!.value === "object") return { problem: `${sourceLabel(src)} of ${where} must be a string (provider setting ${setting})` };
      merged[setting] = String(node!.value);
      report.settings[setting] = sourceLabel(src);
      fromEnvironment = true;
    }
  }
  let credentials: Record<string, SecretValue> | undefined;
  if (explicitCredentials !== undefined) report.credentials.push(`binding credentials: ${explicitCredentials}`);
  else if (useEnvironment) {
    for (const [field, list] of Object.entries(sources.credentials)) {
      for (const src of list) {
        const node = lookup(env, src);
        if (node === undefined) continue;
        if (containsUnknown(node)) return { problem: `${sourceLabel(src)} of ${where} could not be computed (provider credentials)` };
        if (typeof node.value === "object") return { problem: `${sourceLabel(src)} of ${where} must be a string (provider credentials)` };
        (credentials ??= {})[field] = new SecretValue(String(node.value));
        report.credentials.push(sourceLabel(src));
        break;
      }
    }
  }
  if (credentials && sources.requiredCredentials) {
    const have = new Set(Object.keys(credentials));
    const missing = sources.requiredCredentials.filter((alternatives) => !alternatives.some((f) => have.has(f)));
    if (missing.length) {
      const wanted = missing.map((alts) => alts.flatMap((f) => (sources.credentials[f] ?? []).map(sourceLabel)).join(" or ")).join("; ");
      return {
        problem: `${where} gives ${report.credentials.join(", ")} but not the rest of the provider's credentials: ${wanted}. Give them too, or none, so that esc-sync's own process provides the credentials`,
      };
    }
  }
  if (report.credentials.length === 0) report.credentials.push("esc-sync's process (the provider's usual credential chain)");

  const missing = settingSources.some(([setting]) => merged[setting] === undefined);
  let checked = merged;
  if (fromEnvironment || missing) {
    const parsed = (kind.settingsSchema as z.ZodType<Record<string, unknown>>).safeParse(merged);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => {
        const setting = String(issue.path[0] ?? "");
        const list = (sources.settings as Record<string, readonly string[] | undefined>)[setting];
        if (merged[setting] === undefined && list) {
          const how = useEnvironment ? `, or give the environment ${list.map(sourceLabel).join(" or ")}` : `, or add providerConfigFrom: environment and give the environment ${list.map(sourceLabel).join(" or ")}`;
          return `target "${targetId}" has no ${setting} for ${where}: set ${setting} in the manifest${how}`;
        }
        const from = report.settings[setting] && report.settings[setting] !== "manifest" ? ` (from ${report.settings[setting]} of ${where})` : "";
        return `target "${targetId}" ${setting}${from}: ${issue.message}`;
      });
      return { problem: problems.join("; ") };
    }
    checked = parsed.data;
  }
  return { settings: checked, ...(useEnvironment ? { report } : {}), ...(credentials ? { credentials } : {}) };
}
