/**
 * A real Kubernetes API server on loopback for the Kubernetes tests: `kube-apiserver` v1.34.2 over
 * its own `etcd` v3.6.5, both built from the Go module proxy by scripts/kube/build.sh (which
 * scripts/test.sh runs and which records the outcome in `.esc-sync/kube.env`).
 *
 * Each `startKube()` is a fresh cluster: a temporary folder with etcd's data, the API server's
 * self-signed serving certificate (`--cert-dir`), a service-account key pair, a static token file
 * (an admin in `system:masters` plus any users a test asks for) and a kubeconfig; RBAC on. No
 * kubelet or controllers run, so pods never start, but everything the API server checks itself
 * (validation, admission, RBAC, server-side apply, `?dryRun=All`) is real. `stop()` ends both
 * processes and removes the folder; a test process that exits early still kills them.
 *
 * Read results back with `request()` (plain HTTPS with the cluster's CA and a bearer token), not
 * through esc-sync.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { readRecord } from "./aws-provider.js";
import { freePort } from "./ports.js";
import { REPO } from "./toolchain.js";

/** The versions scripts/kube/build.sh builds. */
export const KUBE_VERSION = "v1.34.2";
export const ETCD_VERSION = "v3.6.5";

/** A user of the static token file: `groups` decide what RBAC grants beyond explicit bindings. */
export interface KubeUser {
  name: string;
  token: string;
  groups?: string[];
}

/** The answer of `request()`: the status and the body, parsed when it is JSON. */
export interface KubeResponse {
  status: number;
  body: any;
}

export interface Kube {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** A kubeconfig file (context `esc-sync-test`, the admin's token) for clients that want one. */
  readonly kubeconfig: string;
  /** The PEM of the CA that signed the serving certificate. */
  readonly ca: string;
  /** The token of the `system:masters` admin. */
  readonly adminToken: string;
  /** The pids of etcd and kube-apiserver, for tests that check nothing is left. */
  readonly pids: number[];
  /** One API call; `token` defaults to the admin's. */
  request(method: string, path: string, body?: unknown, options?: { token?: string; contentType?: string }): Promise<KubeResponse>;
  stop(): Promise<void>;
}

/** The folder with the built `kube-apiserver` and `etcd`; throws the build's own reason when it failed. */
export function builtKube(): string {
  const file = join(REPO, ".esc-sync", "kube.env");
  const record = readRecord(file);
  if (record === undefined) throw new Error(`${file} is missing: run scripts/test.sh (it runs scripts/kube/build.sh .esc-sync/kube.env)`);
  if (record.ESC_SYNC_KUBE_ERROR) throw new Error(`the Kubernetes API server could not be built: ${record.ESC_SYNC_KUBE_ERROR}`);
  const dir = record.ESC_SYNC_KUBE_BIN;
  if (!dir || !existsSync(join(dir, "kube-apiserver")) || !existsSync(join(dir, "etcd"))) {
    throw new Error(`the Kubernetes binaries recorded in ${file} (${dir}) are gone: run scripts/kube/build.sh .esc-sync/kube.env again`);
  }
  return dir;
}

const running = new Set<ChildProcess>();
// A test that throws before stop() (or a vitest worker that exits) must not leave a cluster behind.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Starts etcd and kube-apiserver on free loopback ports; resolves once the API server is ready. */
export async function startKube(options: { users?: KubeUser[]; timeoutMs?: number } = {}): Promise<Kube> {
  const bin = builtKube();
  const timeoutMs = options.timeoutMs ?? 120_000;
  const dir = mkdtempSync(join(tmpdir(), "esc-sync-kube-"));
  const adminToken = `admin-${Math.random().toString(36).slice(2)}`;
  const users: KubeUser[] = [{ name: "admin", token: adminToken, groups: ["system:masters"] }, ...(options.users ?? [])];
  writeFileSync(join(dir, "tokens.csv"), users.map((u) => `${u.token},${u.name},${u.name},"${(u.groups ?? []).join(",")}"`).join("\n") + "\n", { mode: 0o600 });
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  writeFileSync(join(dir, "sa.key"), privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  writeFileSync(join(dir, "sa.pub"), publicKey.export({ type: "spki", format: "pem" }));

  const children: ChildProcess[] = [];
  const stopAll = async () => {
    for (const child of children.reverse()) await end(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [clientPort, peerPort, securePort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${clientPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const etcd = launch(join(bin, "etcd"), [
      "--name=default",
      `--data-dir=${join(dir, "etcd")}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      "--log-level=error",
    ]);
    children.push(etcd.child);
    await until(timeoutMs, etcd, "etcd", async () => {
      const r = await fetch(`${etcdUrl}/health`).catch(() => undefined);
      return r?.ok === true && ((await r.json()) as { health?: string }).health === "true";
    });

    const url = `https://127.0.0.1:${securePort}`;
    const certDir = join(dir, "certs");
    const apiserver = launch(join(bin, "kube-apiserver"), [
      `--etcd-servers=${etcdUrl}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${securePort}`,
      `--cert-dir=${certDir}`,
      `--token-auth-file=${join(dir, "tokens.csv")}`,
      "--authorization-mode=RBAC",
      `--service-account-key-file=${join(dir, "sa.pub")}`,
      `--service-account-signing-key-file=${join(dir, "sa.key")}`,
      "--service-account-issuer=https://kubernetes.default.svc",
      "--service-cluster-ip-range=10.96.0.0/24",
      "--profiling=false",
    ]);
    children.push(apiserver.child);
    const certFile = join(certDir, "apiserver.crt");
    let ca = "";
    const call = (method: string, path: string, body?: unknown, opts: { token?: string; contentType?: string } = {}) =>
      kubeRequest(url, ca, opts.token ?? adminToken, method, path, body, opts.contentType);
    await until(timeoutMs, apiserver, "kube-apiserver", async () => {
      if (!existsSync(certFile)) return false;
      ca = readFileSync(certFile, "utf8");
      return (await call("GET", "/readyz").catch(() => undefined))?.status === 200;
    });
    const kubeconfig = join(dir, "kubeconfig");
    writeFileSync(kubeconfig, kubeconfigText(url, certFile, adminToken), { mode: 0o600 });
    return { url, kubeconfig, ca, adminToken, pids: children.map((c) => c.pid!), request: call, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

interface Launched {
  child: ChildProcess;
  /** The last few kilobytes the process wrote, for the error when it does not come up. */
  output(): string;
}

function launch(file: string, args: string[]): Launched {
  const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  child.once("exit", () => running.delete(child));
  let output = "";
  const keep = (d: Buffer) => (output = (output + d).slice(-4000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  return { child, output: () => output };
}

async function until(timeoutMs: number, launched: Launched, name: string, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (launched.child.exitCode !== null || launched.child.signalCode !== null) {
      throw new Error(`${name} exited (${launched.child.exitCode ?? launched.child.signalCode}) before it was ready:\n${launched.output()}`);
    }
    if (await ready()) return;
    await delay(200);
  }
  throw new Error(`${name} was not ready within ${timeoutMs} ms:\n${launched.output()}`);
}

/** SIGTERM, then SIGKILL after 10 s; resolves when the process has exited. */
async function end(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

function kubeRequest(url: string, ca: string, token: string, method: string, path: string, body?: unknown, contentType?: string): Promise<KubeResponse> {
  const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      new URL(path, url),
      {
        method,
        ca,
        headers: {
          Authorization: `Bearer ${token}`,
          Accept: "application/json",
          ...(payload === undefined ? {} : { "Content-Type": contentType ?? "application/json" }),
        },
        timeout: 30_000,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON (for example /readyz's "ok")
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)));
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

function kubeconfigText(url: string, caFile: string, token: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "  - name: esc-sync-test",
    "    cluster:",
    `      server: ${url}`,
    `      certificate-authority: ${caFile}`,
    "users:",
    "  - name: admin",
    "    user:",
    `      token: ${token}`,
    "contexts:",
    "  - name: esc-sync-test",
    "    context: { cluster: esc-sync-test, user: admin }",
    "current-context: esc-sync-test",
    "",
  ].join("\n");
}
