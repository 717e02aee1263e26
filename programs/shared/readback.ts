/**
 * What the kinds' read-back (`programs/<kind>/readback.ts`) share: finding resources in a pair's
 * exported state, and putting what a store holds into the text form of `PlannedEntry.value`, so
 * that the drift report compares like with like.
 */
import type { EntryReadback, Shape, StateResource, StoreFinding } from "../contract.js";

/** The resource's name in its stack: the last part of its URN. */
export function urnName(urn: string): string {
  const at = urn.lastIndexOf("::");
  return at < 0 ? urn : urn.slice(at + 2);
}

/** A string property, or undefined when it is absent or not a string. */
export function text(props: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = props?.[name];
  return typeof value === "string" ? value : undefined;
}

/** The resources of one type, in state order. */
export function ofType(resources: readonly StateResource[], type: string): StateResource[] {
  return resources.filter((r) => r.type === type);
}

/** An empty read-back, filled by the kinds. */
export function emptyReadback(): EntryReadback {
  return { applied: new Map(), actual: new Map() };
}

/**
 * The store's text in the form of what esc-sync wrote. With the `json` shape a document equal to
 * the applied one (keys in another order, other spacing) reads as the applied text, and another
 * document as its compact JSON text; text that is not JSON, and every `keys` value, as it is.
 */
export function inPlannedForm(shape: Shape, actual: string, applied: string | undefined): string {
  if (shape !== "json") return actual;
  const doc = parseJson(actual);
  if (doc === undefined) return actual;
  if (applied !== undefined) {
    const wrote = parseJson(applied);
    if (wrote !== undefined && sameJson(doc.value, wrote.value)) return applied;
  }
  return JSON.stringify(doc.value);
}

/** A value as `PlannedEntry.value` text: strings as they are, anything else as compact JSON. */
export function valueText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Parses JSON text; undefined when it is not JSON (a wrapper, so that `null` is a document). */
export function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/** Deep equality of JSON values, ignoring the order of object keys. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameJson(v, b[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const bo = b as Record<string, unknown>;
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(bo, k) && sameJson((a as Record<string, unknown>)[k], bo[k]));
}

/** A JSON pointer token: `~` and `/` escaped (RFC 6901). */
function pointerToken(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * The top-level keys of a JSON document that differ from the one esc-sync wrote, each as an
 * entry of its own named `doc#/key`: a key the store's document gained (`extra`), lost
 * (`missing`), or holds another value for. Empty when the documents are equal or either is not
 * a JSON object (the document's own entry then says it differs).
 */
export function documentFindings(name: string, applied: string, actual: string): StoreFinding[] {
  const wrote = parseJson(applied)?.value;
  const holds = parseJson(actual)?.value;
  if (!isObject(wrote) || !isObject(holds) || sameJson(wrote, holds)) return [];
  const out: StoreFinding[] = [];
  for (const key of new Set([...Object.keys(wrote), ...Object.keys(holds)])) {
    const entry = `${name}#/${pointerToken(key)}`;
    if (!Object.hasOwn(holds, key)) out.push({ name: entry, status: "missing" });
    else if (!Object.hasOwn(wrote, key)) out.push({ name: entry, reason: "extra", value: JSON.stringify(holds[key]) });
    else if (!sameJson(wrote[key], holds[key])) out.push({ name: entry, value: JSON.stringify(holds[key]) });
  }
  return out;
}
