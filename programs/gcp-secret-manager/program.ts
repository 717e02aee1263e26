/**
 * The Pulumi program of a `gcp-secret-manager` pair: an explicit gcp provider for the project,
 * then one `secretmanager.Secret` + `SecretVersion` per entry. Entries being adopted
 * (`migrate adopt`) import the existing secret and its latest version instead of creating them.
 */
import * as gcp from "@pulumi/gcp";
import type { PulumiFn } from "@pulumi/pulumi/automation/index.js";
import type { ProgramInput } from "../contract.js";
import { credentialsFor } from "../shared/credentials.js";
import { describeEntry, ownershipLabels } from "../shared/ownership.js";
import { envFullName } from "../environment-ref.js";
import { secretText, storeOptions } from "../shared/store-inputs.js";
import { SECRET_IGNORED, VERSION_IGNORED, secretImportId, secretVersionImportId } from "./adopt.js";
import { normalizeName } from "./naming.js";
import type { GcpSecretManagerSettings } from "./schema.js";

export function gcpSecretManagerProgram(input: ProgramInput<GcpSecretManagerSettings>): PulumiFn {
  return async () => {
    const s = input.settings;
    // Without credentials from the environment they are the application default credentials
    // (gcloud login, workload identity, GOOGLE_APPLICATION_CREDENTIALS). The login output's
    // `project` is the project number: the target's setting names the project.
    const creds = credentialsFor(input.credentials, {
      target: "gcp-secret-manager",
      fields: ["accessToken"],
      ignored: ["project", "expiry", "tokenType"],
      expected: "accessToken",
      source: "the output of fn::open::gcp-login",
    });
    const provider = new gcp.Provider("gcp", { project: s.project, ...(creds ? { accessToken: creds.required("accessToken") } : {}) });
    const replication: gcp.types.input.secretmanager.SecretReplication =
      s.replication.kind === "automatic"
        ? { auto: {} }
        : { userManaged: { replicas: s.replication.locations.map((location) => ({ location })) } };
    // Labels follow GCP's label rules (lower-case, 63 characters); annotations (keys of
    // alphanumerics, - _ and ., free values) keep the exact environment name and the description.
    const labels = ownershipLabels(input);
    const names: string[] = [];
    for (const entry of input.entries) {
      const name = normalizeName(entry.name);
      const version = input.adopt?.has(entry.name) ? await latestVersion(s.project, name, provider) : undefined;
      const secret = new gcp.secretmanager.Secret(
        name,
        {
          project: s.project,
          secretId: name,
          replication,
          labels,
          annotations: {
            "esc-environment": envFullName(input.env),
            "esc-target": input.targetId,
            description: describeEntry(input, entry),
          },
        },
        storeOptions(provider, input.retainOnDelete, version !== undefined ? { import: secretImportId(s.project, name), ignoreChanges: SECRET_IGNORED } : {}),
      );
      new gcp.secretmanager.SecretVersion(
        name,
        { secret: secret.id, secretData: secretText(entry) },
        storeOptions(
          provider,
          input.retainOnDelete,
          version !== undefined ? { import: secretVersionImportId(s.project, name, version), ignoreChanges: VERSION_IGNORED } : {},
        ),
      );
      names.push(name);
    }
    return { names };
  };
}

/**
 * The number of an existing secret's latest version (`latest` resolved), looked up through the
 * pair's provider without fetching its payload.
 */
async function latestVersion(project: string, id: string, provider: gcp.Provider): Promise<string> {
  const found = await gcp.secretmanager.getSecretVersion({ project, secret: id, fetchSecretData: false }, { provider });
  return found.version;
}
