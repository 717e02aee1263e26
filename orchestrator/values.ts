/**
 * Resolved ESC values, as both sources produce them.
 *
 * The shape mirrors the ESC API's `Value` (`{ value, secret?, unknown? }`), so that values from
 * `@pulumi/esc-sdk` (`environment.properties`) and from the local evaluator are one type, and
 * every node keeps its own secret flag.
 */

/** A JSON value with no secret flags. */
export type Plain = null | boolean | number | string | Plain[] | { [key: string]: Plain };

/** One node of a resolved environment: a scalar, an array or an object, flagged secret or not. */
export interface ValueNode {
  value: null | boolean | number | string | ValueNode[] | { [key: string]: ValueNode };
  secret?: boolean;
  unknown?: boolean;
}

/** Where one value of an environment comes from. Names and paths only, never a value. */
export interface ValueProvenance {
  /**
   * Where the value is defined: the environment (`org/project/name`) and, where the source knows
   * it, the property path under its `values` (a plain reference `${a.b}` is followed to `a.b`).
   */
  definedIn?: { environment: string; path?: string };
  /**
   * Every declaration the value derives from, through references, interpolation, imports and
   * `fn::` arguments, as `org/project/name:path`; empty where the source cannot say.
   */
  derivedFrom: string[];
}

/** Provenance of an environment's values, by property path (`db.password`, `list[0]`). */
export type Provenance = Record<string, ValueProvenance>;

/** The top-level properties of a resolved environment (`values:` of its definition). */
export type Properties = Record<string, ValueNode>;

/** True when the node or anything below it is secret. */
export function containsSecret(node: ValueNode): boolean {
  if (node.secret) return true;
  const v = node.value;
  if (Array.isArray(v)) return v.some(containsSecret);
  if (v !== null && typeof v === "object") return Object.values(v).some(containsSecret);
  return false;
}

/** True when the node or anything below it could not be computed. */
export function containsUnknown(node: ValueNode): boolean {
  if (node.unknown) return true;
  const v = node.value;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (v !== null && typeof v === "object") return Object.values(v).some(containsUnknown);
  return false;
}

/** Drops the secret flags: the plain JSON a target receives. */
export function toPlain(node: ValueNode): Plain {
  const v = node.value;
  if (Array.isArray(v)) return v.map(toPlain);
  // Object.fromEntries keeps a key named "__proto__" as data, where assignment would not.
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, child]) => [k, toPlain(child)]));
  return v;
}

/**
 * Follows a dotted property path (`environmentVariables`, `app.db`, `list[0]`) from the top of
 * an environment. An empty path selects the whole environment. Returns undefined when absent.
 */
export function selectPath(properties: Properties, path: string): ValueNode | undefined {
  let node: ValueNode = { value: properties };
  if (path === "" || path === ".") return node;
  for (const segment of parsePropertyPath(path)) {
    const v = node.value;
    if (typeof segment === "number") {
      if (!Array.isArray(v) || segment >= v.length) return undefined;
      node = v[segment]!;
    } else {
      if (v === null || typeof v !== "object" || Array.isArray(v) || !Object.hasOwn(v, segment)) return undefined;
      node = v[segment]!;
    }
  }
  return node;
}

/** Splits `a.b[0]["c.d"]` into `["a", "b", 0, "c.d"]`. Throws on a malformed path. */
export function parsePropertyPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  let i = 0;
  while (i < path.length) {
    const ch = path[i]!;
    if (ch === ".") {
      if (i === 0 || i === path.length - 1) throw new Error(`invalid property path "${path}"`);
      i++;
      continue;
    }
    if (ch === "[") {
      const close = path.indexOf("]", i);
      if (close < 0) throw new Error(`invalid property path "${path}": unterminated [`);
      const inner = path.slice(i + 1, close);
      if (/^\d+$/.test(inner)) out.push(Number(inner));
      else if (/^"(?:[^"\\]|\\.)*"$/.test(inner)) out.push(JSON.parse(inner) as string);
      else throw new Error(`invalid property path "${path}": [${inner}] is neither an index nor a quoted key`);
      i = close + 1;
      continue;
    }
    let j = i;
    while (j < path.length && path[j] !== "." && path[j] !== "[") j++;
    out.push(path.slice(i, j));
    i = j;
  }
  return out;
}

/** A problem ESC (or the local evaluator) reports about an environment's definition. */
export interface EnvironmentDiagnostic {
  /** Path inside the definition, e.g. `values.db.password`. */
  path?: string;
  summary: string;
  line?: number;
  column?: number;
  /** ESC's severity; absent means error (as ESC reads an absent severity). Only errors fail an environment. */
  severity?: "error" | "warning";
}
