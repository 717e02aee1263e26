/** `migrate adopt` for `file` targets: what the file at the pair's path holds now, by entry name. */
import { SecretValue } from "../secret-value.js";
import type { ProgramInput } from "../contract.js";
import { DOC, fileEntries } from "./render.js";
import type { FileSettings } from "./schema.js";

export async function fileFindExisting(input: ProgramInput<FileSettings>): Promise<Map<string, SecretValue>> {
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
}
