/** Diagnostics as the evaluator collects them, before they become the public contract's shape. */
import type { EnvironmentDiagnostic } from "../values.js";

/** One problem: ESC reports errors (the environment is unusable) and warnings (it is not). */
export interface Diag extends EnvironmentDiagnostic {
  severity: "error" | "warning";
}

/** The message for constructs that only Pulumi Cloud can evaluate. */
export function unsupportedMessage(construct: string, why: string): string {
  return `${construct} cannot be evaluated locally (${why}); use the pulumi-cloud source for this environment`;
}
