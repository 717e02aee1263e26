/** Which reporter a command's output gets: JSON on request, a live table on a terminal, plain lines otherwise. */
import type { Redactor } from "../redact.js";
import { jsonReporter, liveReporter, plainReporter, redacting, type Reporter } from "./run.js";

/** `signal`: the run's interruption, before whose message a live table is erased (else it is drawn twice). */
export function chooseReporter(output: "text" | "json", redactor: Redactor, stream: NodeJS.WriteStream = process.stdout, signal?: AbortSignal): Reporter {
  if (output === "json") return redacting(jsonReporter((t) => stream.write(t)), redactor);
  // A terminal that cannot show the table (no TTY, CI, a dumb or zero-sized terminal) gets lines.
  const table = stream.isTTY && !process.env.CI && process.env.TERM !== "dumb" && (stream.columns ?? 0) > 0 && (stream.rows ?? 0) > 0;
  return redacting(table ? liveReporter(stream, signal) : plainReporter((line) => stream.write(line + "\n")), redactor);
}
