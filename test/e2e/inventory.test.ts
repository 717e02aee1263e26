/**
 * `esc-sync inventory` against the real Pulumi CLI: sync first, then ask where every entry lives
 * and where its value comes from. The environments' secret values are the canaries: no format
 * prints them, and `--out` writes the same document.
 */
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import type { InventoryDocument } from "../../orchestrator/inventory/render.js";
import { inventoryDocumentSchema } from "../../orchestrator/inventory/schema.js";
import { startEscServer } from "../support/esc-server/index.js";
import { APP_TO_FILES, cloudToFiles, Sandbox } from "../support/sandbox.js";
import { REPO } from "../support/toolchain.js";

const BACKEND = ["--backend-url", "file://./state"];

async function inventory(sb: Sandbox, args: string[] = []): Promise<InventoryDocument> {
  const r = await sb.run(["inventory", ...BACKEND, "--format", "json", ...args]);
  expect(r.code, r.stderr).toBe(0);
  // What scripts read: the document as its published schema describes it.
  return inventoryDocumentSchema.parse(JSON.parse(r.stdout));
}

const key = (e: { environment: string; target: string; entry: string }) => `${e.environment} ${e.target} ${e.entry}`;

describe("inventory on the embedded default", () => {
  const sb = new Sandbox();
  afterAll(() => sb.cleanup());
  // The embedded default's secret values.
  const canaries = ["demo-payments-dev-password", "demo-payments-prod-password", "sk_demo_not_a_real_key", "demo-checkout-staging-token"];

  it("lists every file entry with its environment and path, and finds every entry built from a shared value", async () => {
    cpSync(join(REPO, "environments.yaml"), join(sb.dir, "environments.yaml"));
    cpSync(join(REPO, "environments"), sb.envDir, { recursive: true });
    const before = await inventory(sb);
    // Nothing written yet: every planned entry is pending, none has been written.
    expect(before.entries.length).toBeGreaterThan(0);
    expect(new Set(before.entries.map((e) => e.status))).toEqual(new Set(["pending"]));

    const sync = await sb.run(["sync", ...BACKEND]);
    expect(sync.code, sync.stderr).toBe(0);
    const doc = await inventory(sb);
    expect(doc.schemaVersion).toBe(1);
    expect(doc.provenance.traced).toBe(true);
    // Every line of every dotenv file written is one row, with the path it was read from.
    for (const file of ["payments/dev.env", "payments/prod.env", "checkout/staging.env"]) {
      const names = sb.read(`out/${file}`).split("\n").filter((l) => l.includes("=")).map((l) => l.slice(0, l.indexOf("=")));
      const env = `local/${file.replace(".env", "")}`;
      const rows = doc.entries.filter((e) => e.environment === env && e.target === "dotenv");
      expect(rows.map((r) => r.entry).sort()).toEqual(names.sort());
      for (const r of rows) {
        expect(r).toMatchObject({ kind: "file", status: "synced", path: `environmentVariables.${r.entry}`, location: join(sb.dir, "out", file) });
        expect(r.lastWritten).toMatch(/^\d{4}-\d\d-\d\dT/);
      }
    }
    expect(doc.entries.filter((e) => e.target === "config-json").map((e) => [e.environment, e.path, e.entry])).toEqual([
      ["local/payments/dev", "app", "payments/dev"],
      ["local/payments/prod", "app", "payments/prod"],
    ]);
    expect(doc.summary).toMatchObject({ entries: doc.entries.length, synced: doc.entries.length });

    // db.port is defined once, in shared/common, and reaches both DATABASE_URLs (interpolated
    // through an import) and both JSON documents (app.database: ${db}).
    const port = await inventory(sb, ["--secret", "local/shared/common:db.port"]);
    expect(port.entries.map(key).sort()).toEqual([
      "local/payments/dev config-json payments/dev",
      "local/payments/dev dotenv DATABASE_URL",
      "local/payments/prod config-json payments/prod",
      "local/payments/prod dotenv DATABASE_URL",
    ]);
    const url = port.entries.find((e) => e.entry === "DATABASE_URL" && e.environment === "local/payments/dev")!;
    expect(url.definedIn).toEqual({ environment: "local/payments/dev", path: "databaseUrl" });
    expect(url.derivedFrom).toContain("local/payments/dev:db.password");
    expect(url.secret).toBe(true);

    // No value in any format, on stdout or in a file.
    for (const format of ["table", "csv", "markdown", "json"]) {
      const r = await sb.run(["inventory", ...BACKEND, "--format", format]);
      expect(r.code).toBe(0);
      for (const c of canaries) expect(r.stdout + r.stderr).not.toContain(c);
    }
    const out = await sb.run(["inventory", ...BACKEND, "--format", "markdown", "--out", "inventory.md"]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toBe("");
    expect(sb.mode("inventory.md")).toBe(0o600);
    const md = readFileSync(join(sb.dir, "inventory.md"), "utf8");
    expect(md).toContain("| `local/payments/dev` | `environmentVariables.DATABASE_URL` | yes |");
    for (const c of canaries) expect(md).not.toContain(c);
  }, 240_000);
});

describe("inventory: a shared secret imported into three targets", () => {
  const sb = new Sandbox();
  afterAll(() => sb.cleanup());
  const CANARY = "canary-inventory-e2e-51c0de";

  it("--secret on the shared definition lists every entry in all three, an interpolated one traced to its part; a removed environment's entries are orphaned", async () => {
    sb.writeManifest(`
version: 1
source: { kind: local, folder: environments }
state: { backend: file://./state }
targets:
  dotenv: { kind: file, path: "out/{env}.env" }
  json: { kind: file, path: "out/{env}.json" }
  ci: { kind: file, path: "out/{env}.ci.env" }
bindings:
  - { environments: "app/*", target: dotenv, from: vars }
  - { environments: "app/*", target: json, from: vars, shape: json }
  - { environments: "app/*", target: ci, from: ci }
`);
    sb.writeEnvironment("shared", "common", `values:\n  db:\n    password:\n      fn::secret: ${CANARY}\n`);
    sb.writeEnvironment(
      "app",
      "web",
      `imports: [shared/common]
values:
  vars:
    DB_PASSWORD: \${db.password}
    DATABASE_URL: postgres://web:\${db.password}@db.internal:5432/web
    PLAIN: not-secret
  ci:
    TOKEN:
      fn::toBase64: \${db.password}
`,
    );
    sb.writeEnvironment("app", "old", `values:\n  vars: { X: x }\n  ci: { Y: y }\n`);
    const sync = await sb.run(["sync"]);
    expect(sync.code, sync.stderr).toBe(0);

    const r = await sb.run(["inventory", "--secret", "local/shared/common:db.password", "--format", "json"]);
    expect(r.code, r.stderr).toBe(0);
    for (const text of [r.stdout, r.stderr, sb.stateText()]) expect(text).not.toContain(CANARY);
    const doc = JSON.parse(r.stdout) as InventoryDocument;
    expect(doc.secret).toBe("local/shared/common:db.password");
    expect(doc.entries.map(key).sort()).toEqual([
      "local/app/web ci TOKEN",
      "local/app/web dotenv DATABASE_URL",
      "local/app/web dotenv DB_PASSWORD",
      "local/app/web json app/web",
    ]);
    const byEntry = new Map(doc.entries.map((e) => [e.entry, e]));
    // A plain reference is defined where the secret is; an interpolation where it is written, built from the secret.
    expect(byEntry.get("DB_PASSWORD")!.definedIn).toEqual({ environment: "local/shared/common", path: "db.password" });
    expect(byEntry.get("DATABASE_URL")!.definedIn).toEqual({ environment: "local/app/web", path: "vars.DATABASE_URL" });
    expect(byEntry.get("DATABASE_URL")!.derivedFrom).toEqual(["local/app/web:vars.DATABASE_URL", "local/shared/common:db.password"]);
    expect(byEntry.get("TOKEN")!.derivedFrom).toContain("local/shared/common:db.password");
    // Three targets, each a different store location.
    expect(new Set(doc.entries.map((e) => e.location)).size).toBe(3);

    // The environment goes: its entries stay on record, marked orphaned until a sync removes them.
    sb.removeEnvironment("app", "old");
    const after = await inventory(sb, []);
    const orphaned = after.entries.filter((e) => e.environment === "local/app/old");
    expect(orphaned.map((e) => [e.target, e.entry, e.status]).sort()).toEqual([
      ["ci", "Y", "orphaned"],
      ["dotenv", "X", "orphaned"],
      ["json", "app/old", "orphaned"],
    ]);
    expect(after.summary.orphaned).toBe(3);
  }, 240_000);
});

describe("inventory: bad input", () => {
  const sb = new Sandbox();
  afterAll(() => sb.cleanup());

  it("a malformed --secret or format stops with what to write instead, before anything is read or written", async () => {
    sb.writeManifest(APP_TO_FILES);
    sb.writeEnvironment("app", "one", "values:\n  A: a\n");
    const bad = await sb.run(["inventory", "--secret", "shared/common.db.password"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--secret shared\/common\.db\.password: not ORG\/PROJECT\/ENV:PATH[\s\S]*hint: .*--secret local\/shared\/common:db\.password/);
    const format = await sb.run(["inventory", "--format", "xml"]);
    expect(format.code).toBe(1);
    expect(format.stderr).toMatch(/xml/);
    const out = await sb.run(["inventory", "--out", "missing/inventory.json"]);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/the folder .*missing does not exist/);
    expect(existsSync(sb.backendDir)).toBe(false);
  }, 60_000);
});

describe("inventory from a Pulumi Cloud organisation", () => {
  const TOKEN = "pul-canary-token-inv-77a1";
  const SECRET = "canary-cloud-inventory-5d2e";
  const sb = new Sandbox({ PULUMI_ACCESS_TOKEN: TOKEN });
  afterAll(() => sb.cleanup());

  it("lists the entries with their revision and says that provenance is not available, naming neither token nor values", async () => {
    sb.writeEnvironment("shared", "common", `values:\n  token:\n    fn::secret: ${SECRET}\n`);
    sb.writeEnvironment("team", "a", "imports: [shared/common]\nvalues:\n  environmentVariables:\n    TOKEN: ${token}\n    NAME: a\n");
    const server = await startEscServer({ folder: sb.envDir, org: "acme", token: TOKEN });
    try {
      sb.writeManifest(cloudToFiles(server.url, "team/*", "out/{project}-{env}.env"));
      const sync = await sb.run(["sync"]);
      expect(sync.code, sync.stderr).toBe(0);
      const doc = await inventory(sb);
      expect(doc.provenance.traced).toBe(false);
      expect(doc.provenance.note).toMatch(/^not available from pulumi-cloud acme/);
      expect(doc.entries.map((e) => [e.environment, e.path, e.entry, e.status, e.derivedFrom, e.definedIn])).toEqual([
        ["acme/team/a", "environmentVariables.NAME", "NAME", "synced", [], null],
        ["acme/team/a", "environmentVariables.TOKEN", "TOKEN", "synced", [], null],
      ]);
      expect(doc.entries[0]!.revision).toEqual(expect.any(Number));
      // Without provenance, --secret finds what reads the path directly; the note says why no more.
      const direct = await sb.run(["inventory", ...BACKEND, "--secret", "acme/team/a:environmentVariables.TOKEN"]);
      expect(direct.stdout).toMatch(/TOKEN/);
      expect(direct.stdout).toMatch(/provenance: not available/);
      const shared = await sb.run(["inventory", ...BACKEND, "--secret", "acme/shared/common:token"]);
      expect(shared.code).toBe(0);
      expect(shared.stderr).toMatch(/no entry derives from acme\/shared\/common:token/);
      for (const r of [direct, shared]) for (const c of [TOKEN, SECRET]) expect(r.stdout + r.stderr).not.toContain(c);
      expect(JSON.stringify(doc)).not.toContain(SECRET);
    } finally {
      await server.close();
    }
  }, 240_000);
});
