import { describe, expect, it } from "vitest";
import { compareEntries, driftExitCode, pairStatus, valueFingerprint } from "../../../../orchestrator/drift/compare.js";
import { driftToJunit, driftToMarkdown, type DriftReport } from "../../../../orchestrator/reporters/drift.js";
import { SecretValue } from "../../../../programs/secret-value.js";

const entry = (name: string, value: string) => ({ name, value: new SecretValue(value), secret: true });
const readback = (applied: Record<string, string>, actual: Record<string, string>) => ({
  applied: new Map(Object.entries(applied)),
  actual: new Map(Object.entries(actual)),
});
const statusOf = (entries: ReturnType<typeof compareEntries>) => Object.fromEntries(entries.map((e) => [e.name, e.status]));

describe("drift comparison", () => {
  it("classifies each entry from desired, last written and actual values", () => {
    const entries = compareEntries(
      [entry("SAME", "1"), entry("ESC_CHANGED", "new"), entry("EDITED", "x"), entry("GONE", "y"), entry("NEW", "n")],
      readback({ SAME: "1", ESC_CHANGED: "old", EDITED: "x", GONE: "y", REMOVED_FROM_ESC: "r" }, { SAME: "1", ESC_CHANGED: "old", EDITED: "hand", REMOVED_FROM_ESC: "r" }),
      true,
      "k",
    );
    expect(statusOf(entries)).toEqual({
      SAME: "in-sync",
      ESC_CHANGED: "pending",
      EDITED: "drifted",
      GONE: "missing",
      NEW: "pending",
      REMOVED_FROM_ESC: "pending",
    });
    expect(pairStatus(entries)).toBe("drifted");
  });

  it("gives fingerprints, never values, and equal values equal fingerprints", () => {
    const [e] = compareEntries([entry("A", "secret-value")], readback({ A: "secret-value" }, { A: "secret-value" }), true, "k");
    expect(e).toEqual({ name: "A", status: "in-sync", expected: valueFingerprint("k", "secret-value"), actual: valueFingerprint("k", "secret-value") });
    expect(JSON.stringify(e)).not.toContain("secret-value");
    expect(valueFingerprint("k", "a")).not.toBe(valueFingerprint("other", "a"));
  });

  it("never claims in sync for a store it cannot read, nor for a pair never synced", () => {
    expect(statusOf(compareEntries([entry("A", "1")], undefined, true, "k"))).toEqual({ A: "unverifiable" });
    expect(statusOf(compareEntries([entry("A", "1")], undefined, false, "k"))).toEqual({ A: "pending" });
    expect(pairStatus([{ status: "unverifiable" }, { status: "in-sync" }])).toBe("unverifiable");
  });

  it("maps statuses to exit codes: 1 on errors, 2 on differences, 0 otherwise", () => {
    expect(driftExitCode(["in-sync", "in-sync"])).toBe(0);
    expect(driftExitCode(["in-sync", "unverifiable"])).toBe(2);
    expect(driftExitCode(["orphaned"])).toBe(2);
    expect(driftExitCode(["drifted", "error"])).toBe(1);
    expect(driftExitCode([])).toBe(0);
  });
});

describe("drift report rendering", () => {
  const report: DriftReport = {
    version: 1,
    generatedAt: "2026-01-01T00:00:00.000Z",
    summary: { pairs: 2, byStatus: { "in-sync": 1, error: 1 }, exitCode: 1 },
    pairs: [
      { stack: "a.b.t", environment: "o/a/b", target: "t", kind: "file", location: "/x", status: "in-sync", entries: [] },
      { stack: "a.c.t", environment: "o/a/c", target: "t", kind: "file", location: "/y", status: "error", message: 'bad <"value"> | pipe', entries: [] },
    ],
  };
  it("escapes Markdown table cells", () => {
    expect(driftToMarkdown(report)).toContain('| 💥 | `o/a/c` | `t` (file) | error | bad <"value"> \\| pipe |');
  });
  it("escapes XML and marks errors as errors", () => {
    const xml = driftToJunit(report);
    expect(xml).toContain('tests="2" failures="0" errors="1"');
    expect(xml).toContain('<error message="bad &lt;&quot;value&quot;&gt; | pipe" type="error"/>');
  });
});
