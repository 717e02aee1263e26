/** Shared helpers for the evaluator tests: evaluate inline YAML with inline imports. */
import { toRedacted } from "../../../support/value-nodes.js";
import { evaluate, type EvaluationResult } from "../../../../orchestrator/esc-eval/index.js";
import { toPlain, type Plain } from "../../../../orchestrator/values.js";

/** Evaluates `yaml` as environment `proj/root`; `others` maps import names to their YAML. */
export function run(yaml: string, others: Record<string, string> = {}): EvaluationResult & { plain: Plain; redacted: Plain } {
  const result = evaluate({ name: "proj/root", yaml }, (ref) => (ref in others ? { name: ref, yaml: others[ref]! } : undefined));
  return { ...result, plain: toPlain({ value: result.properties }), redacted: toRedacted({ value: result.properties }) };
}

/** The paths of the error diagnostics. */
export const errorPaths = (r: EvaluationResult): string[] => r.diagnostics.map((d) => d.path ?? "");
