/**
 * Renders a run plan: a table for people, JSON for machines (the same object `sync --dry-run
 * --output json` embeds). Names, fingerprints and decisions only, never a value.
 */
import { runPlanToJson, type Decision, type RunPlan } from "../planner/decide.js";
import { revisionLabel } from "../planner/plan.js";
import { outputWidth, renderTable } from "./table.js";

/** One short phrase per decision, for the DECISION column. */
export function decisionText(d: Decision): string {
  switch (d.action) {
    case "run":
      return { new: "run: new", "input-changed": "run: input changed", forced: "run: forced", refresh: "run: refresh", "pending-operations": "run: recover pending operations", "adopted-entries": "run: write over adopted entries", "changed-in-place": "run: target changed", inspect: "inspect" }[d.why] + (d.deletes.length ? `, delete ${d.deletes.length}` : "");
    case "skip-unchanged":
      return "unchanged";
    case "skip":
      return "skip";
    case "hold":
      return `held: ${d.of === "move" ? "move deletes" : "deletes"} ${d.deletes.length}`;
    case "adopt":
      return `adopt ${d.names.length}`;
    case "move":
      return `move${d.deletes.length ? `, delete ${d.deletes.length} at the old location` : ""}`;
    case "destroy-orphan":
      return `destroy orphan (${d.entries.length} entries)`;
    case "report":
      return d.why === "orphan" ? "orphan: would be removed" : "never synced";
    case "refuse":
      return "refused";
  }
}

/** The run plan as text; `width` (a terminal's) narrows the table's environment, location and entries columns. */
export function runPlanToText(plan: RunPlan, width?: number): string {
  const json = runPlanToJson(plan);
  if (json.steps.length === 0) return [`No pairs: ${plan.emptyReason ?? "no binding selects any environment"}.`, ...plan.warnings.map((w) => `warning: ${w}`)].join("\n");
  const rows = json.steps.map((s) => [s.stack, s.revision?.pinned ? `${s.environment} at ${revisionLabel(s.revision)}` : s.environment, `${s.target} (${s.kind})`, s.location, s.entries.map((e) => e.name).join(", ") || "(none)", decisionText(s.decision)]);
  const lines = [renderTable(["STACK", "ENVIRONMENT", "TARGET", "LOCATION", "ENTRIES", "DECISION"], rows, { width, shrink: [1, 3, 4] })];
  const explained = plan.steps.filter((s) => ["refuse", "hold", "move", "skip"].includes(s.decision.action) || (s.decision.action === "run" && s.decision.note));
  if (explained.length) {
    lines.push("");
    for (const s of explained) {
      const d = s.decision;
      if (d.action === "refuse") lines.push(`${s.stack}: refused: ${d.message}`, `  hint: ${d.hint}`);
      else if (d.action === "hold") lines.push(`${s.stack}: held: ${d.message}`, `  hint: ${d.hint}`);
      else if (d.action === "move") lines.push(`${s.stack}: moves from ${d.from} to ${d.to}${d.deletes.length ? `, deleting ${d.deletes.join(", ")} there` : ""}${d.note ? ` (${d.note})` : ""}`);
      else if (d.action === "skip") lines.push(`${s.stack}: skipped: ${d.why}`);
      else if (d.action === "run" && d.note) lines.push(`${s.stack}: ${decisionText(d)}: ${d.note}`);
    }
  }
  // Where each pair's provider settings and credentials come from (providerConfigFrom: environment):
  // source names only, never a value.
  const configured = json.steps.filter((s) => s.provider !== undefined);
  if (configured.length) {
    lines.push("");
    for (const s of configured) {
      const p = s.provider!;
      const settings = Object.entries(p.settings).map(([k, from]) => `${k} from ${from}`);
      lines.push(`${s.stack}: provider: ${[...settings, `credentials from ${p.credentials.join(", ")}`].join("; ")}`);
    }
  }
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  return lines.join("\n");
}

export { runPlanToJson, outputWidth };
