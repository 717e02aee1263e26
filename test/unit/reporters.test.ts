/** Which reporter a run gets: the live table only where a terminal can show it. */
import { describe, expect, it } from "vitest";
import { Redactor } from "../../orchestrator/redact.js";
import { chooseReporter } from "../../orchestrator/reporters/choose.js";

function fakeStream(tty: { isTTY: boolean; columns?: number; rows?: number }) {
  const written: string[] = [];
  return { stream: { ...tty, write: (t: string) => (written.push(t), true) } as unknown as NodeJS.WriteStream, written };
}

const info = { stack: "app.a.out", environment: "o/app/a", target: "out", kind: "file", location: "/x", entries: [], fingerprint: "" };
const changes = { create: 0, update: 0, delete: 0, replace: 0, same: 0 };

describe("chooseReporter", () => {
  const saved = { CI: process.env.CI, TERM: process.env.TERM };
  const withEnv = (ci: string | undefined, term: string | undefined, fn: () => void) => {
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
    process.env.TERM = term ?? "xterm";
    try {
      fn();
    } finally {
      if (saved.CI === undefined) delete process.env.CI;
      else process.env.CI = saved.CI;
      process.env.TERM = saved.TERM;
    }
  };

  it("writes plain lines, result, reason and hint, on a terminal that reports a 0x0 size", () => {
    withEnv(undefined, "xterm", () => {
      const { stream, written } = fakeStream({ isTTY: true, columns: 0, rows: 0 });
      const r = chooseReporter("text", new Redactor(), stream);
      r.sink({ kind: "pair-done", pair: info, operation: "sync", status: "failed", changes, message: "it broke", hint: "fix it", durationMs: 1, at: 0 });
      r.finish();
      expect(written.join("")).toBe("✗ o/app/a → out: failed: it broke\n  hint: fix it\n");
    });
  });

  it("writes plain lines on a dumb terminal and in CI", () => {
    for (const [ci, term] of [[undefined, "dumb"], ["true", "xterm"]] as const) {
      withEnv(ci, term, () => {
        const { stream, written } = fakeStream({ isTTY: true, columns: 120, rows: 40 });
        const r = chooseReporter("text", new Redactor(), stream);
        r.sink({ kind: "pair-done", pair: info, operation: "drift", status: "unchanged", changes, durationMs: 1, at: 0 });
        r.finish();
        expect(written.join("")).toBe("✓ o/app/a → out: in sync\n");
      });
    }
  });
});
