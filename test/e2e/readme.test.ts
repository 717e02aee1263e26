/**
 * The README's quick start, walked through as a new user would: its own first command (read
 * from README.md, so the two cannot drift apart) run in a fresh copy of the repository with an
 * empty state folder, then what the README says follows: the files and their mode, every pair
 * unchanged on a second run, only the pairs using an edited value updated, the state visible
 * through `esc-sync pulumi stack ls --all`, and `scripts/run.sh plan --output json` printing JSON
 * alone on stdout. A second clone under the same user (same home, same state folder) passes the
 * same first command without touching the first one's files or stacks; and every shell line of
 * the README, of docs/*.md and of bench/README.md that can run here (no account, no long-running
 * process) runs as written, so text moved out of the README stays under test.
 *
 * The copy shares the repository's installed packages and build (symlinks): provisioning them is
 * what scripts/test.sh has just done; the copy's own scripts still run the whole provisioning
 * path, finding everything up to date.
 */
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, recordedToolchain } from "../support/toolchain.js";

const README = readFileSync(join(REPO, "README.md"), "utf8");

/** The documents whose shell lines are run: the README, every page of docs/, and the benchmarks' README. */
const DOCUMENTS = ["README.md", ...readdirSync(join(REPO, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`), "bench/README.md"].filter((f) =>
  existsSync(join(REPO, f)),
);

/** The first command of "The two commands": the line that runs the main job. */
function firstCommand(): string {
  const section = README.slice(README.indexOf("## The two commands"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  const line = block.split("\n").find((l) => l.includes("scripts/run.sh"));
  if (!line) throw new Error("README: no scripts/run.sh line in The two commands");
  return line.trim();
}

/** A documented line may not hang the test: past this (under the test's own 600 s) it and its whole process group are ended. */
const LINE_TIMEOUT_MS = 540_000;

function sh(cwd: string, command: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Its own process group, so that what the line starts ends with it.
    const child = spawn("bash", ["-c", command], { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => {
      stderr += `\n[readme test] still running after ${LINE_TIMEOUT_MS / 1000} s: ended\n`;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, LINE_TIMEOUT_MS);
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The shell lines of the documents' ```sh blocks (continuations joined, comments dropped), each
 * with the document it comes from and the reason it cannot run here, if any: every other line is
 * run as written.
 */
function readmeShellLines(): { file: string; line: string; skip?: string }[] {
  const SKIP: [RegExp, string][] = [
    [/(^|\s)scripts\/test\.sh\b/, "the test suite itself"],
    [/^npm (pack|install -g)\b|\$\(npm root -g\)/, "installs the package into the machine's global npm prefix (test/e2e/package-install.test.ts packs and installs it into an empty prefix)"],
    [/^(buildah|docker) /, "builds, pushes or runs a container image (test/e2e/container-image.test.ts builds deploy/Dockerfile with buildah and runs it; no registry is reachable here)"],
    [/^node bench\//, "a benchmark (minutes)"],
    [/\bserve\b/, "a long-running process"],
    [/127\.0\.0\.1:8080/, "a request to a running serve (test/e2e/serve-operators.test.ts runs docs/serve.md's block against one)"],
    [/…|pul-|\$PULUMI_ACCESS_TOKEN|webhook register|api\.pulumi\.com|example\.com/, "needs a Pulumi Cloud account or a placeholder filled in"],
  ];
  const lines: { file: string; line: string; skip?: string }[] = [];
  const blocks = DOCUMENTS.flatMap((file) => [...readFileSync(join(REPO, file), "utf8").matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => ({ file, block: m[1]! })));
  for (const { file, block } of blocks) {
    // One command per entry: continuation lines joined, and lines inside an open single quote (a
    // JSON body spread over lines) kept with the command they belong to. Quotes are counted in the
    // code only: an apostrophe in a comment ("# the organisation's …") opens nothing.
    const joined: string[] = [];
    const code = (entry: string) => entry.replace(/(^|\s)#[^\n]*$/gm, "");
    for (const l of block.replace(/\\\n\s*/g, " ").split("\n")) {
      const open = joined.length > 0 && (code(joined.at(-1)!).split("'").length - 1) % 2 === 1;
      if (open) joined[joined.length - 1] += "\n" + l;
      else joined.push(l);
    }
    for (const raw of joined) {
      const line = raw.replace(/\s+#.*$/, "").trim();
      if (!line || line.startsWith("#")) continue;
      const skip = SKIP.find(([re]) => re.test(line))?.[1];
      lines.push({ file, line, ...(skip ? { skip } : {}) });
    }
  }
  return lines;
}

/** A clone as a new user has it: the files git tracks, sharing the repository's installed packages and build. */
function cloneInto(copy: string): void {
  const files = execFileSync("git", ["ls-files", "-z"], { cwd: REPO, encoding: "utf8" }).split("\0").filter(Boolean);
  for (const f of files) cpSync(join(REPO, f), join(copy, f), { recursive: true });
  symlinkSync(join(REPO, "node_modules"), join(copy, "node_modules"));
  symlinkSync(join(REPO, "dist"), join(copy, "dist"));
}

describe("the README's quick start", () => {
  const dir = mkdtempSync(join(tmpdir(), "esc-sync-readme-"));
  const copy = join(dir, "esc-sync");
  const second = join(dir, "esc-sync-second-clone");
  const { node } = recordedToolchain();
  const env: NodeJS.ProcessEnv = {
    PATH: `${join(node, "..")}:${process.env.PATH}`,
    HOME: process.env.HOME,
    CI: "true",
    // A new user's state folder: empty.
    XDG_STATE_HOME: join(dir, "state-home"),
    ...(process.env.ESC_SYNC_TOOLS_DIR ? { ESC_SYNC_TOOLS_DIR: process.env.ESC_SYNC_TOOLS_DIR } : {}),
  };

  beforeAll(() => {
    cloneInto(copy);
    cloneInto(second);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("the first command syncs the embedded default, as the README says", async () => {
    const command = firstCommand();
    expect(command).toMatch(/^PULUMI_CONFIG_PASSPHRASE=\S+ scripts\/run\.sh sync$/);
    const first = await sh(copy, command, env);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toMatch(/5 pair\(s\): 5 created/);
    for (const f of ["out/payments/dev.env", "out/payments/dev.config.json", "out/payments/prod.env", "out/checkout/staging.env"]) {
      expect(statSync(join(copy, f)).mode & 0o777, f).toBe(0o600);
    }
    expect(readFileSync(join(copy, "out/payments/dev.env"), "utf8")).toMatch(/^DATABASE_URL=postgres:\/\//m);

    // "Run it again and every pair reports unchanged"
    const again = await sh(copy, command, env);
    expect(again.stdout).toMatch(/5 pair\(s\): 5 unchanged/);

    // "edit a value in environments/ and only the pairs that use it update"
    const file = join(copy, "environments/payments/dev.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace(/logLevel: \S+/, "logLevel: warn-readme-test"));
    const edited = await sh(copy, command, env);
    expect(edited.code, edited.stdout + edited.stderr).toBe(0);
    expect(edited.stdout).toMatch(/5 pair\(s\): (?=.*4 unchanged)(?=.*1 updated)/);
    expect(readFileSync(join(copy, "out/payments/dev.env"), "utf8")).toContain("warn-readme-test");

    // The README's way to look at the state.
    const passphrase = /^PULUMI_CONFIG_PASSPHRASE=(\S+)/.exec(command)![1]!;
    const ls = await sh(copy, "npx esc-sync pulumi stack ls --all", { ...env, PULUMI_CONFIG_PASSPHRASE: passphrase });
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout.split("\n").filter((l) => l.includes("organization/esc-sync/"))).toHaveLength(5);

    // stdout carries exactly the command's output, provisioning included.
    const plan = await sh(copy, `PULUMI_CONFIG_PASSPHRASE=${passphrase} scripts/run.sh plan --output json`, env);
    expect(plan.code, plan.stderr).toBe(0);
    const parsed = JSON.parse(plan.stdout) as { steps: { decision: { action: string } }[] };
    expect(parsed.steps.map((s) => s.decision.action)).toEqual(["skip-unchanged", "skip-unchanged", "skip-unchanged", "skip-unchanged", "skip-unchanged"]);
    expect(plan.stderr).toMatch(/\[provision\]/);
  });

  it("a second clone under the same user passes the first command too, and touches nothing of the first", async () => {
    const command = firstCommand();
    const firstFiles = ["out/payments/dev.env", "out/payments/prod.env", "out/checkout/staging.env"].map((f) => [f, readFileSync(join(copy, f), "utf8"), statSync(join(copy, f)).mtimeMs] as const);
    const stacksOf = (clone: string) => readdirSync(join(clone, ".esc-sync/state/.pulumi/stacks/esc-sync")).filter((f) => f.endsWith(".json")).sort();
    const firstStacks = stacksOf(copy).map((f) => [f, statSync(join(copy, ".esc-sync/state/.pulumi/stacks/esc-sync", f)).mtimeMs] as const);

    const r = await sh(second, command, env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/5 pair\(s\): 5 created/);
    expect(readFileSync(join(second, "out/payments/dev.env"), "utf8")).toMatch(/^DATABASE_URL=postgres:\/\//m);
    // Each clone keeps its stacks beside its manifest, git-ignored.
    expect(stacksOf(second)).toHaveLength(5);
    expect(execFileSync("git", ["check-ignore", "-q", ".esc-sync/state/.pulumi/meta.yaml"], { cwd: REPO, stdio: "ignore" })).toBeDefined();
    for (const [f, text, mtime] of firstFiles) {
      expect(readFileSync(join(copy, f), "utf8"), f).toBe(text);
      expect(statSync(join(copy, f)).mtimeMs, f).toBe(mtime);
    }
    for (const [f, mtime] of firstStacks) expect(statSync(join(copy, ".esc-sync/state/.pulumi/stacks/esc-sync", f)).mtimeMs, f).toBe(mtime);
  });

  it("every shell line of the README and of docs/ that can run here runs as written (exit 0)", async () => {
    const lines = readmeShellLines();
    const runnable = lines.filter((l) => !l.skip);
    // The pages the README's text moved to are read too (their lines are not silently dropped).
    expect([...new Set(lines.map((l) => l.file))]).toEqual(expect.arrayContaining(["README.md", "docs/inventory.md", "docs/serve.md", "bench/README.md"]));
    // What was run and what was skipped, and why, for whoever reads the test's output.
    for (const l of lines) console.log(`${l.skip ? `skip (${l.skip})` : "run"}: ${l.file}: ${l.line.split("\n")[0]}`);
    // What the README shows a new user first, at least: the quick start and looking at the state.
    expect(runnable.map((l) => l.line)).toEqual(
      expect.arrayContaining([firstCommand(), "npx esc-sync plan", "npx esc-sync sync --dry-run", "npx esc-sync pulumi stack ls --all", "npx esc-sync pulumi stack export --stack payments.dev.dotenv"]),
    );
    const passphrase = /^PULUMI_CONFIG_PASSPHRASE=(\S+)/.exec(firstCommand())![1]!;
    for (const { file, line } of runnable) {
      // `esc-sync` on its own is the README's name for the installed command: here, `npx esc-sync`.
      const r = await sh(copy, `esc-sync() { npx esc-sync "$@"; }; ${line}`, { ...env, PULUMI_CONFIG_PASSPHRASE: passphrase });
      expect(r.code, `${file}: ${line}\n${r.stdout}${r.stderr}`).toBe(0);
    }
  });
});
