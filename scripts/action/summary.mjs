// Renders the JSON report of `esc-sync sync|plan --output json` as Markdown for a GitHub step
// summary (drift has its own: `esc-sync drift merge REPORT --output markdown`). Names, statuses
// and messages only: the report carries no value.
import { readFileSync } from "node:fs";

const report = JSON.parse(readFileSync(process.argv[2], "utf8"));
const cell = (s) => String(s ?? "").replaceAll("|", "\\|").replaceAll("\n", " ");
const lines = [];
if (Array.isArray(report.steps)) {
  // plan: one step per pair, each with its decision.
  lines.push("| stack | environment | target | location | decision |", "| --- | --- | --- | --- | --- |");
  for (const s of report.steps) {
    const d = s.decision ?? {};
    const why = d.message ?? d.why ?? d.note ?? "";
    lines.push(`| ${cell(s.stack)} | ${cell(s.environment)} | ${cell(s.target)} | ${cell(s.location)} | ${cell(d.action)}${why ? `: ${cell(why)}` : ""} |`);
  }
  lines.push("", `${report.steps.length} pair(s) planned.`);
} else {
  lines.push("| stack | environment | target | status | message |", "| --- | --- | --- | --- | --- |");
  for (const p of report.pairs ?? []) lines.push(`| ${cell(p.stack)} | ${cell(p.environment)} | ${cell(p.target)} | ${cell(p.status)} | ${cell(p.message)} |`);
  const s = report.summary ?? {};
  const by = Object.entries(s.byStatus ?? {}).map(([k, v]) => `${v} ${k}`).join(", ");
  lines.push("", `${s.pairs ?? 0} pair(s)${by ? `: ${by}` : ""}; ${s.failed ?? 0} failed; exit ${s.exitCode ?? "?"}.`);
}
for (const w of report.warnings ?? []) lines.push("", `> warning: ${cell(w)}`);
process.stdout.write(lines.join("\n") + "\n");
