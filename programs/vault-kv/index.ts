/** `vault-kv`: one HashiCorp Vault KV v2 secret per pair, entries as its fields. */
import type { TargetKind } from "../contract.js";
import { lazyProgram } from "../shared/lazy.js";
import { pluginOf } from "../shared/plugins.js";
import { vaultKvFindExisting } from "./adopt.js";
import { checkEntries, normalizeName, syncSecretSettings } from "./naming.js";
import { vaultKvReader } from "./reader.js";
import { readBack as vaultKvReadBack } from "./readback.js";
import { vaultKvSettings, type VaultKvSettings } from "./schema.js";

export const vaultKvTarget: TargetKind<VaultKvSettings> = {
  kind: "vault-kv",
  description: "HashiCorp Vault KV v2: one secret per pair at pathTemplate, one field per key (or one field with the JSON document)",
  settingsSchema: vaultKvSettings,
  templatedSettings: ["pathTemplate"],
  defaultName: { json: "json", keys: "{key}" },
  syncConventionKey: "vaultSecret",
  // What fn::open::vault-login gives (its token), as the vault CLI and provider read it.
  providerConfig: {
    settings: { address: ["vault:address", "VAULT_ADDR"], namespace: ["vault:namespace", "VAULT_NAMESPACE"] },
    credentials: { token: ["vault:token", "VAULT_TOKEN"] },
  },
  syncConventionSecret: (path, settings) => syncSecretSettings(path, settings),
  plugins: [pluginOf("@pulumi/vault")],
  normalizeName: (name) => normalizeName(name),
  check: (entries, settings) => checkEntries(entries, settings),
  location: (s) => `${s.address.replace(/\/+$/, "")}/${s.namespace !== undefined ? `${s.namespace}/` : ""}${s.mount}/${s.pathTemplate}`,
  program: lazyProgram(async () => (await import("./program.js")).vaultKvProgram),
  reader: (settings) => vaultKvReader(settings),
  findExisting: (input, signal) => vaultKvFindExisting(input, signal),
  readBack: (resources, shape) => vaultKvReadBack(resources, shape),
};
