/**
 * The evaluator proper: imports (merged in order, each environment evaluated once per run),
 * declarations with their merge bases, lazy evaluation with cycle detection, property access.
 */
import type { Accessor } from "./access.js";
import { parseEnvironment, type EnvironmentDecl, type Expr } from "./ast.js";
import { evaluateBuiltin } from "./builtins.js";
import { unsupportedMessage, type Diag } from "./diagnostics.js";
import { nearest } from "../suggest.js";
import { joinIndex, joinKey, parseYaml, type Position } from "./syntax.js";
import { compareKeys, depsBelow, known, maybeObject, merge, originKey, property, toStringValue, unknownVal, withDeps, type Val } from "./value.js";

/** Finds an imported definition's text by name; undefined when there is no such environment. */
export type Loader = (name: string, importer: string) => { name: string; yaml: string } | undefined;

/** A diagnostic tagged with the environment it was found in. */
export interface EnvDiag extends Diag {
  environment: string;
}

/** State shared by every environment of one evaluation run. */
export class Run {
  readonly diags: EnvDiag[] = [];
  /** Every environment of the import closure, evaluated once; `evaluating` detects import cycles. */
  readonly imports = new Map<string, { evaluating: boolean; value?: Val }>();
  /**
   * The plaintext of every secret the run met, including inputs of expressions that failed (and
   * so appear in no value): the redaction layer learns them all.
   */
  readonly secretTexts = new Set<string>();
  constructor(
    readonly rootName: string,
    readonly load: Loader,
  ) {}
}

const RESERVED_TOP_LEVEL_KEYS = new Set(["imports", "context", "environments"]);

/** Evaluates one environment definition (the root or an import) within a run. */
export class EnvEvaluator {
  private base: Val | undefined;
  private myImports: Val = known(new Map());
  private readonly myContext: Val;
  private readonly root: Expr & { kind: "object" };
  private readonly props = new WeakMap<Expr, Map<string, Expr>>();

  constructor(
    readonly run: Run,
    readonly name: string,
    private readonly decl: EnvironmentDecl,
  ) {
    const nameObject = (n: string): Val => known(new Map([["name", known(n)]]));
    this.myContext = known(
      new Map([
        ["currentEnvironment", nameObject(name)],
        ["rootEnvironment", nameObject(run.rootName)],
      ]),
    );
    this.root = { kind: "object", node: { kind: "object", path: "", entries: [] }, entries: [], refPath: `<${name}>`, state: "declared" };
  }

  error(at: Position, summary: string, column?: number): void {
    this.run.diags.push({ severity: "error", environment: this.name, summary, path: at.path, line: at.line, column: column ?? at.column });
  }

  warn(at: Position, summary: string): void {
    this.run.diags.push({ severity: "warning", environment: this.name, summary, path: at.path, line: at.line, column: at.column });
  }

  /** Evaluates imports, then the environment's own values on top of them. */
  evaluate(): Val {
    const mine: { evaluating: boolean; value?: Val } = { evaluating: true };
    this.run.imports.set(this.name, mine);
    try {
      this.evaluateImports();
      const props = new Map<string, Expr>();
      this.root.base = this.base;
      this.props.set(this.root, props);
      for (const entry of this.decl.values) {
        if (RESERVED_TOP_LEVEL_KEYS.has(entry.key)) {
          this.error(entry.keyNode, `"${entry.key}" is a reserved key`);
        } else if (props.has(entry.key)) {
          this.error(entry.keyNode, `duplicate key "${entry.key}"`);
        } else {
          props.set(entry.key, this.declare(entry.value, joinKey("", entry.key), property(this.base, entry.key)));
        }
      }
      const value = this.evaluateExpr(this.root);
      mine.value = value;
      return value;
    } finally {
      mine.evaluating = false;
    }
  }

  private evaluateImports(): void {
    const imported = new Map<string, Val>();
    for (const entry of this.decl.imports) {
      const value = this.evaluateImport(entry.node, entry.name);
      if (!value) continue;
      imported.set(entry.name, value);
      // Later imports override earlier ones; `merge: false` imports are only reachable as imports.<name>.
      if (entry.merge) this.base = merge(this.base, value);
    }
    this.myImports = known(imported);
  }

  /** Loads, parses and evaluates an imported environment, once per run. */
  private evaluateImport(at: Position, name: string): Val | undefined {
    const existing = this.run.imports.get(name);
    if (existing) {
      if (existing.evaluating) {
        this.error(at, `cyclic import of ${name}`);
        return undefined;
      }
      return existing.value;
    }
    let definition: { name: string; yaml: string } | undefined;
    try {
      definition = this.run.load(name, this.name);
    } catch (err) {
      this.error(at, `loading environment "${name}": ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
    if (!definition) {
      this.error(at, `unknown environment "${name}": no such environment to import`);
      return undefined;
    }
    const loadDiags: Diag[] = [];
    const syntax = parseYaml(definition.yaml, loadDiags);
    const decl = syntax ? parseEnvironment(syntax, loadDiags) : undefined;
    for (const d of loadDiags) this.run.diags.push({ ...d, environment: name });
    if (!decl || loadDiags.some((d) => d.severity === "error")) return undefined;
    return new EnvEvaluator(this.run, name, decl).evaluate();
  }

  /**
   * Records merge bases, cycle-report paths and provenance sites, and catches duplicate keys,
   * before evaluation. `argOf` is the site of the `fn::` call whose argument this is: arguments
   * have no path of their own (ESC reports "" for them), so they are sited at the call.
   */
  private declare(x: Expr, refPath: string, base: Val | undefined, argOf?: string): Expr {
    x.refPath = refPath;
    x.base = base;
    x.site = argOf ?? refPath;
    switch (x.kind) {
      case "array":
        x.elements.forEach((e, i) => this.declare(e, joinIndex(refPath, i), undefined, argOf));
        break;
      case "object": {
        const props = new Map<string, Expr>();
        for (const entry of x.entries) {
          if (props.has(entry.key)) {
            this.error(entry.keyNode, `duplicate key "${entry.key}"`);
            continue;
          }
          props.set(entry.key, this.declare(entry.value, joinKey(refPath, entry.key), property(base, entry.key), argOf));
        }
        this.props.set(x, props);
        break;
      }
      case "builtin":
        for (const arg of x.args) this.declare(arg, "", undefined, argOf ?? refPath);
        break;
      case "unsupported":
        this.declare(x.args, "", undefined, argOf ?? refPath);
        break;
    }
    return x;
  }

  /** Evaluates an expression once (memoised), merged over its base. */
  evaluateExpr(x: Expr): Val {
    if (x.state === "done") return x.value!;
    if (x.state === "evaluating") {
      this.error(x.node, `cyclic reference to ${x.refPath}`);
      return unknownVal();
    }
    x.state = "evaluating";
    try {
      if (x.base?.final) {
        this.warn(x.node, "cannot override final value");
        x.value = x.base;
        return x.value;
      }
      let val = this.withProvenance(x, this.compute(x));
      if (x.secret) {
        val = { ...val, secret: true };
        if (typeof val.repr === "string") this.run.secretTexts.add(val.repr);
      }
      val = merge(x.base, val);
      x.value = val;
      return val;
    } finally {
      x.state = "done";
    }
  }

  /**
   * Records where a computed value comes from: a plain reference keeps the origin of what it
   * refers to; anything else is defined here. Every value also lists what it derives from.
   */
  private withProvenance(x: Expr, val: Val): Val {
    const own = x.site ? { environment: this.name, path: x.site } : undefined;
    const deps = new Set<string>(own ? [originKey(own)] : []);
    if (x.kind === "symbol") {
      for (const d of depsBelow(val)) deps.add(d);
      return { ...val, origin: val.origin ?? own, deps } as Val;
    }
    if (x.kind === "builtin" || x.kind === "unsupported") {
      // A result derives from every argument (and all below them).
      for (const arg of x.kind === "builtin" ? x.args : [x.args]) if (arg.value) depsBelow(arg.value, deps);
      return { ...withDeps(val, deps), ...(own ? { origin: own } : {}) };
    }
    if (x.kind === "interpolate") for (const d of val.deps ?? []) deps.add(d);
    return { ...val, ...(own ? { origin: own } : {}), deps };
  }

  private compute(x: Expr): Val {
    switch (x.kind) {
      case "missing":
        return unknownVal();
      case "literal":
        return known(x.literal);
      case "interpolate": {
        let text = "";
        let unknown = false;
        let secret = false;
        const deps = new Set<string>();
        for (const part of x.parts) {
          text += part.text;
          if (!part.access) continue;
          const accessed = this.evaluateAccess(x, part.access);
          depsBelow(accessed, deps);
          const s = toStringValue(accessed);
          unknown ||= s.unknown;
          secret ||= s.secret;
          if (!s.unknown) text += s.text;
        }
        return { ...(unknown ? unknownVal(secret) : known(text, secret)), deps };
      }
      case "symbol":
        return this.evaluateAccess(x, x.access);
      case "array":
        return known(x.elements.map((e) => this.evaluateExpr(e)));
      case "object": {
        const props = this.props.get(x) ?? new Map<string, Expr>();
        // Sorted, as ESC does, so that cycle diagnostics are predictable.
        const keys = [...props.keys()].sort(compareKeys);
        return known(new Map(keys.map((k) => [k, this.evaluateExpr(props.get(k)!)] as const)));
      }
      case "builtin":
        return evaluateBuiltin(this, x);
      case "unsupported": {
        this.error(x.node, unsupportedMessage(x.name, x.why));
        // Evaluated anyway so that errors in the arguments are reported, as ESC does.
        this.evaluateExpr(x.args);
        return unknownVal(x.name.startsWith("fn::secret"));
      }
    }
  }

  private accessorError(x: Expr, accessor: Accessor, summary: string): void {
    const node = x.node;
    const plain = "plain" in node && node.plain === true;
    this.error(node, summary, plain && node.column !== undefined ? node.column + accessor.start : undefined);
  }

  /** Follows `${...}` from the environment's root (or `imports`, `context`, `environments`). */
  evaluateAccess(x: Expr, accessors: Accessor[]): Val {
    const first = accessors[0]!;
    const firstKey = first.kind === "name" ? first.name : typeof first.index === "string" ? first.index : undefined;
    if (firstKey === "imports") return this.evaluateValueAccess(x, this.myImports, accessors.slice(1));
    if (firstKey === "context") return this.evaluateContextAccess(x, accessors.slice(1));
    if (firstKey === "environments") return this.evaluateInlineReference(x, accessors);

    let receiver: Expr = this.root;
    let rest = accessors;
    while (rest.length > 0) {
      const accessor = rest[0]!;
      if (receiver.kind === "array") {
        const index = this.arrayIndex(x, accessor, receiver.elements.length);
        if (index === undefined) return unknownVal();
        receiver = receiver.elements[index]!;
      } else if (receiver.kind === "object") {
        const key = this.objectKey(x, accessor);
        if (key === undefined) return unknownVal();
        const props = this.props.get(receiver) ?? new Map<string, Expr>();
        const prop = props.get(key);
        if (!prop) {
          // Not defined here: the imported base value may have it.
          if (maybeObject(receiver.base)) return this.evaluateValueAccess(x, receiver.base, rest);
          this.accessorError(x, accessor, unknownProperty(key, props.keys()));
          return unknownVal();
        }
        receiver = prop;
      } else if (receiver.kind === "builtin" && receiver.name === "fn::secret") {
        // Secrets are transparent to accessors: go on with the plaintext.
        receiver = receiver.args[0]!;
        continue;
      } else {
        return this.evaluateValueAccess(x, this.evaluateExpr(receiver), rest);
      }
      rest = rest.slice(1);
    }
    return this.evaluateExpr(receiver);
  }

  private evaluateContextAccess(x: Expr, accessors: Accessor[]): Val {
    const next = accessors[0];
    const key = next?.kind === "name" ? next.name : next?.index;
    if (next && typeof key === "string" && this.myContext.repr instanceof Map && !this.myContext.repr.has(key)) {
      this.accessorError(x, next, unsupportedMessage(`context.${key}`, "it is only set when Pulumi Cloud opens the environment"));
      return unknownVal();
    }
    return this.evaluateValueAccess(x, this.myContext, accessors);
  }

  /** `${environments.<project>.<env>...}`: an inline import of `project/env`. */
  private evaluateInlineReference(x: Expr, accessors: Accessor[]): Val {
    if (accessors.length < 3) return unknownVal();
    const project = this.objectKey(x, accessors[1]!);
    const env = this.objectKey(x, accessors[2]!);
    if (project === undefined || env === undefined) return unknownVal();
    const imported = this.evaluateImport(x.node, `${project}/${env}`) ?? unknownVal();
    const wrapped = known(new Map([["environments", known(new Map([[project, known(new Map([[env, imported]]))]]))]]));
    return this.evaluateValueAccess(x, wrapped, accessors);
  }

  /** Follows accessors through an evaluated value. */
  evaluateValueAccess(x: Expr, receiver: Val, accessors: Accessor[]): Val {
    let current = receiver;
    for (const accessor of accessors) {
      if (current.unknown) return unknownVal();
      const r = current.repr;
      if (Array.isArray(r)) {
        const index = this.arrayIndex(x, accessor, r.length);
        if (index === undefined) return unknownVal();
        current = r[index]!;
      } else if (r instanceof Map) {
        const key = this.objectKey(x, accessor);
        if (key === undefined) return unknownVal();
        const prop = r.get(key);
        if (!prop) {
          this.accessorError(x, accessor, unknownProperty(key, r.keys()));
          return unknownVal();
        }
        current = prop;
      } else {
        this.accessorError(x, accessor, "receiver must be an array or an object");
        return unknownVal();
      }
    }
    return current;
  }

  private arrayIndex(x: Expr, accessor: Accessor, length: number): number | undefined {
    if (accessor.kind !== "subscript" || typeof accessor.index !== "number") {
      this.accessorError(x, accessor, "cannot access an array element using a property name");
      return undefined;
    }
    if (accessor.index < 0) {
      this.accessorError(x, accessor, "array indices must not be negative");
      return undefined;
    }
    if (accessor.index >= length) {
      this.accessorError(x, accessor, `array index ${accessor.index} out-of-bounds for array of length ${length}`);
      return undefined;
    }
    return accessor.index;
  }

  private objectKey(x: Expr, accessor: Accessor): string | undefined {
    if (accessor.kind === "name") return accessor.name;
    if (typeof accessor.index === "string") return accessor.index;
    this.accessorError(x, accessor, "cannot access an object property using an integer index");
    return undefined;
  }
}

function unknownProperty(key: string, candidates: Iterable<string>): string {
  const suggestion = nearest(key, [...candidates].sort(compareKeys));
  return `unknown property "${key}"${suggestion ? `; did you mean "${suggestion}"?` : ""}`;
}

/** Parses and evaluates a root definition. Returns undefined where ESC returns no environment. */
export function evaluateRoot(run: Run, yaml: string): Val | undefined {
  const loadDiags: Diag[] = [];
  const syntax = parseYaml(yaml, loadDiags);
  const decl = syntax ? parseEnvironment(syntax, loadDiags) : undefined;
  for (const d of loadDiags) run.diags.push({ ...d, environment: run.rootName });
  if (!decl || (decl.values.length === 0 && decl.imports.length === 0)) return undefined;
  return new EnvEvaluator(run, run.rootName, decl).evaluate();
}

