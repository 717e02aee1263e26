/**
 * The pure half of `migrate import`: key mapping, per-entry decisions, and the merge into a
 * definition, checked by evaluating the merged YAML with the real local ESC evaluator.
 */
import { describe, expect, it } from "vitest";
import type { StoreEntry } from "../../../../programs/contract.js";
import { evaluate } from "../../../../orchestrator/esc-eval/index.js";
import { keyMapping } from "../../../../orchestrator/migrate/mapping.js";
import { DefinitionError } from "../../../../orchestrator/migrate/merge.js";
import { planImport, type ImportOptions } from "../../../../orchestrator/migrate/plan.js";
import { toPlain, type Properties } from "../../../../orchestrator/values.js";
import { SecretValue } from "../../../../programs/secret-value.js";

const entry = (name: string, value: string): StoreEntry => ({ name, value: new SecretValue(value) });

function options(overrides: Partial<ImportOptions> = {}): ImportOptions {
  return { mapping: keyMapping({ prefix: "/prod/app/" }), path: ["environmentVariables"], jsonAs: "string", overwrite: false, maxBytes: 65536, ...overrides };
}

function evaluated(yaml: string): Properties {
  const result = evaluate({ name: "p/e", yaml }, () => undefined);
  expect(result.diagnostics).toEqual([]);
  return result.properties;
}

describe("key mapping", () => {
  it("strips the prefix and leading slashes; --strip-prefix overrides; '' keeps names whole", () => {
    expect(keyMapping({ prefix: "/prod/app" }).keyOf("/prod/app/DB")).toBe("DB");
    expect(keyMapping({ prefix: "prod/app/" }).keyOf("prod/app/nested/KEY")).toBe("nested/KEY");
    expect(keyMapping({ prefix: "/prod/", stripPrefix: "/prod/app/" }).keyOf("/prod/app/DB")).toBe("DB");
    expect(keyMapping({ prefix: "/prod/", stripPrefix: "" }).keyOf("/prod/app/DB")).toBe("prod/app/DB");
    expect(keyMapping({ prefix: "/prod/app/" }).keyOf("/prod/app/")).toBeUndefined();
  });

  it("passes the prefix to the reader and the globs as a name test", () => {
    const m = keyMapping({ prefix: "/prod/", filter: ["/prod/app/*", "/prod/**/TOKEN"] });
    expect(m.readFilter.prefix).toBe("/prod/");
    const include = m.readFilter.include!;
    expect(include("/prod/app/DB")).toBe(true);
    expect(include("/prod/app/deep/DB")).toBe(false);
    expect(include("/prod/x/y/TOKEN")).toBe(true);
    expect(keyMapping({}).readFilter).toEqual({});
  });
});

describe("planImport", () => {
  it("adds new keys as fn::secret, keeps other keys and comments, and round-trips awkward text", () => {
    const awkward = [
      "pa$$w${ord}",
      "$",
      "line1\nline2\n",
      "  leading and trailing  ",
      "# not a comment",
      "key: value",
      "- item",
      "true",
      "0123",
      "null",
      "",
      "tab\there",
      "quote ' and \" both",
      "unicode é ✓ 🎉",
      "{not: json}",
    ];
    const entries = awkward.map((v, i) => entry(`/prod/app/K${i}`, v));
    const yaml = "# top comment\nimports: []\nvalues:\n  other: 1 # keep me\n  environmentVariables:\n    EXISTING: x\n";
    const plan = planImport(entries, { yaml, properties: evaluated(yaml) }, options());
    expect(plan.items.every((i) => i.status === "imported" && i.action === "add")).toBe(true);
    expect(plan.yaml).toContain("# top comment");
    expect(plan.yaml).toContain("other: 1 # keep me");
    const vars = toPlain(evaluated(plan.yaml!).environmentVariables!) as Record<string, string>;
    expect(vars.EXISTING).toBe("x");
    awkward.forEach((v, i) => expect(vars[`K${i}`], JSON.stringify(v)).toBe(v));
    const props = evaluated(plan.yaml!).environmentVariables!.value as Record<string, { secret?: boolean }>;
    expect(props.K0!.secret).toBe(true);

    // Planned again against its own result: nothing left to do.
    const again = planImport(entries, { yaml: plan.yaml!, properties: evaluated(plan.yaml!) }, options());
    expect(again.items.map((i) => i.status)).toEqual(awkward.map(() => "unchanged"));
    expect(again.yaml).toBeUndefined();
  });

  it("creates the path in an empty definition", () => {
    const plan = planImport([entry("/prod/app/A", "a")], { yaml: "", properties: undefined }, options({ path: ["app", "secrets"] }));
    expect(toPlain(evaluated(plan.yaml!).app!)).toEqual({ secrets: { A: "a" } });
  });

  it("reports a differing value as a conflict, and replaces it with --overwrite", () => {
    const yaml = "values:\n  environmentVariables:\n    A: old # hand-written\n    B:\n      fn::secret: same\n";
    const current = { yaml, properties: evaluated(yaml) };
    const entries = [entry("/prod/app/A", "new"), entry("/prod/app/B", "same")];
    const plan = planImport(entries, current, options());
    expect(plan.items).toEqual([
      { name: "/prod/app/A", key: "A", status: "conflict", reason: expect.stringMatching(/different value: --overwrite replaces it/) },
      { name: "/prod/app/B", key: "B", status: "unchanged" },
    ]);
    expect(plan.yaml).toBeUndefined();

    const overwrite = planImport(entries, current, options({ overwrite: true }));
    expect(overwrite.items[0]).toMatchObject({ status: "imported", action: "update" });
    expect(toPlain(evaluated(overwrite.yaml!).environmentVariables!)).toEqual({ A: "new", B: "same" });
  });

  it("marks a same value held in plain text as secret", () => {
    const yaml = "values:\n  environmentVariables:\n    A: same\n";
    const plan = planImport([entry("/prod/app/A", "same")], { yaml, properties: evaluated(yaml) }, options());
    expect(plan.items[0]).toMatchObject({ status: "imported", action: "update", reason: expect.stringMatching(/not marked secret/) });
    expect((evaluated(plan.yaml!).environmentVariables!.value as Record<string, { secret?: boolean }>).A!.secret).toBe(true);
  });

  it("writes JSON secrets as nested secret values with --json-as object, keeping types", () => {
    const doc = { user: "u", port: 5432, tls: true, none: null, hosts: ["a", { b: 1.5 }], empty: {}, "$weird key": "$x" };
    const plan = planImport([entry("/prod/app/DB", JSON.stringify(doc))], { yaml: "", properties: undefined }, options({ jsonAs: "object" }));
    const props = evaluated(plan.yaml!);
    expect(toPlain(props.environmentVariables!)).toEqual({ DB: doc });
    const db = (props.environmentVariables!.value as Record<string, { value: Record<string, { secret?: boolean }> }>).DB!.value;
    expect(db.port!.secret).toBe(true);
    expect(db.user!.secret).toBe(true);
    // Unchanged on a second run, compared value by value.
    expect(planImport([entry("/prod/app/DB", JSON.stringify(doc))], { yaml: plan.yaml!, properties: props }, options({ jsonAs: "object" })).items[0]!.status).toBe("unchanged");
    // As a string by default, and when a key would read as an ESC function.
    expect(toPlain(evaluated(planImport([entry("/prod/app/DB", '{"a":1}')], { yaml: "", properties: undefined }, options()).yaml!).environmentVariables!)).toEqual({ DB: '{"a":1}' });
    const fn = planImport([entry("/prod/app/F", '{"fn::secret":"x"}')], { yaml: "", properties: undefined }, options({ jsonAs: "object" }));
    expect(fn.items[0]).toMatchObject({ status: "imported", reason: expect.stringMatching(/kept as a string/) });
  });

  it("skips binary, too large and unnamed entries with the reason; fails read errors and key collisions", () => {
    const entries: StoreEntry[] = [
      { name: "/prod/app/BIN", value: undefined, binary: true, skippedReason: "binary secret" },
      { name: "/prod/app/ERR", value: undefined, error: "GetParameters: AccessDeniedException (400)" },
      entry("/prod/app/BIG", "x".repeat(11)),
      entry("/prod/app/", "v"),
      entry("/prod/app/DUP", "1"),
      entry("/prod/app//DUP", "2"),
    ];
    const plan = planImport(entries, { yaml: "", properties: undefined }, options({ maxBytes: 10 }));
    expect(plan.items).toEqual([
      { name: "/prod/app/BIN", key: "BIN", status: "skipped", reason: "binary secret" },
      { name: "/prod/app/ERR", key: "ERR", status: "failed", reason: "GetParameters: AccessDeniedException (400)" },
      { name: "/prod/app/BIG", key: "BIG", status: "skipped", reason: expect.stringMatching(/too large: 11 bytes, more than the 10 bytes/) },
      { name: "/prod/app/", status: "skipped", reason: expect.stringMatching(/nothing is left of the name/) },
      { name: "/prod/app/DUP", key: "DUP", status: "failed", reason: "the key also comes from /prod/app//DUP: change the prefix or filter" },
      { name: "/prod/app//DUP", key: "DUP", status: "failed", reason: "the key also comes from /prod/app/DUP: change the prefix or filter" },
    ]);
    expect(plan.yaml).toBeUndefined();
    expect(JSON.stringify(plan)).not.toContain("xxxxxxxxxxx");
  });

  it("refuses to merge into a path that is not a mapping", () => {
    for (const yaml of ["values:\n  environmentVariables: just text\n", "values:\n  environmentVariables:\n    fn::fromJSON: '{}'\n", "- a list\n"]) {
      expect(() => planImport([entry("/prod/app/A", "a")], { yaml, properties: undefined }, options())).toThrow(DefinitionError);
    }
  });
});
