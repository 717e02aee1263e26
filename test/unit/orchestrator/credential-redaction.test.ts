/**
 * Credentials a pair takes from its environment (`providerConfigFrom: environment`) are hidden by
 * the session's redactor even where the environment does not mark them secret: a provider's error
 * that echoes a plain `AWS_SECRET_ACCESS_KEY` must not print it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Redactor } from "../../../orchestrator/redact.js";
import { Session } from "../../../orchestrator/session.js";
import { Selection } from "../../../orchestrator/planner/selection.js";

const KEY_ID = "AKIAPLAINCANARY8842";
const SECRET_KEY = "plain-canary-secret-access-key-31c7";

describe("credentials from the environment", () => {
  const dir = mkdtempSync(join(tmpdir(), "esc-sync-creds-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "environments", "app"), { recursive: true });
  writeFileSync(
    join(dir, "environments", "app", "prod.yaml"),
    // Plain values, not fn::secret: ESC would not mark them secret.
    `values:\n  pulumiConfig:\n    aws:region: us-west-2\n  environmentVariables:\n    AWS_ACCESS_KEY_ID: ${KEY_ID}\n    AWS_SECRET_ACCESS_KEY: ${SECRET_KEY}\n  app:\n    db:\n      fn::secret: canary-db-password-5512\n`,
  );
  const manifest = join(dir, "environments.yaml");
  writeFileSync(
    manifest,
    `version: 1\nsource: { kind: local, folder: environments }\ntargets:\n  sm: { kind: aws-secrets-manager, providerConfigFrom: environment }\nbindings:\n  - { environments: "app/*", target: sm, from: app, shape: json, name: "{project}/{env}" }\n`,
  );

  it("are hidden by the redactor although the environment does not mark them secret", async () => {
    const redactor = new Redactor();
    const session = await Session.open({ manifest, env: { ESC_SYNC_FINGERPRINT_KEY: "k", XDG_STATE_HOME: dir }, redactor });
    const prepared = await session.prepare(Selection.all);
    const pair = prepared.plan.pairs[0]!;
    expect(pair.refusal).toBeUndefined();
    expect(Object.keys(pair.credentials ?? {}).length).toBeGreaterThan(0);
    expect(redactor.text(`denied for ${KEY_ID} / ${SECRET_KEY}`)).toBe("denied for [secret] / [secret]");
  });
});
