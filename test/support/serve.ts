/**
 * `esc-sync serve` as a child process of a test: its JSON log lines parsed as they come, its
 * HTTP endpoints, and waiting helpers (polling with a deadline; a test never asserts a duration).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { CLI, recordedToolchain } from "./toolchain.js";
import type { Sandbox } from "./sandbox.js";

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitUntil<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let last: unknown;
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export class ServeProcess {
  readonly lines: LogLine[] = [];
  stdout = "";
  stderr = "";
  url = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
    let partial = "";
    child.stdout!.on("data", (d: Buffer) => {
      this.stdout += d;
      partial += d;
      const parts = partial.split("\n");
      partial = parts.pop()!;
      for (const p of parts) {
        try {
          this.lines.push(JSON.parse(p) as LogLine);
        } catch {
          // not a log line
        }
      }
    });
    child.stderr!.on("data", (d: Buffer) => (this.stderr += d));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /**
   * Starts `serve --listen 127.0.0.1:0 ...args` in the sandbox; resolves once it listens. `wrap`:
   * a command that execs its arguments (the same pid), such as `unshare` with a mount of its own;
   * `nodeFlags`: flags for node itself (`--inspect=127.0.0.1:0`), not inherited by its children.
   */
  static async start(box: Sandbox, args: string[], env: NodeJS.ProcessEnv = {}, wrap: string[] = [], nodeFlags: string[] = []): Promise<ServeProcess> {
    const command = [...wrap, recordedToolchain().node, ...nodeFlags, CLI, "serve", "--listen", "127.0.0.1:0", ...args];
    const child = spawn(command[0]!, command.slice(1), { cwd: box.dir, env: { ...box.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const serve = new ServeProcess(child);
    const exited = serve.exited.then((r) => {
      throw new Error(`serve exited (${r.code ?? r.signal}) before listening:\n${serve.stdout}\n${serve.stderr}`);
    });
    const listening = serve.waitFor((l) => l.msg === "listening", 60_000);
    exited.catch(() => undefined); // once listening, a later exit is the test's to check
    const line = await Promise.race([listening, exited]);
    serve.url = String(line.url);
    return serve;
  }

  /** The first log line (from `from` on) that matches. */
  waitFor(match: (line: LogLine) => boolean, timeoutMs = 180_000, from = 0): Promise<LogLine> {
    return waitUntil(`a log line of serve (${match.toString().slice(0, 120)})\n${this.stdout.slice(-3000)}\n${this.stderr}`, () => this.lines.slice(from).find(match), timeoutMs);
  }

  /** Resolves once a reconcile (the first, or the next after `from`) has ended. */
  reconciled(from = 0, timeoutMs = 180_000): Promise<LogLine> {
    return this.waitFor((l) => l.msg === "cycle done" && l.trigger === "reconcile", timeoutMs, from);
  }

  async get(path: string): Promise<{ status: number; text: string }> {
    const r = await fetch(this.url + path);
    return { status: r.status, text: await r.text() };
  }

  async post(path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string }> {
    const r = await fetch(this.url + path, { method: "POST", body, headers: { "Content-Type": "application/json", ...headers } });
    return { status: r.status, headers: r.headers, text: await r.text() };
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}
