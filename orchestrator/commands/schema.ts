/** `esc-sync schema`: the manifest's JSON Schema, for editors (yaml-language-server). */
import { manifestJsonSchema } from "../manifest/json-schema.js";

export function schemaCommand(): number {
  process.stdout.write(JSON.stringify(manifestJsonSchema(), null, 2) + "\n");
  return 0;
}
