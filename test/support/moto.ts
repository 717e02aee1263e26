/**
 * `moto` (PyPI `moto[server]`), the AWS emulator, for tests that talk to AWS Secrets Manager and
 * SSM through the real AWS SDK or the real AWS provider. Provisioning installs it
 * (scripts/moto.sh, which scripts/test.sh runs and which records the outcome in
 * `.esc-sync/moto.env`); a test only starts `moto_server` on 127.0.0.1 and a free port, waits
 * until it answers, and stops it after.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { readRecord } from "./aws-provider.js";
import { freePort } from "./ports.js";
import { REPO } from "./toolchain.js";

/** The version scripts/moto.sh installs. */
export const MOTO_VERSION = "5.2.5";

export interface Moto {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** What a process needs to talk to it: endpoint, fake credentials, region. */
  readonly env: Record<string, string>;
  /** Forgets every resource (moto's reset API). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** The provisioned `moto_server`; throws the installer's own reason when it could not be installed. */
export function ensureMoto(): string {
  const file = join(REPO, ".esc-sync", "moto.env");
  const record = readRecord(file);
  if (record === undefined) throw new Error(`${file} is missing: run scripts/test.sh (it runs scripts/moto.sh .esc-sync/moto.env)`);
  if (record.ESC_SYNC_MOTO_ERROR) throw new Error(`moto could not be installed: ${record.ESC_SYNC_MOTO_ERROR}`);
  const server = record.ESC_SYNC_MOTO_SERVER;
  if (!server || !existsSync(server)) throw new Error(`the moto_server recorded in ${file} (${server}) is gone: run scripts/moto.sh .esc-sync/moto.env again`);
  return server;
}

/** Starts a moto server on loopback; resolves once it answers. */
export async function startMoto(options: { timeoutMs?: number } = {}): Promise<Moto> {
  const bin = ensureMoto();
  const timeoutMs = options.timeoutMs ?? 60_000;
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(bin, ["-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, PYTHONUNBUFFERED: "1" } });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const ready = await waitReady(url, child, exited, timeoutMs);
    if (ready) return motoHandle(url, child, exited);
    // The port was taken between the check and the bind: try another, a few times.
    if (attempt >= 3) throw new Error(`moto_server did not start on ${url}:\n${stderr}`);
  }
}

async function waitReady(url: string, child: ChildProcess, exited: Promise<number | null>, timeoutMs: number): Promise<boolean> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gone) return false;
    try {
      const response = await fetch(`${url}/moto-api/data.json`);
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await delay(200);
  }
  child.kill("SIGKILL");
  throw new Error(`moto_server did not answer on ${url} within ${timeoutMs} ms`);
}

function motoHandle(url: string, child: ChildProcess, exited: Promise<number | null>): Moto {
  return {
    url,
    env: {
      AWS_ENDPOINT_URL: url,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_REGION: "us-east-1",
      AWS_EC2_METADATA_DISABLED: "true",
    },
    async reset() {
      await fetch(`${url}/moto-api/reset`, { method: "POST" });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
