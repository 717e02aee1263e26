/** `github-actions`: GitHub Actions secrets (and optionally variables) of a repository or environment. */
import type { TargetKind } from "../contract.js";
import { lazyProgram } from "../shared/lazy.js";
import { pluginOf } from "../shared/plugins.js";
import { checkEntries, normalizeName } from "./naming.js";
import { githubActionsSettings, type GithubActionsSettings } from "./schema.js";

export const githubActionsTarget: TargetKind<GithubActionsSettings> = {
  kind: "github-actions",
  description: "GitHub Actions: one secret (or variable) per entry in a repository or deployment environment",
  settingsSchema: githubActionsSettings,
  templatedSettings: ["repository", "environment"],
  defaultName: { json: "ESC_ENVIRONMENT_JSON", keys: "{key}" },
  syncConventionKey: "githubSecrets",
  providerConfig: {
    settings: { owner: ["github:owner", "GITHUB_OWNER"] },
    credentials: { token: ["github:token", "GITHUB_TOKEN"] },
  },
  plugins: [pluginOf("@pulumi/github")],
  normalizeName: (name) => normalizeName(name),
  check: (entries, settings) => checkEntries(entries, settings),
  location: (s) => `github.com/${s.owner}/${s.repository}${s.environment !== undefined ? ` (environment ${s.environment})` : ""}`,
  program: lazyProgram(async () => (await import("./program.js")).githubActionsProgram),
};
