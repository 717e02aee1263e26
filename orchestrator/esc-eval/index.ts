/**
 * Local evaluator for ESC environment definitions (imports, interpolation, built-in functions,
 * secrecy), computing what Pulumi ESC computes for the same definition.
 *
 * Constructs that need Pulumi Cloud (`fn::open`, `fn::rotate`, `fn::secret` with `ciphertext`,
 * `fn::validate`, `context.pulumi`) evaluate to unknown values with an error diagnostic that says
 * to use the `pulumi-cloud` source instead.
 */
import type { EnvironmentDiagnostic, Properties, Provenance } from "../values.js";
import { evaluateRoot, Run, type EnvDiag } from "./evaluate.js";
import { joinIndex, joinKey } from "./syntax.js";
import { exportObject, type Val } from "./value.js";

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

/** A problem found while evaluating, and in which definition (ESC's `range.environment`). */
export interface EvaluationDiagnostic extends EnvironmentDiagnostic {
  /**
   * The name of the definition the problem is in: the evaluated one, or an import (then `path`,
   * `line` and `column` are positions in that import). Always set by this evaluator.
   */
  environment?: string;
}

/** The result of evaluating one environment. */
export interface EvaluationResult {
  /** The evaluated `values`, each node flagged secret/unknown as ESC flags it. */
  properties: Properties;
  /** Errors as ESC reports them; an environment with any is never synced. */
  diagnostics: EvaluationDiagnostic[];
  /**
   * What ESC reports as warnings (duplicate or unknown top-level fields, an attempt to override a
   * `fn::final` value): worth showing, but the environment is still usable.
   */
  warnings?: EvaluationDiagnostic[];
  /**
   * The plaintext of every secret the evaluation met, those of failed expressions included: for
   * the redaction layer only, never for output.
   */
  secrets: string[];
  /**
   * Where each value comes from, by property path: the declaration that defines it and every
   * declaration it derives from (environment names as imports name them, `project/name`).
   */
  provenance?: Provenance;
}

/**
 * Evaluates one definition, resolving its imports through `load`.
 *
 * Each diagnostic's `path` is a path in the definition it was found in (`values.db.password`,
 * `imports[0]`); a problem found in an imported definition says so at the start of its summary.
 * An empty definition, or one whose YAML cannot be read, has no properties.
 */
export function evaluate(definition: Definition, load: DefinitionLoader): EvaluationResult {
  const run = new Run(definition.name, load);
  const root = evaluateRoot(run, definition.yaml);
  const properties: Properties = root?.repr instanceof Map ? exportObject(root.repr) : {};
  const toPublic = (d: EnvDiag): EvaluationDiagnostic => ({
    environment: d.environment,
    ...(d.path !== undefined ? { path: d.path } : {}),
    summary: d.environment === definition.name ? d.summary : `in imported environment "${d.environment}": ${d.summary}`,
    ...(d.line !== undefined ? { line: d.line } : {}),
    ...(d.column !== undefined ? { column: d.column } : {}),
  });
  return {
    properties,
    diagnostics: run.diags.filter((d) => d.severity === "error").map(toPublic),
    warnings: run.diags.filter((d) => d.severity === "warning").map(toPublic),
    secrets: [...run.secretTexts],
    provenance: root?.repr instanceof Map ? provenanceOf(root.repr) : {},
  };
}

/** Walks the evaluated values, recording each node's origin and dependencies by its path. */
function provenanceOf(members: Map<string, Val>): Provenance {
  const out: Provenance = {};
  const walk = (v: Val, path: string) => {
    out[path] = {
      ...(v.origin ? { definedIn: { environment: v.origin.environment, path: v.origin.path } } : {}),
      derivedFrom: [...(v.deps ?? [])].sort(),
    };
    if (Array.isArray(v.repr)) v.repr.forEach((c, i) => walk(c, joinIndex(path, i)));
    else if (v.repr instanceof Map) for (const [k, c] of v.repr) walk(c, joinKey(path, k));
  };
  for (const [k, v] of members) walk(v, joinKey("", k));
  return out;
}
