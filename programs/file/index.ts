/**
 * The `file` target: one file per pair on the local filesystem (JSON for the `json` shape,
 * dotenv for `keys`), written atomically with mode 0600. It needs no provider plugin, so the
 * whole pipeline runs on any machine; it is also a real target for hosts that read their
 * configuration from disk.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { SecretValue } from "../secret-value.js";
import type { EntryProblem, EntryReadback, PlannedEntry, Shape, StateResource, TargetKind } from "../contract.js";
import { fileProvider, type FileInputs } from "./provider.js";
import { fileEntries, renderFile } from "./render.js";

export const fileSettings = z
  .object({
    path: z
      .string()
      .min(1)
      .describe("Where the file goes; a template ({org}, {project}, {env}, {target}); relative to the manifest's folder."),
    mode: z
      .string()
      .regex(/^0?[0-7]{3}$/, "mode must be octal, such as 0600")
      .default("0600")
      .describe("File mode, octal. Default 0600: only the owner can read it."),
  })
  .strict();

export type FileSettings = z.infer<typeof fileSettings>;

/** A dotenv variable name: what shells and dotenv readers accept. */
const DOTENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The resource type of a file in state. */
const FILE_TYPE = "pulumi-nodejs:dynamic/esc-sync:File";

/** The json shape's single entry has no name in the file: the doc is the file. */
const DOC = "(document)";

function readBack(resources: readonly StateResource[], shape: Shape): EntryReadback {
  const file = resources.find((r) => r.type === FILE_TYPE);
  const applied = new Map<string, string>();
  const actual = new Map<string, string>();
  if (!file) return { applied, actual };
  const docName = typeof file.inputs.docName === "string" ? file.inputs.docName : DOC;
  const entriesOf = (text: unknown) => (typeof text === "string" ? fileEntries(shape, text, docName) : new Map<string, string>());
  const present = file.outputs?.present !== false && typeof file.outputs?.content === "string";
  // An adopted file not yet synced: what was "written" is what was there when it was adopted.
  const adopted = file.outputs?.adopt === true && present;
  return {
    applied: entriesOf(adopted ? file.outputs!.content : file.inputs.content),
    actual: present ? entriesOf(file.outputs!.content) : actual,
  };
}

class FileResource extends pulumi.dynamic.Resource {
  constructor(name: string, args: { [K in keyof FileInputs]: pulumi.Input<FileInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
    super(fileProvider, name, { ...args }, opts, "esc-sync", "File");
  }
}

function check(entries: readonly PlannedEntry[], _settings: FileSettings, shape: Shape): EntryProblem[] {
  if (shape === "json") return [];
  const problems: EntryProblem[] = [];
  for (const entry of entries) {
    if (!DOTENV_NAME.test(entry.name)) {
      problems.push({
        name: entry.name,
        message: `"${entry.name}" is not a dotenv variable name: it must start with a letter or _ and contain only letters, digits and _`,
      });
    }
  }
  return problems;
}

export const fileTarget: TargetKind<FileSettings> = {
  kind: "file",
  description: "A file on the local filesystem: JSON (json shape) or dotenv (keys shape), mode 0600, written atomically.",
  settingsSchema: fileSettings,
  templatedSettings: ["path"],
  pathSettings: ["path"],
  defaultName: { json: "{project}/{env}", keys: "{key}" },
  plugins: [],
  normalizeName: (name) => name,
  check,
  location: (settings) => settings.path,
  // The keys of one file are one document: two pairs may not share the file.
  places: (settings) => [settings.path],
  program: (input) => async () => {
    const content = renderFile(input.shape, input.entries);
    const file = new FileResource(
      "file",
      {
        path: input.settings.path,
        content: pulumi.secret(content),
        mode: input.settings.mode,
        ...(input.shape === "json" && input.entries[0] ? { docName: input.entries[0].name } : {}),
        // Adopting: the provider takes the file over as it is (Pulumi's import option needs a
        // provider that can read without state, which a dynamic provider cannot); the next sync
        // writes ESC's values.
        ...(input.adopt?.size ? { adopt: true } : {}),
      },
      { retainOnDelete: input.retainOnDelete, additionalSecretOutputs: ["content"] },
    );
    return { path: file.id };
  },
  readBack,
  findExisting: async (input) => {
    const { readFile } = await import("node:fs/promises");
    let content: string;
    try {
      content = await readFile(input.settings.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return new Map();
      throw err;
    }
    const found = fileEntries(input.shape, content, input.entries[0]?.name ?? DOC);
    // The file is one resource: adopting it takes over every planned entry it holds.
    return new Map([...found].map(([name, value]) => [name, new SecretValue(value)]));
  },
};
