/**
 * The container image (deploy/Dockerfile), built and run here as far as this machine allows: no
 * image registry is reachable and the OCI runtime cannot start a container (crun's setrlimit is
 * refused), but buildah builds images and runs commands in them with `--isolation chroot`.
 *
 * 1. The base: scripts/image/base.sh commits a debootstrap'd Debian bookworm (minbase, from
 *    Debian's packages, cached in the tools folder) under a tag of this run, passed as BASE_IMAGE.
 * 2. The build context: the repository's sources, this machine's pinned Pulumi CLI as
 *    deploy/pulumi-cli/bin/pulumi (get.pulumi.com is unreachable), and the machine's extra CA
 *    certificates as deploy/ca-certificates/*.crt (its TLS-inspecting proxy; none when absent).
 * 3. `buildah bud`, then the image's metadata: non-root user, ENTRYPOINT, OCI labels, volumes.
 * 4. `esc-sync --version` as the image's user; then the embedded default (a copy in a host folder
 *    mounted at /work) synced with the container's root filesystem read-only and only /work, /tmp
 *    and /home/esc-sync writable. buildah 1.28 has no read-only flag, so the test remounts the
 *    container's root read-only itself (after creating /run/.containerenv, the one mount point
 *    buildah would create) — and buildah 1.28 then panics in its cleanup after the command has run
 *    (a nil logger in Builder.Run's deferred cleanup, exit 2), so the command's own exit status is
 *    written to /work and read from there; everything else is checked from outside with plain reads.
 * Images and containers made here are removed afterwards; no process of the container is left.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, recordedToolchain } from "../support/toolchain.js";

const UID = 10001;
const run = Math.random().toString(36).slice(2, 8);
const BASE = `localhost/esc-sync-test-base:${run}`;
const IMAGE = `localhost/esc-sync-test:${run}`;
const CANARY = "demo-payments-dev-password"; // a secret of environments/payments/dev.yaml

let skipReason: string | undefined;
let scratch: string;
let containers: string[] = [];
let buildLog = "";

function buildah(args: string[], opts: { allowFail?: boolean } = {}) {
  const r = spawnSync("buildah", args, { encoding: "utf8", timeout: 900_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`buildah ${args.slice(0, 2).join(" ")} failed (${r.status}): ${(r.stderr || r.stdout).trim().split("\n").slice(-5).join(" | ")}`);
  return r;
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "esc-sync-image-"));
  const record = join(scratch, "base.env");
  const base = spawnSync("bash", [join(REPO, "scripts", "image", "base.sh"), BASE], { encoding: "utf8", env: { ...process.env, ESC_SYNC_IMAGE_RECORD: record }, timeout: 900_000 });
  if (base.status !== 0) {
    const reason = /ESC_SYNC_IMAGE_ERROR=(.*)/.exec(existsSync(record) ? readFileSync(record, "utf8") : "")?.[1] ?? base.stderr.trim();
    // Only a machine without buildah (and no way to install it) skips; any other failure fails.
    if (spawnSync("bash", ["-c", "command -v buildah"]).status !== 0) {
      skipReason = `buildah is missing and could not be installed: ${reason}`;
      return;
    }
    throw new Error(`scripts/image/base.sh: ${reason}`);
  }
  const context = join(scratch, "context");
  mkdirSync(context);
  for (const f of ["package.json", "package-lock.json", "tsconfig.json", "orchestrator", "programs", "bin", "schema", "environments.yaml", "environments", "LICENSE", "README.md", "deploy", ".dockerignore"]) {
    cpSync(join(REPO, f), join(context, f), { recursive: true });
  }
  mkdirSync(join(context, "deploy", "pulumi-cli", "bin"), { recursive: true });
  copyFileSync(join(recordedToolchain().pulumiRoot, "bin", "pulumi"), join(context, "deploy", "pulumi-cli", "bin", "pulumi"));
  chmodSync(join(context, "deploy", "pulumi-cli", "bin", "pulumi"), 0o755);
  const cas = "/usr/local/share/ca-certificates";
  if (existsSync(cas)) for (const f of readdirSync(cas).filter((f) => f.endsWith(".crt"))) copyFileSync(join(cas, f), join(context, "deploy", "ca-certificates", f));
  const built = buildah(["bud", "--isolation", "chroot", "-f", join(context, "deploy", "Dockerfile"), "--build-arg", `BASE_IMAGE=${BASE}`, "--build-arg", "REVISION=test", "-t", IMAGE, context], { allowFail: true });
  buildLog = built.stdout + built.stderr;
  if (built.status !== 0) throw new Error(`buildah bud failed: ${buildLog.trim().split("\n").slice(-8).join(" | ")}`);
}, 1_800_000);

afterAll(() => {
  for (const c of containers) {
    const mnt = spawnSync("buildah", ["mount", c], { encoding: "utf8" }).stdout.trim();
    if (mnt) for (let i = 0; i < 3 && spawnSync("umount", [mnt]).status === 0; i++);
    buildah(["umount", c], { allowFail: true });
    buildah(["rm", c], { allowFail: true });
  }
  buildah(["rmi", IMAGE], { allowFail: true });
  buildah(["rmi", BASE], { allowFail: true });
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  if (!skipReason) {
    const names = buildah(["images", "--format", "{{.Name}}:{{.Tag}}"], { allowFail: true }).stdout;
    expect(names).not.toContain(run);
    expect(buildah(["containers", "--format", "{{.ImageName}}"], { allowFail: true }).stdout).not.toContain(run);
  }
}, 300_000);

/** A new working container of the image. */
function container(): string {
  const c = buildah(["from", "--quiet", IMAGE]).stdout.trim();
  containers.push(c);
  return c;
}

/** Host folders for the image's writable mounts, owned by its user as a volume would be. */
function writableMounts() {
  const dir = mkdtempSync(join(scratch, "mounts-"));
  const work = join(dir, "work");
  const home = join(dir, "home");
  const tmp = join(dir, "tmp");
  for (const d of [work, home, tmp]) mkdirSync(d);
  cpSync(join(REPO, "environments.yaml"), join(work, "environments.yaml"));
  cpSync(join(REPO, "environments"), join(work, "environments"), { recursive: true });
  for (const d of [work, home, tmp]) execFileSync("chown", ["-R", `${UID}:${UID}`, d]);
  chmodSync(tmp, 0o1777);
  return { work, home, tmp, args: ["-v", `${work}:/work`, "-v", `${home}:/home/esc-sync`, "-v", `${tmp}:/tmp`] };
}

/** Processes whose root directory is this container's root filesystem. */
function processesIn(root: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${p}/root`) === root) pids.push(Number(p));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

describe("the container image", () => {
  it("is labelled, runs as a non-root user, and enters through esc-sync", (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const info = JSON.parse(buildah(["inspect", "--type", "image", IMAGE]).stdout);
    const config = info.OCIv1.config;
    expect(config.User).toBe(`${UID}:${UID}`);
    expect(config.Entrypoint).toEqual(["esc-sync"]);
    expect(config.WorkingDir).toBe("/work");
    expect(Object.keys(config.Volumes).sort()).toEqual(["/home/esc-sync", "/tmp", "/work"]);
    const labels = config.Labels as Record<string, string>;
    for (const l of ["title", "description", "version", "revision", "licenses", "source"]) expect(labels[`org.opencontainers.image.${l}`], l).toBeTruthy();
    expect(labels["org.opencontainers.image.version"]).toBe(JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version);
    expect(labels["org.opencontainers.image.revision"]).toBe("test");
  });

  it("runs esc-sync --version as its user", (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const c = container();
    const r = buildah(["run", "--isolation", "chroot", "--user", `${UID}:${UID}`, c, "--", "sh", "-c", "id -u; esc-sync --version; pulumi version; node --version; sha256sum /opt/pulumi/bin/pulumi"]);
    const [uid, version, pulumi, node, sum] = r.stdout.trim().split("\n");
    // The prepared CLI of the build context, not one the installer fetched.
    expect(sum!.split(" ")[0]).toBe(createHash("sha256").update(readFileSync(join(recordedToolchain().pulumiRoot, "bin", "pulumi"))).digest("hex"));
    expect(uid).toBe(String(UID));
    expect(version).toBe(JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version);
    expect(pulumi).toBe(`v${/PULUMI_VERSION=(\S+)/.exec(readFileSync(join(REPO, "scripts", "provision.sh"), "utf8"))![1]}`);
    expect(Number(/^v(\d+)/.exec(node!)![1])).toBeGreaterThanOrEqual(22);
  });

  it("syncs the embedded default with a read-only root, writing only to its mounts", (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const c = container();
    const m = writableMounts();
    const root = buildah(["mount", c]).stdout.trim();
    // The one mount point buildah run creates in the root; then the root is made read-only.
    execFileSync("touch", [join(root, "run", ".containerenv")]);
    execFileSync("mount", ["--bind", root, root]);
    execFileSync("mount", ["-o", "remount,bind,ro", root]);
    const script = [
      "if touch /probe 2>/dev/null; then echo root-writable; else echo root-read-only; fi",
      "if touch /opt/esc-sync/probe 2>/dev/null; then echo app-writable; else echo app-read-only; fi",
      "esc-sync sync; echo $? > /work/.sync-status",
      "esc-sync sync --output json > /work/second.json; echo $? > /work/.second-status",
    ].join("\n");
    const r = buildah(["run", "--isolation", "chroot", "--user", `${UID}:${UID}`, "-e", "PULUMI_CONFIG_PASSPHRASE=image-test", ...m.args, c, "--", "sh", "-c", script], { allowFail: true });
    execFileSync("umount", [root]);
    expect(processesIn(root)).toEqual([]);
    expect(r.stdout).toContain("root-read-only");
    expect(r.stdout).toContain("app-read-only");
    expect(readFileSync(join(m.work, ".sync-status"), "utf8").trim(), r.stdout + r.stderr).toBe("0");
    expect(readFileSync(join(m.work, ".second-status"), "utf8").trim()).toBe("0");
    // The files, read from outside: written by the image's user, mode 0600, the embedded default's values.
    const env = join(m.work, "out", "payments", "dev.env");
    expect(statSync(env).uid).toBe(UID);
    expect(statSync(env).mode & 0o777).toBe(0o600);
    expect(readFileSync(env, "utf8")).toMatch(/^LOG_LEVEL=debug$/m);
    expect(readFileSync(env, "utf8")).toMatch(/^AWS_REGION=eu-west-1$/m);
    expect(JSON.parse(readFileSync(join(m.work, "out", "payments", "dev.config.json"), "utf8")).region).toBe("eu-west-1");
    expect(readdirSync(join(m.work, "out", "checkout"))).toEqual(["staging.env"]);
    expect(existsSync(join(m.work, ".esc-sync", "state"))).toBe(true);
    const second = JSON.parse(readFileSync(join(m.work, "second.json"), "utf8"));
    expect(second.summary.byStatus).toEqual({ unchanged: second.summary.pairs });
    // No secret in what the run printed, nor in plaintext in the state.
    expect(r.stdout + r.stderr).not.toContain(CANARY);
    const grep = spawnSync("grep", ["-rl", CANARY, join(m.work, ".esc-sync")], { encoding: "utf8" });
    expect(grep.stdout).toBe("");
    expect(grep.status).toBe(1); // 1: no match (2 would be an error)
  });
});
