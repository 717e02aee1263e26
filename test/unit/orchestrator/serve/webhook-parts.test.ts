import { describe, expect, it } from "vitest";
import { RecentIds } from "../../../../orchestrator/serve/deliveries.js";
import { alreadySynced, readEvent } from "../../../../orchestrator/serve/events.js";
import { holdsRotation, ImportGraph, importsOf } from "../../../../orchestrator/serve/importers.js";
import { sign, verifySignature } from "../../../../orchestrator/serve/signature.js";

describe("webhook verification", () => {
  const body = Buffer.from('{"projectName":"app","environmentName":"dev"}');
  it("accepts the hex HMAC-SHA256 of the raw body and nothing else", () => {
    const good = sign("s3cret-key", body);
    expect(good).toMatch(/^[0-9a-f]{64}$/);
    expect(verifySignature("s3cret-key", body, good)).toBe(true);
    expect(verifySignature("s3cret-key", body, good.toUpperCase())).toBe(true);
    expect(verifySignature("other-key", body, good)).toBe(false);
    expect(verifySignature("s3cret-key", Buffer.from(body.toString() + " "), good)).toBe(false);
    expect(verifySignature("s3cret-key", body, undefined)).toBe(false);
    expect(verifySignature("s3cret-key", body, "")).toBe(false);
    expect(verifySignature("s3cret-key", body, good.slice(0, 62))).toBe(false);
    expect(verifySignature("s3cret-key", body, "zz" + good.slice(2))).toBe(false);
  });
});

describe("webhook events", () => {
  it("names the environment of the kinds it acts on, and ignores the others", () => {
    const payload = JSON.stringify({ organization: { githubLogin: "acme", name: "Acme" }, projectName: "app", environmentName: "dev", action: "created", revision: 3 });
    expect(readEvent("environment_revision", payload)).toEqual({ kind: "sync", event: "environment_revision", action: "created", org: "acme", project: "app", name: "dev", revision: 3 });
    expect(readEvent("environment_rotation_succeeded", payload)).toMatchObject({ kind: "sync", event: "rotation", project: "app", name: "dev" });
    expect(readEvent("environment_tag", payload)).toMatchObject({ kind: "ignored" });
    expect(readEvent("environment", "{}")).toMatchObject({ kind: "ignored", reason: expect.stringContaining("projectName") });
    expect(readEvent("environment", JSON.stringify({ projectName: "../x", environmentName: "dev" }))).toMatchObject({ kind: "ignored" });
    expect(() => readEvent("environment", "{not json")).toThrow(SyntaxError);
  });

  it("skips a new revision only when every pair following the latest already wrote it or a later one", () => {
    const at = (revision: number, event: "environment_revision" | "rotation" = "environment_revision", action = "created") =>
      ({ kind: "sync", event, action, org: "acme", project: "app", name: "dev", revision }) as const;
    expect(alreadySynced(at(5), [5, 6])).toBe(true);
    expect(alreadySynced(at(7), [5, 6])).toBe(false);
    expect(alreadySynced(at(5), [5, undefined])).toBe(false);
    expect(alreadySynced(at(5), [])).toBe(false);
    expect(alreadySynced(at(5, "environment_revision", "retracted"), [9])).toBe(false);
    expect(alreadySynced(at(5, "rotation", "succeeded"), [5])).toBe(true);
  });

  it("remembers delivery ids within a bound", () => {
    const ids = new RecentIds(3);
    expect(ids.add("a")).toBe(true);
    expect(ids.add("a")).toBe(false);
    for (const id of ["b", "c", "d"]) ids.add(id);
    expect(ids.size).toBe(3);
    expect(ids.has("a")).toBe(false); // the oldest is forgotten
    expect(ids.has("d")).toBe(true);
  });
});

describe("importers", () => {
  it("reads imports as names and one-key maps, bare names in the importer's project or in default (where ESC looks)", () => {
    expect(importsOf("app/dev", "imports:\n  - common/base\n  - shared\n  - other/x: { merge: false }\nvalues: {}\n")).toEqual(["common/base", "app/shared", "default/shared", "other/x"]);
    expect(importsOf("default/dev", "imports: [shared]\n")).toEqual(["default/shared"]);
    expect(importsOf("app/dev", "values: {}\n")).toEqual([]);
    expect(importsOf("app/dev", "imports: [\n")).toEqual([]);
  });

  it("finds every importer transitively, and stops at cycles", () => {
    const g = new ImportGraph();
    g.reset(
      new Map([
        ["common/base", "values: {}\n"],
        ["app/shared", "imports: [common/base]\n"],
        ["app/dev", "imports: [shared]\n"],
        ["app/prod", "imports: [common/base]\n"],
        ["other/x", "values: {}\n"],
        ["loop/a", "imports: [loop/b]\n"],
        ["loop/b", "imports: [loop/a]\n"],
      ]),
    );
    expect(g.affected("common/base").sort()).toEqual(["app/dev", "app/prod", "app/shared", "common/base"]);
    expect(g.affected("other/x")).toEqual(["other/x"]);
    expect(g.affected("loop/a").sort()).toEqual(["loop/a", "loop/b"]);
    // A bare import found only in the default project still makes its importer affected.
    g.set("default/common", "values: {}\n");
    g.set("pay/dev", "imports: [common]\n");
    expect(g.affected("default/common").sort()).toEqual(["default/common", "pay/dev"]);
    g.set("pay/dev", undefined);
    g.set("app/dev", undefined);
    expect(g.affected("common/base").sort()).toEqual(["app/prod", "app/shared", "common/base"]);
  });
});

describe("rotated values", () => {
  it("are found wherever a definition holds fn::rotate or fn::rotate::<provider>", () => {
    // A rotator is written fn::rotate::<provider> (or fn::rotate), anywhere under values.
    expect(holdsRotation("values:\n  db:\n    fn::rotate::postgres:\n      inputs: {}\n")).toBe(true);
    expect(holdsRotation("values:\n  list:\n    - fn::rotate:\n        provider: aws-iam\n")).toBe(true);
    expect(holdsRotation("values:\n  note: mentions fn::rotate in a string only\n")).toBe(false);
    expect(holdsRotation("values: [unclosed")).toBe(false);
  });
});
