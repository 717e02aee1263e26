/** The `sync:` convention of Pulumi's ESC sync examples: an environment binds itself. */
import { describe, expect, it } from "vitest";
import { parseManifest } from "../../../../orchestrator/manifest/load.js";
import { planPairs as plan } from "../../../../orchestrator/planner/plan.js";
import type { ResolvedEnvironment } from "../../../../orchestrator/sources/source.js";
import type { ValueNode } from "../../../../orchestrator/values.js";

const manifest = parseManifest(
  `
version: 1
source: { kind: pulumi-cloud, org: acme }
targets:
  sm: { kind: aws-secrets-manager, region: eu-west-1 }
  vault: { kind: vault-kv, address: "https://vault.example.com", mount: secret, pathTemplate: "apps/{project}/{env}" }
  gh-a: { kind: github-actions, owner: acme, repository: a }
  gh-b: { kind: github-actions, owner: acme, repository: b }
`,
  "m.yaml",
);

const s = (value: string): ValueNode => ({ value, secret: true });
const o = (fields: Record<string, ValueNode>): ValueNode => ({ value: fields });
const env = (sync: ValueNode): ResolvedEnvironment => ({ ref: { org: "acme", project: "app", name: "prod" }, properties: { sync } });
const planOf = (e: ResolvedEnvironment) => plan({ manifest, environments: [e], matches: [], fingerprintKey: "k" });

describe("sync: blocks", () => {
  it("writes a {name, value} item into the manifest's one target of that kind", () => {
    const p = planOf(env(o({ awsSecretsManager: o({ name: { value: "app/prod/db" }, value: o({ user: { value: "u" }, password: s("p4ss-word") }) }) })));
    expect(p.pairs).toHaveLength(1);
    const pair = p.pairs[0]!;
    expect(pair).toMatchObject({ stack: "app.prod.sm", targetId: "sm", kind: "aws-secrets-manager", bindingId: "sync:awsSecretsManager", shape: "json" });
    expect(pair.entries.map((e) => [e.name, e.value.reveal(), e.secret])).toEqual([["app/prod/db", '{"user":"u","password":"p4ss-word"}', true]]);
    expect(pair.refusal).toBeUndefined();
  });

  it("splits Vault's path as the examples write it (<mount>/data/<path>) into the mount and the secret's path", () => {
    const p = planOf(env(o({ vaultSecret: o({ path: { value: "kv/teams/data/app/prod" }, value: o({ A: { value: "1" }, B: s("two") }) }) })));
    const pair = p.pairs[0]!;
    expect(pair.refusal).toBeUndefined();
    expect(pair.settings).toMatchObject({ mount: "kv/teams", pathTemplate: "app/prod" });
    expect(pair.location).toBe("https://vault.example.com/kv/teams/app/prod");
    expect(pair.shape).toBe("keys");
    expect(pair.entries.map((e) => e.name)).toEqual(["A", "B"]);
  });

  it("takes the vault kv form <mount>/<path> when it starts with the target's mount", () => {
    const pair = planOf(env(o({ vaultSecret: o({ path: { value: "secret/app/prod" }, value: o({ A: { value: "1" } }) }) }))).pairs[0]!;
    expect(pair.refusal).toBeUndefined();
    expect(pair.settings).toMatchObject({ mount: "secret", pathTemplate: "app/prod" });
  });

  it.each([
    ["teams/app/prod", /names no KV v2 mount .*write it as <mount>\/data\/<path>, e\.g\. secret\/data\/my-app/],
    ["secret/data/", /cannot be split into a mount and a secret path/],
    ["/secret/data/app", /cannot be split into a mount and a secret path/],
    ["secret/metadata/app", /is a metadata path, which holds no secret data/],
    ["secret/data/a//b", /cannot .* contain an empty segment/],
  ])("refuses a Vault path that cannot be split (%s), saying how to write it", (path, message) => {
    const pair = planOf(env(o({ vaultSecret: o({ path: { value: path }, value: o({ A: s("canary-vault-value") }) }) }))).pairs[0]!;
    expect(pair.refusal?.kind).toBe("invalid-entries");
    const text = pair.refusal?.kind === "invalid-entries" ? pair.refusal.problems.map((x) => x.message).join("\n") : "";
    expect(text).toMatch(/^acme\/app\/prod: sync\.vaultSecret: vaultSecret path/);
    expect(text).toMatch(message);
    expect(text).not.toContain("canary-vault-value");
  });

  it("marks which item texts are JSON documents: objects and arrays, not scalars", () => {
    const p = planOf(
      env(o({ vaultSecret: o({ path: { value: "secret/data/app" }, value: o({ flat: s("x"), nested: o({ haha: s("y") }), list: { value: [{ value: "a" }] } }) }) })),
    );
    expect(p.pairs[0]!.entries.map((e) => [e.name, e.value.reveal(), e.json])).toEqual([
      ["flat", "x", false],
      ["nested", '{"haha":"y"}', true],
      ["list", '["a"]', true],
    ]);
    const sm = planOf(env(o({ awsSecretsManager: o({ name: { value: "n" }, value: s("plain") }) }))).pairs[0]!;
    expect(sm.entries[0]!.json).toBe(false);
  });

  it("needs `target:` where the manifest has several targets of the kind, and says so", () => {
    const ambiguous = planOf(env(o({ githubSecrets: o({ name: { value: "TOKEN" }, value: s("t0ken-value") }) })));
    expect(ambiguous.pairs).toHaveLength(0);
    expect(ambiguous.warnings.join("\n")).toMatch(/sync\.githubSecrets: 2 github-actions targets \(gh-a, gh-b\): say which with "target: <id>"/);
    const chosen = planOf(env(o({ githubSecrets: o({ name: { value: "token" }, value: s("t0ken-value"), target: { value: "gh-b" } }) })));
    expect(chosen.pairs.map((p) => [p.targetId, p.entries[0]!.name])).toEqual([["gh-b", "TOKEN"]]); // GitHub upper-cases
  });

  it("warns about a kind no manifest target has, and a key no kind takes", () => {
    const p = planOf(env(o({ azureKeyVault: o({ name: { value: "x" }, value: { value: "1" } }), dropbox: o({}) })));
    expect(p.pairs).toHaveLength(0);
    expect(p.warnings.join("\n")).toMatch(/sync\.azureKeyVault: no azure-key-vault target in the manifest/);
    expect(p.warnings.join("\n")).toMatch(/sync\.dropbox: no target kind takes a "dropbox" sync block/);
  });

  it("applies the store's name rules to sync items too", () => {
    const p = planOf(env(o({ awsSecretsManager: o({ name: { value: "bad name!" }, value: { value: "v" } }) })));
    expect(p.pairs[0]!.refusal?.kind).toBe("invalid-entries");
  });
});
