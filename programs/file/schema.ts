/** Settings of a `file` target. */
import { z } from "zod";

/** An octal file mode, with or without its leading 0: `0600`, `640`. */
export const FILE_MODE = /^0?[0-7]{3}$/;

export const fileSettings = z
  .object({
    path: z
      .string()
      .min(1)
      .describe("Where the file goes; a template ({org}, {project}, {env}, {target}); relative to the manifest's folder."),
    mode: z
      .string()
      .regex(FILE_MODE, "mode must be octal, such as 0600")
      .default("0600")
      .describe("File mode, octal. Default 0600: only the owner can read it."),
  })
  .strict();

export type FileSettings = z.infer<typeof fileSettings>;
