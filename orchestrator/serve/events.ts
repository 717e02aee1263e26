/**
 * What a webhook delivery means for esc-sync, read as Pulumi Cloud sends it (pulumi/docs
 * `content/docs/esc/concepts/webhooks.md`): the event **kind** in `Pulumi-Webhook-Kind`
 * (`environment`, `environment_revision`, ...; not the filter name a hook registers), and a JSON
 * body with `user`, `organization {name, githubLogin, avatarUrl}`, `projectName`,
 * `environmentName` and, by kind, `action`, `revision`, `tagName`, or `affectedRevisions` +
 * `importedEnvironmentReference`. Deliveries may come late, twice, or out of order: an event
 * says which environment to look at again (and which revision it was about); a sync always opens
 * what the pair follows at the time it runs.
 */
import { z } from "zod";

/** The kinds Pulumi documents, each with the registration filters that deliver it. */
export const KIND_FILTERS = {
  environment: ["environment_created", "environment_deleted"],
  environment_revision: ["environment_revision_created", "environment_revision_retracted"],
  environment_revision_tag: ["environment_revision_tag_created", "environment_revision_tag_updated", "environment_revision_tag_deleted"],
  environment_tag: ["environment_tag_created", "environment_tag_updated", "environment_tag_deleted"],
  imported_environment_changed: ["imported_environment_changed"],
} as const;

export type EventKind = keyof typeof KIND_FILTERS;

/**
 * Rotation filters (pulumi/pulumi-pulumiservice `provider/pkg/resources/webhook.go`). Their
 * delivery kind is not documented: these names are taken as kinds too.
 */
export const ROTATION_FILTERS = ["environment_rotation_succeeded", "environment_rotation_failed"] as const;

/** The filters `webhook register` subscribes to: every event after which a target may be stale. */
export const SUBSCRIBED_FILTERS: readonly string[] = [
  ...KIND_FILTERS.environment,
  ...KIND_FILTERS.environment_revision,
  ...KIND_FILTERS.environment_revision_tag,
  ...KIND_FILTERS.imported_environment_changed,
  ...ROTATION_FILTERS,
];

/** A filter name sent as a kind (older senders, hand-made requests): its kind and action. */
const FILTER_AS_KIND = new Map<string, { kind: EventKind; action: string }>(
  Object.entries(KIND_FILTERS).flatMap(([kind, filters]) =>
    filters.map((f) => [f, { kind: kind as EventKind, action: f === kind ? "changed" : f.slice(f.lastIndexOf("_") + 1) }] as const),
  ),
);

const NAME = /^[A-Za-z0-9_.-]+$/;
const name = z.string().regex(NAME, "a project or environment name ([A-Za-z0-9_.-])");
const account = z.object({ name: z.string().optional(), githubLogin: z.string().optional(), avatarUrl: z.string().optional() }).passthrough();

/** A delivery's body, as documented. Unknown fields are kept and ignored. */
export const deliverySchema = z
  .object({
    user: account.optional(),
    organization: account.optional(),
    projectName: name,
    environmentName: name,
    action: z.string().optional(),
    revision: z.number().int().nonnegative().optional(),
    tagName: z.string().optional(),
    affectedRevisions: z.array(z.number().int()).optional(),
    importedEnvironmentReference: z.object({ projectName: name, environmentName: name, revision: z.number().int().optional() }).passthrough().optional(),
  })
  .passthrough();

export type DeliveryBody = z.infer<typeof deliverySchema>;

/** A delivery understood. */
export type WebhookEvent =
  | {
      kind: "sync";
      /** The event kind (a filter name sent as a kind is mapped to its kind). */
      event: EventKind | "rotation";
      /** `created`, `deleted`, `retracted`, `updated`, `succeeded`, `failed`, `changed`. */
      action: string | undefined;
      /** The organisation's login (`organization.githubLogin`), or its name. */
      org: string | undefined;
      project: string;
      name: string;
      /** The revision the event is about (`revision`), when the body names one. */
      revision?: number;
      /** The revision tag an `environment_revision_tag` event is about. */
      tag?: string;
      /** `imported_environment_changed`: the imported environment that changed (the body names the importer). */
      imported?: { project: string; name: string; revision?: number };
    }
  | { kind: "ignored"; event: string; reason: string };

/**
 * Reads a delivery's kind and body. Throws a `SyntaxError` for a body that is not JSON. The kind
 * must be present (the caller answers 400 without it).
 */
export function readEvent(kind: string, body: string): WebhookEvent {
  const data: unknown = JSON.parse(body);
  const mapped = FILTER_AS_KIND.get(kind);
  const rotation = (ROTATION_FILTERS as readonly string[]).includes(kind) || kind === "environment_rotation";
  const event: EventKind | "rotation" | undefined = rotation ? "rotation" : kind in KIND_FILTERS ? (kind as EventKind) : mapped?.kind;
  if (event === undefined) return { kind: "ignored", event: kind, reason: `esc-sync does not act on the event kind ${JSON.stringify(kind.slice(0, 64))}` };
  if (event === "environment_tag") {
    // Bindings select environments by name, not by environment tags: a tag changes no target.
    return { kind: "ignored", event: kind, reason: "environment tags select no binding: nothing to sync" };
  }
  const parsed = deliverySchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { kind: "ignored", event: kind, reason: `the body is not a documented ESC delivery: ${issue.path.join(".") || "(body)"}: ${issue.message}` };
  }
  const p = parsed.data;
  const action = p.action ?? (rotation ? kind.slice(kind.lastIndexOf("_") + 1) : mapped?.action);
  const ref = p.importedEnvironmentReference;
  return {
    kind: "sync",
    event,
    action,
    org: p.organization?.githubLogin ?? p.organization?.name,
    project: p.projectName,
    name: p.environmentName,
    ...(p.revision !== undefined ? { revision: p.revision } : {}),
    ...(p.tagName !== undefined ? { tag: p.tagName } : {}),
    ...(ref ? { imported: { project: ref.projectName, name: ref.environmentName, ...(ref.revision !== undefined ? { revision: ref.revision } : {}) } } : {}),
  };
}

/**
 * Whether a delivery can be skipped because every pair of its environment already wrote that
 * revision or a later one: only a new revision (`environment_revision` created, or a rotation
 * naming one) can be; a retraction, a tag, a creation or deletion always syncs. `synced` holds
 * the revision each pair of the environment last wrote, `undefined` where unknown (a pair never
 * synced, failed, or pinned to a tag), which never skips.
 */
export function alreadySynced(event: Extract<WebhookEvent, { kind: "sync" }>, synced: readonly (number | undefined)[]): boolean {
  if (event.revision === undefined || synced.length === 0) return false;
  const newRevision = (event.event === "environment_revision" && event.action === "created") || event.event === "rotation";
  return newRevision && synced.every((r) => r !== undefined && r >= event.revision!);
}
