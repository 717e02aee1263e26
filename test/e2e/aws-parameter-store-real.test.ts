/**
 * `aws-parameter-store` through the real CLI, a real AWS provider and moto: the upstream
 * Terraform AWS provider's logic (hashicorp/terraform-provider-aws, secretsmanager and ssm) through
 * the real Pulumi Terraform bridge, built by scripts/aws-provider/build.sh. It is not
 * pulumi-aws's release (its patches and schema overrides are absent); the mock tests in
 * test/unit/programs keep pinning @pulumi/aws's shapes. What the store holds is read back from
 * moto with the plain AWS SDK, never through esc-sync.
 *
 * The tests run in order on one sandbox and one moto (moto's data cannot be snapshotted): each
 * starts where the one before left off.
 */
import { DeleteParameterCommand, DescribeParametersCommand, GetParameterCommand, ListTagsForResourceCommand, PutParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";
import { describe, expect, it } from "vitest";
import { engineRuns, expectNoCanary, type AwsWorld, useAwsWorld } from "../support/aws-e2e.js";
import { statuses } from "../support/sandbox.js";

const C = {
  db: "canary-ps-db-6a1f",
  api: "canary-ps-api-2c8e",
  doc: "canary-ps-doc-9d4b",
  edited: "canary-ps-edited-51aa",
  outOfBand: "canary-ps-oob-7e30",
  adopted: "canary-ps-adopted-0b6c",
  adoptedEsc: "canary-ps-adopted-esc-c93d",
  example: "canary-ps-example-13f7",
  exampleKey: "canary-ps-example-key-e2b0",
};
const REGION = "eu-west-1";
const MOVED_TO = "eu-central-1";

const manifest = (keysRegion: string, extra = "") => `
version: 1
source: { kind: local, folder: environments, org: acme }
state: { backend: file://./state }
targets:
  keys: { kind: aws-parameter-store, region: ${keysRegion}, pathPrefix: /esc }
  docs: { kind: aws-parameter-store, region: ${REGION}, tier: Advanced, kmsKeyId: alias/esc-sync-test }
${extra}bindings:
  - { id: keys, environments: "shop/prod", target: keys, name: "{project}/{env}/{key}" }
  - { id: docs, environments: "shop/*", target: docs, name: "/docs/{project}/{env}", shape: json }
`;

const prod = (api: string, withMode = true) =>
  `values:\n  environmentVariables:\n    DB_PASSWORD:\n      fn::secret: ${C.db}\n    API_TOKEN:\n      fn::secret: ${api}\n${withMode ? "    MODE: plain-mode\n" : ""}`;
const stage = `values:\n  environmentVariables:\n    TOKEN:\n      fn::secret: ${C.doc}\n    PORT: 5432\n`;

async function parameter(ssm: SSMClient, name: string): Promise<{ value?: string; type?: string; version?: number } | undefined> {
  try {
    const p = (await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter!;
    return { value: p.Value!, type: p.Type!, version: p.Version! };
  } catch (err) {
    if ((err as { name?: string }).name === "ParameterNotFound") return undefined;
    throw err;
  }
}

describe("aws-parameter-store through the real provider into moto", () => {
  let w: AwsWorld;
  let ssm: SSMClient;
  useAwsWorld((started) => {
    w = started;
    ssm = started.ssm(REGION);
    started.box.writeEnvironment("shop", "prod", prod(C.api));
    started.box.writeEnvironment("shop", "stage", stage);
    started.box.writeManifest(manifest(REGION));
  });

  it("sync writes what ESC holds: SecureString parameters under the path, a JSON document in the Advanced tier with its KMS key, tags", async () => {
    const { result, report } = await w.sync();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(statuses(report)).toEqual({ "shop.prod.keys": "created", "shop.prod.docs": "created", "shop.stage.docs": "created" });
    expect(await parameter(ssm, "/esc/shop/prod/DB_PASSWORD")).toMatchObject({ value: C.db, type: "SecureString" });
    expect((await parameter(ssm, "/esc/shop/prod/API_TOKEN"))?.value).toBe(C.api);
    expect((await parameter(ssm, "/esc/shop/prod/MODE"))?.value).toBe("plain-mode");
    // A parameter holds the text it was given: esc-sync's compact JSON.
    const doc = (await parameter(ssm, "/docs/shop/stage"))!;
    expect(JSON.parse(doc.value!)).toEqual({ TOKEN: C.doc, PORT: 5432 });
    expect(doc.value).not.toMatch(/\s/);
    const described = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: "Name", Values: ["/docs/shop/stage", "/esc/shop/prod/DB_PASSWORD"] }] }));
    const meta = Object.fromEntries((described.Parameters ?? []).map((p) => [p.Name, { tier: p.Tier, keyId: p.KeyId }]));
    expect(meta["/docs/shop/stage"]).toEqual({ tier: "Advanced", keyId: "alias/esc-sync-test" });
    expect(meta["/esc/shop/prod/DB_PASSWORD"]).toEqual({ tier: "Standard", keyId: "alias/aws/ssm" });
    const tags = (await ssm.send(new ListTagsForResourceCommand({ ResourceType: "Parameter", ResourceId: "/docs/shop/stage" }))).TagList ?? [];
    expect(Object.fromEntries(tags.map((t) => [t.Key, t.Value]))).toEqual({ "managed-by": "esc-sync", "esc-environment": "acme/shop/stage", "esc-target": "docs" });
  });

  it("a re-run is unchanged without an engine run or a provider process", async () => {
    const before = { calls: w.pulumi.calls().length, starts: w.home.starts() };
    const { result, report } = await w.sync();
    expect(result.code, result.stderr).toBe(0);
    expect(statuses(report)).toEqual({ "shop.prod.keys": "unchanged", "shop.prod.docs": "unchanged", "shop.stage.docs": "unchanged" });
    expect(engineRuns(w.pulumi.calls().slice(before.calls))).toEqual([]);
    expect(w.home.starts()).toBe(before.starts);
  });

  it("one edit updates only the pairs that read it, and only its parameter", async () => {
    const before = await Promise.all(["/esc/shop/prod/DB_PASSWORD", "/docs/shop/stage"].map(async (n) => (await parameter(ssm, n))?.version));
    w.box.writeEnvironment("shop", "prod", prod(C.edited));
    const { result, report } = await w.sync();
    expect(result.code, result.stderr).toBe(0);
    expect(statuses(report)).toEqual({ "shop.prod.keys": "updated", "shop.prod.docs": "updated", "shop.stage.docs": "unchanged" });
    expect(report.pairs.find((p) => p.stack === "shop.prod.keys")!.changes).toMatchObject({ create: 0, update: 1, delete: 0, replace: 0 });
    expect((await parameter(ssm, "/esc/shop/prod/API_TOKEN"))?.value).toBe(C.edited);
    const after = await Promise.all(["/esc/shop/prod/DB_PASSWORD", "/docs/shop/stage"].map(async (n) => (await parameter(ssm, n))?.version));
    expect(after).toEqual(before);
  });

  it("drift names a value overwritten outside esc-sync and a parameter deleted outside it (exit 2); sync --refresh repairs both", async () => {
    await ssm.send(new PutParameterCommand({ Name: "/esc/shop/prod/DB_PASSWORD", Value: C.outOfBand, Type: "SecureString", Overwrite: true }));
    await ssm.send(new DeleteParameterCommand({ Name: "/esc/shop/prod/MODE" }));
    const { result, report } = await w.drift();
    expect(result.code, result.stderr).toBe(2);
    const keys = report.pairs.find((p) => p.stack === "shop.prod.keys")!;
    const byName = Object.fromEntries(keys.entries.map((e) => [e.name, e.status]));
    expect(byName).toMatchObject({ "/esc/shop/prod/DB_PASSWORD": "drifted", "/esc/shop/prod/MODE": "missing", "/esc/shop/prod/API_TOKEN": "in-sync" });
    expect(report.pairs.find((p) => p.stack === "shop.stage.docs")!.status).toBe("in-sync");

    const repaired = await w.sync(["--refresh"]);
    expect(repaired.result.code, repaired.result.stdout + repaired.result.stderr).toBe(0);
    expect(statuses(repaired.report)["shop.prod.keys"]).toBe("updated");
    expect((await parameter(ssm, "/esc/shop/prod/DB_PASSWORD"))?.value).toBe(C.db);
    expect((await parameter(ssm, "/esc/shop/prod/MODE"))?.value).toBe("plain-mode");
    const clean = await w.drift();
    expect(clean.result.code, clean.result.stdout).toBe(0);
  });

  it("a removed key is held by the guard; with --allow-deletes its parameter is gone", async () => {
    w.box.writeEnvironment("shop", "prod", prod(C.edited, false));
    const held = await w.sync();
    expect(held.result.code).toBe(1);
    expect(statuses(held.report)["shop.prod.keys"]).toBe("held");
    expect(await parameter(ssm, "/esc/shop/prod/MODE")).toBeDefined();

    const allowed = await w.sync(["--allow-deletes"]);
    expect(allowed.result.code, allowed.result.stdout + allowed.result.stderr).toBe(0);
    expect(statuses(allowed.report)["shop.prod.keys"]).toBe("updated");
    expect(await parameter(ssm, "/esc/shop/prod/MODE")).toBeUndefined();
    expect((await parameter(ssm, "/esc/shop/prod/DB_PASSWORD"))?.value).toBe(C.db);
  });

  it("a region change is a move: held, then written in the new region and deleted from the old", async () => {
    w.box.writeManifest(manifest(MOVED_TO));
    const held = await w.sync();
    expect(held.result.code).toBe(1);
    expect(statuses(held.report)["shop.prod.keys"]).toBe("held");
    expect(await parameter(w.ssm(MOVED_TO), "/esc/shop/prod/DB_PASSWORD")).toBeUndefined();

    const moved = await w.sync(["--allow-deletes"]);
    expect(moved.result.code, moved.result.stdout + moved.result.stderr).toBe(0);
    expect(statuses(moved.report)["shop.prod.keys"]).toBe("moved");
    expect((await parameter(w.ssm(MOVED_TO), "/esc/shop/prod/DB_PASSWORD"))?.value).toBe(C.db);
    expect((await parameter(w.ssm(MOVED_TO), "/esc/shop/prod/API_TOKEN"))?.value).toBe(C.edited);
    expect(await parameter(ssm, "/esc/shop/prod/DB_PASSWORD")).toBeUndefined();
    expect(await parameter(ssm, "/esc/shop/prod/API_TOKEN")).toBeUndefined();
  });

  it("migrate adopt imports a parameter created beforehand without changing its value; the next sync manages it", async () => {
    await ssm.send(new PutParameterCommand({ Name: "/legacy/app/SECRET", Value: C.adopted, Type: "SecureString" }));
    const created = await parameter(ssm, "/legacy/app/SECRET");
    w.box.writeEnvironment("legacy", "app", `values:\n  environmentVariables:\n    SECRET:\n      fn::secret: ${C.adoptedEsc}\n`);
    const withLegacy = `${manifest(MOVED_TO)}  - { id: legacy, environments: "legacy/app", target: docs, name: "{project}/{env}/{key}" }\n`;
    w.box.writeManifest(withLegacy);
    const refused = await w.sync();
    expect(refused.result.code).toBe(1);
    expect(statuses(refused.report)["legacy.app.docs"]).toBe("failed");
    expect(await parameter(ssm, "/legacy/app/SECRET")).toEqual(created);

    const adopt = await w.run(["migrate", "adopt", "--output", "json"]);
    expect(adopt.code, adopt.stdout + adopt.stderr).toBe(0);
    const adopted = (JSON.parse(adopt.stdout) as Parameters<typeof statuses>[0]).pairs;
    expect(adopted.map((p) => [p.stack, p.message])).toEqual([["legacy.app.docs", expect.stringMatching(/adopted \/legacy\/app\/SECRET: the next sync writes ESC's values/)]]);
    expect(await parameter(ssm, "/legacy/app/SECRET")).toEqual(created); // same value, same version

    const synced = await w.sync();
    expect(synced.result.code, synced.result.stdout + synced.result.stderr).toBe(0);
    expect(statuses(synced.report)["legacy.app.docs"]).toBe("updated");
    expect((await parameter(ssm, "/legacy/app/SECRET"))?.value).toBe(C.adoptedEsc);
    const clean = await w.drift(["--filter", "legacy/app"]);
    expect(clean.result.code, clean.result.stdout).toBe(0);
  });

  it("the ESC examples' awsParameterStore sync: block, region and credentials from the environment", async () => {
    w.box.writeEnvironment(
      "examples",
      "dev",
      `values:
  sync:
    awsParameterStore:
      name: /namespaced/name-in-parameter-store
      target: from-env
      value:
        myConfigKey: foo
        mySecret:
          fn::secret: ${C.example}
  pulumiConfig:
    aws:region: us-west-2
  environmentVariables:
    AWS_ACCESS_KEY_ID: testing
    AWS_SECRET_ACCESS_KEY:
      fn::secret: ${C.exampleKey}
`,
    );
    // The block names its target: the manifest has three of its kind.
    w.box.writeManifest(
      `${manifest(MOVED_TO, "  from-env: { kind: aws-parameter-store, providerConfigFrom: environment }\n")}  - { id: legacy, environments: "legacy/app", target: docs, name: "{project}/{env}/{key}" }\n`,
    );
    const { result, report } = await w.sync(["--filter", "examples/dev"]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(Object.values(statuses(report))).toEqual(["created"]);
    expect(JSON.parse((await parameter(w.ssm("us-west-2"), "/namespaced/name-in-parameter-store"))!.value!)).toEqual({ myConfigKey: "foo", mySecret: C.example });
  });

  it("no canary value in any output or in the state's plaintext", () => {
    expectNoCanary(w, Object.values(C));
  });
});
