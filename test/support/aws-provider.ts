/**
 * The real AWS provider for the tests that write into moto: the `pulumi-resource-aws` that
 * scripts/aws-provider/build.sh built (scripts/test.sh runs it and records the outcome in
 * `.esc-sync/aws-provider.env`). It is the upstream Terraform AWS provider's logic
 * (hashicorp/terraform-provider-aws, cut to secretsmanager and ssm) through the real Pulumi
 * Terraform bridge, NOT pulumi-aws's release: pulumi-aws's own patches and schema overrides are
 * absent. The mock tests (test/unit/programs) keep pinning the SDK's shapes.
 *
 * Each test file installs it into a PULUMI_HOME of its own (`pulumi plugin install resource aws
 * 7.48.0 --file`), with PULUMI_IGNORE_AMBIENT_PLUGINS so that no other `pulumi-resource-aws` on
 * PATH is used. The installed plugin is a small wrapper that logs each start (pid, time) and
 * then runs the binary, so tests and the bench can count provider processes.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO, recordedToolchain } from "./toolchain.js";

/** The plugin version @pulumi/aws 7.48.0 asks for. */
export const AWS_PLUGIN_VERSION = "7.48.0";

/** `KEY=value` lines of a file esc-sync's scripts record; undefined when it does not exist. */
export function readRecord(file: string): Record<string, string> | undefined {
  if (!existsSync(file)) return undefined;
  return Object.fromEntries(
    readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

/** The built provider binary; throws the build's own reason when it could not be built. */
export function builtAwsProvider(): string {
  const file = join(REPO, ".esc-sync", "aws-provider.env");
  const record = readRecord(file);
  if (record === undefined) {
    throw new Error(`${file} is missing: run scripts/test.sh (it runs scripts/aws-provider/build.sh .esc-sync/aws-provider.env)`);
  }
  if (record.ESC_SYNC_AWS_PROVIDER_ERROR) throw new Error(`the AWS provider could not be built: ${record.ESC_SYNC_AWS_PROVIDER_ERROR}`);
  const binary = record.ESC_SYNC_AWS_PROVIDER;
  if (!binary || !existsSync(binary)) throw new Error(`the AWS provider recorded in ${file} (${binary}) is gone: run scripts/aws-provider/build.sh again`);
  return binary;
}

export interface AwsPulumiHome {
  /** What the esc-sync process needs: PULUMI_HOME and PULUMI_IGNORE_AMBIENT_PLUGINS. */
  readonly env: Record<string, string>;
  /** One line per provider process started: `<pid> <epoch-ns>`. */
  readonly startLog: string;
  /** How many provider processes were started so far. */
  starts(): number;
  cleanup(): void;
}

/** A fresh PULUMI_HOME with the built AWS provider installed as `aws` 7.48.0. */
export function awsPulumiHome(): AwsPulumiHome {
  const binary = builtAwsProvider();
  const dir = mkdtempSync(join(tmpdir(), "esc-sync-aws-home-"));
  const home = join(dir, "pulumi-home");
  const startLog = join(dir, "provider-starts.log");
  const wrapper = join(dir, "pulumi-resource-aws");
  mkdirSync(home);
  writeFileSync(wrapper, `#!/bin/sh\necho "$$ $(date +%s%N)" >> "${startLog}"\nexec "${binary}" "$@"\n`);
  chmodSync(wrapper, 0o755);
  const env = { PULUMI_HOME: home, PULUMI_IGNORE_AMBIENT_PLUGINS: "true" };
  const pulumi = join(recordedToolchain().pulumiRoot, "bin", "pulumi");
  execFileSync(pulumi, ["plugin", "install", "resource", "aws", AWS_PLUGIN_VERSION, "--file", wrapper], {
    env: { ...process.env, ...env, PULUMI_SKIP_UPDATE_CHECK: "true" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  return {
    env,
    startLog,
    starts: () => (existsSync(startLog) ? readFileSync(startLog, "utf8").split("\n").filter(Boolean).length : 0),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
