/**
 * Renders a plan: a table for people, JSON for machines. Names and fingerprints only, never a
 * value.
 */
import { formatProblem } from "../errors.js";
import type { Plan } from "../planner/plan.js";
import { envFullName } from "../sources/source.js";
import { renderTable } from "./table.js";

/** The documented JSON form of a plan. */
export function planToJson(plan: Plan) {
  return {
    pairs: plan.pairs.map((p) => ({
      stack: p.stack,
      environment: envFullName(p.env),
      target: p.targetId,
      kind: p.kind,
      binding: p.bindingId,
      shape: p.shape,
      location: p.location,
      entries: p.entries.map((e) => ({ name: e.name, ...(e.key !== undefined ? { key: e.key } : {}), secret: e.secret, bytes: e.value.byteLength })),
      fingerprint: p.fingerprint,
      ...(p.blocked ? { blocked: blockedMessage(p.blocked) } : {}),
    })),
    warnings: plan.warnings,
  };
}

function blockedMessage(b: NonNullable<Plan["pairs"][number]["blocked"]>): string {
  return b.kind === "invalid-entries" ? b.problems.map(formatProblem).join("; ") : b.message;
}

export function planToText(plan: Plan): string {
  if (plan.pairs.length === 0) return "No pairs: no binding selects any environment.";
  const rows = plan.pairs.map((p) => [
    p.stack,
    envFullName(p.env),
    `${p.targetId} (${p.kind})`,
    p.location,
    p.blocked ? "BLOCKED" : p.entries.map((e) => e.name).join(", ") || "(none)",
    p.fingerprint,
  ]);
  const lines = [renderTable(["STACK", "ENVIRONMENT", "TARGET", "LOCATION", "ENTRIES", "FINGERPRINT"], rows)];
  const blocked = plan.pairs.filter((p) => p.blocked);
  if (blocked.length) {
    lines.push("", `${blocked.length} pair(s) cannot run:`);
    for (const p of blocked) lines.push(`  ${p.stack}: ${blockedMessage(p.blocked!)}`);
  }
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  return lines.join("\n");
}
