/**
 * The Pulumi Cloud source through the real `@pulumi/esc-sdk` against the loopback ESC server.
 * Nothing mocks the SDK.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { Configuration, EscApi } from "@pulumi/esc-sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { EscApiError, EscClient, type EscRetryEvent } from "../../../../orchestrator/sources/esc-client.js";
import { LocalSource } from "../../../../orchestrator/sources/local.js";
import { PulumiCloudSource } from "../../../../orchestrator/sources/pulumi-cloud.js";
import { EnvironmentError } from "../../../../orchestrator/sources/source.js";
import { type EnvironmentRef } from "../../../../programs/environment-ref.js";
import type { Properties, ValueNode } from "../../../../orchestrator/values.js";
import { startEscServer, type EscServer, type EvaluateFn } from "../../../support/esc-server/index.js";

const ORG = "acme";
const TOKEN = "pul-CANARY-TOKEN-123";
const SECRETS = ["s3cr3t-CANARY-VALUE", "wrapped-CANARY-SECRET", "api-CANARY-KEY"];

/** Enough of ESC for these tests: literals and `fn::secret: <plaintext>`. */
const tinyEvaluate: EvaluateFn = (definition) => {
  if (definition.yaml.includes("fn::broken")) {
    return { properties: {}, diagnostics: [{ summary: "unknown builtin function fn::broken", path: "values.x", line: 3, column: 5 }], secrets: [] };
  }
  const doc = (parse(definition.yaml) ?? {}) as { values?: unknown };
  const toNode = (v: unknown): ValueNode => {
    if (Array.isArray(v)) return { value: v.map(toNode) };
    if (v !== null && typeof v === "object") {
      const entries = Object.entries(v);
      if (entries.length === 1 && entries[0]![0] === "fn::secret") return { value: String(entries[0]![1]), secret: true };
      return { value: Object.fromEntries(entries.map(([k, child]) => [k, toNode(child)])) };
    }
    return { value: v as string | number | boolean | null };
  };
  const values = doc.values ?? {};
  const properties: Properties = {};
  for (const [k, v] of Object.entries(values as object)) properties[k] = toNode(v);
  return { properties, diagnostics: [], secrets: [] };
};

const DEV_YAML = `values:
  db:
    host: db.internal
    port: 5432
    password:
      fn::secret: ${SECRETS[0]}
  wrapper:
    value: inner
    secret:
      fn::secret: ${SECRETS[1]}
  list: [1, true, null, "x"]
  environmentVariables:
    API_KEY:
      fn::secret: ${SECRETS[2]}
`;

let folder: string;
let server: EscServer;
const retries: EscRetryEvent[] = [];

function source(options: { token?: string; maxAttempts?: number } = {}): PulumiCloudSource {
  return new PulumiCloudSource({
    org: ORG,
    token: options.token ?? TOKEN,
    apiUrl: server.url,
    retry: { maxAttempts: options.maxAttempts ?? 4, baseDelayMs: 1, maxDelayMs: 5 },
    onRetry: (e) => retries.push(e),
  });
}

const ref = (project: string, name: string): EnvironmentRef => ({ org: ORG, project, name });

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), "esc-server-"));
  const files: Record<string, string> = {
    "app/dev": DEV_YAML,
    "app/prod": "values:\n  region: eu-west-1\n",
    "app/staging": "values:\n  region: us-east-1\n",
    "billing/dev": "values:\n  enabled: true\n",
    "billing/prod": "values:\n  enabled: false\n",
    "broken/env": "values:\n  x:\n    fn::broken: 1\n",
  };
  for (const [id, yaml] of Object.entries(files)) {
    const [project, name] = id.split("/") as [string, string];
    mkdirSync(join(folder, project), { recursive: true });
    writeFileSync(join(folder, project, `${name}.yaml`), yaml);
  }
  server = await startEscServer({ folder, org: ORG, token: TOKEN, pageSize: 2, evaluate: tinyEvaluate });
});

afterAll(async () => {
  await server?.close();
  rmSync(folder, { recursive: true, force: true });
});

afterEach(() => {
  server.clearFaults();
  server.setLatency(0);
  retries.length = 0;
});

describe("PulumiCloudSource", () => {
  it("talks to a server on a random port (the SDK's own EscApi wrapper would drop it)", () => {
    expect(new URL(server.url).port).not.toBe("");
    // The pitfall this source avoids, pinned so that an SDK fix is noticed.
    const wrapper = new EscApi(new Configuration({ basePath: server.url, accessToken: "x" }));
    expect(wrapper.config.basePath).toBe("http://127.0.0.1/api/esc");
    expect(source().description).toBe(`pulumi-cloud ${ORG} (${server.url})`);
  });

  it("lists every environment across several pages", async () => {
    const before = server.count(/\/environments\/acme$/, "GET");
    const refs = await source().list();
    expect(refs).toEqual([
      ref("app", "dev"),
      ref("app", "prod"),
      ref("app", "staging"),
      ref("billing", "dev"),
      ref("billing", "prod"),
      ref("broken", "env"),
    ]);
    // Six environments, two per page: three pages.
    expect(server.count(/\/environments\/acme$/, "GET") - before).toBe(3);
    expect(server.requests.filter((r) => r.query.includes("continuationToken"))).toHaveLength(2);
  });

  it("opens an environment keeping every secret flag, objects with a key named `value` included", async () => {
    const env = await source().open(ref("app", "dev"));
    expect(env.ref).toEqual(ref("app", "dev"));
    expect(env.revision).toBe(1);
    expect(env.properties).toEqual({
      db: {
        value: {
          host: { value: "db.internal" },
          port: { value: 5432 },
          password: { value: SECRETS[0], secret: true },
        },
      },
      wrapper: {
        value: {
          value: { value: "inner" },
          secret: { value: SECRETS[1], secret: true },
        },
      },
      list: { value: [{ value: 1 }, { value: true }, { value: null }, { value: "x" }] },
      environmentVariables: { value: { API_KEY: { value: SECRETS[2], secret: true } } },
    });
    expect(retries).toEqual([]);
  });

  it("shows why the SDK's unwrapped values are not used", async () => {
    const wrapper = new EscApi(new Configuration({ basePath: server.url, accessToken: TOKEN }));
    wrapper.config.basePath = `${server.url}/api/esc`; // the port, put back after construction
    const read = await wrapper.openAndReadEnvironment(ORG, "app", "dev");
    // `wrapper: {value: "inner", secret: ...}` collapses to "inner", and the flags are gone.
    expect(read?.values?.wrapper).toBe("inner");
  });

  it("retries an injected 429 (Retry-After: 0) and an injected 500, and reports both", async () => {
    // The source opens at the revision it read first: POST .../versions/1/open.
    const openPath = /\/app\/prod\/versions\/\d+\/open$/;
    server.inject429(1, { path: openPath, method: "POST", retryAfter: 0 });
    server.inject500(1, { path: /\/app\/prod\/open\/[^/]+$/, method: "GET" });
    const opensBefore = server.count(openPath, "POST");
    const readsBefore = server.count(/\/app\/prod\/open\/[^/]+$/, "GET");
    const env = await source().open(ref("app", "prod"));
    expect(env.properties).toEqual({ region: { value: "eu-west-1" } });
    expect(server.count(openPath, "POST") - opensBefore).toBe(2);
    expect(server.count(/\/app\/prod\/open\/[^/]+$/, "GET") - readsBefore).toBe(2);
    expect(retries.map((e) => [e.operation, e.error.status, e.attempt])).toEqual([
      ["POST /environments/acme/app/prod/versions/1/open", 429, 1],
      ["GET /environments/acme/app/prod/open/{session}", 500, 1],
    ]);
    expect(retries[0]!.fromRetryAfter).toBe(true);
    expect(retries[0]!.delayMs).toBe(0);
    expect(retries[0]!.reason).toBe("POST /environments/acme/app/prod/versions/1/open: 429 Too Many Requests");
    expect(retries[1]!.reason).toBe("GET /environments/acme/app/prod/open/{session}: 500 Internal Server Error");
  });

  it("honours Retry-After: 1 while listing", async () => {
    server.inject429(1, { path: /\/environments\/acme$/, retryAfter: 1 });
    const refs = await source().list();
    expect(refs).toHaveLength(6);
    expect(retries).toHaveLength(1);
    expect(retries[0]!.delayMs).toBe(1000);
    expect(retries[0]!.error.retryAfterMs).toBe(1000);
  });

  it("retries a connection reset", async () => {
    server.injectReset(1, { path: /\/billing\/dev$/, method: "GET" });
    const env = await source().open(ref("billing", "dev"));
    expect(env.properties).toEqual({ enabled: { value: true } });
    expect(retries).toHaveLength(1);
    expect(retries[0]!.reason).toMatch(/^GET \/environments\/acme\/billing\/dev: (ECONNRESET|ERR_NETWORK|network error)$/);
  });

  it("gives up after the bounded attempts with a retryable error", async () => {
    server.inject500(10, { path: /\/billing\/prod$/, method: "GET", status: 503 });
    const error = await source({ maxAttempts: 3 }).open(ref("billing", "prod")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EscApiError);
    expect((error as EscApiError).status).toBe(503);
    expect((error as EscApiError).retryable).toBe(true);
    expect(retries).toHaveLength(2);
  });

  it("fails a permanent 404 without retrying", async () => {
    const before = server.count("/app/missing");
    const error = await source().open(ref("app", "missing")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as EnvironmentError).message).toBe("GET /environments/acme/app/missing: 404 Not Found");
    expect((error as EnvironmentError).retryable).toBe(false);
    expect((error as EnvironmentError).ref).toEqual(ref("app", "missing"));
    expect(server.count("/app/missing") - before).toBe(1);
    expect(retries).toEqual([]);
  });

  it("reports evaluation errors with their diagnostics, without retrying", async () => {
    const error = await source().open(ref("broken", "env")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EscApiError);
    const e = error as EscApiError;
    expect(e.status).toBe(400);
    expect(e.retryable).toBe(false);
    expect(e.message).toBe("POST /environments/acme/broken/env/versions/1/open: 400 Bad Request (1 diagnostic)");
    expect(e.diagnostics).toEqual([{ summary: "unknown builtin function fn::broken", path: "values.x", line: 3, column: 5, severity: "error" }]);
    expect(retries).toEqual([]);
  });

  it("turns an evaluator that throws into a diagnostic, not an outage", async () => {
    const throwing = await startEscServer({
      folder,
      org: ORG,
      token: TOKEN,
      evaluate: () => {
        throw new Error("esc-eval: not implemented yet");
      },
    });
    try {
      const s = new PulumiCloudSource({ org: ORG, token: TOKEN, apiUrl: throwing.url, onRetry: (e) => retries.push(e) });
      const error = (await s.open(ref("app", "prod")).catch((e: unknown) => e)) as EscApiError;
      expect(error.status).toBe(400);
      expect(error.diagnostics[0]!.summary).toContain("not implemented");
      expect(retries).toEqual([]);
    } finally {
      await throwing.close();
    }
  });

  it("reports a wrong token as a 401 that carries neither the token nor any value", async () => {
    const wrongToken = "pul-CANARY-TOKEN-123-wrong";
    const failures: unknown[] = [];
    failures.push(await source({ token: wrongToken }).open(ref("app", "dev")).catch((e: unknown) => e));
    failures.push(await source({ token: wrongToken }).list().catch((e: unknown) => e));
    // The server's token too: a 401 for a good token on the wrong server must not echo it either.
    for (const error of failures) {
      expect(error).toBeInstanceOf(EnvironmentError);
      const e = error as EscApiError;
      expect(e.status).toBe(401);
      expect(e.retryable).toBe(false);
      expect(e.message).toMatch(/: 401 Unauthorized$/);
      const renderings = [e.message, String(e.stack), JSON.stringify(e), inspect(e, { depth: 10, showHidden: true }), String(e)];
      for (const text of renderings) {
        expect(text).not.toContain("CANARY-TOKEN");
        for (const secret of SECRETS) expect(text).not.toContain(secret);
      }
      expect("cause" in e).toBe(false);
    }
    expect((failures[0] as EscApiError).message).toBe("GET /environments/acme/app/dev: 401 Unauthorized");
    expect(retries).toEqual([]);
  });

  it("never shows the token when the source itself is printed", () => {
    const s = source();
    expect(inspect(s, { depth: 10, showHidden: true })).not.toContain("CANARY-TOKEN");
    expect(JSON.stringify(s)).not.toContain("CANARY-TOKEN");
  });

  it("stops on abort without retrying", async () => {
    server.setLatency(200);
    const controller = new AbortController();
    const pending = source().open(ref("app", "staging"), controller.signal);
    setTimeout(() => controller.abort(new Error("interrupted")), 20);
    await expect(pending).rejects.toThrow("interrupted");
    expect(retries).toEqual([]);
  });
});

describe("EscClient definitions and revisions", () => {
  const client = () => new EscClient({ org: ORG, token: TOKEN, apiUrl: server.url, retry: { baseDelayMs: 1 } });

  it("reads YAML with its ETag, updates with If-Match, refuses a stale ETag, lists revisions", async () => {
    const target = ref("billing", "dev");
    const read = await client().getEnvironmentYaml(target);
    expect(read.yaml).toBe("values:\n  enabled: true\n");
    expect(read.revision).toBe(1);
    expect(read.etag).toMatch(/^".+"$/);

    const updated = await client().updateEnvironmentYaml(target, "values:\n  enabled: false\n", { etag: read.etag! });
    expect(updated).toMatchObject({ updated: true, revision: 2, diagnostics: [] });
    expect(updated.etag).not.toBe(read.etag);

    const stale = await client()
      .updateEnvironmentYaml(target, "values:\n  enabled: 1\n", { etag: read.etag! })
      .catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(EscApiError);
    expect((stale as EscApiError).status).toBe(409);

    const revisions = await client().listRevisions(target);
    expect(revisions.map((r) => r.number)).toEqual([2, 1]);
    expect((await client().getEnvironmentYaml(target, { version: 1 })).yaml).toBe("values:\n  enabled: true\n");

    const reopened = await source().open(target);
    expect(reopened.revision).toBe(2);
    expect(reopened.properties).toEqual({ enabled: { value: false } });
  });

  it("returns definition errors as diagnostics", async () => {
    const target = ref("app", "staging");
    const result = await client().updateEnvironmentYaml(target, "values: [unclosed\n");
    expect(result.updated).toBe(false);
    expect(result.diagnostics.length).toBeGreaterThan(0);
  });

  it("creates an environment, which then shows in the list", async () => {
    await client().createEnvironment(ref("fresh", "one"));
    const again = await client()
      .createEnvironment(ref("fresh", "one"))
      .catch((e: unknown) => e);
    expect((again as EscApiError).status).toBe(409);
    expect(await source().list()).toContainEqual(ref("fresh", "one"));
    expect((await source().open(ref("fresh", "one"))).properties).toEqual({});
  });
});

describe("opening an environment at a pinned revision", () => {
  const target = ref("billing", "prod");
  const tag = async (name: string, revision: number) => {
    const res = await fetch(`${server.url}/api/esc/environments/${ORG}/billing/prod/versions/tags`, {
      method: "POST",
      headers: { Authorization: `token ${TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name, revision }),
    });
    expect(res.status).toBe(200);
  };

  it("opens a tag at the revision it points at, a number as it is, and the latest by default", async () => {
    const client = new EscClient({ org: ORG, token: TOKEN, apiUrl: server.url, retry: { baseDelayMs: 1 } });
    await client.updateEnvironmentYaml(target, "values:\n  enabled: true\n");
    await tag("stable", 1);
    expect(await source().open(target, undefined, "stable")).toEqual({ ref: target, properties: { enabled: { value: false } }, revision: 1, tag: "stable" });
    expect(await source().open(target, undefined, 2)).toEqual({ ref: target, properties: { enabled: { value: true } }, revision: 2 });
    expect(await source().open(target, undefined, 1)).toEqual({ ref: target, properties: { enabled: { value: false } }, revision: 1 });
    expect(await source().open(target)).toEqual({ ref: target, properties: { enabled: { value: true } }, revision: 2 });
  });

  it("names the fix for a tag or a revision the environment does not have", async () => {
    const noTag = await source().open(target, undefined, "nosuch").catch((e: unknown) => e);
    expect(noTag).toBeInstanceOf(EscApiError);
    expect((noTag as EscApiError).status).toBe(404);
    expect((noTag as Error).message).toBe(
      'acme/billing/prod has no revision tag "nosuch" (or no such environment): tag a revision (esc env version tag acme/billing/prod@nosuch <revision>) or change the binding\'s revision',
    );
    const noRevision = await source().open(target, undefined, 99).catch((e: unknown) => e);
    expect(noRevision).toBeInstanceOf(EscApiError);
    expect((noRevision as Error).message).toBe("acme/billing/prod has no revision 99: change the binding's revision");
  });

  it("a local source refuses any revision, naming the fix", async () => {
    const local = new LocalSource(folder, ORG);
    expect((await local.open(ref("app", "prod"))).properties.region).toEqual({ value: "eu-west-1" });
    await expect(local.open(ref("app", "prod"), undefined, "stable")).rejects.toThrow(
      /app\/prod: a local source has no revisions \(revision "stable" asked\): remove revision from the binding, or use a pulumi-cloud source/,
    );
  });
});
