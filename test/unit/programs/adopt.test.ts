/**
 * `migrate adopt` for the cloud kinds: under Pulumi mocks, an adopted entry's resources carry
 * Pulumi's `import` option with the exact id the resource type needs (the mock monitor hands it
 * to `newResource` as `args.id`, from the registration's `importId`) and ignore the properties
 * that may differ; the other entry is created as usual. `findExisting` is checked against fake
 * readers that keep the reader contract (`include` is asked before anything is yielded).
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import type { PlannedEntry, ReadFilter, StoreEntry, StoreReader } from "../../../programs/contract.js";
import { SecretValue } from "../../../programs/secret-value.js";
import { awsParameterStoreTarget } from "../../../programs/aws-parameter-store/index.js";
import { awsParameterStoreFindExisting } from "../../../programs/aws-parameter-store/adopt.js";
import { awsSecretsManagerTarget } from "../../../programs/aws-secrets-manager/index.js";
import { awsSecretsManagerFindExisting } from "../../../programs/aws-secrets-manager/adopt.js";
import { azureKeyVaultTarget } from "../../../programs/azure-key-vault/index.js";
import { azureKeyVaultFindExisting } from "../../../programs/azure-key-vault/adopt.js";
import { gcpSecretManagerTarget } from "../../../programs/gcp-secret-manager/index.js";
import { gcpSecretManagerFindExisting } from "../../../programs/gcp-secret-manager/adopt.js";
import { githubActionsTarget } from "../../../programs/github-actions/index.js";
import { vaultKvTarget } from "../../../programs/vault-kv/index.js";
import { vaultKvFindExisting } from "../../../programs/vault-kv/adopt.js";
import { commonPrefix } from "../../../programs/shared/adopt.js";
import { entry, jsonEntry, keyEntries, parseSettings, programInput } from "./fixtures.js";

/** One registration seen by the mock monitor, with the options adoption sets. */
interface Seen {
  type: string;
  name: string;
  inputs: Record<string, any>;
  /** The `import` option: what the mock monitor passes to `newResource` as `args.id`. */
  importId: string | undefined;
  ignoreChanges: string[];
}

interface Invoke {
  token: string;
  inputs: Record<string, any>;
  provider: string | undefined;
}

type InvokeHandler = (inputs: Record<string, any>) => Record<string, any>;

/**
 * Runs a program under mocks. `invokes` answers the provider functions a program calls (by
 * token); an unexpected invoke fails the run.
 */
async function runAdopting(fn: () => Promise<unknown>, invokes: Record<string, InvokeHandler> = {}): Promise<{ resources: Seen[]; calls: Invoke[] }> {
  const resources: Seen[] = [];
  const calls: Invoke[] = [];
  const ignored = new Map<string, string[]>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        resources.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          importId: args.id || undefined,
          ignoreChanges: ignored.get(`${args.type}::${args.name}`) ?? [],
        });
        // An imported resource keeps the id it was imported by, as the engine does.
        return { id: args.id || `${args.name}-id`, state: args.inputs };
      },
      call(args) {
        calls.push({ token: args.token, inputs: args.inputs, provider: args.provider });
        const handler = invokes[args.token];
        if (!handler) throw new Error(`unexpected invoke ${args.token}`);
        return handler(args.inputs);
      },
    },
    "esc-sync",
    "stack",
    false,
  );
  // The mocks do not pass ignoreChanges to `newResource`: read it from the registration request.
  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, cb: any) => {
    ignored.set(`${req.getType()}::${req.getName()}`, req.getIgnorechangesList());
    return register(req, cb);
  };
  await fn();
  const waitForRPCs = (pulumi.runtime as any).waitForRPCs as (() => Promise<void>) | undefined;
  if (waitForRPCs) await waitForRPCs();
  let seen = -1;
  for (let stable = 0; stable < 3; ) {
    await new Promise((r) => setTimeout(r, 10));
    if (resources.length === seen) stable++;
    else {
      seen = resources.length;
      stable = 0;
    }
  }
  return { resources, calls };
}

function the(resources: Seen[], type: string, name: string): Seen {
  const found = resources.filter((r) => r.type === type && r.name === name);
  expect(found, `${type} ${name}`).toHaveLength(1);
  return found[0]!;
}

/** Asserts a resource is created as usual: no import, nothing ignored. */
function expectCreated(r: Seen): void {
  expect(r.importId, `${r.type} ${r.name} import`).toBeUndefined();
  expect(r.ignoreChanges, `${r.type} ${r.name} ignoreChanges`).toEqual([]);
}

describe("aws-secrets-manager adoption", () => {
  const SECRET = "aws:secretsmanager/secret:Secret";
  const VERSION = "aws:secretsmanager/secretVersion:SecretVersion";
  const VERSIONS = "aws:secretsmanager/getSecretVersions:getSecretVersions";
  const GET_SECRET = "aws:secretsmanager/getSecret:getSecret";
  const ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:payments/prod/DB_PASSWORD-AbCdEf";
  const settings = parseSettings(awsSecretsManagerTarget, { region: "eu-west-1" });
  const entries = keyEntries({ DB_PASSWORD: "hunter2", API_URL: "https://api" }, (k) => `payments/prod/${k}`);

  it("imports the secret by ARN and its AWSCURRENT version by arn|versionId, looked up through the pair's provider", async () => {
    const { resources, calls } = await runAdopting(
      awsSecretsManagerTarget.program(programInput(settings, "keys", entries, { adopt: new Set(["payments/prod/DB_PASSWORD"]) })),
      {
        [GET_SECRET]: (inputs) => ({ arn: ARN, name: inputs.name, id: ARN }),
        // What moto 5.2.5 answers for a secret created by name: the name where AWS documents the
        // ARN (ListSecretVersionIds). The program takes the ARN from getSecret instead.
        [VERSIONS]: (inputs) => ({
          secretArn: inputs.secretId,
          arn: inputs.secretId,
          secretId: inputs.secretId,
          versions: [
            { versionId: "v-old", versionStages: ["AWSPREVIOUS"] },
            { versionId: "v-current", versionStages: ["AWSCURRENT", "custom"] },
          ],
        }),
      },
    );
    const secret = the(resources, SECRET, "payments/prod/DB_PASSWORD");
    expect(secret.importId).toBe(ARN);
    expect(secret.ignoreChanges).toEqual(["description", "tags", "kmsKeyId", "recoveryWindowInDays", "replicas", "forceOverwriteReplicaSecret", "policy"]);
    // The ownership tags are still declared: the next sync writes them.
    expect(secret.inputs.tags).toEqual({ "managed-by": "esc-sync", "esc-environment": "acme/payments/prod", "esc-target": "primary" });
    const version = the(resources, VERSION, "payments/prod/DB_PASSWORD");
    expect(version.importId).toBe(`${ARN}|v-current`);
    expect(version.ignoreChanges).toEqual(["secretString", "secretBinary", "versionStages"]);
    expect(version.inputs.secretId).toBe(ARN);

    expectCreated(the(resources, SECRET, "payments/prod/API_URL"));
    expectCreated(the(resources, VERSION, "payments/prod/API_URL"));

    // Two lookups (the secret's description and its version listing), for the adopted entry
    // only, by name, through the explicit provider; no value asked for.
    expect(calls.map((c) => c.token).sort()).toEqual([GET_SECRET, VERSIONS]);
    expect(calls.find((c) => c.token === GET_SECRET)!.inputs).toEqual({ name: "payments/prod/DB_PASSWORD", region: "eu-west-1" });
    expect(calls.find((c) => c.token === VERSIONS)!.inputs).toEqual({ secretId: "payments/prod/DB_PASSWORD", region: "eu-west-1" });
    for (const c of calls) expect(c.provider).toMatch(/^urn:pulumi:stack::esc-sync::pulumi:providers:aws::aws::/);
  });

  it("imports only the secret when no version holds AWSCURRENT: the program writes the value", async () => {
    const { resources } = await runAdopting(
      awsSecretsManagerTarget.program(programInput(settings, "keys", entries.slice(0, 1), { adopt: new Set(["payments/prod/DB_PASSWORD"]) })),
      { [GET_SECRET]: () => ({ arn: ARN }), [VERSIONS]: () => ({ secretArn: ARN, arn: ARN, versions: [] }) },
    );
    expect(the(resources, SECRET, "payments/prod/DB_PASSWORD").importId).toBe(ARN);
    expectCreated(the(resources, VERSION, "payments/prod/DB_PASSWORD"));
  });
});

describe("aws-parameter-store adoption", () => {
  const PARAMETER = "aws:ssm/parameter:Parameter";
  it("imports the parameter by its full name (pathPrefix applied)", async () => {
    const settings = parseSettings(awsParameterStoreTarget, { region: "eu-west-1", pathPrefix: "/esc" });
    const entries = keyEntries({ DB_PASSWORD: "hunter2", API_URL: "https://api" }, (k) => `/esc/payments/prod/${k}`);
    const { resources, calls } = await runAdopting(
      awsParameterStoreTarget.program(programInput(settings, "keys", entries, { adopt: new Set(["/esc/payments/prod/DB_PASSWORD"]) })),
    );
    const adopted = the(resources, PARAMETER, "/esc/payments/prod/DB_PASSWORD");
    expect(adopted.importId).toBe("/esc/payments/prod/DB_PASSWORD");
    expect(adopted.ignoreChanges).toEqual(["value", "insecureValue", "type", "tier", "keyId", "description", "tags", "dataType", "allowedPattern", "overwrite"]);
    expect(adopted.inputs.type).toBe("SecureString");
    expectCreated(the(resources, PARAMETER, "/esc/payments/prod/API_URL"));
    expect(calls).toEqual([]);
  });
});

describe("azure-key-vault adoption", () => {
  const SECRET = "azure-native:keyvault:Secret";
  it("imports the secret by its ARM id", async () => {
    const settings = parseSettings(azureKeyVaultTarget, {
      subscriptionId: "00000000-1111-2222-3333-444444444444",
      resourceGroupName: "rg-secrets",
      vaultName: "kv-payments-prod",
    });
    const entries = keyEntries({ DB_PASSWORD: "hunter2", API_URL: "https://api" }, (k) => `payments-prod-${k.replace(/_/g, "-")}`);
    const { resources, calls } = await runAdopting(
      azureKeyVaultTarget.program(programInput(settings, "keys", entries, { adopt: new Set(["payments-prod-DB-PASSWORD"]) })),
    );
    const adopted = the(resources, SECRET, "payments-prod-DB-PASSWORD");
    expect(adopted.importId).toBe(
      "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-secrets/providers/Microsoft.KeyVault/vaults/kv-payments-prod/secrets/payments-prod-DB-PASSWORD",
    );
    expect(adopted.ignoreChanges).toEqual(["properties", "tags"]);
    expectCreated(the(resources, SECRET, "payments-prod-API-URL"));
    expect(calls).toEqual([]);
  });
});

describe("gcp-secret-manager adoption", () => {
  const SECRET = "gcp:secretmanager/secret:Secret";
  const VERSION = "gcp:secretmanager/secretVersion:SecretVersion";
  const GET_VERSION = "gcp:secretmanager/getSecretVersion:getSecretVersion";
  it("imports the secret by projects/<project>/secrets/<id> and its latest version by number, without fetching the payload", async () => {
    const settings = parseSettings(gcpSecretManagerTarget, { project: "acme-payments" });
    const entries = keyEntries({ DB_PASSWORD: "hunter2", API_URL: "https://api" }, (k) => `payments-prod-${k}`);
    const { resources, calls } = await runAdopting(
      gcpSecretManagerTarget.program(programInput(settings, "keys", entries, { adopt: new Set(["payments-prod-DB_PASSWORD"]) })),
      {
        [GET_VERSION]: (inputs) => ({
          ...inputs,
          name: `projects/123456789/secrets/${inputs.secret}/versions/7`,
          version: "7",
          enabled: true,
        }),
      },
    );
    const secret = the(resources, SECRET, "payments-prod-DB_PASSWORD");
    expect(secret.importId).toBe("projects/acme-payments/secrets/payments-prod-DB_PASSWORD");
    expect(secret.ignoreChanges).toEqual([
      "labels",
      "annotations",
      "replication",
      "rotation",
      "topics",
      "ttl",
      "expireTime",
      "versionAliases",
      "versionDestroyTtl",
      "tags",
      "deletionProtection",
    ]);
    const version = the(resources, VERSION, "payments-prod-DB_PASSWORD");
    expect(version.importId).toBe("projects/acme-payments/secrets/payments-prod-DB_PASSWORD/versions/7");
    expect(version.ignoreChanges).toEqual(["secretData", "enabled", "deletionPolicy", "isSecretDataBase64", "secret"]);

    expectCreated(the(resources, SECRET, "payments-prod-API_URL"));
    expectCreated(the(resources, VERSION, "payments-prod-API_URL"));

    expect(calls).toHaveLength(1);
    expect(calls[0]!.inputs).toEqual({ project: "acme-payments", secret: "payments-prod-DB_PASSWORD", fetchSecretData: false });
    expect(calls[0]!.provider).toMatch(/^urn:pulumi:stack::esc-sync::pulumi:providers:gcp::gcp::/);
  });
});

describe("vault-kv adoption", () => {
  const SECRET = "vault:kv/secretV2:SecretV2";
  it("imports the pair's secret by <mount>/data/<path> when one of its fields is adopted", async () => {
    const settings = parseSettings(vaultKvTarget, { address: "https://vault.example.com:8200", mount: "kv/teams", pathTemplate: "payments/prod" });
    const entries = keyEntries({ DB_PASSWORD: "hunter2", API_URL: "https://api" });
    const { resources } = await runAdopting(vaultKvTarget.program(programInput(settings, "keys", entries, { adopt: new Set(["DB_PASSWORD"]) })));
    const secret = the(resources, SECRET, "payments/prod");
    expect(secret.importId).toBe("kv/teams/data/payments/prod");
    expect(secret.ignoreChanges).toEqual(["dataJson", "customMetadata", "options", "cas", "deleteAllVersions", "disableRead"]);
    // Every planned field is still declared: the next sync writes them all.
    expect(JSON.parse(pulumi.runtime.unwrapRpcSecret(secret.inputs.dataJson))).toEqual({ DB_PASSWORD: "hunter2", API_URL: "https://api" });
  });

  it("creates the secret as usual when nothing is adopted", async () => {
    const settings = parseSettings(vaultKvTarget, { address: "https://vault.example.com:8200", pathTemplate: "payments/prod" });
    const entries = keyEntries({ DB_PASSWORD: "hunter2" });
    for (const adopt of [undefined, new Set<string>(), new Set(["OTHER_PAIR_FIELD"])]) {
      const { resources } = await runAdopting(vaultKvTarget.program(programInput(settings, "keys", entries, adopt ? { adopt } : {})));
      expectCreated(the(resources, SECRET, "payments/prod"));
    }
  });
});

describe("github-actions adoption", () => {
  it("has no findExisting: secrets cannot be read, so there is nothing to compare or adopt", () => {
    expect(githubActionsTarget.findExisting).toBeUndefined();
  });
});

/**
 * A fake reader over a fixed store that keeps the reader contract: the prefix and `include` are
 * applied before an entry is yielded (a filtered-out entry is never "fetched").
 */
function fakeReader(store: StoreEntry[]): StoreReader & { filters: ReadFilter[]; fetched: string[] } {
  const filters: ReadFilter[] = [];
  const fetched: string[] = [];
  return {
    location: "fake",
    filters,
    fetched,
    async *list(filter) {
      filters.push(filter);
      for (const item of store) {
        if (filter.prefix !== undefined && !item.name.startsWith(filter.prefix)) continue;
        if (filter.include && !filter.include(item.name)) continue;
        fetched.push(item.name);
        yield item;
      }
    },
  };
}

const text = (t: string) => new SecretValue(t);
const reveal = (m: Map<string, SecretValue>) => Object.fromEntries([...m].map(([k, v]) => [k, v.reveal()]));

describe("findExisting", () => {
  it("aws-secrets-manager: finds the planned secrets that exist, by planned name, fetching nothing else", async () => {
    const settings = parseSettings(awsSecretsManagerTarget, { region: "eu-west-1" });
    const entries = keyEntries({ DB_PASSWORD: "hunter2", API_URL: "https://api", NEW_KEY: "n" }, (k) => `payments/prod/${k}`);
    const reader = fakeReader([
      { name: "payments/prod/API_URL", value: text("https://old-api") },
      { name: "payments/prod/DB_PASSWORD", value: text("hunter2") },
      { name: "payments/prod/UNRELATED", value: text("x") },
      { name: "payments/staging/DB_PASSWORD", value: text("y") },
    ]);
    const found = await awsSecretsManagerFindExisting(programInput(settings, "keys", entries), undefined, reader);
    expect(reveal(found)).toEqual({ "payments/prod/API_URL": "https://old-api", "payments/prod/DB_PASSWORD": "hunter2" });
    expect(reader.fetched).toEqual(["payments/prod/API_URL", "payments/prod/DB_PASSWORD"]);
    // The names' common prefix narrows the listing where the store filters by prefix.
    expect(reader.filters[0]!.prefix).toBe("payments/prod/");
  });

  it("leaves out entries the store holds but ESC cannot (binary, disabled) and fails on an entry it could not read", async () => {
    const settings = parseSettings(awsSecretsManagerTarget, { region: "eu-west-1" });
    const entries = keyEntries({ A: "a", B: "b" }, (k) => `p/${k}`);
    const skipped = fakeReader([
      { name: "p/A", value: undefined, binary: true, skippedReason: "binary secret (SecretBinary): ESC values are text" },
      { name: "p/B", value: text("b") },
    ]);
    expect(reveal(await awsSecretsManagerFindExisting(programInput(settings, "keys", entries), undefined, skipped))).toEqual({ "p/B": "b" });
    const failing = fakeReader([{ name: "p/A", value: undefined, error: "GetSecretValue: AccessDeniedException (400): not authorized" }]);
    await expect(awsSecretsManagerFindExisting(programInput(settings, "keys", entries), undefined, failing)).rejects.toThrow(
      "cannot tell whether p/A can be adopted: GetSecretValue: AccessDeniedException (400): not authorized",
    );
  });

  it("asks nothing of the store for a pair without entries", async () => {
    const settings = parseSettings(awsSecretsManagerTarget, { region: "eu-west-1" });
    const reader = fakeReader([{ name: "x", value: text("x") }]);
    expect((await awsSecretsManagerFindExisting(programInput(settings, "keys", []), undefined, reader)).size).toBe(0);
    expect(reader.filters).toEqual([]);
  });

  it("aws-parameter-store: looks parameters up by their full name under pathPrefix", async () => {
    const settings = parseSettings(awsParameterStoreTarget, { region: "eu-west-1", pathPrefix: "/esc" });
    const entries = keyEntries({ DB_PASSWORD: "hunter2", TOKEN: "t" }, (k) => `/esc/payments/prod/${k}`);
    const reader = fakeReader([
      { name: "/esc/payments/prod/DB_PASSWORD", value: text("old") },
      { name: "/esc/payments/prod/OTHER", value: text("x") },
    ]);
    const found = await awsParameterStoreFindExisting(programInput(settings, "keys", entries), undefined, reader);
    expect(reveal(found)).toEqual({ "/esc/payments/prod/DB_PASSWORD": "old" });
    expect(reader.filters[0]!.prefix).toBe("/esc/payments/prod/");
    expect(reader.fetched).toEqual(["/esc/payments/prod/DB_PASSWORD"]);
  });

  it("aws-parameter-store: names without a common prefix leave the listing to the target's pathPrefix", async () => {
    const settings = parseSettings(awsParameterStoreTarget, { region: "eu-west-1" });
    const reader = fakeReader([{ name: "B", value: text("b") }]);
    const found = await awsParameterStoreFindExisting(programInput(settings, "keys", [entry("A", "a"), entry("B", "b")]), undefined, reader);
    expect(reveal(found)).toEqual({ B: "b" });
    expect(reader.filters[0]!.prefix).toBeUndefined();
  });

  it("azure-key-vault: matches names exactly (a case-only difference is not adopted)", async () => {
    const settings = parseSettings(azureKeyVaultTarget, {
      subscriptionId: "00000000-1111-2222-3333-444444444444",
      resourceGroupName: "rg-secrets",
      vaultName: "kv-payments-prod",
    });
    const entries = keyEntries({ DB_PASSWORD: "hunter2", TOKEN: "t" }, (k) => `payments-prod-${k.replace(/_/g, "-")}`);
    const reader = fakeReader([
      { name: "payments-prod-DB-PASSWORD", value: text("old") },
      { name: "Payments-Prod-Token", value: text("t") },
      { name: "payments-prod-other", value: text("x") },
    ]);
    const found = await azureKeyVaultFindExisting(programInput(settings, "keys", entries), undefined, reader);
    expect(reveal(found)).toEqual({ "payments-prod-DB-PASSWORD": "old" });
    expect(reader.fetched).toEqual(["payments-prod-DB-PASSWORD"]);
  });

  it("gcp-secret-manager: finds the planned secret ids (case-sensitive)", async () => {
    const settings = parseSettings(gcpSecretManagerTarget, { project: "acme-payments" });
    const entries = keyEntries({ DB_PASSWORD: "hunter2", TOKEN: "t" }, (k) => `payments-prod-${k}`);
    const reader = fakeReader([
      { name: "payments-prod-DB_PASSWORD", value: text("hunter2") },
      { name: "payments-prod-token", value: text("x") },
    ]);
    const found = await gcpSecretManagerFindExisting(programInput(settings, "keys", entries), undefined, reader);
    expect(reveal(found)).toEqual({ "payments-prod-DB_PASSWORD": "hunter2" });
  });

  it("vault-kv: maps <path>/<field> back to the planned field, and reads a JSON document in the planned form", async () => {
    const settings = parseSettings(vaultKvTarget, { address: "https://vault.example.com:8200", pathTemplate: "payments/prod" });
    const keys = fakeReader([
      { name: "payments/prod/API_URL", value: text("https://api") },
      { name: "payments/prod/EXTRA", value: text("x") },
      { name: "payments/prod-old/DB_PASSWORD", value: text("y") },
    ]);
    const found = await vaultKvFindExisting(programInput(settings, "keys", keyEntries({ DB_PASSWORD: "hunter2", API_URL: "https://api" })), undefined, keys);
    expect(reveal(found)).toEqual({ API_URL: "https://api" });
    expect(keys.filters[0]!.prefix).toBe("payments/prod/");

    // Vault hands the document back with its keys in its own order: equal documents compare equal.
    const planned: PlannedEntry = jsonEntry("json", { b: 2, a: [1, { d: 4, c: 3 }] });
    const json = fakeReader([{ name: "payments/prod/json", value: text('{"a":[1,{"c":3,"d":4}],"b":2}') }]);
    const doc = await vaultKvFindExisting(programInput(settings, "json", [planned]), undefined, json);
    expect(doc.get("json")!.reveal()).toBe(planned.value.reveal());
    const other = fakeReader([{ name: "payments/prod/json", value: text('{ "a": 1 }') }]);
    expect((await vaultKvFindExisting(programInput(settings, "json", [planned]), undefined, other)).get("json")!.reveal()).toBe('{"a":1}');
  });

  it("is registered on every cloud kind that can read its store", () => {
    for (const kind of [awsSecretsManagerTarget, awsParameterStoreTarget, azureKeyVaultTarget, gcpSecretManagerTarget, vaultKvTarget]) {
      expect(typeof kind.findExisting, kind.kind).toBe("function");
    }
  });
});

describe("commonPrefix", () => {
  it("is the longest prefix every name shares", () => {
    expect(commonPrefix([])).toBe("");
    expect(commonPrefix(["a/b/c"])).toBe("a/b/c");
    expect(commonPrefix(["a/b/c", "a/b/d", "a/bx"])).toBe("a/b");
    expect(commonPrefix(["x", "y"])).toBe("");
  });
});
