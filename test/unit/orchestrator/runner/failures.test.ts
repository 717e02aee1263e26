/**
 * The failure module on the Pulumi CLI's own words: every fixture was captured from the real CLI
 * v3.274.1 through the real Automation API (test/fixtures/pulumi-cli-3.274.1/capture.mjs; the
 * README there says how), and each is rebuilt here into the error class the Automation API
 * throws for it. Classified once: kind, retryable, message, hint; the cause stays the Error.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as automation from "@pulumi/pulumi/automation/index.js";
import { describe, expect, it } from "vitest";
import { classifyEngineError, cliWords, EngineFailure, interrupted, isEngineSummary, missingPlugin, staleLockCleared, timedOut, unreadableState } from "../../../../orchestrator/runner/failures.js";

const FIXTURES = join(import.meta.dirname, "..", "..", "..", "fixtures", "pulumi-cli-3.274.1");
const text = (name: string) => readFileSync(join(FIXTURES, name), "utf8");

type CommandErrorClass = new (result: { toString(): string }) => Error;
/** The error the Automation API threw for a captured case: its class (first line) and message. */
function captured(name: string): Error {
  const [className, ...rest] = text(`${name}.txt`).split("\n");
  const classes: Record<string, unknown> = {
    CommandError: automation.CommandError,
    ConcurrentUpdateError: automation.ConcurrentUpdateError,
    StackNotFoundError: automation.StackNotFoundError,
  };
  const Class = classes[className!] as CommandErrorClass;
  expect(Class, `${name}: ${className}`).toBeDefined();
  return new Class({ toString: () => rest.join("\n") });
}

describe("engine failures, from the CLI's own words", () => {
  it("a wrong passphrase (up and refresh): not retryable, says which variables, and that the run stopped", () => {
    for (const name of ["wrong-passphrase-up", "wrong-passphrase-refresh"]) {
      const err = captured(name);
      const f = classifyEngineError(err);
      expect(f, name).toMatchObject({ kind: "wrong-passphrase", retryable: false });
      expect(f.message).toBe("the passphrase does not decrypt this backend's state (PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE)");
      expect(f.hint).toMatch(/^set the passphrase this state was written with; the run stopped before its other pairs/);
      expect(f.cause).toBe(err);
    }
  });

  it("a locked stack: retryable while waiting, its holders read from the lock lines, final after the wait", () => {
    const err = captured("locked-up");
    expect(err).toBeInstanceOf(automation.ConcurrentUpdateError);
    const f = classifyEngineError(err);
    expect(f).toMatchObject({ kind: "locked", retryable: true, retryCause: "stack locked by another run" });
    expect(f.locks).toEqual([{ user: "someone", host: "evicted-pod-7f9c", pid: 4242, createdAt: new Date("2026-12-04T18:00:00Z") }]);
    expect(f.message).toBe("the stack is locked by another run (someone@evicted-pod-7f9c pid 4242 since 2026-12-04T18:00:00.000Z), still after waiting");
    expect(f.hint).toMatch(/`pulumi cancel` clears the lock/);
    const final = f.final();
    expect(final).toMatchObject({ kind: "locked", retryable: false, message: f.message, locks: f.locks });
    expect(final.cause).toBe(err);
    const stale = staleLockCleared(f);
    expect(stale).toMatchObject({ kind: "stale-lock", retryable: true, retryCause: "stale lock cleared" });
    expect(stale.cause).toBe(err);
  });

  it("a truncated state file: 'damaged', with the CLI's reason, not the command line; export and up alike", () => {
    const up = classifyEngineError(captured("truncated-state-up"));
    expect(up).toMatchObject({ kind: "state-unreadable", retryable: false });
    expect(up.message).toBe("the stack's state cannot be read: its checkpoint is damaged, truncated or not JSON (failed to load checkpoint: place 1: unexpected end of JSON input)");
    expect(up.hint).toMatch(/restore the stack's state file/);
    const exported = unreadableState("app.e1.out", { stderr: text("truncated-state-export.stderr.txt") });
    expect(exported).toBe("the state of stack app.e1.out cannot be read: its checkpoint is damaged, truncated or not JSON (failed to load checkpoint: place 1: unexpected end of JSON input)");
    // What the inventory said when its export ran outside its workspace: Pulumi Cloud's login,
    // unrelated to the damage; kept as the CLI's words, never called "damaged".
    expect(unreadableState("app.e1.out", { stderr: text("truncated-state-export-no-project.stderr.txt") })).toBe(
      "the state of stack app.e1.out cannot be read (PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions)",
    );
  });

  it("provider throttling, from the engine's diagnostics: retryable, its words kept for the report", () => {
    const diagnostic = text("throttled-provider.txt").trim();
    const f = classifyEngineError(new Error("update failed"), [diagnostic]);
    expect(f).toMatchObject({ kind: "throttled", retryable: true, retryCause: "provider throttling", message: diagnostic });
    // The same words in the exception alone are enough too.
    expect(classifyEngineError(new Error(diagnostic))).toMatchObject({ kind: "throttled", retryable: true });
  });

  it("a full disk: not retryable, the file it could not write (without the temp suffix), and the fix", () => {
    const lock = classifyEngineError(new Error(text("disk-full-lock.txt")));
    expect(lock).toMatchObject({ kind: "disk-full", retryable: false, hint: expect.stringContaining("free space") });
    expect(lock.message).toBe("no space left on device: could not write /tmp/esc-sync-faults-x/state/.pulumi/locks/organization/esc-sync/app.e1.out/93ede3bc-5a1f-4c57-9a36-0e1f0f3f1d2b.json");
    // During an update the words arrive as the engine's diagnostic.
    const snapshot = classifyEngineError(new Error("update failed"), [text("disk-full-snapshot.txt").trim()]);
    expect(snapshot).toMatchObject({ kind: "disk-full", message: "no space left on device: could not write /tmp/esc-sync-faults-x/state/.pulumi/stacks/esc-sync/app.e1.out.json" });
  });

  it("anything else fails at once with the CLI's own last words, without the command line", () => {
    const err = captured("stack-not-found-select");
    const f = classifyEngineError(err);
    expect(f).toMatchObject({ kind: "failed", retryable: false, message: "error: no stack named 'cap.none.out' found" });
    expect(f.hint).toBeUndefined();
    expect(f.cause).toBe(err);
    expect(cliWords(err)).toBe("error: no stack named 'cap.none.out' found");
    // A provider's own error, from the events, wins over the CLI's summary (three at most).
    expect(classifyEngineError(err, ["a", "b", "c", "d"]).message).toBe("a\nb\nc");
    // A thrown non-Error still gets an Error as its cause.
    expect(classifyEngineError("boom").cause).toBeInstanceOf(Error);
  });

  it("a classified failure is classified again from its cause, with the diagnostics known later", () => {
    const first = classifyEngineError(new Error("update failed"));
    expect(first.kind).toBe("failed");
    expect(classifyEngineError(first, [text("wrong-passphrase-up.txt")])).toMatchObject({ kind: "wrong-passphrase" });
    // One with no cause (esc-sync's own: a timeout) stays what it is.
    const t = timedOut("15m", 0);
    expect(classifyEngineError(t, ["ThrottlingException: Rate exceeded"])).toBe(t);
  });

  it("a plugin that cannot be installed: the CLI's reason and the side-load command", () => {
    const err = captured("missing-plugin-install");
    const f = missingPlugin("aws", "7.0.0", err);
    expect(f).toMatchObject({ kind: "missing-plugin", retryable: false, hint: "side-load the plugin, then run again" });
    expect(f.message).toBe(
      'provider plugin aws v7.0.0 is not installed and could not be installed (Unable to resolve package from name: registry query error: performing HTTP request: Get "https://api.pulumi.com/api/registry/packages?limit=499&name=esc-sync-nonexistent": dial tcp: lookup api.pulumi.com on 10.255.255.53:53: no such host); side-load it with: pulumi plugin install resource aws 7.0.0 --file PATH',
    );
    expect(f.cause).toBe(err);
  });

  it("esc-sync's own kinds: a timeout and an interruption, with their fixes; the engine's closing summary is known", () => {
    expect(timedOut("15m", 3)).toMatchObject({ kind: "timeout", retryable: false, message: "timed out after 15m: the operation was cancelled; it did not stop when asked, so its 3 process(es) were ended and its lock released" });
    expect(timedOut("90s", 0, "removal")).toMatchObject({ kind: "timeout", message: "timed out after 90s: the removal was cancelled", hint: "raise --pair-timeout, or find out why it hangs" });
    expect(interrupted()).toMatchObject({ kind: "interrupted", message: "interrupted: the update was cancelled and its lock released", hint: "run again to finish" });
    expect(interrupted()).toBeInstanceOf(EngineFailure);
    expect(isEngineSummary("update failed")).toBe(true);
    expect(isEngineSummary("aws:secretsmanager:Secret (x): error: AccessDenied")).toBe(false);
  });
});
