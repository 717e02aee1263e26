/**
 * The e2e tests' sandbox states (test/support/states.ts): what makes each e2e test independent of
 * the others, so it must restore exactly, build lazily and once, and fail clearly.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sandboxState, type Folder } from "../../support/states.js";

/** A bare folder: what the states need of a sandbox, without the Pulumi toolchain. */
class Dir implements Folder {
  readonly dir = mkdtempSync(join(tmpdir(), "esc-sync-states-"));
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const files = (d: string) => readdirSync(d, { recursive: true, encoding: "utf8" }).sort();

describe("sandbox states", () => {
  const builds: string[] = [];
  const root = sandboxState(
    "root",
    (box: Dir) => {
      builds.push("root");
      writeFileSync(join(box.dir, "a.txt"), "root");
      return 1;
    },
    () => new Dir(),
  );
  const child = root.next("child", (box, from) => {
    builds.push("child");
    mkdirSync(join(box.dir, "sub"));
    writeFileSync(join(box.dir, "sub", "b.txt"), "child");
    writeFileSync(join(box.dir, "a.txt"), "changed by child");
    return from + 1;
  });
  const broken = root.next("broken", () => {
    builds.push("broken");
    throw new Error("no such thing");
  });
  afterAll(() => root.cleanup());

  it("builds a state and the states before it on first use, each once", async () => {
    expect((await child.enter()).value).toBe(2);
    expect((await root.enter()).value).toBe(1);
    expect((await child.enter()).value).toBe(2);
    expect(builds).toEqual(["root", "child"]);
  });

  it("restores a state exactly, whatever a test did to the folder, in the same folder", async () => {
    const { box } = await child.enter();
    writeFileSync(join(box.dir, "a.txt"), "edited by a test");
    writeFileSync(join(box.dir, "stray.txt"), "left by a test");
    rmSync(join(box.dir, "sub"), { recursive: true });

    const again = await root.enter();
    expect(again.box.dir).toBe(box.dir);
    expect(files(box.dir)).toEqual(["a.txt"]);
    expect(readFileSync(join(box.dir, "a.txt"), "utf8")).toBe("root");

    await child.enter();
    expect(files(box.dir)).toEqual(["a.txt", "sub", join("sub", "b.txt")]);
    expect(readFileSync(join(box.dir, "a.txt"), "utf8")).toBe("changed by child");
  });

  it("fails every test that needs a state that could not be built, with its cause, building it once", async () => {
    await expect(broken.enter()).rejects.toThrow('the sandbox state "broken" could not be built: no such thing');
    await expect(broken.enter()).rejects.toThrow(/no such thing/);
    expect(builds.filter((b) => b === "broken")).toEqual(["broken"]);
    expect((await root.enter()).value).toBe(1); // the others are not affected
  });

  it("removes the folder and every saved state on cleanup", async () => {
    const extra = sandboxState("extra", (box: Dir) => writeFileSync(join(box.dir, "x"), "x"), () => new Dir());
    const { box } = await extra.enter();
    expect(readdirSync(`${box.dir}.states`)).toHaveLength(1);
    extra.cleanup();
    expect(existsSync(box.dir)).toBe(false);
    expect(existsSync(`${box.dir}.states`)).toBe(false);
  });
});
