/** Settings of a `vault-kv` target and the store's limits. */
import { z } from "zod";

/** Vault: one KV secret (all its fields together) is kept under 1 MiB. */
export const MAX_SECRET_BYTES = 1024 * 1024;
/** Vault custom metadata values are at most 512 bytes. */
export const MAX_METADATA_VALUE = 512;

export const vaultKvSettings = z.strictObject({
  /** Vault's address, e.g. `https://vault.example.com:8200`. */
  address: z.url({ protocol: /^https?$/, message: "must be an http(s) URL such as https://vault.example.com:8200" }),
  /** Mount path of the KV version 2 secrets engine. */
  mount: z
    .string()
    .regex(/^[^/\s](?:[^\s]*[^/\s])?$/, "must be a mount path such as secret or kv/teams, without leading or trailing /")
    .default("secret"),
  /** Path of the pair's secret inside the mount. **Templated**: `{project}`, `{env}`... rendered per pair. */
  pathTemplate: z.string().min(1).default("{project}/{env}"),
  /**
   * Write esc-sync's ownership tags as the secret's custom metadata (`managed-by`, the
   * environment, a description). That needs `update` on `<mount>/metadata/<path>`: `false` writes
   * the data only, as Pulumi's ESC examples did, for a token allowed `<mount>/data/` alone.
   */
  customMetadata: z.boolean().default(true),
  /** Vault Enterprise / HCP namespace. */
  namespace: z.string().min(1).optional(),
});

export type VaultKvSettings = z.infer<typeof vaultKvSettings>;
