/**
 * The Pulumi program of a `vault-kv` pair: an explicit vault provider for the address and
 * namespace, then one KV version 2 secret at `pathTemplate` whose fields are the entries.
 *
 * - `keys` shape: one field per key, holding the key's text (`vault kv get -field=DB_PASSWORD`).
 * - `json` shape: one field (named by the naming template, `json` by default) holding the
 *   document as nested JSON, so Vault shows its structure and templates can walk it.
 *
 * When any of its fields is being adopted (`migrate adopt`), the existing secret is imported by
 * `<mount>/data/<path>`; the next sync writes ESC's fields.
 */
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import type { PulumiFn } from "@pulumi/pulumi/automation/index.js";
import type { PlannedEntry, ProgramInput, Shape } from "../contract.js";
import { credentialsFor } from "../shared/credentials.js";
import { describeEntry, ownershipTags } from "../shared/ownership.js";
import { storeOptions } from "../shared/store-inputs.js";
import { SECRET_IGNORED, secretImportId } from "./adopt.js";
import { normalizeName } from "./naming.js";
import { MAX_METADATA_VALUE, type VaultKvSettings } from "./schema.js";

export function vaultKvProgram(input: ProgramInput<VaultKvSettings>): PulumiFn {
  return async () => {
    const s = input.settings;
    if (input.entries.length === 0) return { names: [] };
    // The token comes from the environment (binding credentials:, as a secret) or else from
    // VAULT_TOKEN (or ~/.vault-token), read by the provider plugin itself, so that no token
    // reaches state. The login output's address and namespace are not used: the settings name them.
    const creds = credentialsFor(input.credentials, {
      target: "vault-kv",
      fields: ["token"],
      ignored: ["address", "namespace"],
      expected: "token",
      source: "the output of fn::open::vault-login",
    });
    const provider = new vault.Provider("vault", {
      address: s.address,
      ...(s.namespace !== undefined ? { namespace: s.namespace } : {}),
      ...(creds ? { token: creds.required("token") } : {}),
    });
    const path = s.pathTemplate;
    const adopting = input.entries.some((e) => input.adopt?.has(e.name));
    new vault.kv.SecretV2(
      path,
      {
        mount: s.mount,
        name: path,
        dataJson: secretData(input.entries, input.shape),
        ...(s.customMetadata
          ? { customMetadata: { data: { ...ownershipTags(input), description: describeEntry(input, {}, MAX_METADATA_VALUE) } } }
          : {}),
      },
      storeOptions(provider, input.retainOnDelete, adopting ? { import: secretImportId(s.mount, path), ignoreChanges: SECRET_IGNORED } : {}),
    );
    return { names: input.entries.map((e) => normalizeName(e.name)) };
  };
}

/** The secret's data as JSON text, built inside a secret Output so it never exists in plain. */
function secretData(entries: readonly PlannedEntry[], shape: Shape): pulumi.Output<string> {
  return pulumi
    .secret(entries.map((e) => [normalizeName(e.name), e.value.reveal(), e.json ?? shape === "json"] as const))
    .apply((pairs) => {
      const data: Record<string, unknown> = {};
      // A document (the json shape, or a nested object of a sync: item) is kept as nested JSON.
      for (const [name, text, json] of pairs) data[name] = json ? parseDocument(text) : text;
      return JSON.stringify(data);
    });
}

function parseDocument(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
