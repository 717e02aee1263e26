/**
 * Evaluated values inside the evaluator: a tree whose every node carries its own secret, unknown
 * and final flags, plus the operations ESC defines on them (merge, string conversion, JSON).
 */
import type { ValueNode } from "../values.js";

/** A number keeps the text ESC prints for it (Go's formatting), so `${n}` renders as ESC does. */
export interface Num {
  number: string;
}

export type Repr = null | boolean | Num | string | Val[] | Map<string, Val>;

export interface Val {
  repr: Repr;
  secret: boolean;
  unknown: boolean;
  /** Set by `fn::final`: an importing environment cannot override this value. */
  final?: boolean;
  /**
   * Where the value is defined: the declaration (environment and property path) it was written
   * at, followed through plain references (`${db.password}`) and imports. Provenance only.
   */
  origin?: Origin;
  /**
   * Every declaration the value derives from (its own, and those reached through references,
   * interpolation and `fn::` arguments), as {@link originKey}s. Provenance only: never compared.
   */
  deps?: ReadonlySet<string>;
}

/** A declaration: the environment (`project/name`) and the property path under its `values`. */
export interface Origin {
  environment: string;
  path: string;
}

/** `project/name:path`: how a declaration is named in {@link Val.deps}. */
export const originKey = (o: Origin): string => `${o.environment}:${o.path}`;

/** The declarations a value and everything below it derive from. */
export function depsBelow(v: Val, into: Set<string> = new Set()): Set<string> {
  for (const d of v.deps ?? []) into.add(d);
  if (Array.isArray(v.repr)) for (const c of v.repr) depsBelow(c, into);
  else if (v.repr instanceof Map) for (const c of v.repr.values()) depsBelow(c, into);
  return into;
}

/**
 * Gives a computed value (a `fn::` result, possibly a whole decoded document) the declarations
 * it derives from, down to every node that has none of its own.
 */
export function withDeps(v: Val, deps: ReadonlySet<string>): Val {
  const repr = Array.isArray(v.repr)
    ? v.repr.map((c) => (c.deps ? c : withDeps(c, deps)))
    : v.repr instanceof Map
      ? new Map([...v.repr].map(([k, c]) => [k, c.deps ? c : withDeps(c, deps)] as const))
      : v.repr;
  return { ...v, repr, deps: new Set([...(v.deps ?? []), ...deps]) };
}

export const known = (repr: Repr, secret = false): Val => ({ repr, secret, unknown: false });
export const unknownVal = (secret = false): Val => ({ repr: null, secret, unknown: true });

/** True when the value is, or (being unknown) may be, an object: accesses may fall through to it. */
export function maybeObject(v: Val | undefined): v is Val {
  return v !== undefined && (v.unknown || v.repr instanceof Map);
}

/** The named property of an object value, unknown below an unknown value, else undefined. */
export function property(v: Val | undefined, key: string): Val | undefined {
  if (v === undefined) return undefined;
  if (v.repr instanceof Map) return v.repr.get(key);
  return v.unknown ? unknownVal() : undefined;
}

/**
 * Merges `top` over `base` as ESC does: two objects merge key by key (recursively); anything else
 * is replaced by the top value, `null` included.
 */
export function merge(base: Val | undefined, top: Val): Val {
  if (base === undefined || top.unknown || base.unknown) return top;
  if (!(top.repr instanceof Map) || !(base.repr instanceof Map)) return top;
  const out = new Map<string, Val>();
  for (const [k, b] of base.repr) out.set(k, b);
  for (const [k, t] of top.repr) {
    const b = base.repr.get(k);
    out.set(k, b === undefined ? t : merge(b, t));
  }
  return { ...top, repr: out };
}

export function containsSecret(v: Val): boolean {
  if (v.secret) return true;
  if (Array.isArray(v.repr)) return v.repr.some(containsSecret);
  if (v.repr instanceof Map) return [...v.repr.values()].some(containsSecret);
  return false;
}

export function containsUnknown(v: Val): boolean {
  if (v.unknown) return true;
  if (Array.isArray(v.repr)) return v.repr.some(containsUnknown);
  if (v.repr instanceof Map) return [...v.repr.values()].some(containsUnknown);
  return false;
}

/** What a value computed from `inputs` inherits: unknown or secret if anything in them is. */
export function combined(...inputs: Val[]): { unknown: boolean; secret: boolean } {
  return { unknown: inputs.some(containsUnknown), secret: inputs.some(containsSecret) };
}

/** Marks a value and everything below it secret (how ESC treats data decoded from a secret). */
export function makeSecret(v: Val): Val {
  const repr = Array.isArray(v.repr)
    ? v.repr.map(makeSecret)
    : v.repr instanceof Map
      ? new Map([...v.repr].map(([k, c]) => [k, makeSecret(c)] as const))
      : v.repr;
  return { ...v, repr, secret: true };
}

/** Go's byte-wise string order, which ESC uses for object keys. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

export function typeName(v: Val): string {
  const r = v.repr;
  if (r === null) return "null";
  if (typeof r === "boolean") return "boolean";
  if (typeof r === "string") return "string";
  if (Array.isArray(r)) return "array";
  if (r instanceof Map) return "object";
  return "number";
}

/**
 * The string form ESC splices into interpolations and returns from `fn::toString`: scalars as
 * text, null as "", arrays as comma-separated quoted elements, objects as `"k"="v"` pairs.
 */
export function toStringValue(v: Val): { text: string; unknown: boolean; secret: boolean } {
  if (v.unknown) return { text: "[unknown]", unknown: true, secret: v.secret };
  let unknown = false;
  let secret = v.secret;
  const r = v.repr;
  let text = "";
  if (typeof r === "boolean") text = r ? "true" : "false";
  else if (typeof r === "string") text = r;
  else if (Array.isArray(r)) {
    text = r
      .map((e) => {
        const s = toStringValue(e);
        unknown ||= s.unknown;
        secret ||= s.secret;
        return goQuote(s.text);
      })
      .join(",");
  } else if (r instanceof Map) {
    text = [...r.keys()]
      .sort(compareKeys)
      .map((k) => {
        const s = toStringValue(r.get(k)!);
        unknown ||= s.unknown;
        secret ||= s.secret;
        return `${goQuote(k)}=${goQuote(s.text)}`;
      })
      .join(",");
  } else if (r !== null) text = r.number;
  return { text, unknown, secret };
}

/** Go's `strconv.Quote`: double quotes, Go escapes, printable Unicode kept as is. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (ch === " " || (cp > 0x7f && /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch)) || (cp > 0x20 && cp < 0x7f)) out += ch;
    else if (ch in GO_ESCAPES) out += GO_ESCAPES[ch];
    else if (cp >= 0xd800 && cp <= 0xdfff) out += "\\ufffd";
    else if (cp < 0x20 || cp === 0x7f) out += "\\x" + cp.toString(16).padStart(2, "0");
    else if (cp < 0x10000) out += "\\u" + cp.toString(16).padStart(4, "0");
    else out += "\\U" + cp.toString(16).padStart(8, "0");
  }
  return out + '"';
}

const GO_ESCAPES: Record<string, string> = { "\x07": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v" };

/** Go's `json.Marshal` of the value's JSON form: sorted keys, `<`, `>`, `&` escaped. */
export function toGoJSON(v: Val): string {
  if (v.unknown) return goJSONString("[unknown]");
  const r = v.repr;
  if (r === null) return "null";
  if (typeof r === "boolean") return r ? "true" : "false";
  if (typeof r === "string") return goJSONString(r);
  if (Array.isArray(r)) return `[${r.map(toGoJSON).join(",")}]`;
  if (r instanceof Map) {
    const keys = [...r.keys()].sort(compareKeys);
    return `{${keys.map((k) => `${goJSONString(k)}:${toGoJSON(r.get(k)!)}`).join(",")}}`;
  }
  return r.number;
}

function goJSONString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

class NumberText {
  constructor(readonly text: string) {}
}

/** Decodes JSON text into a value, keeping each number's text (Go's `UseNumber`). Throws on bad JSON. */
export function fromJSONText(text: string): Val {
  // The reviver's third argument (the source text of primitives) is available from Node 21 on.
  const reviver = (_key: string, value: unknown, context?: { source?: string }): unknown =>
    typeof value === "number" ? new NumberText(context?.source ?? String(value)) : value;
  const plain = JSON.parse(text, reviver as (key: string, value: unknown) => unknown) as unknown;
  const build = (p: unknown): Val => {
    if (p instanceof NumberText) return known({ number: p.text });
    if (Array.isArray(p)) return known(p.map(build));
    if (p !== null && typeof p === "object") return known(new Map(Object.entries(p).map(([k, c]) => [k, build(c)] as const)));
    return known(p as null | boolean | string);
  };
  return build(plain);
}

/** Converts to the public node shape, each node keeping its flags. */
export function exportValue(v: Val): ValueNode {
  const flags = { ...(v.secret ? { secret: true } : {}), ...(v.unknown ? { unknown: true } : {}) };
  if (v.unknown) return { value: null, ...flags };
  const r = v.repr;
  if (Array.isArray(r)) return { value: r.map(exportValue), ...flags };
  if (r instanceof Map) return { value: exportObject(r), ...flags };
  if (r !== null && typeof r === "object") return { value: Number(r.number), ...flags };
  return { value: r, ...flags };
}

/** Object members in ESC's (sorted) key order; `Object.fromEntries` keeps keys like `__proto__` as data. */
export function exportObject(members: Map<string, Val>): { [key: string]: ValueNode } {
  return Object.fromEntries([...members.keys()].sort(compareKeys).map((k) => [k, exportValue(members.get(k)!)] as const));
}
