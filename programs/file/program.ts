/**
 * The Pulumi program of a `file` pair: one dynamic-provider resource holding the rendered file.
 * Adopting (`migrate adopt`) takes the file over as it is (Pulumi's import option needs a provider
 * that can read without state, which a dynamic provider cannot); the next sync writes ESC's values.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PulumiFn } from "@pulumi/pulumi/automation/index.js";
import type { ProgramInput } from "../contract.js";
import { fileProvider, type FileInputs } from "./provider.js";
import { renderFile } from "./render.js";
import type { FileSettings } from "./schema.js";

class FileResource extends pulumi.dynamic.Resource {
  constructor(name: string, args: { [K in keyof FileInputs]: pulumi.Input<FileInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
    super(fileProvider, name, { ...args }, opts, "esc-sync", "File");
  }
}

export function fileProgram(input: ProgramInput<FileSettings>): PulumiFn {
  return async () => {
    const content = renderFile(input.shape, input.entries);
    const file = new FileResource(
      "file",
      {
        path: input.settings.path,
        content: pulumi.secret(content),
        mode: input.settings.mode,
        ...(input.shape === "json" && input.entries[0] ? { docName: input.entries[0].name } : {}),
        ...(input.adopt?.size ? { adopt: true } : {}),
      },
      { retainOnDelete: input.retainOnDelete, additionalSecretOutputs: ["content"] },
    );
    return { path: file.id };
  };
}
