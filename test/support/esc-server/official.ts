/**
 * The official ESC evaluator (github.com/pulumi/esc/eval) as a long-lived child process: esc-eval,
 * built by scripts/provision.sh from scripts/esc-cli. One JSON request per line on its stdin, one
 * response per line on its stdout, in order; calls are queued, so one process serves a whole
 * test file quickly.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

/** One value node as the ESC API sends it: Go's `omitempty`, so a null has no `value` key. */
export interface ApiValue {
  value?: null | boolean | number | string | ApiValue[] | { [key: string]: ApiValue };
  secret?: boolean;
  unknown?: boolean;
  trace?: unknown;
}

/** A diagnostic as the ESC API sends it. */
export interface ApiDiagnostic {
  range?: { environment?: string; begin: { line: number; column: number; byte: number }; end: { line: number; column: number; byte: number } };
  summary: string;
  detail?: string;
  severity?: "error" | "warning";
  path?: string;
}

/** What evaluating one definition gives, in the API's shapes. */
export interface ApiEvaluation {
  properties: Record<string, ApiValue>;
  diagnostics: ApiDiagnostic[];
}

/** A definition to evaluate (secrets as plaintext) and every definition its imports may name. */
export interface EvaluationRequest {
  /** `project/name`. */
  name: string;
  yaml: string;
  /** `project/name` → definition (plaintext secrets). */
  environments: Record<string, string>;
}

export interface OfficialEvaluator {
  evaluate(request: EvaluationRequest): Promise<ApiEvaluation>;
  close(): Promise<void>;
}

const REPO = join(import.meta.dirname, "..", "..", "..");

/** A tool recorded by provisioning (`.esc-sync/toolchain.env`), the environment variable first. */
function recordedTool(name: "ESC_SYNC_ESC_CLI" | "ESC_SYNC_ESC_EVAL", what: string): string {
  const file = join(REPO, ".esc-sync", "toolchain.env");
  const recorded: Record<string, string> = existsSync(file)
    ? Object.fromEntries(
        readFileSync(file, "utf8")
          .split("\n")
          .filter((l) => l.includes("="))
          .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
      )
    : {};
  const path = process.env[name] || recorded[name];
  if (!path || !existsSync(path)) {
    throw new Error(`${what} is not built: run scripts/provision.sh (it builds it with Go >= 1.26 from the module proxy, once), or set ${name}`);
  }
  return path;
}

/** The official `esc` CLI built by provisioning. Throws with the fix when absent. */
export function escCliPath(): string {
  return recordedTool("ESC_SYNC_ESC_CLI", "the official esc CLI");
}

/** esc-eval built by provisioning. Throws with the fix when absent. */
export function escEvalPath(): string {
  return recordedTool("ESC_SYNC_ESC_EVAL", "esc-eval (the official ESC evaluator)");
}

/** Starts esc-eval. Throws with the fix when it has not been built. */
export function startOfficialEvaluator(path = escEvalPath()): OfficialEvaluator {
  const child: ChildProcessWithoutNullStreams = spawn(path, [], { stdio: ["pipe", "pipe", "pipe"] });
  const pending = new Map<number, { resolve: (r: ApiEvaluation) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let stderr = "";
  let exited: Error | undefined;
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-2000);
  });
  const fail = (error: Error) => {
    exited ??= error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  child.on("error", (error) => fail(new Error(`esc-eval could not start: ${error.message}`)));
  child.on("exit", (code, signal) => fail(new Error(`esc-eval exited (${signal ?? code})${stderr ? `: ${stderr.trim()}` : ""}`)));
  createInterface({ input: child.stdout }).on("line", (line) => {
    let response: { id?: number; properties?: Record<string, ApiValue>; diagnostics?: ApiDiagnostic[]; error?: string };
    try {
      response = JSON.parse(line) as typeof response;
    } catch {
      fail(new Error("esc-eval wrote a line that is not JSON"));
      return;
    }
    const waiter = response.id === undefined ? undefined : pending.get(response.id);
    if (!waiter) return;
    pending.delete(response.id!);
    if (response.error) waiter.reject(new Error(`esc-eval: ${response.error}`));
    else waiter.resolve({ properties: response.properties ?? {}, diagnostics: response.diagnostics ?? [] });
  });
  return {
    evaluate(request) {
      if (exited) return Promise.reject(exited);
      const id = nextId++;
      return new Promise<ApiEvaluation>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.stdin.write(`${JSON.stringify({ id, ...request })}\n`);
      });
    },
    close() {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.stdin.end();
      });
    },
  };
}
