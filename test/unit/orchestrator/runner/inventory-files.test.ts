/**
 * The inventory read from a `file://` backend's state files: records, resources and pending
 * operations as `stack export` gives them; gzipped files; a file that does not parse handed back
 * for the CLI to read; an unknown layout or another backend left to the CLI entirely.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { readFileBackend } from "../../../../orchestrator/runner/backend-stacks.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function backend(meta: string | null = "version: 1\n") {
  const dir = mkdtempSync(join(tmpdir(), "esc-sync-inv-"));
  dirs.push(dir);
  mkdirSync(join(dir, ".pulumi", "stacks", "esc-sync"), { recursive: true });
  if (meta !== null) writeFileSync(join(dir, ".pulumi", "meta.yaml"), meta);
  return { dir, url: pathToFileURL(dir).href, secretsProvider: "passphrase" };
}

const record = { environment: "acme/app/dev", target: "out", binding: "out", kind: "file", fingerprint: "fp", entries: ["A"], location: "/out/dev.env" };
const checkpoint = (extra: object = {}) =>
  JSON.stringify({
    version: 3,
    checkpoint: {
      stack: "organization/esc-sync/app.dev.out",
      latest: {
        resources: [
          { urn: "u1", type: "pulumi:pulumi:Stack", outputs: { "esc-sync": record } },
          { urn: "u2", type: "pulumi:providers:pulumi-nodejs" },
          { urn: "u3", type: "pulumi-nodejs:dynamic:Resource" },
        ],
        ...extra,
      },
    },
  });

describe("readFileBackend", () => {
  it("reads each stack's record, resources and pending operations, plain or gzipped; empty stacks hold nothing", async () => {
    const b = backend();
    const stacks = join(b.dir, ".pulumi", "stacks", "esc-sync");
    writeFileSync(join(stacks, "app.dev.out.json"), checkpoint());
    writeFileSync(join(stacks, "app.gz.out.json.gz"), gzipSync(checkpoint({ pending_operations: [{}, {}] })));
    writeFileSync(join(stacks, "app.new.out.json"), JSON.stringify({ version: 3, checkpoint: { stack: "organization/esc-sync/app.new.out", latest: null } }));
    writeFileSync(join(stacks, "app.dev.out.json.bak"), "not read");
    const read = await readFileBackend(b);
    const byName = Object.fromEntries(read!.stacks.map((s) => [s.name, s]));
    expect(Object.keys(byName).sort()).toEqual(["app.dev.out", "app.gz.out", "app.new.out"]);
    expect(byName["app.dev.out"]).toEqual({ name: "app.dev.out", record, resources: 1, pendingOperations: 0 });
    expect(byName["app.gz.out"]).toMatchObject({ record, pendingOperations: 2 });
    expect(byName["app.new.out"]).toEqual({ name: "app.new.out", resources: 0, pendingOperations: 0 });
    expect(read!.unreadable).toEqual([]);
  });

  it("hands back a file that does not parse (a write in progress, a foreign file) for the CLI to read", async () => {
    const b = backend();
    writeFileSync(join(b.dir, ".pulumi", "stacks", "esc-sync", "app.torn.out.json"), checkpoint().slice(0, 40));
    expect(await readFileBackend(b)).toEqual({ stacks: [], unreadable: ["app.torn.out"] });
  });

  it("reads only the stacks asked for (a shard's)", async () => {
    const b = backend();
    for (const n of ["a", "b", "c"]) writeFileSync(join(b.dir, ".pulumi", "stacks", "esc-sync", `app.${n}.out.json`), checkpoint());
    expect((await readFileBackend(b, (s) => s !== "app.b.out"))!.stacks.map((s) => s.name).sort()).toEqual(["app.a.out", "app.c.out"]);
  });

  it("leaves every other backend, and a layout it does not know, to the CLI", async () => {
    expect(await readFileBackend({ url: "s3://bucket", secretsProvider: "passphrase" })).toBeUndefined();
    expect(await readFileBackend(backend(null))).toBeUndefined();
    expect(await readFileBackend(backend("version: 0\n"))).toBeUndefined();
    const b = backend();
    expect(await readFileBackend({ ...b, url: `${b.url}?no_tmp_dir=true` })).toBeUndefined();
  });
});
