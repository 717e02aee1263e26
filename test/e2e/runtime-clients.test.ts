/**
 * Inline runs through the real Automation API and Pulumi CLI (a file backend): the SDK leaves each
 * run's gRPC clients (resource monitor, engine) open, and RuntimeClients closes them. Found by the
 * soak (test/faults/soak.test.ts): every open client's 30-minute idle timer kept the run's whole
 * runtime store alive, and serve's heap after a full GC grew by 13% in 120 s.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as automation from "@pulumi/pulumi/automation/index.js";
import { afterAll, describe, expect, it } from "vitest";
import { RuntimeClients } from "../../orchestrator/runner/runtime-clients.js";
import { withWorkDir, workspaceOptions } from "../../orchestrator/runner/stack.js";
import { resolveToolchain } from "../../orchestrator/runner/toolchain.js";
import { recordedToolchain } from "../support/toolchain.js";

/** grpc-js `connectivityState.SHUTDOWN`: what a closed channel reports. */
const SHUTDOWN = 4;

interface GrpcClient {
  getChannel(): { getConnectivityState(tryToConnect: boolean): number };
}

const root = mkdtempSync(join(tmpdir(), "esc-sync-runtime-clients-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The clients one inline `up` of an empty program used, and what closing them is left to `clients`. */
async function up(stackName: string, clients?: RuntimeClients): Promise<GrpcClient[]> {
  const toolchain = await resolveToolchain({ ...process.env, ESC_SYNC_PULUMI_ROOT: recordedToolchain().pulumiRoot });
  const used: GrpcClient[] = [];
  const program = async () => {
    used.push(pulumi.runtime.getMonitor() as unknown as GrpcClient, pulumi.runtime.getEngine() as unknown as GrpcClient);
    return {};
  };
  await withWorkDir(stackName, async (dir) => {
    const options = workspaceOptions({ url: `file://${root}`, secretsProvider: "passphrase" }, toolchain, dir, clients ? clients.wrap(program) : program);
    const ws = await automation.LocalWorkspace.create({ ...options, envVars: { ...options.envVars, PULUMI_CONFIG_PASSPHRASE: "runtime-clients-test" } });
    const stack = await automation.Stack.create(stackName, ws);
    await stack.up({ color: "never" });
  });
  return used;
}

describe("the gRPC clients of inline runs", () => {
  it("are left open by the Pulumi SDK after an up (why RuntimeClients exists: drop it when this fails)", async () => {
    const used = await up("left-open");
    expect(used).toHaveLength(2);
    for (const client of used) expect(client.getChannel().getConnectivityState(false)).not.toBe(SHUTDOWN);
  });

  it("are all closed by RuntimeClients, over several runs", async () => {
    const clients = new RuntimeClients();
    const used: GrpcClient[] = [];
    for (const name of ["closed-1", "closed-2", "closed-3"]) used.push(...(await up(name, clients)));
    // Two per run (monitor and engine), each noted once.
    expect(used).toHaveLength(6);
    expect(new Set(used).size).toBe(6);
    expect(clients.open).toBe(6);
    clients.closeAll();
    expect(clients.open).toBe(0);
    for (const client of used) expect(client.getChannel().getConnectivityState(false)).toBe(SHUTDOWN);
  });
});
