/**
 * The manifest (`environments.yaml`): where environments come from, where state lives, the
 * targets, and the bindings that map environments onto targets.
 *
 * Target settings are checked by each kind's own schema, found through the registry: this file
 * never names a kind.
 */
import picomatch from "picomatch";
import { z } from "zod";
import { DURATION_HINT, parseDuration } from "../duration.js";
import { targetKinds } from "../../programs/registry.js";

/** Target ids and binding ids: used in stack names, so kept to what stack names allow. */
const ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const idMessage = "must be 1–63 characters of lower-case letters, digits, - and _, starting with a letter or digit";

const localSource = z
  .object({
    kind: z.literal("local"),
    folder: z.string().min(1).describe("Folder of ESC definitions laid out as <project>/<env>.yaml, relative to the manifest."),
    org: z.string().regex(/^[A-Za-z0-9_.-]+$/).default("local").describe("Organisation name given to local environments."),
  })
  .strict();

const pulumiCloudSource = z
  .object({
    kind: z.literal("pulumi-cloud"),
    org: z.string().min(1).describe("The Pulumi organisation whose environments are synced."),
    apiUrl: z
      .url()
      .optional()
      .describe("ESC API base URL. Default: $PULUMI_API_URL or https://api.pulumi.com. The token comes from $PULUMI_ACCESS_TOKEN."),
  })
  .strict();

const state = z
  .object({
    backend: z
      .string()
      .min(1)
      .optional()
      .describe("Pulumi state backend URL: file://..., s3://..., gs://..., azblob://... or https://api.pulumi.com. Default: file://./.esc-sync/state, a folder beside the manifest (one per clone)."),
    secretsProvider: z
      .string()
      .min(1)
      .default("passphrase")
      .describe("Pulumi secrets provider: passphrase (reads $PULUMI_CONFIG_PASSPHRASE), awskms://..., azurekeyvault://..., gcpkms://..., hashivault://..."),
  })
  .strict();

/** What is wrong with a glob (an unclosed `[`, `{` or `(`), or undefined when it is valid. */
function globProblem(glob: string): string | undefined {
  try {
    picomatch.makeRe(glob, { strictBrackets: true });
    return undefined;
  } catch (err) {
    return (err instanceof Error ? err.message : String(err)).replace(/"\\/g, '"\\');
  }
}

/** One glob over `project/name`, checked: a broken glob matches nothing and would look like a binding gone. */
const glob = z
  .string()
  .min(1)
  .superRefine((g, ctx) => {
    const problem = globProblem(g);
    if (problem) ctx.addIssue({ code: "custom", message: `invalid glob "${g}": ${problem}` });
  });

/** A revision tag name, as ESC allows them (a number-like string would read as a revision number). */
const REVISION_TAG = /^[A-Za-z][A-Za-z0-9._-]*$/;

/** A binding's environment selector: a glob over `project/name`, or several. */
const selector = z.union([glob, z.array(glob).min(1)]);

/** Where a pair's provider settings and credentials come from; see docs/manifest.md, "Provider configuration from the environment". */
export const providerConfigFrom = z
  .enum(["environment", "manifest"])
  .optional()
  .describe(
    "environment: each environment's pulumiConfig (aws:region, vault:address...) fills the provider settings this manifest leaves out, and its environmentVariables (AWS_*, ARM_*, VAULT_TOKEN...) give the credentials, as for a Pulumi stack with the environment attached. manifest: only the manifest and esc-sync's own process. Default: manifest, environment for sync: blocks.",
  );

const binding = z
  .object({
    id: z.string().regex(ID, `binding id ${idMessage}`).optional().describe("Stable id; default: the target id. Recorded in stack tags."),
    environments: selector.describe("Glob(s) over project/name, e.g. 'payments/*' or ['app/prod', 'app/staging']."),
    exclude: selector.optional().describe("Glob(s) over project/name to leave out."),
    target: z.string().describe("Id of a target in `targets`."),
    from: z.string().default("environmentVariables").describe("Property path in the environment's values; '' for all values."),
    shape: z.enum(["json", "keys"]).default("keys").describe("json: one entry holding a JSON document; keys: one entry per key."),
    name: z
      .string()
      .min(1)
      .optional()
      .describe("Naming template: {org}, {project}, {env}, {target}, {key} (keys shape). Default: the target kind's."),
    retainOnDelete: z.boolean().default(false).describe("Keep entries in the store when they leave the binding."),
    revision: z
      .union([
        z.number().int().positive(),
        z.string().regex(REVISION_TAG, "a revision tag starts with a letter (then letters, digits, '.', '_', '-'); write a revision number without quotes"),
      ])
      .optional()
      .describe(
        "Revision of each environment to sync: a revision number, or a revision tag (e.g. 'stable', resolved at each run). Default: the latest. Pulumi Cloud source only.",
      ),
    credentials: z
      .string()
      .optional()
      .describe(
        "Property path in the environment holding the target's credentials (e.g. aws.login, the output of an aws-login provider); default: the usual places (profile, role, OIDC, GITHUB_TOKEN, VAULT_TOKEN).",
      ),
    providerConfigFrom,
  })
  .strict();

/**
 * `kind` plus that kind's settings, one schema per registered kind. The settings a kind can take
 * from an environment may be left out of a target with `providerConfigFrom: environment`; the
 * planner checks the merged settings per pair.
 */
function targetSchema() {
  const variants = Object.values(targetKinds).map((k) => {
    const full = k.settingsSchema as unknown as z.ZodObject;
    const fromEnv = Object.entries((k.providerConfig?.settings ?? {}) as Record<string, readonly string[]>);
    const relaxed = fromEnv.length ? full.partial(Object.fromEntries(fromEnv.map(([key]) => [key, true])) as never) : full;
    return relaxed.extend({ kind: z.literal(k.kind), providerConfigFrom }).superRefine((t, ctx) => {
      if (t.providerConfigFrom === "environment") return;
      for (const [key, sources] of fromEnv) {
        const required = full.shape[key] !== undefined && !full.shape[key]!.safeParse(undefined).success;
        if (required && t[key] === undefined) {
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: `required: set ${key} here, or add providerConfigFrom: environment to take it from each environment (${sources.join(", ")})`,
          });
        }
      }
    });
  });
  // Typed loosely on purpose: each kind's module owns the type of its own settings.
  return z.discriminatedUnion("kind", variants as unknown as [z.ZodObject, ...z.ZodObject[]]) as unknown as z.ZodType<
    { kind: string; providerConfigFrom?: "environment" | "manifest" } & Record<string, unknown>
  >;
}

export const manifestSchema = z
  .object({
    $schema: z.string().optional(),
    version: z.literal(1).describe("Manifest format version."),
    source: z.discriminatedUnion("kind", [localSource, pulumiCloudSource]),
    state: state.default({ secretsProvider: "passphrase" }),
    concurrency: z.number().int().min(1).max(64).default(4).describe("Pairs run at once (override: --concurrency)."),
    pairTimeout: z
      .string()
      .refine((t) => parseDuration(t) !== undefined, { message: `must be ${DURATION_HINT}` })
      .default("15m")
      .describe("A pair's engine operations are cancelled after this long, its processes ended and its lock released (override: --pair-timeout)."),
    targets: z.record(z.string().regex(ID, `target id ${idMessage}`), targetSchema()),
    bindings: z.array(binding).default([]),
  })
  .strict();

export type Manifest = z.infer<typeof manifestSchema>;
export type Binding = z.infer<typeof binding>;
