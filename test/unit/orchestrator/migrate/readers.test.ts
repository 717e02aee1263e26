/**
 * The readers that no emulator here covers, against fakes. What this proves, and what it does not:
 *
 * - vault-kv: the reader's real HTTP calls (LIST/GET on the KV v2 paths, token and namespace
 *   headers, 404 and 403 handling) against a loopback server that answers as Vault's KV v2 API
 *   documents. Not proved: that a real Vault answers the same way.
 * - azure-key-vault and gcp-secret-manager: what the reader makes of the SDK's answers (filters,
 *   disabled/managed/binary/missing versions, errors), through fakes typed against the part of
 *   the SDK clients the readers use. Not proved: the SDK wiring (endpoint, credentials).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReadFilter, StoreEntry, StoreReader } from "../../../../programs/contract.js";
import { readKeyVault, type KeyVaultSecretsApi } from "../../../../programs/azure-key-vault/reader.js";
import { readSecretManager, type GcpSecretsApi } from "../../../../programs/gcp-secret-manager/reader.js";
import { describeError } from "../../../../programs/shared/reader.js";
import { vaultKvReader } from "../../../../programs/vault-kv/reader.js";
import { vaultKvSettings } from "../../../../programs/vault-kv/schema.js";

async function collect(reader: StoreReader, filter: ReadFilter = {}): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const e of reader.list(filter)) out.push(plain(e));
  return out;
}

function plain(e: StoreEntry): Record<string, unknown> {
  return { ...e, value: e.value?.reveal() };
}

describe("vault-kv reader against a KV v2 HTTP fake", () => {
  const TOKEN = "hvs.canary-token-123";
  const secrets: Record<string, { data: Record<string, unknown> | null; deleted?: boolean }> = {
    "app/prod": { data: { DB_PASSWORD: "pw-1", CONFIG: { a: 1 } } },
    "app/dev": { data: { DB_PASSWORD: "pw-dev" } },
    "app/old": { data: null, deleted: true },
    "other/x": { data: { K: "v" } },
  };
  const seen: { method: string; url: string; token?: string; namespace?: string }[] = [];
  let url = "";
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push({ method: req.method!, url: req.url!, token: req.headers["x-vault-token"] as string, namespace: req.headers["x-vault-namespace"] as string });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.headers["x-vault-token"] !== TOKEN) return send(403, { errors: ["permission denied"] });
    const list = /^\/v1\/secret\/metadata\/(.*)\?list=true$/.exec(req.url!);
    if (req.method === "GET" && list) {
      const folder = decodeURIComponent(list[1]!);
      const keys = new Set<string>();
      for (const path of Object.keys(secrets)) {
        if (!path.startsWith(folder)) continue;
        const rest = path.slice(folder.length);
        keys.add(rest.includes("/") ? `${rest.split("/")[0]}/` : rest);
      }
      return keys.size ? send(200, { data: { keys: [...keys] } }) : send(404, { errors: [] });
    }
    const data = /^\/v1\/secret\/data\/(.*)$/.exec(req.url!);
    if (req.method === "GET" && data) {
      const s = secrets[decodeURIComponent(data[1]!)];
      if (!s) return send(404, { errors: [] });
      if (s.deleted) return send(404, { data: { data: null, metadata: { deletion_time: "2026-01-01T00:00:00Z", destroyed: false } } });
      return send(200, { data: { data: s.data, metadata: { version: 3 } } });
    }
    send(404, { errors: [] });
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const settings = () => vaultKvSettings.parse({ address: url, namespace: "team-a" });

  it("lists recursively from the prefix's folder and reads every field of each secret", async () => {
    seen.length = 0;
    const entries = await collect(vaultKvReader(settings(), { env: { VAULT_TOKEN: TOKEN } }), { prefix: "app/" });
    expect(entries).toEqual([
      { name: "app/dev/DB_PASSWORD", value: "pw-dev" },
      { name: "app/old", value: undefined, skippedReason: "the latest version is deleted or destroyed" },
      { name: "app/prod/CONFIG", value: '{"a":1}' },
      { name: "app/prod/DB_PASSWORD", value: "pw-1" },
    ]);
    expect(seen.every((r) => r.token === TOKEN && r.namespace === "team-a")).toBe(true);
    expect(seen.some((r) => r.url.includes("other"))).toBe(false);
  });

  it("applies the name filter to fields", async () => {
    const entries = await collect(vaultKvReader(settings(), { env: { VAULT_TOKEN: TOKEN } }), { prefix: "app/prod/", include: (n) => n.endsWith("PASSWORD") });
    expect(entries).toEqual([{ name: "app/prod/DB_PASSWORD", value: "pw-1" }]);
  });

  it("fails with the call and status, never the token", async () => {
    const reader = vaultKvReader(settings(), { env: { VAULT_TOKEN: "hvs.wrong-canary" } });
    const error = await collect(reader).then(() => undefined, (e: Error) => e);
    expect(error?.message).toMatch(/GET \/v1\/secret\/metadata\/\?list=true: 403 permission denied \(check VAULT_TOKEN/);
    expect(error?.message).not.toContain("canary");
    await expect(collect(vaultKvReader(settings(), { env: {} }))).rejects.toThrow(/no Vault token|~\/.vault-token/);
  });
});

describe("azure-key-vault reader", () => {
  const fake = (secrets: { name: string; enabled?: boolean; managed?: boolean; value?: string; fail?: boolean }[]): KeyVaultSecretsApi => ({
    async *listPropertiesOfSecrets() {
      for (const s of secrets) yield { name: s.name, ...(s.enabled !== undefined ? { enabled: s.enabled } : {}), ...(s.managed ? { managed: true } : {}) };
    },
    async getSecret(name) {
      const s = secrets.find((x) => x.name === name)!;
      if (s.fail) throw Object.assign(new Error("Caller is not authorized"), { name: "RestError", statusCode: 403, code: "Forbidden", request: { headers: { authorization: "Bearer canary" } } });
      return { name, value: s.value! };
    },
  });

  it("reads enabled secrets, skips disabled and certificate-backed ones, reports errors per secret", async () => {
    const entries = await readKeyVault(
      fake([
        { name: "prod-db", value: "v1" },
        { name: "prod-off", enabled: false, value: "x" },
        { name: "prod-cert", managed: true, value: "x" },
        { name: "prod-denied", fail: true },
        { name: "dev-db", value: "v2" },
      ]),
      { prefix: "prod-" },
    );
    expect(entries.map(plain)).toEqual([
      { name: "prod-cert", value: undefined, skippedReason: expect.stringMatching(/certificate/) },
      { name: "prod-db", value: "v1" },
      { name: "prod-denied", value: undefined, error: "get secret: RestError Forbidden (403): Caller is not authorized" },
      { name: "prod-off", value: undefined, skippedReason: "the secret is disabled" },
    ]);
  });
});

describe("gcp-secret-manager reader", () => {
  it("reads the latest version as UTF-8, skips binary payloads and missing versions", async () => {
    const payloads: Record<string, Uint8Array | Error> = {
      "projects/p1/secrets/db": new TextEncoder().encode("pw ✓"),
      "projects/p1/secrets/blob": new Uint8Array([0xff, 0xfe, 0x00]),
      "projects/p1/secrets/gone": Object.assign(new Error("5 NOT_FOUND: version not found"), { code: 5 }),
      "projects/p1/secrets/denied": Object.assign(new Error("7 PERMISSION_DENIED: no access"), { code: 7 }),
    };
    const client: GcpSecretsApi = {
      async *listSecretsAsync(request) {
        expect(request.parent).toBe("projects/p1");
        for (const name of Object.keys(payloads)) yield { name };
      },
      async accessSecretVersion({ name }) {
        const p = payloads[name.replace(/\/versions\/latest$/, "")]!;
        if (p instanceof Error) throw p;
        return [{ payload: { data: p } }];
      },
    };
    const entries = await readSecretManager(client, "p1", { include: (n) => n !== "nothing" });
    expect(entries.map(plain)).toEqual([
      { name: "blob", value: undefined, binary: true, skippedReason: expect.stringMatching(/binary payload/) },
      { name: "db", value: "pw ✓" },
      { name: "denied", value: undefined, error: "AccessSecretVersion: error: 7 PERMISSION_DENIED: no access" },
      { name: "gone", value: undefined, skippedReason: expect.stringMatching(/no enabled version/) },
    ]);
  });
});

describe("describeError", () => {
  it("keeps the name, code, status and first line, never the request", () => {
    const error = Object.assign(new Error("User is not authorized\nrequest body: canary-value"), {
      name: "AccessDeniedException",
      $metadata: { httpStatusCode: 400 },
      config: { headers: { Authorization: "canary-token" } },
    });
    const text = describeError("ListSecrets", error);
    expect(text).toBe("ListSecrets: AccessDeniedException (400): User is not authorized");
  });
});
