/**
 * What the end-to-end tests of the AWS kinds through the real provider share: a moto server, a
 * PULUMI_HOME holding the built provider (see aws-provider.ts: the upstream Terraform provider's
 * logic through the real bridge, not pulumi-aws's release), a sandbox whose esc-sync runs talk
 * to both, a `pulumi` that logs its calls, plain AWS SDK clients to read moto back with (never
 * esc-sync), and every output collected for the canary check.
 */
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, beforeEach, expect } from "vitest";
import { awsPulumiHome, type AwsPulumiHome } from "./aws-provider.js";
import { startMoto, type Moto } from "./moto.js";
import { loggingPulumi, type PulumiLog } from "./pulumi-log.js";
import { Sandbox, type CliResult, type SyncReport } from "./sandbox.js";

export interface AwsWorld {
  moto: Moto;
  home: AwsPulumiHome;
  box: Sandbox;
  pulumi: PulumiLog;
  /** Plain SDK clients on moto, in a region. */
  sm(region: string): SecretsManagerClient;
  ssm(region: string): SSMClient;
  /** Runs the CLI in the sandbox and keeps its output for the canary check. */
  run(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult>;
  /** `sync --output json`, parsed. */
  sync(extra?: string[]): Promise<{ result: CliResult; report: SyncReport }>;
  /** `drift --format json`, parsed. */
  drift(extra?: string[]): Promise<{ result: CliResult; report: DriftReport }>;
  /** Every output seen so far. */
  readonly outputs: string[];
  stop(): Promise<void>;
}

export interface DriftReport {
  summary: { pairs: number; exitCode: number; byStatus: Record<string, number> };
  pairs: { stack: string; status: string; message?: string; entries: { name: string; status: string; reason?: string }[] }[];
}

export async function startAwsWorld(): Promise<AwsWorld> {
  // The provider first: when it could not be built, this throws its reason before anything starts.
  const home = awsPulumiHome();
  let moto: Moto;
  try {
    moto = await startMoto();
  } catch (err) {
    home.cleanup();
    throw err;
  }
  const box = new Sandbox({
    ...moto.env,
    ...home.env,
    // Nothing of the machine's own AWS setup may leak in.
    AWS_CONFIG_FILE: "/nonexistent/aws-config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
  });
  const pulumi = loggingPulumi(box.dir);
  box.env.ESC_SYNC_PULUMI_ROOT = pulumi.root;
  const outputs: string[] = [];
  const clients: { destroy(): void }[] = [];
  const config = (region: string) => ({ endpoint: moto.url, region, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
  const run = async (args: string[], env?: NodeJS.ProcessEnv) => {
    const result = await box.run(args, env ? { env } : {});
    outputs.push(result.stdout, result.stderr);
    return result;
  };
  return {
    moto,
    home,
    box,
    pulumi,
    outputs,
    sm: (region) => {
      const c = new SecretsManagerClient(config(region));
      clients.push(c);
      return c;
    },
    ssm: (region) => {
      const c = new SSMClient(config(region));
      clients.push(c);
      return c;
    },
    run,
    async sync(extra = []) {
      const result = await run(["sync", "--output", "json", ...extra]);
      try {
        return { result, report: JSON.parse(result.stdout) as SyncReport };
      } catch {
        throw new Error(`sync printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
      }
    },
    async drift(extra = []) {
      const result = await run(["drift", "--format", "json", ...extra]);
      try {
        return { result, report: JSON.parse(result.stdout) as DriftReport };
      } catch {
        throw new Error(`drift printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
      }
    },
    async stop() {
      for (const c of clients) c.destroy();
      await moto.stop();
      home.cleanup();
      box.cleanup();
    },
  };
}

/** Nothing of `canaries` in any output seen, nor in the state's plaintext. */
export function expectNoCanary(world: AwsWorld, canaries: readonly string[]): void {
  const all = [...world.outputs, world.box.stateText()].join("\n");
  expect(all.length).toBeGreaterThan(0);
  for (const canary of canaries) expect(all, "a canary value leaked").not.toContain(canary);
}

/** The engine operations (`up`, `preview`, `refresh`, `destroy`, `import`) among logged Pulumi calls. */
export function engineRuns(calls: readonly string[]): string[] {
  return calls.filter((c) => /^(up|update|preview|refresh|destroy|import)\b/.test(c));
}

/**
 * Starts one AWS world for a describe block and stops it afterwards. Without the provider (or
 * moto), every test of the block fails with the reason, rather than being skipped: CI must run them.
 * `setup` receives the started world and writes the block's environments and manifest.
 */
export function useAwsWorld(setup: (world: AwsWorld) => void): void {
  let world: AwsWorld | undefined;
  let unavailable: Error | undefined;
  beforeAll(async () => {
    try {
      world = await startAwsWorld();
      setup(world);
    } catch (err) {
      unavailable = err as Error;
    }
  });
  beforeEach(() => {
    if (unavailable) throw unavailable;
  });
  afterAll(async () => {
    await world?.stop();
  });
}
