/**
 * The pulumi-cloud source end to end: the CLI lists and opens environments through the real
 * `@pulumi/esc-sdk`, against the loopback ESC API server, across several pages and through an
 * injected 429; then syncs them with the real Pulumi CLI. The token is never printed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEscServer, type EscServer } from "../support/esc-server/index.js";
import { cloudToFiles, Sandbox, statuses } from "../support/sandbox.js";

const TOKEN = "pul-canary-token-0d4e7";
const SECRET = "canary-cloud-secret-91ab";

describe("sync from a Pulumi Cloud organisation", () => {
  const box = new Sandbox({ PULUMI_ACCESS_TOKEN: TOKEN });
  let server: EscServer;

  beforeAll(async () => {
    for (const name of ["a", "b", "c", "d", "e"]) {
      box.writeEnvironment("team", name, `values:\n  environmentVariables:\n    NAME: ${name}\n    KEY:\n      fn::secret: ${SECRET}-${name}\n`);
    }
    box.writeEnvironment("other", "ignored", "values:\n  x: 1\n");
    // Three environments a page: listing needs continuation tokens.
    server = await startEscServer({ folder: box.envDir, org: "acme", token: TOKEN, pageSize: 3 });
    box.writeManifest(cloudToFiles(server.url, "team/*", "out/{project}-{env}.env"));
  });
  afterAll(async () => {
    await server.close();
    box.cleanup();
  });

  it("lists every page, retries a 429 and a 500, reports the retries, and syncs the values", async () => {
    server.inject429(1, { path: "/open", retryAfter: 1 });
    server.inject500(1, { path: "/environments/acme", method: "GET" });
    const { result, report } = await box.syncJson();
    expect(result.code, result.stderr).toBe(0);
    expect(Object.values(statuses(report))).toEqual(["created", "created", "created", "created", "created"]);
    expect(server.count("/environments/acme", "GET")).toBeGreaterThanOrEqual(2); // two list pages at least
    expect(server.requests.some((r) => r.fault === "429")).toBe(true);
    expect(server.requests.some((r) => r.fault === "5xx")).toBe(true);
    const retries = report.warnings.filter((w) => w.startsWith("ESC API:"));
    expect(retries).toHaveLength(2);
    expect(retries).toEqual(expect.arrayContaining([expect.stringMatching(/\b500\b.*retried after/), expect.stringMatching(/\b429\b.*retried after/)]));
    expect(box.read("out/team-c.env")).toBe(`KEY=${SECRET}-c\nNAME=c\n`);
    for (const text of [result.stdout, result.stderr, box.stateText()]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(SECRET);
    }
  });

  it("fails clearly on a rejected token, naming neither token nor values", async () => {
    const result = await box.run(["sync"], { env: { PULUMI_ACCESS_TOKEN: "pul-wrong-token-canary" } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot list the environments of pulumi-cloud acme.*401[\s\S]*hint: check PULUMI_ACCESS_TOKEN/);
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.stderr + result.stdout).not.toContain("pul-wrong-token-canary");
    expect(result.stderr + result.stdout).not.toContain(TOKEN);
  });
});

describe("sync an environment with nulls from Pulumi Cloud (the official evaluator behind the API)", () => {
  const box = new Sandbox({ PULUMI_ACCESS_TOKEN: TOKEN });
  let server: EscServer;

  beforeAll(async () => {
    box.writeEnvironment("shared", "base", "values:\n  environmentVariables:\n    FROM_IMPORT: null\n");
    box.writeEnvironment(
      "svc",
      "nulls",
      `imports:\n  - shared/base\nvalues:\n  environmentVariables:\n    EMPTY:\n    TILDE: ~\n    WORD: null\n    LIST: [1, null]\n    PARSED:\n      fn::fromJSON: '{"a": null}'\n    KEY:\n      fn::secret: ${SECRET}-nulls\n`,
    );
    // The real service sends a null as a node with no `value` key: the official evaluator does too.
    server = await startEscServer({ folder: box.envDir, org: "acme", token: TOKEN, official: true });
    box.writeManifest(`
version: 1
source: { kind: pulumi-cloud, org: acme, apiUrl: "${server.url}" }
state: { backend: file://./state }
targets:
  dotenv: { kind: file, path: "out/{project}-{env}.env" }
  json: { kind: file, path: "out/{project}-{env}.json" }
bindings:
  - { environments: "svc/*", target: dotenv }
  - { environments: "svc/*", target: json, shape: json }
`);
  });
  afterAll(async () => {
    await server.close();
    box.cleanup();
  });

  it("opens, plans and syncs: keys shape writes an empty value, json shape writes null", async () => {
    const { result, report } = await box.syncJson();
    expect(result.code, result.stderr).toBe(0);
    expect(Object.values(statuses(report))).toEqual(["created", "created"]);
    expect(box.read("out/svc-nulls.env")).toBe(`EMPTY=\nFROM_IMPORT=\nKEY=${SECRET}-nulls\nLIST="[1,null]"\nPARSED="{\\"a\\":null}"\nTILDE=\nWORD=\n`);
    expect(JSON.parse(box.read("out/svc-nulls.json"))).toEqual({
      EMPTY: null,
      FROM_IMPORT: null,
      KEY: `${SECRET}-nulls`,
      LIST: [1, null],
      PARSED: { a: null },
      TILDE: null,
      WORD: null,
    });
    for (const text of [result.stdout, result.stderr, box.stateText()]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(SECRET);
    }
  });
});
