/** The local source names the file a problem is in, the imported one included, and never a value. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LocalSource } from "../../../../orchestrator/sources/local.js";
import { EnvironmentError } from "../../../../orchestrator/sources/source.js";

describe("local source", () => {
  const folder = mkdtempSync(join(tmpdir(), "esc-sync-local-"));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  const write = (project: string, name: string, yaml: string) => {
    mkdirSync(join(folder, project), { recursive: true });
    writeFileSync(join(folder, project, `${name}.yaml`), yaml);
  };

  it("names the imported file and its line for a problem found in an import", async () => {
    write("shared", "base", `values:\n  ok: 1\n  bad: \${nowhere}\n`);
    write("app", "dev", `imports:\n  - shared/base\nvalues:\n  x: 1\n`);
    const err = await new LocalSource(folder, "o").open({ org: "o", project: "app", name: "dev" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    const base = relative(process.cwd(), join(folder, "shared", "base.yaml"));
    expect((err as Error).message).toContain(`${base}:3:`);
    expect((err as Error).message).toMatch(/in imported environment "shared\/base"/);
  });
});
