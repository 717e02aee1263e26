/**
 * The Pulumi program of a `github-actions` pair: an explicit github provider for the owner, then
 * one Actions secret per entry (repository or deployment environment), or an Actions variable
 * for entries ESC does not mark secret when `nonSecretAsVariables` is on.
 */
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import type { PulumiFn } from "@pulumi/pulumi/automation/index.js";
import type { ProgramInput } from "../contract.js";
import { credentialsFor } from "../shared/credentials.js";
import { secretText, storeOptions } from "../shared/store-inputs.js";
import { isVariable, normalizeName } from "./naming.js";
import type { GithubActionsSettings } from "./schema.js";

export function githubActionsProgram(input: ProgramInput<GithubActionsSettings>): PulumiFn {
  return async () => {
    const s = input.settings;
    // A token from the environment (binding credentials:) comes first. Otherwise the github SDK
    // copies GITHUB_TOKEN into the provider's inputs on its own; passing it here makes the SDK
    // wrap it as a secret, so state holds its ciphertext only. Without either the provider falls
    // back to `gh auth token`.
    const creds = credentialsFor(input.credentials, {
      target: "github-actions",
      fields: ["token", "githubToken"],
      expected: "token (or githubToken)",
      source: "a GitHub token kept in the environment, e.g. under fn::secret",
    });
    const token = creds !== undefined ? creds.required("token", "githubToken") : process.env["GITHUB_TOKEN"];
    const provider = new github.Provider("github", {
      owner: s.owner,
      ...(token !== undefined && token !== "" ? { token: pulumi.secret(token) } : {}),
    });
    const opts = storeOptions(provider, input.retainOnDelete);
    const names: string[] = [];
    for (const entry of input.entries) {
      const name = normalizeName(entry.name);
      // Secrets take `value`: `plaintextValue` is deprecated in @pulumi/github 6.x.
      // Variables are readable in GitHub anyway; their values still reach Pulumi as secrets so
      // that state never holds a value in plain text.
      const value = secretText(entry);
      if (isVariable(entry, s)) {
        if (s.environment !== undefined) {
          new github.ActionsEnvironmentVariable(name, { repository: s.repository, environment: s.environment, variableName: name, value }, opts);
        } else {
          new github.ActionsVariable(name, { repository: s.repository, variableName: name, value }, opts);
        }
      } else if (s.environment !== undefined) {
        new github.ActionsEnvironmentSecret(name, { repository: s.repository, environment: s.environment, secretName: name, value }, opts);
      } else {
        new github.ActionsSecret(name, { repository: s.repository, secretName: name, value }, opts);
      }
      names.push(name);
    }
    return { names };
  };
}
