import { describe, expect, it } from "vitest";
import { gcpSecretManagerTarget as kind } from "../../../../programs/gcp-secret-manager/index.js";
import { toLabelValue } from "../../../../programs/shared/ownership.js";
import {
  ENV,
  entry,
  expectExplicitProvider,
  expectSecret,
  jsonEntry,
  keyEntries,
  messages,
  ofType,
  one,
  parseSettings,
  programInput,
  runProgram,
  textOfBytes,
} from "../fixtures.js";

const SECRET = "gcp:secretmanager/secret:Secret";
const VERSION = "gcp:secretmanager/secretVersion:SecretVersion";
const PROVIDER = "pulumi:providers:gcp";

const settings = parseSettings(kind, { project: "acme-payments" });

describe("gcp-secret-manager settings", () => {
  it("defaults to automatic replication and validates user-managed locations", () => {
    expect(settings.replication).toEqual({ kind: "automatic" });
    expect(parseSettings(kind, { project: "acme-payments", replication: { kind: "user-managed", locations: ["europe-west1"] } }).replication).toEqual({
      kind: "user-managed",
      locations: ["europe-west1"],
    });
    expect(kind.settingsSchema.safeParse({ project: "acme-payments", replication: { kind: "user-managed", locations: [] } }).success).toBe(false);
    expect(kind.settingsSchema.safeParse({ project: "Acme_Payments" }).success).toBe(false);
  });
  it("needs the gcp plugin of the installed SDK", () => {
    expect(kind.plugins).toEqual([{ name: "gcp", version: "9.37.0" }]);
  });
});

describe("gcp-secret-manager program", () => {
  it("keys shape: one secret and one secret version per key, through the explicit provider", async () => {
    const entries = keyEntries({ DB_PASSWORD: "hunter2", API_URL: "https://api" }, (k) => `payments-prod-${k}`, false);
    const { resources, outputs } = await runProgram(kind.program(programInput(settings, "keys", entries, { retainOnDelete: true })));

    const provider = expectExplicitProvider(resources, PROVIDER);
    expect(provider.inputs.project).toBe("acme-payments");
    expect(provider.inputs.credentials).toBeUndefined();
    expect(provider.inputs.accessToken).toBeUndefined();
    const secret = one(resources, SECRET, "payments-prod-DB_PASSWORD");
    expect(secret.inputs).toEqual({
      project: "acme-payments",
      secretId: "payments-prod-DB_PASSWORD",
      replication: { auto: {} },
      labels: { "managed-by": "esc-sync", "esc-org": "acme", "esc-project": "payments", "esc-env": "prod", "esc-target": "primary" },
      annotations: {
        "esc-environment": "acme/payments/prod",
        "esc-target": "primary",
        description: expect.stringContaining("key DB_PASSWORD of ESC environment acme/payments/prod"),
      },
    });
    const version = one(resources, VERSION, "payments-prod-DB_PASSWORD");
    expect(version.inputs.secret).toBe("payments-prod-DB_PASSWORD-id");
    expectSecret(version.inputs.secretData, "hunter2");
    expectSecret(one(resources, VERSION, "payments-prod-API_URL").inputs.secretData, "https://api");
    for (const r of [...ofType(resources, SECRET), ...ofType(resources, VERSION)]) expect(r.retainOnDelete).toBe(true);
    expect(resources).toHaveLength(5);
    expect(outputs).toEqual({ names: ["payments-prod-DB_PASSWORD", "payments-prod-API_URL"] });
  });

  it("json shape with user-managed replication and label values made to fit GCP's rules", async () => {
    const doc = { a: 1 };
    const s = parseSettings(kind, { project: "acme-payments", replication: { kind: "user-managed", locations: ["europe-west1", "europe-west4"] } });
    const input = programInput(s, "json", [jsonEntry("Payments-Prod", doc)], { env: { ...ENV, project: "Payments.API", name: "Prod/EU" }, targetId: "GCP" });
    const { resources } = await runProgram(kind.program(input));
    expectExplicitProvider(resources, PROVIDER);
    const secret = one(resources, SECRET, "Payments-Prod");
    expect(secret.inputs.replication).toEqual({ userManaged: { replicas: [{ location: "europe-west1" }, { location: "europe-west4" }] } });
    expect(secret.inputs.labels).toEqual({ "managed-by": "esc-sync", "esc-org": "acme", "esc-project": "payments_api", "esc-env": "prod_eu", "esc-target": "gcp" });
    expect(secret.inputs.annotations["esc-environment"]).toBe("acme/Payments.API/Prod/EU");
    expectSecret(one(resources, VERSION, "Payments-Prod").inputs.secretData, JSON.stringify(doc));
    expect(secret.retainOnDelete).toBe(false);
  });

  it("writes an empty value as a secret too (the SDK would drop a plain empty string)", async () => {
    const { resources } = await runProgram(kind.program(programInput(settings, "keys", [entry("EMPTY", "", { key: "EMPTY" })])));
    expectSecret(one(resources, VERSION).inputs.secretData, "");
  });
});

describe("gcp-secret-manager labels", () => {
  it("lower-cases, replaces what labels cannot hold and keeps 63 characters", () => {
    expect(toLabelValue("Team.A/B c")).toBe("team_a_b_c");
    expect(toLabelValue("x".repeat(80))).toHaveLength(63);
  });
});

describe("gcp-secret-manager check", () => {
  it("accepts valid names and values at the limit", () => {
    expect(kind.check([entry("a_B-9", textOfBytes(64 * 1024)), entry("x".repeat(255), "v")], settings, "keys")).toEqual([]);
  });
  it("states the naming rules", () => {
    expect(messages(kind.check([entry("app.db", "v"), entry("x".repeat(256), "v")], settings, "keys"))).toEqual([
      'secret name "app.db" is invalid: GCP Secret Manager secret names must contain only alphanumerics, _ and -',
      `secret name "${"x".repeat(256)}" is invalid: GCP Secret Manager secret names must be 1 to 255 characters long`,
    ]);
  });
  it("states the size rule", () => {
    expect(messages(kind.check([entry("big", textOfBytes(64 * 1024 + 1), { key: "BIG" })], settings, "keys"))).toEqual([
      'value of secret "big" (key "BIG") is 65,537 bytes: GCP Secret Manager secret values cannot exceed 65,536 bytes (64 KiB)',
    ]);
  });
  it("reports two entries with one name", () => {
    expect(messages(kind.check([entry("app-x", "1", { key: "a" }), entry("app-x", "2", { key: "b" })], settings, "keys"))).toEqual([
      'keys "a" and "b" both map to secret "app-x": GCP Secret Manager secret names must be unique; rename one of them or change the naming template',
    ]);
  });
});
