/**
 * The installable package, as a user gets it: `npm pack` in the repository (its prepack builds
 * dist/), `npm install -g` of the tarball into an empty prefix, then the installed `esc-sync` run
 * from another folder with no clone around it: `--version`, `schema`, and the embedded default
 * (copied out of the installed package) synced into files, read back with plain reads. The Pulumi
 * CLI is found the way scripts/run.sh finds it (here: the tools cache, with no `pulumi` on PATH and
 * no ESC_SYNC_PULUMI_ROOT), and its absence is one line naming where it looked.
 *
 * The shell's `node` here is the system's (Node 20 on this machine): the launcher then runs the CLI
 * with the Node >= 22 of the tools cache, as it would on a user's machine after scripts/provision.sh.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, recordedToolchain } from "../support/toolchain.js";

const PULUMI_VERSION = /PULUMI_VERSION=(\S+)/.exec(readFileSync(join(REPO, "scripts", "provision.sh"), "utf8"))![1]!;
const tools = dirname(recordedToolchain().pulumiRoot);

let scratch: string;
let prefix: string;
let installed: string;
let tarball: string;

/** PATH with no `pulumi` on it: the system's folders, and the npm on this machine. */
function pathWithoutPulumi(): string {
  const npmDir = dirname(execFileSync("bash", ["-c", "command -v npm"], { encoding: "utf8" }).trim());
  return [join(prefix, "bin"), npmDir, "/usr/local/bin", "/usr/bin", "/bin"].filter((d) => !existsSync(join(d, "pulumi"))).join(delimiter);
}

function esc(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const base: NodeJS.ProcessEnv = { HOME: process.env.HOME, PATH: pathWithoutPulumi(), ESC_SYNC_TOOLS_DIR: tools, PULUMI_CONFIG_PASSPHRASE: "package-test", ...env };
  return spawnSync(join(prefix, "bin", "esc-sync"), args, { cwd, env: base, encoding: "utf8", timeout: 300_000 });
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "esc-sync-package-"));
  prefix = join(scratch, "prefix");
  const packed = execFileSync("npm", ["pack", "--json", "--pack-destination", scratch], { cwd: REPO, encoding: "utf8", env: { ...process.env, PATH: `${dirname(recordedToolchain().node)}${delimiter}${process.env.PATH}` } });
  tarball = join(scratch, JSON.parse(packed.slice(packed.indexOf("[")))[0].filename);
  execFileSync("npm", ["install", "-g", tarball, "--prefix", prefix, "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], { cwd: scratch, stdio: ["ignore", "ignore", "inherit"] });
  installed = join(prefix, "lib", "node_modules", "esc-sync");
}, 600_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("the npm package", () => {
  it("carries the built CLI, the schemas, the bin and the embedded default, and no tests or scripts", () => {
    const top = readdirSync(installed).filter((f) => f !== "node_modules").sort();
    expect(top).toEqual(["LICENSE", "README.md", "bin", "dist", "environments", "environments.yaml", "package.json", "schema"]);
    expect(existsSync(join(installed, "dist", "orchestrator", "cli.js"))).toBe(true);
    expect(readdirSync(join(installed, "dist")).sort()).toEqual(["orchestrator", "programs"]);
    expect(existsSync(join(installed, "node_modules", "@pulumi", "pulumi"))).toBe(true);
    // devDependencies stay behind.
    expect(existsSync(join(installed, "node_modules", "vitest"))).toBe(false);
    expect(existsSync(join(installed, "node_modules", "typescript"))).toBe(false);
  });

  it("runs --version and schema from another folder", () => {
    const elsewhere = mkdtempSync(join(scratch, "cwd-"));
    const version = esc(["--version"], elsewhere);
    expect(version.stderr).toBe("");
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version);
    const schema = esc(["schema"], elsewhere);
    expect(schema.status).toBe(0);
    const parsed = JSON.parse(schema.stdout);
    expect(parsed).toEqual(JSON.parse(readFileSync(join(REPO, "schema", "environments.schema.json"), "utf8")));
  });

  it("syncs the embedded default from a copy in another folder, finding the Pulumi CLI in the tools cache", () => {
    const work = mkdtempSync(join(scratch, "work-"));
    cpSync(join(installed, "environments.yaml"), join(work, "environments.yaml"));
    cpSync(join(installed, "environments"), join(work, "environments"), { recursive: true });
    const r = esc(["sync"], work);
    expect(r.status, r.stderr).toBe(0);
    const env = readFileSync(join(work, "out", "payments", "dev.env"), "utf8");
    expect(env).toMatch(/^LOG_LEVEL=debug$/m);
    expect(env).toMatch(/^AWS_REGION=eu-west-1$/m);
    const config = JSON.parse(readFileSync(join(work, "out", "payments", "dev.config.json"), "utf8"));
    expect(config.region).toBe("eu-west-1");
    expect(readdirSync(join(work, "out")).sort()).toEqual(["checkout", "payments"]);
    // The state went beside the manifest, not into the installed package.
    expect(existsSync(join(work, ".esc-sync", "state"))).toBe(true);
    expect(existsSync(join(installed, ".esc-sync"))).toBe(false);
    // A second run changes nothing.
    const again = esc(["sync", "--output", "json"], work);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).summary.byStatus).toEqual({ unchanged: JSON.parse(again.stdout).summary.pairs });
  });

  it("says in one line where it looked for the Pulumi CLI, and which version it needs, when there is none", () => {
    const empty = mkdtempSync(join(scratch, "no-tools-"));
    const work = mkdtempSync(join(scratch, "work-"));
    cpSync(join(installed, "environments.yaml"), join(work, "environments.yaml"));
    const r = esc(["sync"], work, { ESC_SYNC_TOOLS_DIR: empty, PATH: pathWithoutPulumi() });
    // The Pulumi check comes first, whichever Node is first on PATH (here the system's, then Node >= 22).
    const withNode = esc(["sync"], work, { ESC_SYNC_TOOLS_DIR: empty, PATH: `${dirname(recordedToolchain().node)}${delimiter}${pathWithoutPulumi()}` });
    expect(withNode.status).toBe(1);
    expect(withNode.stdout).toBe("");
    const lines = withNode.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`install Pulumi v${PULUMI_VERSION}`);
    expect(lines[0]).toContain(join(empty, `pulumi-v${PULUMI_VERSION}`, "bin", "pulumi"));
    expect(lines[0]).toContain("ESC_SYNC_PULUMI_ROOT");
    expect(lines[0]).toContain("on PATH");
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(existsSync(join(work, "out"))).toBe(false);
  });
});
