/**
 * `runImport` into the `local` source's folder: creation, merge, a second run that writes
 * nothing, a dry run, and an edit made between the read and the write (content hash re-read just
 * before the atomic rename). The store is a fake reader typed against the contract.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { StoreEntry, StoreReader } from "../../../../programs/contract.js";
import { LocalDestination } from "../../../../orchestrator/migrate/destination.js";
import { runImport } from "../../../../orchestrator/migrate/import.js";
import { keyMapping } from "../../../../orchestrator/migrate/mapping.js";
import type { ImportOptions } from "../../../../orchestrator/migrate/plan.js";
import { SecretValue } from "../../../../programs/secret-value.js";

const ref = { org: "local", project: "app", name: "dev" };
const options: ImportOptions = { mapping: keyMapping({ prefix: "app/" }), path: ["environmentVariables"], jsonAs: "string", overwrite: false, maxBytes: 1024 };

function reader(values: Record<string, string>, onList?: () => void): StoreReader {
  return {
    location: "fake",
    async *list(filter) {
      onList?.();
      for (const [name, value] of Object.entries(values)) {
        if (filter.prefix && !name.startsWith(filter.prefix)) continue;
        yield { name, value: new SecretValue(value) } satisfies StoreEntry;
      }
    },
  };
}

describe("runImport into a local folder", () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const folder = () => {
    const d = mkdtempSync(join(tmpdir(), "esc-sync-migrate-"));
    dirs.push(d);
    return d;
  };

  it("creates the definition (mode 0600), then a rerun writes nothing; a dry run writes nothing", async () => {
    const dir = folder();
    const file = join(dir, "app", "dev.yaml");
    const dry = await runImport({ reader: reader({ "app/A": "1" }), destination: new LocalDestination(dir, ref), options, dryRun: true });
    expect(dry).toMatchObject({ written: false, created: true, totals: { imported: 1 } });
    expect(() => statSync(file)).toThrow();

    const first = await runImport({ reader: reader({ "app/A": "1", "other/B": "2" }), destination: new LocalDestination(dir, ref), options, dryRun: false });
    expect(first).toMatchObject({ written: true, created: true, totals: { imported: 1, unchanged: 0 } });
    expect(readFileSync(file, "utf8")).toBe("values:\n  environmentVariables:\n    A:\n      fn::secret: \"1\"\n");
    expect(statSync(file).mode & 0o777).toBe(0o600);

    chmodSync(file, 0o640);
    const second = await runImport({ reader: reader({ "app/A": "1" }), destination: new LocalDestination(dir, ref), options, dryRun: false });
    expect(second).toMatchObject({ written: false, totals: { imported: 0, unchanged: 1 } });

    await runImport({ reader: reader({ "app/A": "1", "app/C": "3" }), destination: new LocalDestination(dir, ref), options, dryRun: false });
    expect(statSync(file).mode & 0o777).toBe(0o640); // an existing file keeps its mode
  });

  it("writes nothing when the definition changes between the read and the write", async () => {
    const dir = folder();
    const file = join(dir, "app", "dev.yaml");
    mkdirSync(join(dir, "app"));
    writeFileSync(file, "values:\n  environmentVariables:\n    KEEP: x\n");
    const destination = new LocalDestination(dir, ref);
    const read = destination.read.bind(destination);
    // Someone edits the file right after esc-sync has read it.
    destination.read = async () => {
      const state = await read();
      writeFileSync(file, "values:\n  environmentVariables:\n    KEEP: edited\n");
      return state;
    };
    const result = await runImport({ reader: reader({ "app/A": "1" }), destination, options, dryRun: false });
    expect(result.written).toBe(false);
    expect(result.concurrentEdit).toMatch(/changed after it was read: nothing was written/);
    expect(result.items).toEqual([{ name: "app/A", key: "A", status: "conflict", reason: "the environment changed while importing: not written" }]);
    expect(readFileSync(file, "utf8")).toBe("values:\n  environmentVariables:\n    KEEP: edited\n");
  });

  it("refuses to merge into a definition that has errors", async () => {
    const dir = folder();
    mkdirSync(join(dir, "app"));
    writeFileSync(join(dir, "app", "dev.yaml"), "values:\n  x: ${missing}\n");
    await expect(runImport({ reader: reader({ "app/A": "1" }), destination: new LocalDestination(dir, ref), options, dryRun: false })).rejects.toThrow(/has errors; fix them before importing/);
  });
});
