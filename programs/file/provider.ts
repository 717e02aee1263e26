/**
 * The dynamic provider behind the `file` target: one file per pair, written atomically with
 * mode 0600.
 *
 * Pulumi serializes this object into the state and runs it in `pulumi-resource-pulumi-nodejs`,
 * so it must be self-contained: its methods load modules with `require` inside their bodies
 * (the closure serializer never captures `require`), reach shared code only through `this`, and
 * capture no orchestrator objects and no secrets (pulumi issues #18977, #5294, #8090, #13960).
 */
import type * as pulumi from "@pulumi/pulumi";

/** The inputs of one file resource. `content` is always a secret. */
export interface FileInputs {
  path: string;
  content: string;
  /** Octal mode as a string, e.g. "0600". */
  mode: string;
  /** The json shape's entry name, so that a drift report can name the document. */
  docName?: string;
  /** `migrate adopt`: take an existing file over as it is instead of refusing it. */
  adopt?: boolean;
}

/** What the provider stores: the inputs, plus `present` (false once a refresh finds no file). */
export interface FileOutputs extends FileInputs {
  present: boolean;
}

type Fs = typeof import("node:fs");
type Path = typeof import("node:path");
type Crypto = typeof import("node:crypto");

interface FileProvider extends pulumi.dynamic.ResourceProvider {
  /** Writes `content` to `path` through a temp file and a rename, so a reader never sees half. */
  writeAtomic(path: string, content: string, mode: string): void;
  /** {@link writeAtomic}, with a failure said in one line: what, where, why and the fix. */
  write(path: string, content: string, mode: string): void;
}

export const fileProvider: FileProvider = {
  write(path: string, content: string, mode: string): void {
    try {
      this.writeAtomic(path, content, mode);
    } catch (err: any) {
      const code: string | undefined = err?.code;
      const nodePath = require("node:path") as Path;
      const dir = nodePath.dirname(path);
      const why: Record<string, string> = {
        ENOTDIR: `a part of ${dir} is a file, not a folder: move that file away, or set the target's path elsewhere`,
        EROFS: `${dir} is on a read-only filesystem: set the target's path to a writable place`,
        EACCES: `permission denied in ${dir}: give the user running esc-sync write access there, or set the target's path elsewhere`,
        EPERM: `the operation is not permitted in ${dir}: set the target's path elsewhere`,
        ENOSPC: `no space left on the device holding ${dir}: free some space, then run again`,
        EDQUOT: `the disk quota holding ${dir} is exhausted: free some space, then run again`,
        EISDIR: `${path} is a folder: set the target's path to a file`,
      };
      // One line, no stack: the engine prints it as the pair's error.
      throw new Error(`cannot write ${path}: ${code && why[code] ? `${why[code]} (${code})` : String(err?.message ?? err).split("\n")[0]}`);
    }
  },

  writeAtomic(path: string, content: string, mode: string): void {
    const fs = require("node:fs") as Fs;
    const nodePath = require("node:path") as Path;
    const crypto = require("node:crypto") as Crypto;
    const dir = nodePath.dirname(path);
    fs.mkdirSync(dir, { recursive: true });
    const tmp = nodePath.join(dir, `.${nodePath.basename(path)}.${crypto.randomBytes(6).toString("hex")}.tmp`);
    const perms = parseInt(mode, 8);
    const fd = fs.openSync(tmp, "wx", perms);
    try {
      fs.writeSync(fd, content);
      fs.fchmodSync(fd, perms); // the umask may have narrowed or the file may pre-exist
      fs.fsyncSync(fd);
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      throw err;
    }
    fs.closeSync(fd);
    try {
      fs.renameSync(tmp, path);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err;
    }
  },

  async check(_olds: any, news: any) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    if (typeof news.path !== "string" || news.path === "") failures.push({ property: "path", reason: "path must be a non-empty string" });
    if (typeof news.mode !== "string" || !/^0?[0-7]{3}$/.test(news.mode)) failures.push({ property: "mode", reason: "mode must be octal, e.g. 0600" });
    return { inputs: news, failures };
  },

  // After a refresh, `olds` is what `read` found on disk: any byte of the file, its mode or its
  // absence differing from what the program writes is a change (the drift read-back reports
  // exactly these). Modes compare as numbers: "600" and "0600" are one mode.
  async diff(_id: string, olds: any, news: any) {
    const replaces: string[] = [];
    if (olds.path !== news.path) replaces.push("path");
    const changes =
      replaces.length > 0 ||
      olds.present === false ||
      olds.content !== news.content ||
      parseInt(String(olds.mode), 8) !== parseInt(String(news.mode), 8);
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async create(inputs: any) {
    const fs = require("node:fs") as Fs;
    // Never overwrite a file esc-sync did not write. The same content is no loss: that is a
    // create retried after an interrupted run, which must converge.
    let existing: string | undefined;
    try {
      existing = fs.readFileSync(inputs.path, "utf8");
    } catch (err: any) {
      if (!err || err.code !== "ENOENT") throw err;
    }
    if (existing !== undefined && inputs.adopt === true) {
      // Adoption: take the file over as it is, as a Pulumi import would. The next update writes
      // ESC's content, since the state then differs from the program.
      const mode = "0" + (fs.statSync(inputs.path).mode & 0o777).toString(8).padStart(3, "0");
      return { id: inputs.path, outs: { ...inputs, content: existing, mode, present: true } };
    }
    if (existing !== undefined && existing !== inputs.content) {
      throw new Error(
        `${inputs.path} already exists and was not written by esc-sync: adopt it with \`esc-sync migrate adopt\` (it is then overwritten with ESC's values), or move it away`,
      );
    }
    this.write(inputs.path, inputs.content, inputs.mode);
    return { id: inputs.path, outs: { ...inputs, present: true } };
  },

  async update(_id: string, _olds: any, news: any) {
    this.write(news.path, news.content, news.mode);
    return { outs: { ...news, present: true } };
  },

  async read(id: string, props: any) {
    const fs = require("node:fs") as Fs;
    // Read what is on disk, so that a refresh sees edits made outside esc-sync.
    let content: string;
    let mode: string;
    try {
      content = fs.readFileSync(id, "utf8");
      mode = "0" + (fs.statSync(id).mode & 0o777).toString(8).padStart(3, "0");
    } catch (err: any) {
      if (err && err.code === "ENOENT") {
        // Keep the resource in state, flagged absent: the next update writes it again and a
        // drift report can tell "missing" from "never created".
        return { id, props: { ...props, content: "", present: false } };
      }
      throw err;
    }
    return { id, props: { ...props, path: id, content, mode, present: true } };
  },

  async delete(id: string) {
    const fs = require("node:fs") as Fs;
    fs.rmSync(id, { force: true });
  },
};
