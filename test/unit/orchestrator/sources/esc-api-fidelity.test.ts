/**
 * The findings of issue 12, each against the loopback server answering as Pulumi Cloud does (the
 * project's local evaluator behind it; the official one is in the e2e and differential tests):
 * nulls as nodes without `value`, the revision from GET's `Pulumi-ESC-Revision`, ciphertext on the
 * definition GET, revision tags, diagnostics with severity, and the calls the official CLI makes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { StoreReader } from "../../../../programs/contract.js";
import { CloudDestination } from "../../../../orchestrator/migrate/destination.js";
import { runImport, type ImportResult } from "../../../../orchestrator/migrate/import.js";
import { keyMapping } from "../../../../orchestrator/migrate/mapping.js";
import { SecretValue } from "../../../../programs/secret-value.js";
import { EscClient } from "../../../../orchestrator/sources/esc-client.js";
import { PulumiCloudSource } from "../../../../orchestrator/sources/pulumi-cloud.js";
import type { EnvironmentRef } from "../../../../programs/environment-ref.js";
import { startEscServer, type EscServer } from "../../../support/esc-server/index.js";
import { ciphertextsOf } from "../../../support/esc-server/secrets.js";

const ORG = "acme";
const TOKEN = "pul-CANARY-fidelity-token";
const SECRET = "canary-FIDELITY-secret-7f3a";

const files: Record<string, string> = {
  "app/nulls": `imports:
  - app/base
values:
  empty:
  tilde: ~
  word: null
  list: [1, null, "x"]
  nested:
    inner: null
  fromJson:
    fn::fromJSON: '{"a": null, "b": [null, 2]}'
  secretNull:
    fn::fromJSON:
      fn::secret: 'null'
`,
  "app/base": "values:\n  importedNull: null\n  importedText: hello\n",
  "app/secrets": `values:
  plain: visible
  password:
    fn::secret: ${SECRET}
`,
  "app/warned": "values:\n  ok: 1\nunknownTopLevel: 2\n",
};

let folder: string;
let other: string;
let server: EscServer;
const ref = (project: string, name: string): EnvironmentRef => ({ org: ORG, project, name });
const client = () => new EscClient({ org: ORG, token: TOKEN, apiUrl: server.url, retry: { baseDelayMs: 1, maxAttempts: 1 } });
const source = () => new PulumiCloudSource({ org: ORG, token: TOKEN, apiUrl: server.url, retry: { baseDelayMs: 1, maxAttempts: 1 } });

/** `migrate import` of in-memory entries into a Pulumi Cloud environment, through the real code. */
function importInto(target: EnvironmentRef, entries: Record<string, string>): Promise<ImportResult> {
  const reader: StoreReader = {
    location: "memory",
    async *list() {
      for (const [name, value] of Object.entries(entries)) yield { name, value: new SecretValue(value) };
    },
  };
  return runImport({
    reader,
    destination: new CloudDestination(client(), target),
    options: { mapping: keyMapping({}), path: ["environmentVariables"], jsonAs: "string", overwrite: false, maxBytes: 1 << 20 },
    dryRun: false,
  });
}

async function api(path: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(`${server.url}${path}`, { ...init, headers: { Authorization: `token ${TOKEN}`, ...init.headers } });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), "esc-fidelity-"));
  other = mkdtempSync(join(tmpdir(), "esc-fidelity-other-"));
  for (const [id, yaml] of Object.entries(files)) {
    const [project, name] = id.split("/") as [string, string];
    mkdirSync(join(folder, project), { recursive: true });
    writeFileSync(join(folder, project, `${name}.yaml`), yaml);
  }
  mkdirSync(join(other, "infra"), { recursive: true });
  writeFileSync(join(other, "infra", "shared.yaml"), "values:\n  x: 1\n");
  server = await startEscServer({ folder, org: ORG, otherOrgs: { globex: other }, token: TOKEN });
});

afterAll(async () => {
  await server?.close();
  rmSync(folder, { recursive: true, force: true });
  rmSync(other, { recursive: true, force: true });
});

describe("finding 1: a null is a node with no value key", () => {
  it("the server sends nulls as Go's omitempty does", async () => {
    const open = await api(`/api/esc/environments/${ORG}/app/nulls/open`, { method: "POST" });
    const { id } = JSON.parse(open.text) as { id: string };
    const read = JSON.parse((await api(`/api/esc/environments/${ORG}/app/nulls/open/${id}`)).text) as { properties: Record<string, Record<string, unknown>> };
    expect(read.properties.tilde).not.toHaveProperty("value");
    expect(read.properties.empty).not.toHaveProperty("value");
    expect((read.properties.list!.value as Record<string, unknown>[])[1]).not.toHaveProperty("value");
  });

  it("opens an environment with nulls everywhere: leaf, list item, nested, imported, fromJSON, secret", async () => {
    const env = await source().open(ref("app", "nulls"));
    const p = env.properties;
    expect(p.empty).toEqual({ value: null });
    expect(p.tilde).toEqual({ value: null });
    expect(p.word).toEqual({ value: null });
    expect(p.list).toEqual({ value: [{ value: 1 }, { value: null }, { value: "x" }] });
    expect(p.nested).toEqual({ value: { inner: { value: null } } });
    expect(p.importedNull).toEqual({ value: null });
    expect(p.importedText).toEqual({ value: "hello" });
    expect(p.fromJson).toEqual({ value: { a: { value: null }, b: { value: [{ value: null }, { value: 2 }] } } });
    expect(p.secretNull).toEqual({ value: null, secret: true });
  });
});

describe("finding 2: the revision comes from GET's Pulumi-ESC-Revision, not HEAD", () => {
  it("HEAD carries only the ETag, as documented", async () => {
    const head = await api(`/api/esc/environments/${ORG}/app/base`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("etag")).toMatch(/^".+"$/);
    expect(head.headers.get("pulumi-esc-revision")).toBeNull();
  });

  it("opens at the revision read and reports it, without any HEAD", async () => {
    const heads = server.count(undefined, "HEAD");
    const env = await source().open(ref("app", "base"));
    expect(env.revision).toBe(1);
    expect(server.count(/\/app\/base\/versions\/1\/open$/, "POST")).toBeGreaterThan(0);
    expect(server.count(undefined, "HEAD")).toBe(heads);
  });
});

describe("finding 3: the definition GET returns ciphertext; only /decrypt returns plaintext", () => {
  it("stores secrets as ESC envelopes and decrypts them on /decrypt", async () => {
    const stored = await client().getEnvironmentYaml(ref("app", "secrets"));
    expect(stored.yaml).not.toContain(SECRET);
    const [ciphertext] = ciphertextsOf(stored.yaml);
    expect(Buffer.from(ciphertext!, "base64").subarray(0, 4).toString("latin1")).toBe("escx");
    expect(parse(stored.yaml).values.password["fn::secret"]).toEqual({ ciphertext });
    const plain = await client().getEnvironmentYaml(ref("app", "secrets"), { decrypt: true });
    expect(parse(plain.yaml).values.password).toEqual({ "fn::secret": SECRET });
    expect(plain.revision).toBe(stored.revision);
  });

  it("keeps ciphertext sent back byte for byte, refuses ciphertext it did not make", async () => {
    const target = ref("app", "secrets");
    const before = await client().getEnvironmentYaml(target);
    const edited = before.yaml.replace("plain: visible", "plain: changed");
    const updated = await client().updateEnvironmentYaml(target, edited, { etag: before.etag! });
    expect(updated.updated).toBe(true);
    const after = await client().getEnvironmentYaml(target);
    expect(ciphertextsOf(after.yaml)).toEqual(ciphertextsOf(before.yaml));
    expect((await source().open(target)).properties.password).toEqual({ value: SECRET, secret: true });

    const forged = after.yaml.replace(ciphertextsOf(after.yaml)[0]!, Buffer.from("escx-not-really").toString("base64"));
    const refused = await client().updateEnvironmentYaml(target, forged, { etag: after.etag! });
    expect(refused.updated).toBe(false);
    expect(refused.diagnostics[0]!.summary).toMatch(/invalid ciphertext/);
  });

  it("migrate import into an environment keeps its existing ciphertext untouched", async () => {
    const target = ref("app", "secrets");
    const before = await client().getEnvironmentYaml(target);
    const result = await importInto(target, { NEW_KEY: "imported-CANARY-value" });
    expect(result.written).toBe(true);
    const after = await client().getEnvironmentYaml(target);
    const kept = ciphertextsOf(before.yaml);
    // The existing secret's ciphertext is still there, as it was; the new one is encrypted too.
    expect(ciphertextsOf(after.yaml).slice(0, kept.length)).toEqual(kept);
    expect(ciphertextsOf(after.yaml)).toHaveLength(kept.length + 1);
    expect(after.yaml).not.toContain("imported-CANARY-value");
    const opened = await source().open(target);
    expect(opened.properties.password).toEqual({ value: SECRET, secret: true });
    expect((opened.properties.environmentVariables?.value as Record<string, unknown>).NEW_KEY).toEqual({ value: "imported-CANARY-value", secret: true });
  });
});

describe("finding 4: revision tags", () => {
  it("creates, resolves, reads, opens and moves a tag", async () => {
    const target = ref("app", "base");
    const first = await client().getEnvironmentYaml(target);
    const created = await api(`/api/esc/environments/${ORG}/app/base/versions/tags`, { method: "POST", body: JSON.stringify({ name: "stable", revision: first.revision }) });
    expect(created.status).toBe(200);
    await client().updateEnvironmentYaml(target, "values:\n  importedNull: null\n  importedText: moved-on\n", { etag: first.etag! });

    expect(await client().resolveRevision(target, "stable")).toBe(first.revision);
    expect(await client().resolveRevision(target, "latest")).toBe(first.revision! + 1);
    expect((await client().getEnvironmentYaml(target, { version: "stable" })).yaml).toBe(files["app/base"]);
    const session = await client().openEnvironment(target, { version: "stable" });
    expect((await client().readOpenEnvironment(target, session)).importedText).toEqual({ value: "hello" });
    expect(await client().listRevisionTags(target)).toEqual([
      { name: "latest", revision: first.revision! + 1 },
      { name: "stable", revision: first.revision },
    ]);

    const moved = await api(`/api/esc/environments/${ORG}/app/base/versions/tags/stable`, { method: "PATCH", body: JSON.stringify({ revision: first.revision! + 1 }) });
    expect(moved.status).toBe(200);
    expect(await client().resolveRevision(target, "stable")).toBe(first.revision! + 1);
    const missing = await client()
      .resolveRevision(target, "nope")
      .catch((e: unknown) => e);
    expect((missing as { status?: number }).status).toBe(404);
  });

  it("versions?before=0 lists from the latest, as the official CLI asks", async () => {
    const all = await client().listRevisions(ref("app", "base"), { before: 0 });
    expect(all.map((r) => r.number)).toEqual([2, 1]);
    expect(all[0]!.tags).toEqual(expect.arrayContaining(["latest", "stable"]));
  });
});

describe("finding 5: diagnostics carry severity; warnings never fail", () => {
  it("opens an environment that has warnings only", async () => {
    const env = await source().open(ref("app", "warned"));
    expect(env.properties).toEqual({ ok: { value: 1 } });
  });

  it("an update with warnings is stored, its warnings reported apart from errors", async () => {
    const target = ref("app", "warned");
    const read = await client().getEnvironmentYaml(target);
    const result = await client().updateEnvironmentYaml(target, "values:\n  ok: 2\nanotherUnknown: 3\n", { etag: read.etag! });
    expect(result.updated).toBe(true);
    expect(result.diagnostics).toEqual([]);
    expect(result.warnings.length).toBeGreaterThan(0);
    expect(result.warnings.every((d) => d.severity === "warning")).toBe(true);
  });

  it("an update with errors is refused with the errors, severity error", async () => {
    const target = ref("app", "warned");
    const read = await client().getEnvironmentYaml(target);
    const result = await client().updateEnvironmentYaml(target, "values:\n  bad: ${missing.thing}\n", { etag: read.etag! });
    expect(result.updated).toBe(false);
    expect(result.diagnostics.length).toBeGreaterThan(0);
    expect(result.diagnostics.every((d) => d.severity === "error")).toBe(true);
  });
});

describe("finding 6: the calls the official CLI makes first", () => {
  it("serves the user, the default organisation, listing across organisations and yaml/check", async () => {
    const user = JSON.parse((await api("/api/user")).text) as { githubLogin: string; organizations: { githubLogin: string }[] };
    expect(user.githubLogin).not.toBe("");
    expect(user.organizations.map((o) => o.githubLogin)).toEqual([ORG, "globex"]);
    expect(JSON.parse((await api("/api/user/organizations/default")).text)).toEqual({ gitHubLogin: ORG });
    const all = JSON.parse((await api("/api/esc/environments")).text) as { environments: { organization: string }[] };
    expect(new Set(all.environments.map((e) => e.organization))).toEqual(new Set([ORG, "globex"]));

    const check = (showSecrets: boolean) =>
      api(`/api/esc/environments/${ORG}/yaml/check?showSecrets=${showSecrets}`, { method: "POST", body: `values:\n  a: 1\n  s:\n    fn::secret: ${SECRET}\n` });
    const shown = JSON.parse((await check(true)).text) as { properties: Record<string, { value?: unknown; secret?: boolean }> };
    expect(shown.properties.s).toMatchObject({ value: SECRET, secret: true });
    const hidden = await check(false);
    expect(hidden.text).not.toContain(SECRET);
    expect((JSON.parse(hidden.text) as { properties: Record<string, unknown> }).properties.a).toMatchObject({ value: 1 });
  });
});
