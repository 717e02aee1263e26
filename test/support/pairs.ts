/** Planned pairs for tests that need no planner: a `file` pair of environment `o/app/<name>`. */
import type { Pair } from "../../orchestrator/planner/plan.js";
import { SecretValue } from "../../programs/secret-value.js";

export interface FilePairOptions extends Partial<Pair> {
  /** Entry names (and keys). Default: A, B. */
  entryNames?: string[];
  /** Each entry's value. Default: `value-<name>`. */
  valueFor?: (entry: string) => string;
  /** Whether the entries are secret. Default: true. */
  secret?: boolean;
}

export function filePair(name: string, opts: FilePairOptions = {}): Pair {
  const { entryNames = ["A", "B"], valueFor = (n) => `value-${n}`, secret = true, ...rest } = opts;
  return {
    stack: `app.${name}.out`,
    env: { org: "o", project: "app", name },
    targetId: "out",
    kind: "file",
    bindingId: "out",
    shape: "keys",
    settings: { path: `/out/${name}.env` },
    location: `/out/${name}.env`,
    entries: entryNames.map((n) => ({ name: n, key: n, value: new SecretValue(valueFor(n)), secret })),
    retainOnDelete: false,
    fingerprint: `fp-${name}`,
    ...rest,
  };
}
