/**
 * Environment definitions as ESC reads them: `imports`, `values`, and the expressions inside
 * values (literals, `${...}` accesses and interpolations, `fn::*` built-ins, arrays, objects).
 */
import { parseInterpolation, type Accessor, type Interpolation } from "./access.js";
import type { Diag } from "./diagnostics.js";
import { nearest } from "../suggest.js";
import type { Position, SyntaxNode } from "./syntax.js";
import type { Val } from "./value.js";

/** The built-ins this evaluator computes itself. */
export type LocalBuiltin = "fn::concat" | "fn::final" | "fn::fromBase64" | "fn::fromJSON" | "fn::join" | "fn::secret" | "fn::split" | "fn::toBase64" | "fn::toJSON" | "fn::toString";

/** Evaluation state kept on each expression: memoised value, cycle detection, merge base. */
export interface ExprState {
  /** Path used in "cyclic reference to ..." messages (ESC's: no `values.` prefix, "" in builtin args). */
  refPath: string;
  /** The imported value this expression overrides, if any. */
  base?: Val;
  /**
   * The property path (under `values`) of the declaration this expression belongs to: its own
   * for a value, the enclosing one for a `fn::` argument. Provenance only; unset for the root.
   */
  site?: string;
  /** True for the plaintext of `fn::secret`. */
  secret?: boolean;
  state: "declared" | "evaluating" | "done";
  value?: Val;
}

export type Expr = ExprState &
  (
    | { kind: "missing"; node: Position }
    | { kind: "literal"; node: SyntaxNode; literal: null | boolean | { number: string } | string }
    | { kind: "interpolate"; node: SyntaxNode & { kind: "string" }; parts: Interpolation[] }
    | { kind: "symbol"; node: SyntaxNode & { kind: "string" }; access: Accessor[] }
    | { kind: "array"; node: SyntaxNode; elements: Expr[] }
    | { kind: "object"; node: SyntaxNode; entries: ObjectEntry[] }
    | { kind: "builtin"; node: SyntaxNode; name: LocalBuiltin; args: Expr[] }
    /** fn::open, fn::rotate, fn::validate, fn::secret with ciphertext: Pulumi Cloud only. */
    | { kind: "unsupported"; node: SyntaxNode; name: string; why: string; args: Expr }
  );

export interface ObjectEntry {
  key: string;
  keyNode: Position;
  value: Expr;
}

const fresh = (): ExprState => ({ refPath: "", state: "declared" });

/** An expression standing for something that failed to parse: it evaluates to unknown. */
export function missing(node: Position): Expr {
  return { ...fresh(), kind: "missing", node };
}

function error(diags: Diag[], at: Position, summary: string): void {
  diags.push({ severity: "error", summary, path: at.path, line: at.line, column: at.column });
}

/** Parses one value of the definition into an expression, reporting what ESC reports. */
export function parseExpr(node: SyntaxNode, diags: Diag[]): Expr {
  switch (node.kind) {
    case "null":
      return { ...fresh(), kind: "literal", node, literal: null };
    case "boolean":
      return { ...fresh(), kind: "literal", node, literal: node.value };
    case "number":
      return { ...fresh(), kind: "literal", node, literal: { number: node.text } };
    case "string":
      return parseString(node, diags);
    case "array":
      return { ...fresh(), kind: "array", node, elements: node.elements.map((e) => parseExpr(e, diags)) };
    case "object": {
      const builtin = tryParseBuiltin(node, diags);
      if (builtin) return builtin;
      const entries: ObjectEntry[] = [];
      for (const entry of node.entries) {
        const key = parseString(entry.key, diags);
        const value = parseExpr(entry.value, diags);
        if (key.kind !== "literal" || typeof key.literal !== "string") {
          error(diags, entry.key, "object keys must be strings");
          continue;
        }
        entries.push({ key: key.literal, keyNode: entry.key, value });
      }
      return { ...fresh(), kind: "object", node, entries };
    }
  }
}

/** A string is a literal, a lone `${access}` (keeps the referenced value's type) or an interpolation. */
function parseString(node: SyntaxNode & { kind: "string" }, diags: Diag[]): Expr {
  const { parts, errors } = parseInterpolation(node.value);
  for (const e of errors) {
    const column = node.plain && node.column !== undefined ? node.column + e.offset : node.column;
    diags.push({ severity: "error", summary: e.summary, path: node.path, line: node.line, column });
  }
  if (parts.length === 0) return { ...fresh(), kind: "literal", node, literal: "" };
  if (parts.length === 1) {
    const only = parts[0]!;
    if (!only.access) return { ...fresh(), kind: "literal", node, literal: only.text };
    if (only.text === "") return { ...fresh(), kind: "symbol", node, access: only.access };
  }
  return { ...fresh(), kind: "interpolate", node, parts };
}

const LOCAL: ReadonlySet<string> = new Set<LocalBuiltin>([
  "fn::concat",
  "fn::final",
  "fn::fromBase64",
  "fn::fromJSON",
  "fn::join",
  "fn::secret",
  "fn::split",
  "fn::toBase64",
  "fn::toJSON",
  "fn::toString",
]);

/** A single-key object whose key names a built-in is a call; any other `fn::` key is an error. */
function tryParseBuiltin(node: SyntaxNode & { kind: "object" }, diags: Diag[]): Expr | undefined {
  if (node.entries.length !== 1) {
    for (const entry of node.entries) {
      if (entry.key.value.startsWith("fn::")) {
        error(diags, node, `illegal call to builtin function: "${entry.key.value}" must be the only key within its containing object`);
      }
    }
    return undefined;
  }
  const entry = node.entries[0]!;
  const name = entry.key.value;
  const isOpen = name === "fn::open" || name.startsWith("fn::open::");
  const isRotate = name === "fn::rotate" || name.startsWith("fn::rotate::");
  if (!LOCAL.has(name) && !isOpen && !isRotate && name !== "fn::validate") {
    if (name.toLowerCase().startsWith("fn::")) {
      // ESC says only that the prefix is reserved; a typo deserves the function it was meant to be.
      const known = [...LOCAL, "fn::open", "fn::rotate", "fn::validate"];
      const suggestion = nearest(name, known);
      const summary = `unknown function "${name}" ('fn::' is a reserved prefix)${suggestion ? `; did you mean "${suggestion}"?` : ""}`;
      diags.push({ severity: "error", summary, path: node.path, line: entry.key.line, column: entry.key.column });
    }
    return undefined;
  }

  const args = parseExpr(entry.value, diags);
  const base = { ...fresh(), node };
  if (isOpen) return { ...base, kind: "unsupported", name, why: "it opens a provider", args };
  if (isRotate) return { ...base, kind: "unsupported", name, why: "it rotates a secret through a provider", args };
  if (name === "fn::validate") return { ...base, kind: "unsupported", name, why: "JSON schema validation is not implemented locally", args };

  const call = (list: Expr[]): Expr => ({ ...base, kind: "builtin", name: name as LocalBuiltin, args: list });
  switch (name as LocalBuiltin) {
    case "fn::join":
    case "fn::split": {
      if (args.kind !== "array" || args.elements.length !== 2) {
        error(diags, args.node, `the argument to ${name} must be a two-valued list`);
        return call([missing(args.node), missing(args.node)]);
      }
      return call(args.elements);
    }
    case "fn::concat":
      if (args.kind !== "array") error(diags, args.node, "the argument to fn::concat must be an array of arrays");
      return call([args]);
    case "fn::secret": {
      if (args.kind === "object" && args.entries.length === 1 && args.entries[0]!.key === "ciphertext") {
        const ciphertext = args.entries[0]!.value;
        if (ciphertext.kind === "literal" && typeof ciphertext.literal === "string") {
          return { ...base, kind: "unsupported", name: "fn::secret with ciphertext", why: "it needs Pulumi Cloud to decrypt", args };
        }
      }
      if (args.kind === "literal" && typeof args.literal === "string") return call([{ ...args, secret: true }]);
      error(diags, args.node, "secret values must be string literals");
      return call([{ ...fresh(), kind: "literal", node: args.node as SyntaxNode, literal: "", secret: true }]);
    }
    default:
      return call([args]);
  }
}

/** One `imports:` entry. */
export interface ImportDecl {
  name: string;
  merge: boolean;
  node: Position;
}

/** A parsed environment definition. */
export interface EnvironmentDecl {
  imports: ImportDecl[];
  values: { key: string; keyNode: Position; value: Expr }[];
}

/**
 * Reads the top level of a definition (`imports`, `values`, `description`). Problems are
 * reported; what could be read is returned, as ESC evaluates what it could parse.
 */
export function parseEnvironment(root: SyntaxNode, diags: Diag[]): EnvironmentDecl {
  const decl: EnvironmentDecl = { imports: [], values: [] };
  if (root.kind !== "object") {
    error(diags, root, "environment must be an object");
    return decl;
  }
  const seen = new Set<string>();
  for (const { key, value } of root.entries) {
    if (seen.has(key.value)) {
      diags.push({ severity: "warning", summary: `duplicate key "${key.value}"`, path: key.path, line: key.line, column: key.column });
    }
    seen.add(key.value);
    switch (key.value.toLowerCase()) {
      case "imports":
        decl.imports = parseImports(value, diags);
        break;
      case "values":
        decl.values = parseValues(value, diags);
        break;
      case "description":
        if (value.kind !== "string") error(diags, value, "description must be a string");
        break;
      default:
        diags.push({
          severity: "warning",
          summary: `Field '${key.value}' does not exist on Object 'environment'; existing fields are 'description', 'imports' and 'values'`,
          path: key.path,
          line: key.line,
          column: key.column,
        });
    }
  }
  return decl;
}

function parseImports(node: SyntaxNode, diags: Diag[]): ImportDecl[] {
  if (node.kind !== "array") {
    error(diags, node, "imports must be a list");
    return [];
  }
  const out: ImportDecl[] = [];
  for (const entry of node.elements) {
    if (entry.kind === "string") {
      out.push({ name: entry.value, merge: true, node: entry });
    } else if (entry.kind === "object") {
      if (entry.entries.length !== 1) {
        error(diags, entry, "import must have a single key");
        continue;
      }
      const { key, value } = entry.entries[0]!;
      let merge = true;
      if (value.kind !== "object") {
        error(diags, value, "import must be an object");
      } else {
        for (const meta of value.entries) {
          if (meta.key.value.toLowerCase() !== "merge") {
            diags.push({ severity: "warning", summary: `Field '${meta.key.value}' does not exist on Object 'import'`, ...meta.key });
            continue;
          }
          if (meta.value.kind === "boolean") merge = meta.value.value;
          else error(diags, meta.value, "merge must be a boolean value");
        }
      }
      out.push({ name: key.value, merge, node: entry });
    } else {
      error(diags, entry, "import must be a string or an object");
    }
  }
  return out;
}

function parseValues(node: SyntaxNode, diags: Diag[]): EnvironmentDecl["values"] {
  if (node.kind !== "object") {
    error(diags, node, "values must be an object");
    return [];
  }
  return node.entries.map(({ key, value }) => {
    if (key.value.startsWith("fn::")) {
      error(diags, key, `builtin function call "${key.value}" not allowed at the top level`);
    }
    return { key: key.value, keyNode: key, value: parseExpr(value, diags) };
  });
}
