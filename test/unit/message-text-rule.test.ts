/**
 * Errors are classified by their message text in one module only, orchestrator/runner/failures.ts
 * (issue #23): anywhere else a decision is made from a kind, a class or a code. This reads every
 * source file and fails on the idioms of a message-text match (a regex or a string test over an
 * error's `message`, a `stderr`, a `msg`), naming the file and line.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const FAILURE_MODULE = "orchestrator/runner/failures.ts";

/** Reviewed exceptions: where nothing but the text exists, and why. */
const ALLOWED: Record<string, string> = {
  // JSON.parse's SyntaxError carries its position in its message only (V8); fn::fromJSON reports
  // the position without quoting the text. Not an engine failure, no decision but the wording.
  "orchestrator/esc-eval/builtins.ts:jsonProblem": "V8's JSON.parse error has no structured position",
};

const TESTS = "test|match|matchAll|exec|includes|startsWith|endsWith|search|indexOf";
/** A string or regex test over something that holds an error's or a process's words. */
const IDIOMS = [
  // err.message.includes("…"), stderr.startsWith("…"), msg.match(/…/)
  new RegExp(String.raw`(?:\.message|\bmsg|\bstderr)\b\)?\??\.(?:${TESTS})\(`),
  // /…/.test(err.message), RE.exec(stderr), /…/.test(String(err))
  new RegExp(String.raw`\.(?:test|exec|match|matchAll)\(\s*(?:\[[^\]]*)?(?:String\()?\s*(?:[\w.]+\.)?(?:message|msg|stderr)\b`),
  // /…/.test(String(err)), RE.test([...diagnostics, String(err)].join("\n"))
  new RegExp(String.raw`\.(?:test|exec)\([^;]*String\(\s*(?:err|error|e)\s*\)`),
];

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith(".ts"))
    .map((d) => relative(ROOT, join(d.parentPath, d.name)));
}

/** Each offending line as `file:line: text`, in the function it sits in for the allow-list. */
function violations(files: readonly string[], read: (file: string) => string = (f) => readFileSync(join(ROOT, f), "utf8")): string[] {
  const found: string[] = [];
  for (const file of files) {
    if (file === FAILURE_MODULE) continue;
    let fn = "";
    read(file)
      .split("\n")
      .forEach((line, i) => {
        fn = /^(?:export )?(?:async )?function (\w+)/.exec(line)?.[1] ?? fn;
        if (line.trimStart().startsWith("//") || line.trimStart().startsWith("*")) return;
        if (IDIOMS.some((re) => re.test(line)) && !ALLOWED[`${file}:${fn}`]) found.push(`${file}:${i + 1}: ${line.trim()}`);
      });
  }
  return found;
}

describe("message-text classification", () => {
  it("happens in the failure module only", () => {
    const files = [...sources("orchestrator"), ...sources("programs")];
    expect(files).toContain(FAILURE_MODULE);
    expect(violations(files)).toEqual([]);
  });

  it("catches the idioms it looks for (so that the rule can fail)", () => {
    const bad = [
      `if (/incorrect passphrase/i.test(err.message)) halt();`,
      `if (WRONG_PASSPHRASE.test([...tally.errors, String(err)].join("\\n"))) halt();`,
      `const why = stderr.split("\\n")[0]; if (stderr.includes("locked")) wait();`,
      `const missing = problems.filter((p) => p.message.startsWith("required"));`,
      `const unknown = /^unknown setting "([^"]+)"/.exec(p.message)?.[1];`,
      `if (msg.startsWith("Did you mean")) command();`,
    ];
    const files = bad.map((_, i) => `orchestrator/x${i}.ts`);
    expect(violations(files, (f) => bad[Number(/x(\d+)/.exec(f)![1])]!)).toHaveLength(bad.length);
    // …and leaves formatting alone: a first line for a report is not a decision.
    expect(violations(["orchestrator/ok.ts"], () => `warn(\`\${err.message.split("\\n")[0]}: not synced\`);`)).toEqual([]);
  });
});
