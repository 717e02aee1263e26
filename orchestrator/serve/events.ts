/**
 * What a webhook delivery means for esc-sync. Pulumi's ESC webhooks send the event kind in
 * `Pulumi-Webhook-Kind` and a JSON body naming the organisation, project and environment (never
 * values). Deliveries may come out of order or more than once: an event only says which
 * environment to look at again; the sync always reads its latest revision.
 */
import { z } from "zod";

/** Event kinds after which an environment's values (or existence) may differ: esc-sync syncs them. */
export const ACTED_ON = new Set([
  "environment_created",
  "environment_deleted",
  "environment_revision_created",
  "environment_revision_retracted",
  "environment_revision_tag_created",
  "environment_revision_tag_updated",
  "environment_revision_tag_deleted",
  "imported_environment_changed",
]);

const named = z.object({ name: z.string().optional(), githubLogin: z.string().optional() }).passthrough();

/**
 * The fields read from a delivery. Pulumi's payloads name the environment as `projectName` and
 * `environmentName` with an `organization` object; the other spellings are accepted too.
 */
const payloadSchema = z
  .object({
    organization: named.optional(),
    organizationName: z.string().optional(),
    projectName: z.string().optional(),
    project: z.string().optional(),
    environmentName: z.string().optional(),
    envName: z.string().optional(),
    environment: z.string().optional(),
  })
  .passthrough();

/** A delivery understood: the environment to sync again, or why nothing is done. */
export type WebhookEvent =
  | { kind: "environment"; event: string; org: string | undefined; project: string; name: string }
  | { kind: "ignored"; event: string; reason: string };

const NAME = /^[A-Za-z0-9_.-]+$/;

/** Reads a delivery's kind and body. Throws a `SyntaxError` for a body that is not JSON. */
export function readEvent(kind: string | undefined, body: string): WebhookEvent {
  const data: unknown = JSON.parse(body);
  const event = kind ?? "(no Pulumi-Webhook-Kind)";
  if (!kind || !ACTED_ON.has(kind)) return { kind: "ignored", event, reason: "esc-sync does not act on this event kind" };
  const parsed = payloadSchema.safeParse(data);
  if (!parsed.success) return { kind: "ignored", event, reason: "the payload is not an object" };
  const p = parsed.data;
  const project = p.projectName ?? p.project;
  const name = p.environmentName ?? p.envName ?? p.environment;
  if (!project || !name || !NAME.test(project) || !NAME.test(name)) return { kind: "ignored", event, reason: "the payload names no environment (projectName, environmentName)" };
  const org = p.organization?.githubLogin ?? p.organization?.name ?? p.organizationName;
  return { kind: "environment", event, org, project, name };
}
