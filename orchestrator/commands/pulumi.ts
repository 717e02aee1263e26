/**
 * `esc-sync pulumi <args...>`: the Pulumi CLI esc-sync runs (the pinned one the provisioning
 * installed, not necessarily one on PATH), pointed at the manifest's state backend, with the same
 * environment (passphrase included). For looking at the state: `esc-sync pulumi stack ls --all`.
 */
import { spawn } from "node:child_process";
import { openSession, type CommandContext } from "../command-context.js";
import { PROJECT_NAME } from "../runner/stack.js";

/**
 * `--stack payments.dev.dotenv` as Pulumi needs it outside a project folder: fully qualified. On a
 * self-managed backend (file://, s3://, gs://, azblob://) every stack's organisation is
 * `organization`; on Pulumi Cloud it is the user's, which only they know, so names stay as given.
 */
export function qualifyStackArgs(args: readonly string[], backendUrl: string): string[] {
  if (/^https?:\/\//.test(backendUrl)) return [...args];
  const qualify = (name: string) => (name.includes("/") ? name : `organization/${PROJECT_NAME}/${name}`);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      out.push(...args.slice(i));
      break;
    }
    const eq = /^(--stack|-s)=(.+)$/.exec(a);
    if (eq) out.push(`${eq[1]}=${qualify(eq[2]!)}`);
    else if ((a === "--stack" || a === "-s") && i + 1 < args.length) out.push(a, qualify(args[++i]!));
    else out.push(a);
  }
  return out;
}

export async function pulumiCommand(opts: { manifest: string; backendUrl?: string | undefined; args: string[] }, ctx: CommandContext): Promise<number> {
  const session = await openSession(opts, ctx);
  const cli = await session.pulumiCli();
  return new Promise((resolve, reject) => {
    const child = spawn(cli.command, qualifyStackArgs(opts.args, cli.env.PULUMI_BACKEND_URL!), { stdio: "inherit", env: { ...process.env, ...cli.env } });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 + 1 : 1)));
  });
}
