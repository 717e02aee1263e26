/**
 * scripts/actionlint/check.mjs: actionlint (built from the Go module proxy) over action.yml and
 * the docs' workflow examples passes, and a broken workflow, a broken example in Markdown and an
 * example passing an input the action does not have are each refused, naming where.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const REPO = join(import.meta.dirname, "..", "..");
const scratch = mkdtempSync(join(tmpdir(), "esc-sync-actionlint-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function check(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO, "scripts", "actionlint", "check.mjs"), ...args], { cwd: REPO, encoding: "utf8", timeout: 600_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

const TIMEOUT = 600_000; // the first call builds actionlint (under a minute; cached afterwards)

describe("actionlint over the action and the docs' workflows", () => {
  it("passes on action.yml and every workflow example in README.md and docs/", () => {
    const r = check();
    expect(r.out).toMatch(/action\.yml and [1-9]\d* workflow example\(s\) from README\.md, .*docs\/shipping\.md/);
    expect(r.out).toContain("[actionlint] no problems");
    expect(r.code).toBe(0);
  }, TIMEOUT);

  it("refuses a broken workflow, naming the file and the line", () => {
    const file = join(scratch, "broken.yml");
    writeFileSync(file, ["on: push", "jobs:", "  drift:", "    runs-on: ubuntu-latest", "    steps:", "      - run: echo ${{ matrix.shard }}", "      - uses: actions/checkout@v4", "        with: { fetch-depth: 0 }", "    timeout-minutes: soon", ""].join("\n"));
    const r = check(file);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${file}:6:`); // matrix is not defined in this job
    expect(r.out).toContain(`${file}:9:`); // not a number
    expect(r.out).toMatch(/problem\(s\) \(exit 1\)/);
  }, TIMEOUT);

  it("checks the examples' inputs against action.yml: an input the action lacks is refused", () => {
    const md = join(scratch, "example.md");
    writeFileSync(md, ["# Example", "", "```yaml", "jobs:", "  drift:", "    runs-on: ubuntu-latest", "    steps:", "      - uses: esc-sync/esc-sync@v0", "        with: { command: drift, shards: 0/3 }", "```", ""].join("\n"));
    const r = check("--markdown", md);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`${md.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:9:\\d+: input "shards" is not defined in action "esc-sync"`));
  }, TIMEOUT);

  it("refuses an example that is not valid YAML", () => {
    const md = join(scratch, "bad-yaml.md");
    writeFileSync(md, ["```yaml", "jobs:", "  a:", "    runs-on: ubuntu-latest", "    steps:", "      - uses: actions/upload-artifact@v4", "        with: { name: drift-${{ matrix.shard }} }", "```", ""].join("\n"));
    const r = check("--markdown", md);
    expect(r.code).toBe(1);
    expect(r.out).toContain("could not parse as YAML");
  }, TIMEOUT);
});
