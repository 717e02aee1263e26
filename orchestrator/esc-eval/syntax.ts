/**
 * YAML text to a small syntax tree that keeps, for every node, its path in the document
 * (`values.db["fn::secret"]`, `imports[0]`) and its line/column, as ESC's YAML decoder does.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, Scalar, type Node as YamlNode } from "yaml";
import type { Diag } from "./diagnostics.js";

/** Where a node sits: its document path and its 1-based start position. */
export interface Position {
  path: string;
  line?: number;
  column?: number;
}

export type SyntaxNode =
  | (Position & { kind: "null" })
  | (Position & { kind: "boolean"; value: boolean })
  /** `text` is the number as ESC prints it (Go's formatting of the decoded int or float). */
  | (Position & { kind: "number"; text: string })
  /** `plain` marks an unquoted single-line scalar, whose text offsets map onto source columns. */
  | (Position & { kind: "string"; value: string; plain: boolean })
  | (Position & { kind: "array"; elements: SyntaxNode[] })
  | (Position & { kind: "object"; entries: SyntaxEntry[] });

export interface SyntaxEntry {
  /** The key's own node; its path is the entry's path, as in ESC. */
  key: SyntaxNode & { kind: "string" };
  value: SyntaxNode;
}

/** True when a key must be written `["key"]` in a path rather than `.key` (ESC's rule). */
export function mustEscapeKey(key: string): boolean {
  for (let i = 0; i < key.length; i++) {
    const c = key[i]!;
    if ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_") continue;
    if (c >= "0" && c <= "9" && i > 0) continue;
    return true;
  }
  return false;
}

/** Appends an object key to a path, quoting it when needed: `a.b`, `a["fn::join"]`. */
export function joinKey(root: string, key: string): string {
  if (key === "") return root;
  if (!mustEscapeKey(key)) return root === "" ? key : `${root}.${key}`;
  return `${root}["${key.replaceAll('"', '\\"')}"]`;
}

/** Appends an array index to a path: `a[0]`. */
export function joinIndex(root: string, index: number): string {
  return `${root}[${index}]`;
}

/**
 * Parses YAML text. Returns undefined (and an error) when the text is not valid YAML or uses
 * constructs ESC refuses (aliases, non-string keys); an empty document parses to an empty object.
 */
export function parseYaml(text: string, diags: Diag[]): SyntaxNode | undefined {
  const lineCounter = new LineCounter();
  // uniqueKeys: false because ESC reports duplicate keys itself (and keeps the first).
  // intAsBigInt: true so that integers and floats stay distinguishable, as Go's decoder sees them.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, intAsBigInt: true, prettyErrors: false });
  const err = doc.errors[0];
  if (err) {
    // Only the first: later ones are mostly consequences of it (Go's decoder stops there too).
    const pos = lineCounter.linePos(err.pos[0]);
    diags.push({ severity: "error", path: "", summary: `yaml: line ${pos.line}: ${err.message}`, line: pos.line, column: pos.col });
    return undefined;
  }
  if (doc.contents === null) return { kind: "object", path: "", entries: [] };
  const before = diags.length;
  const root = convert(doc.contents, "", lineCounter, diags);
  return diags.slice(before).some((d) => d.severity === "error") ? undefined : root;
}

function position(node: YamlNode | null | undefined, path: string, lc: LineCounter, fallback?: Position): Position {
  if (node?.range) {
    const p = lc.linePos(node.range[0]);
    return { path, line: p.line, column: p.col };
  }
  return { path, line: fallback?.line, column: fallback?.column };
}

function convert(node: unknown, path: string, lc: LineCounter, diags: Diag[], fallback?: Position): SyntaxNode {
  if (node === null || node === undefined) return { kind: "null", ...position(null, path, lc, fallback) };
  const yamlNode = node as YamlNode;
  const pos = position(yamlNode, path, lc, fallback);
  if (isAlias(node)) {
    diags.push({ severity: "error", summary: "alias nodes are not supported", ...pos });
    return { kind: "null", ...pos };
  }
  if (isSeq(node)) {
    return { kind: "array", ...pos, elements: node.items.map((item, i) => convert(item, joinIndex(path, i), lc, diags, pos)) };
  }
  if (isMap(node)) {
    const entries: SyntaxEntry[] = [];
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as YamlNode | null;
      const keyText = isScalar(keyNode) ? String(keyNode.value ?? "") : "";
      const entryPath = joinKey(path, keyText);
      const keyPos = position(keyNode, entryPath, lc, pos);
      if (!isScalar(keyNode) || typeof keyNode.value !== "string") {
        diags.push({ severity: "error", summary: "mapping keys must be strings", ...keyPos });
        continue;
      }
      const key = { kind: "string" as const, ...keyPos, value: keyNode.value, plain: isPlainSingleLine(keyNode) };
      entries.push({ key, value: convert(pair.value, entryPath, lc, diags, keyPos) });
    }
    return { kind: "object", ...pos, entries };
  }
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined) return { kind: "null", ...pos };
    const goInt = node.type === Scalar.PLAIN && typeof node.source === "string" ? goYamlInt(node.source) : undefined;
    if (goInt !== undefined) return { kind: "number", ...pos, text: goInt };
    if (typeof v === "boolean") return { kind: "boolean", ...pos, value: v };
    if (typeof v === "bigint") return { kind: "number", ...pos, text: v.toString() };
    if (typeof v === "number") return { kind: "number", ...pos, text: formatGoFloat(v) };
    if (typeof v === "string") return { kind: "string", ...pos, value: v, plain: isPlainSingleLine(node) };
    return { kind: "string", ...pos, value: String(node.source ?? v), plain: false };
  }
  diags.push({ severity: "error", summary: "unexpected YAML node", ...pos });
  return { kind: "null", ...pos };
}

/**
 * A plain scalar that Go's YAML decoder (gopkg.in/yaml.v3, which ESC uses) reads as an integer
 * where YAML 1.2's core schema does not, or reads differently: it drops every `_` and parses with
 * Go's base prefixes, so `1_000` is 1000, `0_` is 0 and `017` is octal 15. Returns the decimal
 * text, or undefined to keep the YAML 1.2 reading.
 */
function goYamlInt(source: string): string | undefined {
  if (!/^[-+0-9]/.test(source)) return undefined;
  const plain = source.replaceAll("_", "");
  const m = /^([-+]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]?([0-7]+)|0[bB]([01]+)|([1-9][0-9]*|0))$/.exec(plain);
  if (!m) return undefined;
  const [, sign, hex, octal, binary, decimal] = m;
  const magnitude = hex !== undefined ? BigInt(`0x${hex}`) : octal !== undefined ? BigInt(`0o${octal}`) : binary !== undefined ? BigInt(`0b${binary}`) : BigInt(decimal!);
  const value = sign === "-" ? -magnitude : magnitude;
  // Beyond int64 (and uint64) Go falls back to other readings: keep YAML 1.2's there.
  if (value < -(2n ** 63n) || value >= 2n ** 64n) return undefined;
  return value.toString();
}

function isPlainSingleLine(node: Scalar): boolean {
  return node.type === Scalar.PLAIN && typeof node.source === "string" && !node.source.includes("\n");
}

/**
 * Formats a float as Go's `strconv.FormatFloat(v, 'g', -1, 64)` does, which is how ESC prints a
 * YAML float: shortest digits, exponent form when the exponent is below -4 or at least 6.
 */
export function formatGoFloat(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  const neg = v < 0;
  const [mantissa, expText] = Math.abs(v).toExponential().split("e") as [string, string];
  const digits = mantissa.replace(".", "");
  const exp = Number(expText);
  let out: string;
  if (exp < -4 || exp >= 6) {
    const frac = digits.slice(1);
    const e = Math.abs(exp);
    out = `${digits[0]}${frac ? "." + frac : ""}e${exp < 0 ? "-" : "+"}${e < 10 ? "0" + e : e}`;
  } else if (exp < 0) {
    out = `0.${"0".repeat(-exp - 1)}${digits}`;
  } else {
    const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
    const frac = digits.slice(exp + 1);
    out = frac ? `${intPart}.${frac}` : intPart;
  }
  return neg ? `-${out}` : out;
}
