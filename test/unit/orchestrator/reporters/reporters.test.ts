/** Which reporter a run gets: the live table only where a terminal can show it. */
import { describe, expect, it, vi } from "vitest";
import { Redactor } from "../../../../orchestrator/redact.js";
import { chooseReporter } from "../../../../orchestrator/reporters/choose.js";
import { liveReporter } from "../../../../orchestrator/reporters/run.js";

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
      r.sink({ kind: "pair-done", pair: info, operation: "sync", step: "up", status: "failed", changes, message: "it broke", hint: "fix it", durationMs: 1, at: 0 });
      r.finish();
      expect(written.join("")).toBe("✗ o/app/a → out: failed: it broke\n  hint: fix it\n");
    });
  });

  it("writes plain lines on a dumb terminal and in CI", () => {
    for (const [ci, term] of [[undefined, "dumb"], ["true", "xterm"]] as const) {
      withEnv(ci, term, () => {
        const { stream, written } = fakeStream({ isTTY: true, columns: 120, rows: 40 });
        const r = chooseReporter("text", new Redactor(), stream);
        r.sink({ kind: "pair-done", pair: info, operation: "drift", step: "inspect", status: "unchanged", changes, durationMs: 1, at: 0 });
        r.finish();
        expect(written.join("")).toBe("✓ o/app/a → out: in sync\n");
      });
    }
  });
});

describe("liveReporter and Ctrl-C", () => {
  /** A terminal just good enough for log-update: lines, a cursor, erase-line and cursor-up. */
  function terminal() {
    const lines: string[] = [""];
    let row = 0;
    const write = (text: string) => {
      // eslint-disable-next-line no-control-regex
      for (const part of text.split(/(\u001b\[[0-9;?]*[A-Za-z]|\n)/)) {
        if (!part) continue;
        if (part === "\n") {
          row++;
          if (row === lines.length) lines.push("");
        } else if (part === "\u001b[2K") lines[row] = "";
        else if (/^\u001b\[\d*A$/.test(part)) row = Math.max(0, row - Number(part.slice(2, -1) || 1));
        else if (part.startsWith("\u001b[")) continue; // cursor to column 0, show/hide cursor
        else lines[row] += part;
      }
      return true;
    };
    return { stream: { isTTY: true, columns: 100, rows: 30, write } as unknown as NodeJS.WriteStream, write, screen: () => lines.filter((l) => l !== "").join("\n") };
  }

  const run = async (withSignal: boolean) => {
    vi.useFakeTimers();
    try {
      const term = terminal();
      const controller = new AbortController();
      const reporter = liveReporter(term.stream, withSignal ? controller.signal : undefined);
      reporter.sink({ kind: "pair-queued", pair: info, at: 0 });
      reporter.sink({ kind: "pair-start", pair: info, operation: "sync", at: 0 });
      await vi.advanceTimersByTimeAsync(100);
      // What cli.ts does on SIGINT: abort, then its message on the same terminal.
      controller.abort();
      term.write("\nSIGINT: stopping; running pairs are being interrupted (press again to exit at once)\n");
      reporter.sink({ kind: "pair-done", pair: info, operation: "sync", step: "up", status: "failed", changes, message: "interrupted", durationMs: 1, at: 1 });
      await vi.advanceTimersByTimeAsync(100);
      reporter.finish();
      return term.screen();
    } finally {
      vi.useRealTimers();
    }
  };

  it("after an interruption the message stays and each row is on screen once, below it (without the signal, twice)", async () => {
    const screen = await run(true);
    expect(screen.match(/^PAIR\s+STACK\s+STATE$/gm)).toHaveLength(1);
    expect(screen.indexOf("SIGINT: stopping")).toBeLessThan(screen.indexOf("PAIR"));
    expect(screen).toMatch(/failed: interrupted/);
    expect(screen.match(/app\.a\.out/g)).toHaveLength(1);
    // Without the signal, log-update redraws the rows it thinks changed over the message: the
    // message is lost and the pair's row is on screen twice (its stale "running" line kept).
    const broken = await run(false);
    expect(broken).not.toContain("SIGINT: stopping");
    expect(broken.match(/app\.a\.out/g)).toHaveLength(2);
  });
});

describe("redacting reporters and short secrets", () => {
  // A secret value that is also a piece of esc-sync's own vocabulary ("one" is inside
  // "pair-done" and "run-done"; "failed" is a status) must not break what reporters switch on.
  it("keeps the JSON report whole when a secret reads like a word of its vocabulary", () => {
    const { stream, written } = fakeStream({ isTTY: false });
    const redactor = new Redactor().add("one", "failed", "sync");
    const r = chooseReporter("json", redactor, stream);
    const pair = { ...info, location: "/srv/one/x", entries: ["one"] };
    r.sink({ kind: "run-start", operation: "sync", pairs: [pair], concurrency: 1, at: 0 });
    r.sink({ kind: "pair-start", pair, operation: "sync", at: 0 });
    r.sink({ kind: "pair-done", pair, operation: "sync", step: "up", status: "failed", changes, message: "wrote one", durationMs: 1, at: 1 });
    r.sink({ kind: "run-done", operation: "sync", summary: { pairs: 1, byStatus: { failed: 1 }, failed: 1, durationMs: 1, exitCode: 1 }, at: 2 });
    r.finish();
    const doc = JSON.parse(written.join(""));
    expect(doc.operation).toBe("sync");
    expect(doc.pairs[0]).toMatchObject({ stack: "app.a.out", status: "failed", operation: "sync", message: "wrote [secret]", location: "/srv/[secret]/x", entries: ["[secret]"] });
    expect(doc.summary).toMatchObject({ pairs: 1, failed: 1, exitCode: 1 });
  });
});
