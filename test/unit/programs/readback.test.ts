/**
 * Read-back for drift: each kind turns the resources of a pair's exported, refreshed state
 * (secrets decrypted; `outputs` undefined where the refresh found a resource gone) into what
 * esc-sync last wrote and what the store holds, per entry name, in the text form of
 * `PlannedEntry.value`. The resources here are shaped as the providers keep them in state: the
 * real property names of each resource type, ARNs and ids as the stores make them.
 */
import { describe, expect, it } from "vitest";
import type { EntryReadback, PlannedEntry, Shape, StateResource } from "../../../programs/contract.js";
import { readBack as awsSecretsManager, NOT_CURRENT } from "../../../programs/aws-secrets-manager/readback.js";
import { readBack as awsParameterStore } from "../../../programs/aws-parameter-store/readback.js";
import { readBack as gcpSecretManager } from "../../../programs/gcp-secret-manager/readback.js";
import { readBack as vaultKv } from "../../../programs/vault-kv/readback.js";
import { inPlannedForm, sameJson, urnName } from "../../../programs/shared/readback.js";
import { compareEntries, type EntryStatus } from "../../../orchestrator/drift/compare.js";
import { entry, jsonEntry } from "./fixtures.js";

const STACK = "urn:pulumi:payments.prod.primary::esc-sync";
const urn = (type: string, name: string) => `${STACK}::${type}::${name}`;

/** Status per entry name, as `esc-sync drift` computes it from the read-back. */
function statuses(desired: PlannedEntry[], readback: EntryReadback): Record<string, EntryStatus> {
  return Object.fromEntries(compareEntries(desired, readback, true, "test-key").map((e) => [e.name, e.status]));
}

/** A copy of the resources with one resource's outputs replaced (`undefined`: gone). */
function withOutputs(resources: StateResource[], match: (r: StateResource) => boolean, outputs: (o: Record<string, unknown>) => Record<string, unknown> | undefined): StateResource[] {
  return resources.map((r) => (match(r) ? { ...r, outputs: outputs(r.outputs ?? {}) } : r));
}

const DOC = { db: { password: "hunter2", port: 5432 }, debug: false };
const DOC_TEXT = JSON.stringify(DOC);

describe("shared read-back helpers", () => {
  it("takes the resource name from the URN, and compares documents without key order", () => {
    expect(urnName(urn("aws:secretsmanager/secret:Secret", "payments/prod"))).toBe("payments/prod");
    expect(sameJson({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 })).toBe(true);
    expect(sameJson({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
  });
  it("puts a json-shape value into the planned text form", () => {
    expect(inPlannedForm("json", '{ "debug": false,\n  "db": {"port": 5432, "password": "hunter2"} }', DOC_TEXT)).toBe(DOC_TEXT);
    expect(inPlannedForm("json", '{ "debug": true }', DOC_TEXT)).toBe('{"debug":true}');
    expect(inPlannedForm("json", "not json", DOC_TEXT)).toBe("not json");
    expect(inPlannedForm("keys", '{ "a": 1 }', '{"a":1}')).toBe('{ "a": 1 }');
  });
});

describe("aws-secrets-manager readBack", () => {
  const SECRET = "aws:secretsmanager/secret:Secret";
  const VERSION = "aws:secretsmanager/secretVersion:SecretVersion";
  const arn = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`;

  /** One Secret + SecretVersion as `pulumi stack export --show-secrets` holds them. */
  function secretPair(name: string, wrote: string, holds: string = wrote, stages = ["AWSCURRENT"]): StateResource[] {
    const versionId = `${name.length}e1c2d3-0000-4000-8000-000000000000`;
    return [
      {
        urn: urn(SECRET, name),
        type: SECRET,
        inputs: { __defaults: ["forceOverwriteReplicaSecret"], name, description: "Managed by esc-sync", recoveryWindowInDays: 30, tags: { "managed-by": "esc-sync" } },
        outputs: { arn: arn(name), id: arn(name), name, namePrefix: "", recoveryWindowInDays: 30, kmsKeyId: "", tags: { "managed-by": "esc-sync" } },
      },
      {
        urn: urn(VERSION, name),
        type: VERSION,
        inputs: { __defaults: [], secretId: arn(name), secretString: wrote },
        outputs: { arn: arn(name), id: `${arn(name)}|${versionId}`, secretId: arn(name), secretString: holds, versionId, versionStages: stages },
      },
    ];
  }

  it("keys shape: in sync, changed outside, gone, and replaced by a version written outside", () => {
    const state = [
      ...secretPair("payments/prod/DB_PASSWORD", "hunter2"),
      ...secretPair("payments/prod/API_URL", "https://api", "https://evil"),
      ...secretPair("payments/prod/LOG_LEVEL", "info"),
      ...secretPair("payments/prod/PORT", "5432", "5432", ["AWSPREVIOUS"]),
    ];
    const gone = withOutputs(state, (r) => r.type === SECRET && r.urn.endsWith("LOG_LEVEL"), () => undefined);
    const rb = awsSecretsManager(gone, "keys");
    expect(rb.applied).toEqual(
      new Map([
        ["payments/prod/DB_PASSWORD", "hunter2"],
        ["payments/prod/API_URL", "https://api"],
        ["payments/prod/LOG_LEVEL", "info"],
        ["payments/prod/PORT", "5432"],
      ]),
    );
    expect(rb.actual.get("payments/prod/DB_PASSWORD")).toBe("hunter2");
    expect(rb.actual.get("payments/prod/API_URL")).toBe("https://evil");
    expect(rb.actual.has("payments/prod/LOG_LEVEL")).toBe(false);
    expect(rb.actual.get("payments/prod/PORT")).toBe(NOT_CURRENT);
    const desired = [
      entry("payments/prod/DB_PASSWORD", "hunter2", { key: "DB_PASSWORD" }),
      entry("payments/prod/API_URL", "https://api", { key: "API_URL" }),
      entry("payments/prod/LOG_LEVEL", "info", { key: "LOG_LEVEL" }),
      entry("payments/prod/PORT", "5432", { key: "PORT" }),
      entry("payments/prod/NEW", "n", { key: "NEW" }),
    ];
    expect(statuses(desired, rb)).toEqual({
      "payments/prod/API_URL": "drifted",
      "payments/prod/DB_PASSWORD": "in-sync",
      "payments/prod/LOG_LEVEL": "missing",
      "payments/prod/NEW": "pending",
      "payments/prod/PORT": "drifted",
    });
  });

  it("json shape: the document in sync (also re-formatted), changed, and its version gone", () => {
    const desired = [jsonEntry("payments/prod", DOC)];
    expect(statuses(desired, awsSecretsManager(secretPair("payments/prod", DOC_TEXT), "json"))).toEqual({ "payments/prod": "in-sync" });
    const reformatted = awsSecretsManager(secretPair("payments/prod", DOC_TEXT, JSON.stringify({ debug: false, db: { port: 5432, password: "hunter2" } }, null, 2)), "json");
    expect(reformatted.actual.get("payments/prod")).toBe(DOC_TEXT);
    const changed = awsSecretsManager(secretPair("payments/prod", DOC_TEXT, '{ "db": { "password": "other" } }'), "json");
    expect(changed.actual.get("payments/prod")).toBe('{"db":{"password":"other"}}');
    // The document drifted, and each top-level key that differs is named.
    expect(statuses(desired, changed)).toEqual({ "payments/prod": "drifted", "payments/prod#/db": "drifted", "payments/prod#/debug": "missing" });
    const gone = awsSecretsManager(withOutputs(secretPair("payments/prod", DOC_TEXT), (r) => r.type === VERSION, () => undefined), "json");
    expect(statuses(desired, gone)).toEqual({ "payments/prod": "missing" });
    // ESC changed since the last sync: the store still holds what was written.
    expect(statuses([jsonEntry("payments/prod", { ...DOC, debug: true })], awsSecretsManager(secretPair("payments/prod", DOC_TEXT), "json"))).toEqual({ "payments/prod": "pending" });
  });

  it("json shape: a document that gained a key is drifted, the key named as an extra entry", () => {
    const desired = [jsonEntry("payments/prod", DOC)];
    const gained = JSON.stringify({ ...DOC, added: "by-hand" });
    const entries = compareEntries(desired, awsSecretsManager(secretPair("payments/prod", DOC_TEXT, gained), "json"), true, "k");
    expect(entries.map((e) => [e.name, e.status, e.reason])).toEqual([
      ["payments/prod", "drifted", undefined],
      ["payments/prod#/added", "drifted", "extra"],
    ]);
    expect(JSON.stringify(entries)).not.toContain("by-hand");
  });

  it("names entries by the Secret's name, linked through secretId, not by resource order", () => {
    const [secretA, versionA] = secretPair("a", "1");
    const [secretB, versionB] = secretPair("b", "2");
    // Versions listed before their secrets, and resource names that differ from the store names.
    const state = [
      { ...versionA!, urn: urn(VERSION, "first") },
      { ...versionB!, urn: urn(VERSION, "second") },
      { ...secretB!, urn: urn(SECRET, "second") },
      { ...secretA!, urn: urn(SECRET, "first") },
    ];
    expect(awsSecretsManager(state, "keys").applied).toEqual(new Map([["a", "1"], ["b", "2"]]));
  });

  it("reads nothing from an empty state", () => {
    expect(awsSecretsManager([], "keys")).toEqual({ applied: new Map(), actual: new Map() });
  });
});

describe("aws-parameter-store readBack", () => {
  const PARAMETER = "aws:ssm/parameter:Parameter";
  /** `holds` null: the refresh found the parameter gone. */
  function parameter(name: string, wrote: string, holds: string | null = wrote): StateResource {
    const arn = `arn:aws:ssm:eu-west-1:123456789012:parameter${name}`;
    return {
      urn: urn(PARAMETER, name),
      type: PARAMETER,
      inputs: { __defaults: [], name, type: "SecureString", value: wrote, tier: "Standard", description: "Managed by esc-sync", tags: { "managed-by": "esc-sync" } },
      outputs:
        holds === null
          ? undefined
          : { arn, id: name, name, type: "SecureString", value: holds, tier: "Standard", keyId: "alias/aws/ssm", dataType: "text", version: 3, insecureValue: "", tags: {} },
    } as StateResource;
  }

  it("keys shape: in sync, changed outside and gone", () => {
    const rb = awsParameterStore([parameter("/payments/prod/DB_PASSWORD", "hunter2"), parameter("/payments/prod/API_URL", "https://api", "https://evil"), parameter("/payments/prod/PORT", "5432", null)], "keys");
    expect(rb.applied.get("/payments/prod/PORT")).toBe("5432");
    const desired = [entry("/payments/prod/DB_PASSWORD", "hunter2"), entry("/payments/prod/API_URL", "https://api"), entry("/payments/prod/PORT", "5432")];
    expect(statuses(desired, rb)).toEqual({ "/payments/prod/API_URL": "drifted", "/payments/prod/DB_PASSWORD": "in-sync", "/payments/prod/PORT": "missing" });
  });

  it("json shape: in sync, changed, gone", () => {
    const desired = [jsonEntry("/payments/prod", DOC)];
    expect(statuses(desired, awsParameterStore([parameter("/payments/prod", DOC_TEXT)], "json"))).toEqual({ "/payments/prod": "in-sync" });
    const changed = awsParameterStore([parameter("/payments/prod", DOC_TEXT, '{"debug":true}')], "json");
    expect(changed.actual.get("/payments/prod")).toBe('{"debug":true}');
    expect(statuses(desired, changed)).toEqual({ "/payments/prod": "drifted", "/payments/prod#/db": "missing", "/payments/prod#/debug": "drifted" });
    expect(statuses(desired, awsParameterStore([parameter("/payments/prod", DOC_TEXT, null)], "json"))).toEqual({ "/payments/prod": "missing" });
  });

  it("json shape: a document that gained a key is drifted, the key named as an extra entry", () => {
    const desired = [jsonEntry("/payments/prod", DOC)];
    const entries = compareEntries(desired, awsParameterStore([parameter("/payments/prod", DOC_TEXT, JSON.stringify({ ...DOC, added: "by-hand" }))], "json"), true, "k");
    expect(entries.map((e) => [e.name, e.status, e.reason])).toEqual([
      ["/payments/prod", "drifted", undefined],
      ["/payments/prod#/added", "drifted", "extra"],
    ]);
  });

  it("json shape: the same document in another layout is drifted, since the parameter holds text and the next sync rewrites it", () => {
    const desired = [jsonEntry("/payments/prod", DOC)];
    const relaid = JSON.stringify({ debug: false, db: { port: 5432, password: "hunter2" } }, null, 2);
    const rb = awsParameterStore([parameter("/payments/prod", DOC_TEXT, relaid)], "json");
    expect(statuses(desired, rb)).toEqual({ "/payments/prod": "drifted" });
    // And the text written is in sync, whatever its layout.
    expect(statuses([entry("/payments/prod", relaid)], awsParameterStore([parameter("/payments/prod", relaid)], "json"))).toEqual({ "/payments/prod": "in-sync" });
  });

  it("names entries by the parameter's name input, whatever the resource is called", () => {
    const p = { ...parameter("/esc/payments/prod/X", "1"), urn: urn(PARAMETER, "something-else") };
    expect([...awsParameterStore([p], "keys").applied.keys()]).toEqual(["/esc/payments/prod/X"]);
  });
});

describe("gcp-secret-manager readBack", () => {
  const SECRET = "gcp:secretmanager/secret:Secret";
  const VERSION = "gcp:secretmanager/secretVersion:SecretVersion";
  function secretPair(name: string, wrote: string, holds: string = wrote, extra: Record<string, unknown> = {}): StateResource[] {
    const id = `projects/acme-payments/secrets/${name}`;
    return [
      {
        urn: urn(SECRET, name),
        type: SECRET,
        inputs: { __defaults: [], project: "acme-payments", secretId: name, replication: { auto: {} }, labels: { "managed-by": "esc-sync" } },
        outputs: { id, name: `projects/123456789/secrets/${name}`, project: "acme-payments", secretId: name, replication: { auto: {} }, createTime: "2026-01-01T00:00:00Z" },
      },
      {
        urn: urn(VERSION, name),
        type: VERSION,
        inputs: { __defaults: ["enabled", "deletionPolicy"], enabled: true, deletionPolicy: "DELETE", secret: id, secretData: wrote },
        outputs: {
          id: `projects/123456789/secrets/${name}/versions/1`,
          name: `projects/123456789/secrets/${name}/versions/1`,
          secret: id,
          secretData: holds,
          enabled: true,
          destroyTime: "",
          deletionPolicy: "DELETE",
          isSecretDataBase64: false,
          version: "1",
          createTime: "2026-01-01T00:00:00Z",
          ...extra,
        },
      },
    ];
  }

  it("keys shape: in sync, changed outside, disabled, destroyed, gone", () => {
    const state = [
      ...secretPair("payments-prod-DB_PASSWORD", "hunter2"),
      ...secretPair("payments-prod-API_URL", "https://api", "https://evil"),
      ...secretPair("payments-prod-PORT", "5432", "5432", { enabled: false }),
      ...secretPair("payments-prod-HOST", "db", "", { destroyTime: "2026-02-01T00:00:00Z" }),
      ...secretPair("payments-prod-USER", "app"),
    ];
    const rb = gcpSecretManager(withOutputs(state, (r) => r.type === SECRET && r.urn.endsWith("USER"), () => undefined), "keys");
    expect([...rb.applied.keys()]).toEqual(["payments-prod-DB_PASSWORD", "payments-prod-API_URL", "payments-prod-PORT", "payments-prod-HOST", "payments-prod-USER"]);
    const desired = [
      entry("payments-prod-DB_PASSWORD", "hunter2"),
      entry("payments-prod-API_URL", "https://api"),
      entry("payments-prod-PORT", "5432"),
      entry("payments-prod-HOST", "db"),
      entry("payments-prod-USER", "app"),
    ];
    expect(statuses(desired, rb)).toEqual({
      "payments-prod-API_URL": "drifted",
      "payments-prod-DB_PASSWORD": "in-sync",
      "payments-prod-HOST": "missing",
      "payments-prod-PORT": "missing",
      "payments-prod-USER": "missing",
    });
  });

  it("json shape: in sync, changed, gone", () => {
    const desired = [jsonEntry("payments-prod", DOC)];
    expect(statuses(desired, gcpSecretManager(secretPair("payments-prod", DOC_TEXT), "json"))).toEqual({ "payments-prod": "in-sync" });
    expect(statuses(desired, gcpSecretManager(secretPair("payments-prod", DOC_TEXT, "[]"), "json"))).toEqual({ "payments-prod": "drifted" });
    const gone = withOutputs(secretPair("payments-prod", DOC_TEXT), (r) => r.type === VERSION, () => undefined);
    expect(statuses(desired, gcpSecretManager(gone, "json"))).toEqual({ "payments-prod": "missing" });
  });

  it("json shape: a document that gained a key is drifted, the key named as an extra entry", () => {
    const desired = [jsonEntry("payments-prod", DOC)];
    const rb = gcpSecretManager(secretPair("payments-prod", DOC_TEXT, JSON.stringify({ ...DOC, added: "by-hand" })), "json");
    expect(statuses(desired, rb)).toEqual({ "payments-prod": "drifted", "payments-prod#/added": "drifted" });
  });

  it("names a version by its secret reference when the secret is not in state", () => {
    const [, version] = secretPair("payments-prod-X", "1");
    expect([...gcpSecretManager([{ ...version!, urn: urn(VERSION, "renamed") }], "keys").applied.keys()]).toEqual(["payments-prod-X"]);
  });
});

describe("vault-kv readBack", () => {
  const SECRET = "vault:kv/secretV2:SecretV2";
  /** `holds`: "gone" when the refresh found the secret gone, "no data" when its latest version is deleted. */
  function kvSecret(wrote: Record<string, unknown>, holds: Record<string, unknown> | "gone" | "no data" = wrote): StateResource {
    // Vault returns the data with object keys sorted (Go's encoding/json), at every level.
    const sorted = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(sorted) : v !== null && typeof v === "object" ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sorted(x)])) : v;
    return {
      urn: urn(SECRET, "payments/prod"),
      type: SECRET,
      inputs: { __defaults: [], mount: "secret", name: "payments/prod", dataJson: JSON.stringify(wrote), customMetadata: { data: { "managed-by": "esc-sync" } } },
      outputs:
        holds === "gone"
          ? undefined
          : {
              id: "secret/data/payments/prod",
              mount: "secret",
              name: "payments/prod",
              path: "secret/data/payments/prod",
              dataJson: holds === "no data" ? "null" : JSON.stringify(sorted(holds)),
              data: {},
              metadata: { version: "2" },
            },
    } as StateResource;
  }

  it("keys shape: fields in sync, changed, removed, and the secret gone", () => {
    const wrote = { DB_PASSWORD: "hunter2", PORT: "5432", API_URL: "https://api" };
    const rb = vaultKv([kvSecret(wrote, { DB_PASSWORD: "hunter2", PORT: "6543", EXTRA: "x" })], "keys");
    expect(rb.applied).toEqual(new Map(Object.entries(wrote)));
    const desired = [entry("DB_PASSWORD", "hunter2"), entry("PORT", "5432"), entry("API_URL", "https://api")];
    // EXTRA, a field esc-sync never wrote: the next sync writes the data without it.
    expect(statuses(desired, rb)).toEqual({ API_URL: "missing", DB_PASSWORD: "in-sync", EXTRA: "drifted", PORT: "drifted" });
    expect(compareEntries(desired, rb, true, "k").find((e) => e.name === "EXTRA")).toMatchObject({ reason: "extra", actual: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(statuses(desired, vaultKv([kvSecret(wrote, "gone")], "keys"))).toEqual({ API_URL: "missing", DB_PASSWORD: "missing", PORT: "missing" });
    // The latest version deleted: Vault returns no data.
    expect(statuses(desired, vaultKv([kvSecret(wrote, "no data")], "keys"))).toEqual({ API_URL: "missing", DB_PASSWORD: "missing", PORT: "missing" });
  });

  it("keys shape: a nested field (a sync: item's object) reads as in sync despite Vault's sorted keys, and drifts when changed", () => {
    const wrote = { flat: "x", nested: { zeta: "1", alpha: "2" } };
    const desired = [entry("flat", "x"), { ...entry("nested", JSON.stringify(wrote.nested)), json: true }];
    expect(statuses(desired, vaultKv([kvSecret(wrote)], "keys"))).toEqual({ flat: "in-sync", nested: "in-sync" });
    expect(statuses(desired, vaultKv([kvSecret(wrote, { flat: "x", nested: { zeta: "9", alpha: "2" } })], "keys"))).toEqual({ flat: "in-sync", nested: "drifted" });
  });

  it("json shape: the field holds the document; Vault's sorted keys still read as in sync", () => {
    const doc = { zeta: 1, alpha: { y: [1, { b: 2, a: 1 }], x: "s" } };
    const desired = [jsonEntry("json", doc)];
    const rb = vaultKv([kvSecret({ json: doc })], "json");
    expect(rb.applied.get("json")).toBe(JSON.stringify(doc));
    expect(rb.actual.get("json")).toBe(JSON.stringify(doc));
    expect(statuses(desired, rb)).toEqual({ json: "in-sync" });
    const changed = vaultKv([kvSecret({ json: doc }, { json: { zeta: 2 } })], "json");
    expect(changed.actual.get("json")).toBe('{"zeta":2}');
    expect(statuses(desired, changed)).toEqual({ json: "drifted", "json#/alpha": "missing", "json#/zeta": "drifted" });
    expect(statuses(desired, vaultKv([kvSecret({ json: doc }, "gone")], "json"))).toEqual({ json: "missing" });
  });

  it("json shape: a document that gained a key, and a field added beside the document, are named", () => {
    const doc = { zeta: 1 };
    const rb = vaultKv([kvSecret({ json: doc }, { json: { zeta: 1, added: "by-hand" }, other: "x" })], "json");
    const entries = compareEntries([jsonEntry("json", doc)], rb, true, "k");
    expect(entries.map((e) => [e.name, e.status, e.reason])).toEqual([
      ["json", "drifted", undefined],
      ["json#/added", "drifted", "extra"],
      ["other", "drifted", "extra"],
    ]);
  });

  it("json shape: a document that is a plain string keeps its JSON quotes", () => {
    const rb = vaultKv([kvSecret({ json: "just text" })], "json");
    expect(rb.applied.get("json")).toBe('"just text"');
    expect(statuses([jsonEntry("json", "just text")], rb)).toEqual({ json: "in-sync" });
  });
});
