/**
 * The file provider's methods, called directly (Pulumi calls them the same way in the provider
 * process). They load modules with `require`, which an ES module test lacks: give them one.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileProvider } from "../../../../programs/file/provider.js";

const dir = mkdtempSync(join(tmpdir(), "esc-sync-file-"));
beforeAll(() => {
  (globalThis as { require?: NodeJS.Require }).require = createRequire(import.meta.url);
});
afterAll(() => {
  delete (globalThis as { require?: NodeJS.Require }).require;
  rmSync(dir, { recursive: true, force: true });
});

describe("file provider", () => {
  const path = join(dir, "nested", "app.env");
  const inputs = { path, content: "A=1\n", mode: "0600" };

  it("creates the file with its mode, making folders, leaving no temp file", async () => {
    const result = await fileProvider.create!(inputs);
    expect(result.id).toBe(path);
    expect(readFileSync(path, "utf8")).toBe("A=1\n");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, "nested"))).toEqual(["app.env"]);
  });

  it("narrows the mode of a file that exists with a wider one", async () => {
    writeFileSync(path, "old", { mode: 0o644 });
    await fileProvider.update!(path, inputs, inputs);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, "utf8")).toBe("A=1\n");
  });

  it("reads back what is on disk, so a refresh sees outside edits", async () => {
    writeFileSync(path, "A=edited\n");
    const read = await fileProvider.read!(path, { ...inputs, present: true });
    expect(read.props).toMatchObject({ content: "A=edited\n", mode: "0600", present: true });
  });

  it("reports a deleted file as absent, and diff then asks to write it again", async () => {
    rmSync(path);
    const read = await fileProvider.read!(path, { ...inputs, present: true });
    expect(read.props).toMatchObject({ present: false });
    const diff = await fileProvider.diff!(path, read.props, inputs);
    expect(diff.changes).toBe(true);
  });

  it("replaces the resource when the path changes, updates in place otherwise", async () => {
    expect((await fileProvider.diff!(path, { ...inputs, present: true }, { ...inputs, path: path + ".2" })).replaces).toEqual(["path"]);
    expect(await fileProvider.diff!(path, { ...inputs, present: true }, { ...inputs, content: "B=2\n" })).toMatchObject({ changes: true, replaces: [] });
    expect(await fileProvider.diff!(path, { ...inputs, present: true }, inputs)).toMatchObject({ changes: false });
  });

  it("after a refresh, any byte or a mode changed on disk is a change; the same mode written otherwise is not", async () => {
    const olds = { ...inputs, present: true };
    expect(await fileProvider.diff!(path, { ...olds, content: "A=1\n# note\n" }, inputs)).toMatchObject({ changes: true });
    expect(await fileProvider.diff!(path, { ...olds, content: "A=1" }, inputs)).toMatchObject({ changes: true });
    expect(await fileProvider.diff!(path, { ...olds, mode: "0644" }, inputs)).toMatchObject({ changes: true });
    expect(await fileProvider.diff!(path, { ...olds, mode: "0600" }, { ...inputs, mode: "600" })).toMatchObject({ changes: false });
  });

  it("reads a mode with no group or other bits as three octal digits", async () => {
    await fileProvider.create!(inputs);
    chmodSync(path, 0o004);
    expect((await fileProvider.read!(path, { ...inputs, present: true })).props).toMatchObject({ mode: "0004" });
    chmodSync(path, 0o600);
  });

  it("deletes the file, and a missing file is already deleted", async () => {
    await fileProvider.create!(inputs);
    await fileProvider.delete!(path, inputs);
    expect(() => statSync(path)).toThrow();
    await expect(fileProvider.delete!(path, inputs)).resolves.toBeUndefined();
  });

  it("never overwrites a file it did not write, but accepts one that already holds the same content", async () => {
    const other = join(dir, "foreign.env");
    writeFileSync(other, "SOMEONE=else\n");
    await expect(fileProvider.create!({ ...inputs, path: other })).rejects.toThrow(/already exists and was not written by esc-sync: adopt it with `esc-sync migrate adopt`/);
    expect(readFileSync(other, "utf8")).toBe("SOMEONE=else\n");
    writeFileSync(other, inputs.content);
    await expect(fileProvider.create!({ ...inputs, path: other })).resolves.toMatchObject({ id: other });
  });

  it("rejects a bad mode before writing", async () => {
    const check = await fileProvider.check!({}, { ...inputs, mode: "rw" });
    expect(check.failures?.[0]).toMatchObject({ property: "mode" });
  });
});
