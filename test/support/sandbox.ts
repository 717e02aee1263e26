/**
 * A throwaway esc-sync project for end-to-end tests: a manifest, a folder of environments, a
 * `file://` backend and output folder in a temp dir, and a way to run the real CLI in it.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { runCli } from "../../orchestrator/cli/program.js";
import { Redactor } from "../../orchestrator/redact.js";
import { CLI, recordedToolchain } from "./toolchain.js";

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export const PASSPHRASE = "e2e-passphrase-not-secret";

/** A manifest many tests share: every `app/*` environment into `out/<env>.env`, state in `./state`. */
export const APP_TO_FILES = `
version: 1
source: { kind: local, folder: environments }
state: { backend: file://./state }
targets:
  out: { kind: file, path: "out/{env}.env" }
bindings:
  - { environments: "app/*", target: out }
`;

/**
 * A manifest over the loopback ESC server (organisation `acme`): the environments matching `glob`
 * into file targets at `path`, state in `./state`.
 */
export function cloudToFiles(apiUrl: string, glob: string, path: string): string {
  return `
version: 1
source: { kind: pulumi-cloud, org: acme, apiUrl: "${apiUrl}" }
state: { backend: file://./state }
targets:
  out: { kind: file, path: "${path}" }
bindings:
  - { environments: "${glob}", target: out }
`;
}

export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), "esc-sync-e2e-"));
  readonly backendDir = join(this.dir, "state");
  readonly envDir = join(this.dir, "environments");
  readonly outDir = join(this.dir, "out");
  readonly env: NodeJS.ProcessEnv;

  constructor(extraEnv: NodeJS.ProcessEnv = {}) {
    const tc = recordedToolchain();
    mkdirSync(this.envDir, { recursive: true });
    this.env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CI: "true",
      ESC_SYNC_PULUMI_ROOT: tc.pulumiRoot,
      PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
      XDG_STATE_HOME: join(this.dir, "xdg-state"),
      ...extraEnv,
    };
  }

  /** Writes `environments/<project>/<name>.yaml`. */
  writeEnvironment(project: string, name: string, yaml: string): void {
    const file = join(this.envDir, project, `${name}.yaml`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, yaml);
  }

  removeEnvironment(project: string, name: string): void {
    rmSync(join(this.envDir, project, `${name}.yaml`));
  }

  /** Writes `environments.yaml`; `backend` defaults to the sandbox's file:// folder. */
  writeManifest(yaml: string): void {
    writeFileSync(join(this.dir, "environments.yaml"), yaml);
  }

  /** Runs the real CLI in the sandbox. */
  run(args: string[], opts: { env?: NodeJS.ProcessEnv; onSpawn?: (pid: number) => void } = {}): Promise<CliResult> {
    const { node } = recordedToolchain();
    return new Promise((resolve, reject) => {
      const child = spawn(node, [CLI, ...args], { cwd: this.dir, env: { ...this.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
      if (child.pid) opts.onSpawn?.(child.pid);
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("error", reject);
      child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
  }

  /**
   * Runs the command line in this process (`runCli`, what the real CLI runs after its signal
   * handlers), in the sandbox's folder with its variables: for checks that end before any
   * engine runs. Its stderr is captured; commands that succeed still write their output to this
   * process's stdout, so keep it to failures.
   */
  async runInProcess(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<Omit<CliResult, "signal" | "stdout">> {
    const env = { ...this.env, ...opts.env };
    const ctx = { redactor: new Redactor().add(env.PULUMI_ACCESS_TOKEN, env.PULUMI_CONFIG_PASSPHRASE), signal: new AbortController().signal, env };
    let stderr = "";
    const cwd = process.cwd();
    process.chdir(this.dir);
    try {
      const code = await runCli(args, ctx, { stderr: (t) => void (stderr += t) });
      return { code, stderr };
    } finally {
      process.chdir(cwd);
    }
  }

  /** `sync --output json`, parsed. */
  async syncJson(extra: string[] = []): Promise<{ result: CliResult; report: SyncReport }> {
    const result = await this.run(["sync", "--output", "json", ...extra]);
    let report: SyncReport;
    try {
      report = JSON.parse(result.stdout) as SyncReport;
    } catch {
      throw new Error(`sync printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
    }
    return { result, report };
  }

  read(rel: string): string {
    return readFileSync(join(this.dir, rel), "utf8");
  }

  mode(rel: string): number {
    return statSync(join(this.dir, rel)).mode & 0o777;
  }

  /** Every file of the state backend, concatenated: to prove no plaintext secret is in it. */
  stateText(): string {
    const walk = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
    return walk(this.backendDir)
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The JSON report of `sync --output json` (the part tests read). */
export interface SyncReport {
  operation: string;
  pairs: {
    stack: string;
    environment: string;
    target: string;
    status: string;
    changes: { create: number; update: number; delete: number; replace: number; same: number };
    message?: string;
    hint?: string;
    entries: string[];
  }[];
  warnings: string[];
  summary: { pairs: number; failed: number; exitCode: number };
}

/** The pairs of a report by stack name, mapped to their status. */
export function statuses(report: SyncReport): Record<string, string> {
  return Object.fromEntries(report.pairs.map((p) => [p.stack, p.status]));
}
