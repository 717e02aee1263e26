import { describe, expect, it } from "vitest";
import { Redactor } from "../../../orchestrator/redact.js";
import { SecretValue } from "../../../programs/secret-value.js";
import { inspect } from "node:util";

describe("redaction", () => {
  it("hides secret leaves of environments, raw and JSON-escaped, longest first", () => {
    const r = new Redactor().addEnvironments([
      {
        ref: { org: "o", project: "p", name: "n" },
        properties: {
          a: { value: 'pa"ss-word-1', secret: true },
          nested: { value: { inner: { value: "pa" } }, secret: true }, // too short to redact
          plain: { value: "visible-value" },
        },
      },
    ]);
    expect(r.text('x=pa"ss-word-1 y="pa\\"ss-word-1" z=visible-value')).toBe("x=[secret] y=\"[secret]\" z=visible-value");
    expect(r.deep({ m: ['pa"ss-word-1'] })).toEqual({ m: ["[secret]"] });
  });

  it("hides tokens it is given", () => {
    expect(new Redactor().add("pul-abc123", undefined).text("token pul-abc123 rejected")).toBe("token [secret] rejected");
  });

  it("keeps SecretValue out of every rendering", () => {
    const v = new SecretValue("hunter2-long");
    expect(`${v}`).toBe("[secret]");
    expect(JSON.stringify({ v })).toBe('{"v":"[secret]"}');
    expect(inspect(v)).toBe("[secret]");
    expect(v.reveal()).toBe("hunter2-long");
    expect(v.byteLength).toBe(12);
  });
  it("stays bounded over many cycles of one environment, keeping the value before a rotation hidden", () => {
    const r = new Redactor().add("fixed-token-1");
    const env = (value: string) => ({ ref: { org: "o", project: "p", name: "n" }, properties: { k: { value, secret: true } } });
    for (let cycle = 0; cycle < 500; cycle++) r.addEnvironments([env(`rotated-secret-${cycle}`)]);
    // The token, and the last two generations (each raw and JSON-escaped, identical here).
    expect(r.size).toBe(3);
    expect(r.text("rotated-secret-499 rotated-secret-498 rotated-secret-497 fixed-token-1")).toBe("[secret] [secret] rotated-secret-497 [secret]");
  });

  it("hides many environments' secrets at once, each scope replaced on its next read", () => {
    const env = (name: string, value: string) => ({ ref: { org: "o", project: "p", name }, properties: { k: { value, secret: true } } });
    const r = new Redactor();
    r.addEnvironments(Array.from({ length: 1000 }, (_, i) => env(`e${i}`, `secret-of-e${i}`)));
    expect(r.size).toBe(1000);
    expect(r.text("secret-of-e0 secret-of-e999")).toBe("[secret] [secret]");
    r.replaceScopes([["extra", ["credential-abc"]]]);
    expect(r.text("credential-abc secret-of-e500")).toBe("[secret] [secret]");
  });
});
