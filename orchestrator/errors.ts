/**
 * The user's-input error, which the CLI turns into exit code 1 in one place. A pair's failure is
 * not an exception: the runner reports it as a `pair-done` event with its message and hint. Any
 * other error reaching the CLI is a bug, reported as an internal error. No message ever holds a
 * secret value or a token.
 */

/** One problem in the user's input, with where it is. */
export interface Problem {
  /** Where: a file path, optionally with `:line:column`. */
  file?: string;
  line?: number;
  column?: number;
  /** Path inside the document, e.g. `targets.app.path` or `bindings[1].target`. */
  path?: string;
  message: string;
}

/** Renders a problem as `file:line:col: path: message`. */
export function formatProblem(p: Problem): string {
  const where = p.file ? `${p.file}${p.line ? `:${p.line}${p.column ? `:${p.column}` : ""}` : ""}: ` : "";
  return `${where}${p.path ? `${p.path}: ` : ""}${p.message}`;
}

/**
 * An error for the user to fix: the CLI prints its message and hint (no stack trace) and exits
 * with its code. Anything else reaching the CLI is a bug, reported as an internal error.
 */
export class UserError extends Error {
  override readonly name: string = "UserError";
  constructor(
    message: string,
    /** What to do about it. */
    readonly hint?: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * The user's input is wrong (manifest, flags, environment values). Raised before any Pulumi
 * call; exit code 1.
 */
export class ConfigError extends UserError {
  override readonly name = "ConfigError";
  constructor(
    readonly summary: string,
    readonly problems: Problem[] = [],
    hint?: string,
  ) {
    super(problems.length ? `${summary}\n${problems.map((p) => `  - ${formatProblem(p)}`).join("\n")}` : summary, hint);
  }
}
