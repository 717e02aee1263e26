import { afterEach, describe, expect, it } from "vitest";
import { githubActionsTarget as kind } from "../../../../programs/github-actions/index.js";
import {
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

const SECRET = "github:index/actionsSecret:ActionsSecret";
const ENV_SECRET = "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret";
const VARIABLE = "github:index/actionsVariable:ActionsVariable";
const ENV_VARIABLE = "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable";
const PROVIDER = "pulumi:providers:github";

const settings = parseSettings(kind, { owner: "acme", repository: "payments" });
const savedToken = process.env["GITHUB_TOKEN"];

afterEach(() => {
  if (savedToken === undefined) delete process.env["GITHUB_TOKEN"];
  else process.env["GITHUB_TOKEN"] = savedToken;
});

describe("github-actions settings", () => {
  it("templates repository and environment, and keeps variables off by default", () => {
    expect(kind.templatedSettings).toEqual(["repository", "environment"]);
    expect(settings.nonSecretAsVariables).toBe(false);
    expect(parseSettings(kind, { owner: "acme", repository: "{project}-deploy" }).repository).toBe("{project}-deploy");
    expect(kind.settingsSchema.safeParse({ owner: "acme", repository: "acme/payments" }).success).toBe(false);
    expect(kind.location(parseSettings(kind, { owner: "acme", repository: "payments", environment: "prod" }))).toBe("github.com/acme/payments (environment prod)");
  });
  it("needs the github plugin of the installed SDK", () => {
    expect(kind.plugins).toEqual([{ name: "github", version: "6.15.0" }]);
  });
  it("upper-cases names, idempotently", () => {
    expect(kind.normalizeName("db_Password", settings)).toBe("DB_PASSWORD");
    expect(kind.normalizeName("DB_PASSWORD", settings)).toBe("DB_PASSWORD");
  });
});

describe("github-actions program", () => {
  it("keys shape: one repository secret per key, upper-cased, values secret", async () => {
    process.env["GITHUB_TOKEN"] = "ghp_token";
    const entries = keyEntries({ db_password: "hunter2", API_URL: "https://api" }, (k) => k, false);
    const { resources, outputs } = await runProgram(kind.program(programInput(settings, "keys", entries, { retainOnDelete: true })));

    const provider = expectExplicitProvider(resources, PROVIDER);
    expect(provider.inputs.owner).toBe("acme");
    // The token the SDK would copy from the environment reaches state as a secret only.
    expectSecret(provider.inputs.token, "ghp_token");
    const secrets = ofType(resources, SECRET);
    expect(secrets.map((r) => r.name)).toEqual(["DB_PASSWORD", "API_URL"]);
    const db = one(resources, SECRET, "DB_PASSWORD");
    expect(db.inputs).toEqual({ repository: "payments", secretName: "DB_PASSWORD", value: expect.anything() });
    expectSecret(db.inputs.value, "hunter2");
    expectSecret(one(resources, SECRET, "API_URL").inputs.value, "https://api");
    for (const s of secrets) expect(s.retainOnDelete).toBe(true);
    // Without nonSecretAsVariables, entries ESC does not mark secret are secrets too.
    expect(ofType(resources, VARIABLE)).toEqual([]);
    expect(outputs).toEqual({ names: ["DB_PASSWORD", "API_URL"] });
  });

  it("json shape: one secret holding the document", async () => {
    delete process.env["GITHUB_TOKEN"];
    const doc = { a: "b" };
    const { resources } = await runProgram(kind.program(programInput(settings, "json", [jsonEntry("ESC_ENVIRONMENT_JSON", doc)])));
    const provider = expectExplicitProvider(resources, PROVIDER);
    expect(provider.inputs.token).toBeUndefined();
    const secret = one(resources, SECRET, "ESC_ENVIRONMENT_JSON");
    expectSecret(secret.inputs.value, JSON.stringify(doc));
    expect(secret.retainOnDelete).toBe(false);
    expect(resources).toHaveLength(2);
  });

  it("environment and nonSecretAsVariables: environment secrets and variables, every value secret in state", async () => {
    const s = parseSettings(kind, { owner: "acme", repository: "payments", environment: "production", nonSecretAsVariables: true });
    const entries = [entry("DB_PASSWORD", "hunter2", { key: "DB_PASSWORD" }), entry("REGION", "eu-west-1", { key: "REGION", secret: false })];
    const { resources } = await runProgram(kind.program(programInput(s, "keys", entries)));
    expectExplicitProvider(resources, PROVIDER);
    const secret = one(resources, ENV_SECRET, "DB_PASSWORD");
    expect(secret.inputs).toEqual({ repository: "payments", environment: "production", secretName: "DB_PASSWORD", value: expect.anything() });
    expectSecret(secret.inputs.value, "hunter2");
    const variable = one(resources, ENV_VARIABLE, "REGION");
    expect(variable.inputs).toEqual({ repository: "payments", environment: "production", variableName: "REGION", value: expect.anything() });
    // The github SDK does not mark variable values secret: this is the program's doing.
    expectSecret(variable.inputs.value, "eu-west-1");
    expect(ofType(resources, SECRET)).toEqual([]);
  });

  it("repository variables when no environment is set", async () => {
    const s = parseSettings(kind, { owner: "acme", repository: "payments", nonSecretAsVariables: true });
    const { resources } = await runProgram(kind.program(programInput(s, "keys", [entry("region", "eu-west-1", { key: "region", secret: false })])));
    const variable = one(resources, VARIABLE, "REGION");
    expect(variable.inputs).toEqual({ repository: "payments", variableName: "REGION", value: expect.anything() });
    expectSecret(variable.inputs.value, "eu-west-1");
  });

  it("writes an empty value as a secret too (the SDK would drop a plain empty string)", async () => {
    const { resources } = await runProgram(kind.program(programInput(settings, "keys", [entry("EMPTY", "", { key: "EMPTY" })])));
    expectSecret(one(resources, SECRET).inputs.value, "");
  });
});

describe("github-actions check", () => {
  it("accepts valid names and values at the limit", () => {
    expect(kind.check([entry("DB_PASSWORD_2", textOfBytes(48 * 1024)), entry("_X", "v")], settings, "keys")).toEqual([]);
  });
  it("states the naming rules", () => {
    expect(messages(kind.check([entry("db-url", "v"), entry("github_token", "v"), entry("1PASSWORD", "v"), entry("", "v")], settings, "keys"))).toEqual([
      'secret name "DB-URL" is invalid: GitHub Actions secret names must contain only alphanumerics and _',
      'secret name "GITHUB_TOKEN" is invalid: GitHub Actions secret names cannot start with the GITHUB_ prefix',
      'secret name "1PASSWORD" is invalid: GitHub Actions secret names cannot start with a number',
      'secret name "" is invalid: GitHub Actions secret names cannot be empty',
    ]);
  });
  it("states the rules for variables as variables", () => {
    const s = parseSettings(kind, { owner: "acme", repository: "payments", nonSecretAsVariables: true });
    expect(messages(kind.check([entry("GITHUB_SHA", "v", { secret: false })], s, "keys"))).toEqual([
      'variable name "GITHUB_SHA" is invalid: GitHub Actions variable names cannot start with the GITHUB_ prefix',
    ]);
  });
  it("states the size rule", () => {
    expect(messages(kind.check([entry("BIG", textOfBytes(48 * 1024 + 1))], settings, "keys"))).toEqual([
      'value of secret "BIG" is 49,153 bytes: GitHub Actions secret values cannot exceed 49,152 bytes (48 KiB)',
    ]);
  });
  it("reports keys that collide once upper-cased", () => {
    const problems = kind.check([entry("db_url", "1", { key: "db_url" }), entry("DB_URL", "2", { key: "DB_URL" })], settings, "keys");
    expect(problems).toEqual([
      {
        name: "DB_URL",
        message:
          'keys "db_url" and "DB_URL" both map to secret "DB_URL": GitHub Actions secret names must be unique after the store\'s transform (names are stored upper-case); rename one of them or change the naming template',
      },
    ]);
  });
  it("states the count limit per repository and per environment, as a pair-level problem", () => {
    const many = Array.from({ length: 101 }, (_, i) => entry(`K${i}`, "v", { key: `K${i}` }));
    expect(kind.check(many, settings, "keys")).toEqual([{ message: "the pair writes 101 secrets: GitHub Actions allows at most 100 secrets per repository" }]);
    expect(kind.check(many.slice(0, 100), settings, "keys")).toEqual([]);
    const env = parseSettings(kind, { owner: "acme", repository: "payments", environment: "prod" });
    expect(messages(kind.check(many, env, "keys"))).toEqual(["the pair writes 101 secrets: GitHub Actions allows at most 100 secrets per environment"]);
    const vars = parseSettings(kind, { owner: "acme", repository: "payments", environment: "prod", nonSecretAsVariables: true });
    const plain = many.map((e) => ({ ...e, secret: false }));
    expect(messages(kind.check(plain, vars, "keys"))).toEqual(["the pair writes 101 variables: GitHub Actions allows at most 100 variables per environment"]);
  });
});
