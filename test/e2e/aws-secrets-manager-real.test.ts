/**
 * `aws-secrets-manager` through the real CLI, a real AWS provider and moto: the upstream
 * Terraform AWS provider's logic (hashicorp/terraform-provider-aws, secretsmanager and ssm) through
 * the real Pulumi Terraform bridge, built by scripts/aws-provider/build.sh. It is not
 * pulumi-aws's release (its patches and schema overrides are absent); the mock tests in
 * test/unit/programs keep pinning @pulumi/aws's shapes. What the store holds is read back from
 * moto with the plain AWS SDK, never through esc-sync.
 *
 * The tests run in order on one sandbox and one moto (moto's data cannot be snapshotted): each
 * starts where the one before left off.
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { engineRuns, expectNoCanary, type AwsWorld, useAwsWorld } from "../support/aws-e2e.js";
import { statuses } from "../support/sandbox.js";

const C = {
  db: "canary-sm-db-71a2",
  api: "canary-sm-api-0e9c",
  doc: "canary-sm-doc-5b3d",
  edited: "canary-sm-edited-c4f1",
  outOfBand: "canary-sm-oob-92d0",
  adopted: "canary-sm-adopted-3e7a",
  adoptedEsc: "canary-sm-adopted-esc-4410",
  example: "canary-sm-example-8d21",
  exampleKey: "canary-sm-example-key-aa01",
};
const REGION = "eu-west-1";
const MOVED_TO = "eu-central-1";

const manifest = (keysRegion: string) => `
version: 1
source: { kind: local, folder: environments, org: acme }
state: { backend: file://./state }
targets:
  keys: { kind: aws-secrets-manager, region: ${keysRegion}, recoveryWindowInDays: 0 }
  docs: { kind: aws-secrets-manager, region: ${REGION}, kmsKeyId: alias/esc-sync-test }
bindings:
  - { id: keys, environments: "shop/prod", target: keys, name: "{project}/{env}/{key}" }
  - { id: docs, environments: "shop/*", target: docs, name: "{project}/{env}", shape: json }
`;

const prod = (api: string, withMode = true) =>
  `values:\n  environmentVariables:\n    DB_PASSWORD:\n      fn::secret: ${C.db}\n    API_TOKEN:\n      fn::secret: ${api}\n${withMode ? "    MODE: plain-mode\n" : ""}`;
const stage = `values:\n  environmentVariables:\n    TOKEN:\n      fn::secret: ${C.doc}\n    PORT: 5432\n    NESTED: { a: [1, 2] }\n`;

/**
 * The value AWS serves as current. The stage is named because moto 5.2.5 does not follow a moved
 * AWSCURRENT label without it (its `update_secret_version_stage` leaves the secret's default
 * version where it was); AWS serves AWSCURRENT when no stage is named (GetSecretValue docs).
 */
async function value(sm: SecretsManagerClient, id: string): Promise<string | undefined> {
  return (await sm.send(new GetSecretValueCommand({ SecretId: id, VersionStage: "AWSCURRENT" }))).SecretString;
}

async function exists(sm: SecretsManagerClient, id: string): Promise<"present" | "scheduled" | "absent"> {
  try {
    const d = await sm.send(new DescribeSecretCommand({ SecretId: id }));
    return d.DeletedDate ? "scheduled" : "present";
  } catch (err) {
    if ((err as { name?: string }).name === "ResourceNotFoundException") return "absent";
    throw err;
  }
}

describe("aws-secrets-manager through the real provider into moto", () => {
  let w: AwsWorld;
  let sm: SecretsManagerClient;
  useAwsWorld((started) => {
    w = started;
    sm = started.sm(REGION);
    started.box.writeEnvironment("shop", "prod", prod(C.api));
    started.box.writeEnvironment("shop", "stage", stage);
    started.box.writeManifest(manifest(REGION));
  });

  it("sync writes what ESC holds: one secret per key, a JSON document, tags and the KMS key", async () => {
    const { result, report } = await w.sync();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(statuses(report)).toEqual({ "shop.prod.keys": "created", "shop.prod.docs": "created", "shop.stage.docs": "created" });
    expect(await value(sm, "shop/prod/DB_PASSWORD")).toBe(C.db);
    expect(await value(sm, "shop/prod/API_TOKEN")).toBe(C.api);
    expect(await value(sm, "shop/prod/MODE")).toBe("plain-mode");
    expect(JSON.parse((await value(sm, "shop/stage"))!)).toEqual({ TOKEN: C.doc, PORT: 5432, NESTED: { a: [1, 2] } });
    const doc = await sm.send(new DescribeSecretCommand({ SecretId: "shop/stage" }));
    expect(doc.KmsKeyId).toBe("alias/esc-sync-test");
    const tags = Object.fromEntries((doc.Tags ?? []).map((t) => [t.Key, t.Value]));
    expect(tags).toEqual({ "managed-by": "esc-sync", "esc-environment": "acme/shop/stage", "esc-target": "docs" });
    // One version per secret, labelled AWSCURRENT.
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: "shop/prod/DB_PASSWORD" }));
    expect(versions.Versions?.map((v) => v.VersionStages)).toEqual([["AWSCURRENT"]]);
  });

  it("a re-run is unchanged without an engine run or a provider process", async () => {
    const before = { calls: w.pulumi.calls().length, starts: w.home.starts() };
    const { result, report } = await w.sync();
    expect(result.code, result.stderr).toBe(0);
    expect(statuses(report)).toEqual({ "shop.prod.keys": "unchanged", "shop.prod.docs": "unchanged", "shop.stage.docs": "unchanged" });
    expect(engineRuns(w.pulumi.calls().slice(before.calls))).toEqual([]);
    expect(w.home.starts()).toBe(before.starts);
  });

  it("one edit updates only the pairs that read it, and only its secret's value", async () => {
    const idsBefore = await Promise.all(["shop/prod/DB_PASSWORD", "shop/stage"].map(async (id) => (await sm.send(new GetSecretValueCommand({ SecretId: id, VersionStage: "AWSCURRENT" }))).VersionId));
    w.box.writeEnvironment("shop", "prod", prod(C.edited));
    const { result, report } = await w.sync();
    expect(result.code, result.stderr).toBe(0);
    expect(statuses(report)).toEqual({ "shop.prod.keys": "updated", "shop.prod.docs": "updated", "shop.stage.docs": "unchanged" });
    const keys = report.pairs.find((p) => p.stack === "shop.prod.keys")!;
    expect(keys.changes).toMatchObject({ create: 0, delete: 0 });
    expect(await value(sm, "shop/prod/API_TOKEN")).toBe(C.edited);
    const idsAfter = await Promise.all(["shop/prod/DB_PASSWORD", "shop/stage"].map(async (id) => (await sm.send(new GetSecretValueCommand({ SecretId: id, VersionStage: "AWSCURRENT" }))).VersionId));
    expect(idsAfter).toEqual(idsBefore);
  });

  it("drift names a value put outside esc-sync and a secret deleted outside it (exit 2); sync --refresh repairs both", async () => {
    await sm.send(new PutSecretValueCommand({ SecretId: "shop/prod/DB_PASSWORD", SecretString: C.outOfBand }));
    await sm.send(new DeleteSecretCommand({ SecretId: "shop/prod/MODE", ForceDeleteWithoutRecovery: true }));
    const { result, report } = await w.drift();
    expect(result.code, result.stderr).toBe(2);
    const keys = report.pairs.find((p) => p.stack === "shop.prod.keys")!;
    const byName = Object.fromEntries(keys.entries.map((e) => [e.name, e.status]));
    expect(byName["shop/prod/DB_PASSWORD"]).toBe("drifted");
    expect(byName["shop/prod/MODE"]).toBe("missing");
    expect(byName["shop/prod/API_TOKEN"]).toBe("in-sync");
    expect(report.pairs.find((p) => p.stack === "shop.stage.docs")!.status).toBe("in-sync");
    expect(report.pairs.find((p) => p.stack === "shop.prod.docs")!.status).toBe("in-sync");

    const repaired = await w.sync(["--refresh"]);
    expect(repaired.result.code, repaired.result.stdout + repaired.result.stderr).toBe(0);
    expect(statuses(repaired.report)["shop.prod.keys"]).toBe("updated");
    expect(await value(sm, "shop/prod/DB_PASSWORD")).toBe(C.db);
    expect(await value(sm, "shop/prod/MODE")).toBe("plain-mode");
    const clean = await w.drift();
    expect(clean.result.code, clean.result.stdout).toBe(0);
  });

  it("a removed key is held by the guard; with --allow-deletes it is gone at once (recovery window 0)", async () => {
    w.box.writeEnvironment("shop", "prod", prod(C.edited, false));
    const held = await w.sync();
    expect(held.result.code).toBe(1);
    expect(statuses(held.report)["shop.prod.keys"]).toBe("held");
    expect(await exists(sm, "shop/prod/MODE")).toBe("present");

    const allowed = await w.sync(["--allow-deletes"]);
    expect(allowed.result.code, allowed.result.stdout + allowed.result.stderr).toBe(0);
    expect(statuses(allowed.report)["shop.prod.keys"]).toBe("updated");
    expect(await exists(sm, "shop/prod/MODE")).toBe("absent");
    expect(await value(sm, "shop/prod/DB_PASSWORD")).toBe(C.db);
  });

  it("a removed environment's document (its stack orphaned) is scheduled for deletion with the default 30-day recovery window", async () => {
    w.box.removeEnvironment("shop", "stage");
    const held = await w.sync();
    expect(held.result.code).toBe(1);
    expect(statuses(held.report)["shop.stage.docs"]).toBe("held");
    expect(await exists(sm, "shop/stage")).toBe("present");
    const allowed = await w.sync(["--allow-deletes"]);
    expect(allowed.result.code, allowed.result.stdout + allowed.result.stderr).toBe(0);
    expect(statuses(allowed.report)["shop.stage.docs"]).toBe("deleted");
    expect(await exists(sm, "shop/stage")).toBe("scheduled");
  });

  it("a region change is a move: held, then written in the new region and deleted from the old", async () => {
    w.box.writeManifest(manifest(MOVED_TO));
    const held = await w.sync();
    expect(held.result.code).toBe(1);
    expect(statuses(held.report)["shop.prod.keys"]).toBe("held");
    expect(await exists(w.sm(MOVED_TO), "shop/prod/DB_PASSWORD")).toBe("absent");

    const moved = await w.sync(["--allow-deletes"]);
    expect(moved.result.code, moved.result.stdout + moved.result.stderr).toBe(0);
    expect(statuses(moved.report)["shop.prod.keys"]).toBe("moved");
    expect(await value(w.sm(MOVED_TO), "shop/prod/DB_PASSWORD")).toBe(C.db);
    expect(await value(w.sm(MOVED_TO), "shop/prod/API_TOKEN")).toBe(C.edited);
    expect(await exists(sm, "shop/prod/DB_PASSWORD")).toBe("absent");
    expect(await exists(sm, "shop/prod/API_TOKEN")).toBe("absent");
  });

  it("migrate adopt imports secrets created beforehand without changing their values; the next sync manages them", async () => {
    const created = await sm.send(new CreateSecretCommand({ Name: "legacy/app/SECRET", SecretString: C.adopted }));
    w.box.writeEnvironment("legacy", "app", `values:\n  environmentVariables:\n    SECRET:\n      fn::secret: ${C.adoptedEsc}\n`);
    w.box.writeManifest(
      `${manifest(MOVED_TO)}  - { id: legacy, environments: "legacy/app", target: docs, name: "{project}/{env}/{key}" }\n`,
    );
    const refused = await w.sync();
    expect(refused.result.code).toBe(1);
    expect(statuses(refused.report)["legacy.app.docs"]).toMatch(/failed|refused/);
    expect(await value(sm, "legacy/app/SECRET")).toBe(C.adopted);

    const adopt = await w.run(["migrate", "adopt", "--output", "json"]);
    expect(adopt.code, adopt.stdout + adopt.stderr).toBe(0);
    const adopted = (JSON.parse(adopt.stdout) as Parameters<typeof statuses>[0]).pairs;
    expect(adopted.map((p) => [p.stack, p.message])).toEqual([["legacy.app.docs", expect.stringMatching(/adopted legacy\/app\/SECRET: the next sync writes ESC's values/)]]);
    expect(await value(sm, "legacy/app/SECRET")).toBe(C.adopted);
    const current = await sm.send(new GetSecretValueCommand({ SecretId: "legacy/app/SECRET", VersionStage: "AWSCURRENT" }));
    expect(current.VersionId).toBe(created.VersionId);

    const synced = await w.sync();
    expect(synced.result.code, synced.result.stdout + synced.result.stderr).toBe(0);
    expect(statuses(synced.report)["legacy.app.docs"]).toBe("updated");
    expect(await value(sm, "legacy/app/SECRET")).toBe(C.adoptedEsc);
    const describe = await sm.send(new DescribeSecretCommand({ SecretId: "legacy/app/SECRET" }));
    expect(describe.ARN).toBe(created.ARN); // the same secret, taken over, not a new one
    expect(describe.KmsKeyId).toBe("alias/esc-sync-test");
    const clean = await w.drift(["--filter", "legacy/app"]);
    expect(clean.result.code, clean.result.stdout).toBe(0);
  });

  it("the ESC examples' awsSecretsManager sync: block, region and credentials from the environment", async () => {
    w.box.writeEnvironment(
      "examples",
      "dev",
      `values:
  sync:
    awsSecretsManager:
      name: name-in-secrets-manager
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
    // The block names its target (`target: from-env`): the manifest has three of its kind.
    w.box.writeManifest(`${manifest(MOVED_TO)}  - { id: legacy, environments: "legacy/app", target: docs, name: "{project}/{env}/{key}" }\n`.replace("targets:\n", "targets:\n  from-env: { kind: aws-secrets-manager, providerConfigFrom: environment, recoveryWindowInDays: 0 }\n"));
    const { result, report } = await w.sync(["--filter", "examples/dev"]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(Object.values(statuses(report))).toContain("created");
    expect(JSON.parse((await value(w.sm("us-west-2"), "name-in-secrets-manager"))!)).toEqual({ myConfigKey: "foo", mySecret: C.example });
  });

  it("no canary value in any output or in the state's plaintext", () => {
    expectNoCanary(w, Object.values(C));
  });
});
