/**
 * Reads a `file` pair back from its refreshed state, for `esc-sync drift`. The program writes one
 * dynamic-provider resource per pair: its `content` input is the text esc-sync wrote; its outputs
 * hold what a refresh found on disk (`content`, `mode`, and `present: false` once the file is gone).
 */
import type { EntryReadback, Shape, StateResource } from "../contract.js";
import { DOC, fileEntries } from "./render.js";

/** The resource type of a file in state. */
export const FILE_TYPE = "pulumi-nodejs:dynamic/esc-sync:File";

export function readBack(resources: readonly StateResource[], shape: Shape): EntryReadback {
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
