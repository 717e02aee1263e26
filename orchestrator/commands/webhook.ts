/** `esc-sync webhook register --url URL`: creates the organisation webhook serve listens to. */
import { openSession, type CommandContext } from "../command-context.js";
import { ConfigError } from "../errors.js";
import { registerWebhook } from "../serve/register.js";
import { webhookSecret } from "../serve/secret.js";

export interface WebhookRegisterOptions {
  manifest: string;
  url: string;
  name: string;
  output: "text" | "json";
}

export async function webhookRegisterCommand(opts: WebhookRegisterOptions, ctx: CommandContext): Promise<number> {
  if (!/^https?:\/\/[^/]+/.test(opts.url)) throw new ConfigError(`--url ${opts.url}: must be the http(s) URL of serve's /webhooks/esc, e.g. https://esc-sync.example.com/webhooks/esc`);
  const session = await openSession({ manifest: opts.manifest }, ctx);
  const source = session.manifest.source;
  if (source.kind !== "pulumi-cloud") throw new ConfigError(`webhook register needs a pulumi-cloud source; the manifest's is ${source.kind} (use serve --watch for a local folder)`);
  const token = ctx.env.PULUMI_ACCESS_TOKEN;
  if (!token) throw new ConfigError("webhook register needs PULUMI_ACCESS_TOKEN (an organisation admin's token)");
  const secret = webhookSecret(ctx.env);
  if (!secret) throw new ConfigError("webhook register needs the secret serve verifies with: set ESC_SYNC_WEBHOOK_SECRET (or ESC_SYNC_WEBHOOK_SECRET_FILE), the same as serve's");
  ctx.redactor.add(token, secret);
  const hook = await registerWebhook({
    apiUrl: source.apiUrl ?? ctx.env.PULUMI_API_URL ?? "https://api.pulumi.com",
    org: source.org,
    token,
    payloadUrl: opts.url,
    secret,
    displayName: opts.name,
    signal: ctx.signal,
  });
  const out = { name: hook.name, displayName: hook.displayName, payloadUrl: hook.payloadUrl, organization: source.org, events: hook.filters ?? [] };
  process.stdout.write(ctx.redactor.text(opts.output === "json" ? JSON.stringify(out, null, 2) + "\n" : `created organisation webhook ${hook.name} of ${source.org}: ${hook.payloadUrl} (${out.events.length} environment events, signed)\n`));
  return 0;
}
