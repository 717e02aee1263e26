/**
 * Local evaluator for ESC environment definitions (imports, interpolation, built-in functions,
 * secrecy), computing what Pulumi ESC computes for the same definition.
 *
 * CONTRACT (implementation pending): keep these exported names and shapes.
 */
import type { EnvironmentDiagnostic } from "../sources/source.js";
import type { Properties } from "../values.js";

/** A definition to evaluate: its name (as imports refer to it) and its YAML text. */
export interface Definition {
  /** `project/name`, or a bare `name` in a folder of conformance cases. */
  name: string;
  yaml: string;
}

/**
 * Finds the definition an `imports:` entry refers to, from the importing environment's name.
 * Returns undefined when no such environment exists.
 */
export type DefinitionLoader = (ref: string, importer: string) => Definition | undefined;

/** The result of evaluating one environment. */
export interface EvaluationResult {
  /** The evaluated `values`, each node flagged secret/unknown as ESC flags it. */
  properties: Properties;
  /** Errors as ESC reports them; an environment with any is never synced. */
  diagnostics: EnvironmentDiagnostic[];
}

/** Evaluates one definition, resolving its imports through `load`. */
export function evaluate(definition: Definition, load: DefinitionLoader): EvaluationResult {
  void definition;
  void load;
  throw new Error("esc-eval: not implemented yet");
}
