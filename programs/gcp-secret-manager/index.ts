/** `gcp-secret-manager`: one GCP Secret Manager secret per entry. */
import type { TargetKind } from "../contract.js";
import { lazyProgram } from "../shared/lazy.js";
import { pluginOf } from "../shared/plugins.js";
import { gcpSecretManagerFindExisting } from "./adopt.js";
import { checkEntries, normalizeName } from "./naming.js";
import { gcpSecretManagerReader } from "./reader.js";
import { readBack as gcpSecretManagerReadBack } from "./readback.js";
import { gcpSecretManagerSettings, type GcpSecretManagerSettings } from "./schema.js";

export const gcpSecretManagerTarget: TargetKind<GcpSecretManagerSettings> = {
  kind: "gcp-secret-manager",
  description: "GCP Secret Manager: one secret per entry, its value as the latest version",
  settingsSchema: gcpSecretManagerSettings,
  defaultName: { json: "{project}-{env}", keys: "{project}-{env}-{key}" },
  syncConventionKey: "gcpSecretManager",
  // What fn::open::gcp-login gives (its accessToken), as gcloud and the provider read it.
  providerConfig: {
    settings: { project: ["gcp:project", "GOOGLE_PROJECT", "GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"] },
    credentials: { accessToken: ["gcp:accessToken", "GOOGLE_OAUTH_ACCESS_TOKEN", "CLOUDSDK_AUTH_ACCESS_TOKEN"] },
  },
  plugins: [pluginOf("@pulumi/gcp")],
  normalizeName: (name) => normalizeName(name),
  check: (entries) => checkEntries(entries),
  location: (s) => `projects/${s.project}`,
  program: lazyProgram(async () => (await import("./program.js")).gcpSecretManagerProgram),
  reader: (settings) => gcpSecretManagerReader(settings),
  findExisting: (input, signal) => gcpSecretManagerFindExisting(input, signal),
  readBack: (resources, shape) => gcpSecretManagerReadBack(resources, shape),
};
