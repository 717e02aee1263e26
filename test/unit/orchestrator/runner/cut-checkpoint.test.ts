/**
 * What a full disk leaves in a `file://` backend (seen under serve on a full tmpfs, Pulumi
 * v3.274.1): a state file cut short beside its whole `.json.bak`, and an empty lock temp file.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { removeCutLocks, restoreCutCheckpoint } from "../../../../orchestrator/runner/cut-checkpoint.js";

const whole = JSON.stringify({ version: 3, checkpoint: { stack: "organization/esc-sync/s", latest: { resources: [] } } });
let dir = "";
const url = () => pathToFileURL(dir).href;
const stacks = () => join(dir, ".pulumi", "stacks", "esc-sync");
const locks = () => join(dir, ".pulumi", "locks", "organization", "esc-sync", "s");

function backend(state: string, backup?: string): void {
  dir = mkdtempSync(join(tmpdir(), "esc-sync-cut-"));
  mkdirSync(stacks(), { recursive: true });
  writeFileSync(join(stacks(), "s.json"), state);
  writeFileSync(join(stacks(), "s.json.attrs"), '{"md5":"cut"}');
  if (backup !== undefined) {
    writeFileSync(join(stacks(), "s.json.bak"), backup);
    writeFileSync(join(stacks(), "s.json.bak.attrs"), '{"md5":"whole"}');
  }
}
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("restoreCutCheckpoint", () => {
  it("puts back the backup of this operation over a state file cut short, with its attributes", async () => {
    backend(whole.slice(0, 40), whole);
    expect(await restoreCutCheckpoint(url(), "s", Date.now() - 5000)).toBe(true);
    expect(readFileSync(join(stacks(), "s.json"), "utf8")).toBe(whole);
    expect(readFileSync(join(stacks(), "s.json.attrs"), "utf8")).toBe('{"md5":"whole"}');
    expect(existsSync(join(stacks(), "s.json.bak"))).toBe(false);
  });
  it("leaves a state file that parses, a backup older than the operation, a backup cut short too, and other backends", async () => {
    backend(whole, whole.replace("latest", "older"));
    expect(await restoreCutCheckpoint(url(), "s", Date.now() - 5000)).toBe(false);
    expect(readFileSync(join(stacks(), "s.json"), "utf8")).toBe(whole);
    rmSync(dir, { recursive: true });

    backend(whole.slice(0, 40), whole);
    utimesSync(join(stacks(), "s.json.bak"), new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000));
    expect(await restoreCutCheckpoint(url(), "s", Date.now() - 5000)).toBe(false);
    rmSync(dir, { recursive: true });

    backend(whole.slice(0, 40), whole.slice(0, 60));
    expect(await restoreCutCheckpoint(url(), "s", Date.now() - 5000)).toBe(false);
    expect(readFileSync(join(stacks(), "s.json"), "utf8")).toBe(whole.slice(0, 40));
    expect(await restoreCutCheckpoint("s3://bucket", "s", 0)).toBe(false);
  });
});

describe("removeCutLocks", () => {
  it("removes an empty lock temp file and a lock that does not parse, and keeps a whole lock", async () => {
    backend(whole);
    mkdirSync(locks(), { recursive: true });
    writeFileSync(join(locks(), "a4dc2d7b-f2fd-4c95-bdc6-4926dd76ed45.json.18ee2a9c0eede32f.tmp"), "");
    writeFileSync(join(locks(), "0b8c.json"), '{"pid":12');
    writeFileSync(join(locks(), "0b8c.json.attrs"), "{}");
    const live = JSON.stringify({ pid: 42, username: "u", hostname: "h", timestamp: new Date().toISOString() });
    writeFileSync(join(locks(), "live.json"), live);
    expect(await removeCutLocks(url(), "s")).toBe(2);
    expect(readFileSync(join(locks(), "live.json"), "utf8")).toBe(live);
    expect(existsSync(join(locks(), "0b8c.json.attrs"))).toBe(false);
    expect(await removeCutLocks(url(), "none")).toBe(0);
  });
});
