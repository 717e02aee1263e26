/** Settings of a `gcp-secret-manager` target and the store's limits. */
import { z } from "zod";

/** Secret Manager: secret ids are at most 255 characters. */
export const MAX_NAME_LENGTH = 255;
/** Secret Manager: a secret version's payload is at most 64 KiB. */
export const MAX_VALUE_BYTES = 64 * 1024;

/** Where Secret Manager keeps the secret's replicas. */
export const replication = z.discriminatedUnion("kind", [
  /** Google chooses the locations. */
  z.strictObject({ kind: z.literal("automatic") }),
  /** Replicas in the listed locations only, e.g. `europe-west1` (data residency). */
  z.strictObject({
    kind: z.literal("user-managed"),
    locations: z.array(z.string().regex(/^[a-z]+-[a-z]+\d+$/, "must be a GCP region such as europe-west1")).min(1),
  }),
]);

export const gcpSecretManagerSettings = z.strictObject({
  /** Project id holding the secrets. */
  project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "must be a GCP project id: 6 to 30 lower-case letters, digits and -"),
  /** `{ kind: automatic }` (default) or `{ kind: user-managed, locations: [...] }`. */
  replication: replication.default({ kind: "automatic" }),
});

export type GcpSecretManagerSettings = z.infer<typeof gcpSecretManagerSettings>;
