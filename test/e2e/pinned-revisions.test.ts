/**
 * A binding pinned to a revision tag, end to end through the real CLI, the real `@pulumi/esc-sdk`
 * and the loopback ESC API: the pinned pair writes the tagged revision while another binding writes
 * the latest; the run plan, the stack record and the reports name the revision; drift compares
 * against the pinned revision; moving the tag and syncing again writes the new revision.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EscClient } from "../../orchestrator/sources/esc-client.js";
import { startEscServer, type EscServer } from "../support/esc-server/index.js";
import { Sandbox, statuses } from "../support/sandbox.js";

const TOKEN = "pul-canary-token-pin-7c1";
const SECRET = "canary-pinned-secret-4e2b";
const ORG = "acme";
const ref = { org: ORG, project: "team", name: "app" };

const definition = (n: number) => `values:\n  environmentVariables:\n    V: v${n}\n    KEY:\n      fn::secret: ${SECRET}-${n}\n`;

interface PlanJson {
  steps: { stack: string; revision?: { number: number; tag?: string; pinned?: boolean }; decision: { action: string } }[];
}
interface DriftJson {
  pairs: { stack: string; status: string; revision?: { number: number; tag?: string } }[];
}

describe("a binding pinned to a revision tag", () => {
  const box = new Sandbox({ PULUMI_ACCESS_TOKEN: TOKEN });
  let server: EscServer;
  let client: EscClient;

  /** Creates or moves a revision tag, as `esc env version tag` does. */
  const tag = async (name: string, revision: number, method: "POST" | "PATCH") => {
    const base = `${server.url}/api/esc/environments/${ORG}/team/app/versions/tags`;
    const res = await fetch(method === "POST" ? base : `${base}/${name}`, {
      method,
      headers: { Authorization: `token ${TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify(method === "POST" ? { name, revision } : { revision }),
    });
    expect(res.status, `${method} tag ${name}`).toBe(200);
  };
  /** The esc-sync record of a stack, read from the `file://` backend's checkpoint. */
  const record = (stack: string) => {
    const find = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? find(join(d, e.name)) : e.name === `${stack}.json` ? [join(d, e.name)] : []));
    const [file] = find(box.backendDir);
    expect(file, `state of ${stack}`).toBeDefined();
    const checkpoint = JSON.parse(readFileSync(file!, "utf8")) as { checkpoint: { latest: { resources: { type: string; outputs?: Record<string, unknown> }[] } } };
    const root = checkpoint.checkpoint.latest.resources.find((r) => r.type === "pulumi:pulumi:Stack");
    return root?.outputs?.["esc-sync"] as { revision?: unknown } | undefined;
  };
  const texts: string[] = [];

  beforeAll(async () => {
    box.writeEnvironment("team", "app", definition(1));
    server = await startEscServer({ folder: box.envDir, org: ORG, token: TOKEN });
    client = new EscClient({ org: ORG, token: TOKEN, apiUrl: server.url });
    // Revision 2 is the latest; `stable` stays at revision 1 until promoted.
    await client.updateEnvironmentYaml(ref, definition(2));
    await tag("stable", 1, "POST");
    box.writeManifest(`
version: 1
source: { kind: pulumi-cloud, org: ${ORG}, apiUrl: "${server.url}" }
state: { backend: file://./state }
targets:
  pinned: { kind: file, path: "out/pinned-{env}.env" }
  latest: { kind: file, path: "out/latest-{env}.env" }
bindings:
  - { environments: "team/*", target: pinned, revision: stable }
  - { environments: "team/*", target: latest }
`);
  });
  afterAll(async () => {
    await server.close();
    box.cleanup();
  });

  it("syncs the tagged revision, names it in the plan, the record and the reports, and follows the tag when it moves", async () => {
    const planJson = async () => {
      const r = await box.run(["plan", "--output", "json"]);
      texts.push(r.stdout, r.stderr);
      expect(r.code, r.stderr).toBe(0);
      return Object.fromEntries((JSON.parse(r.stdout) as PlanJson).steps.map((s) => [s.stack, s]));
    };
    const driftJson = async () => {
      const r = await box.run(["drift", "--format", "json"]);
      texts.push(r.stdout, r.stderr);
      return { code: r.code, pairs: Object.fromEntries((JSON.parse(r.stdout) as DriftJson).pairs.map((p) => [p.stack, p])) };
    };

    const plan = await planJson();
    expect(plan["team.app.pinned"]!.revision).toEqual({ number: 1, tag: "stable", pinned: true });
    expect(plan["team.app.latest"]!.revision).toEqual({ number: 2 });

    const first = await box.syncJson();
    texts.push(first.result.stdout, first.result.stderr);
    expect(first.result.code, first.result.stderr).toBe(0);
    expect(statuses(first.report)).toEqual({ "team.app.pinned": "created", "team.app.latest": "created" });
    expect(box.read("out/pinned-app.env")).toBe(`KEY=${SECRET}-1\nV=v1\n`);
    expect(box.read("out/latest-app.env")).toBe(`KEY=${SECRET}-2\nV=v2\n`);
    const reported = Object.fromEntries((first.report.pairs as { stack: string; revision?: unknown }[]).map((p) => [p.stack, p.revision]));
    expect(reported["team.app.pinned"]).toEqual({ number: 1, tag: "stable", pinned: true });
    expect(record("team.app.pinned")?.revision).toEqual({ number: 1, tag: "stable", pinned: true });
    expect(record("team.app.latest")?.revision).toEqual({ number: 2 });

    // Drift compares the pinned pair with revision 1, though the latest differs: in sync.
    const calm = await driftJson();
    expect(calm.code).toBe(0);
    expect(calm.pairs["team.app.pinned"]).toMatchObject({ status: "in-sync", revision: { number: 1, tag: "stable" } });

    // Promote revision 2: the pinned pair is now behind its tag, which drift and the plan say.
    await tag("stable", 2, "PATCH");
    const behind = await driftJson();
    expect(behind.code).toBe(2);
    expect(behind.pairs["team.app.pinned"]).toMatchObject({ status: "pending", revision: { number: 2, tag: "stable" } });
    expect(behind.pairs["team.app.latest"]!.status).toBe("in-sync");
    const moved = await planJson();
    expect(moved["team.app.pinned"]!.decision.action).toBe("run");
    expect(moved["team.app.latest"]!.decision.action).toBe("skip-unchanged");

    const second = await box.syncJson();
    texts.push(second.result.stdout, second.result.stderr);
    expect(second.result.code, second.result.stderr).toBe(0);
    expect(statuses(second.report)).toEqual({ "team.app.pinned": "updated", "team.app.latest": "unchanged" });
    expect(box.read("out/pinned-app.env")).toBe(`KEY=${SECRET}-2\nV=v2\n`);
    expect(record("team.app.pinned")?.revision).toEqual({ number: 2, tag: "stable", pinned: true });

    for (const text of [...texts, box.stateText()]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(SECRET);
    }
  });
});
