/** Settings of a `github-actions` target and the store's limits. */
import { z } from "zod";

/** GitHub: a secret or variable value is at most 48 KB. */
export const MAX_VALUE_BYTES = 48 * 1024;
/** GitHub: at most 100 secrets per repository and per environment. */
export const MAX_SECRETS = 100;
/** GitHub: at most 500 variables per repository, 100 per environment. */
export const MAX_VARIABLES = { repository: 500, environment: 100 } as const;

export const githubActionsSettings = z.strictObject({
  /** User or organisation that owns the repository. */
  owner: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, "must be a GitHub user or organisation name"),
  /** Repository name without the owner; a template (`{project}`, `{env}`...) rendered per pair. */
  repository: z.string().regex(/^[A-Za-z0-9_.{}-]+$/, "must be a repository name (without the owner), optionally with {project}/{env} placeholders"),
  /** Deployment environment: secrets go to that environment instead of the repository. Templated. */
  environment: z.string().min(1).max(255).optional(),
  /** Entries ESC does not mark secret become Actions variables (readable in the UI and logs). */
  nonSecretAsVariables: z.boolean().default(false),
});

export type GithubActionsSettings = z.infer<typeof githubActionsSettings>;
