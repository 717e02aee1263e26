/**
 * `esc-sync pulumi <args...>`: the Pulumi CLI esc-sync runs (the pinned one the provisioning
 * installed, not necessarily one on PATH), pointed at the manifest's state backend, with the same
 * environment (passphrase included). For looking at the state: `esc-sync pulumi stack ls --all`.
 */
import { spawn } from "node:child_process";
import { openSession, type CommandContext } from "../command-context.js";

export async function pulumiCommand(opts: { manifest: string; backendUrl?: string | undefined; args: string[] }, ctx: CommandContext): Promise<number> {
  const session = await openSession(opts, ctx);
  const cli = await session.pulumiCli();
  return new Promise((resolve, reject) => {
    const child = spawn(cli.command, opts.args, { stdio: "inherit", env: { ...process.env, ...cli.env } });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 + 1 : 1)));
  });
}
