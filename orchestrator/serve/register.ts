/**
 * Registers serve's URL as an organisation webhook (`POST /api/orgs/{org}/hooks`, the REST call
 * Pulumi Cloud documents), subscribed to the environment events serve acts on: creation and
 * deletion, revisions, revision tags, imported changes, and rotations (succeeded and failed).
 */
import { UserError } from "../errors.js";
import { SUBSCRIBED_FILTERS } from "./events.js";

export interface RegisterOptions {
  apiUrl: string;
  org: string;
  token: string;
  /** Where deliveries go: serve's `/webhooks/esc` as the service reaches it. */
  payloadUrl: string;
  secret: string;
  displayName: string;
  signal?: AbortSignal;
}

/** The webhook as the API answers it (its secret never comes back). */
export interface RegisteredHook {
  name: string;
  displayName: string;
  payloadUrl: string;
  active: boolean;
  filters?: string[];
}

export async function registerWebhook(opts: RegisterOptions): Promise<RegisteredHook> {
  const endpoint = `${opts.apiUrl.replace(/\/+$/, "")}/api/orgs/${encodeURIComponent(opts.org)}/hooks`;
  const body = {
    organizationName: opts.org,
    displayName: opts.displayName,
    payloadUrl: opts.payloadUrl,
    secret: opts.secret,
    active: true,
    format: "raw",
    filters: [...SUBSCRIBED_FILTERS],
  };
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: { Authorization: `token ${opts.token}`, "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      // Always a deadline: the command's own signal (Ctrl-C) ends it sooner, never later.
      signal: opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(30_000)]) : AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new UserError(`POST ${endpoint}: ${err instanceof Error ? err.message : String(err)}`, "check the API URL (source.apiUrl or PULUMI_API_URL) and the network");
  }
  if (response.ok) return (await response.json()) as RegisteredHook;
  // The API's message, never the request: it holds the token and the secret.
  const text = (await response.text()).slice(0, 300);
  const hint =
    response.status === 401 || response.status === 403
      ? "check PULUMI_ACCESS_TOKEN: creating an organisation webhook needs an organisation admin's token"
      : response.status === 409
        ? "a webhook of that name exists: pass another --name, or remove it in Pulumi Cloud (Settings → Integrations → Webhooks)"
        : "check --url (it must be an http(s) URL the service can reach)";
  throw new UserError(`POST ${endpoint}: ${response.status} ${response.statusText}: ${text}`, hint);
}
