/**
 * `file`: one file per pair on the local filesystem (JSON for the `json` shape, dotenv for
 * `keys`), written atomically with mode 0600. It needs no provider plugin, so the whole pipeline
 * runs on any machine; it is also a real target for hosts that read their configuration from disk.
 */
import type { TargetKind } from "../contract.js";
import { lazyProgram } from "../shared/lazy.js";
import { fileFindExisting } from "./adopt.js";
import { checkEntries, normalizeName } from "./naming.js";
import { fileCheckInPlace } from "./in-place.js";
import { checkFilePath } from "./path-check.js";
import { readBack as fileReadBack } from "./readback.js";
import { fileSettings, type FileSettings } from "./schema.js";

export const fileTarget: TargetKind<FileSettings> = {
  kind: "file",
  description: "A file on the local filesystem: JSON (json shape) or dotenv (keys shape), mode 0600, written atomically.",
  settingsSchema: fileSettings,
  templatedSettings: ["path"],
  pathSettings: ["path"],
  defaultName: { json: "{project}/{env}", keys: "{key}" },
  plugins: [],
  normalizeName: (name) => normalizeName(name),
  check: (entries, settings, shape) => [...checkFilePath(settings.path), ...checkEntries(entries, shape)],
  location: (settings) => settings.path,
  // The keys of one file are one document: two pairs may not share the file.
  places: (settings) => [settings.path],
  program: lazyProgram(async () => (await import("./program.js")).fileProgram),
  readBack: (resources, shape) => fileReadBack(resources, shape),
  checkInPlace: (input) => fileCheckInPlace(input),
  findExisting: (input) => fileFindExisting(input),
};
