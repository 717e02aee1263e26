/** The manifest's JSON Schema, generated from the zod schema so the two never disagree. */
import { z } from "zod";
import { manifestSchema } from "./schema.js";

export function manifestJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(manifestSchema, { io: "input", unrepresentable: "any" }),
    $id: "https://esc-sync.dev/schema/environments.json",
    title: "esc-sync manifest (environments.yaml)",
  };
}
