/** `esc-sync plan`: the pairs and the entries each writes. Calls no Pulumi. */
import { prepare, type CommonOptions } from "../app.js";
import { planToJson, planToText } from "../reporters/plan.js";

export async function planCommand(opts: CommonOptions & { output: "text" | "json" }): Promise<number> {
  const prepared = await prepare(opts);
  const { plan, redactor } = prepared;
  const text = opts.output === "json" ? JSON.stringify(planToJson(plan), null, 2) : planToText(plan);
  process.stdout.write(redactor.text(text) + "\n");
  return plan.pairs.some((p) => p.blocked && p.blocked.kind !== "no-value") ? 1 : 0;
}
