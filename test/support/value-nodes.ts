/** Value trees for tests: built from plain JSON, or shown with secrets redacted as ESC shows them. */
import type { Plain, ValueNode } from "../../orchestrator/values.js";

/** Replaces every secret value with `"[secret]"`: what may be shown to a person. */
export function toRedacted(node: ValueNode): Plain {
  if (node.secret) return "[secret]";
  const v = node.value;
  if (Array.isArray(v)) return v.map(toRedacted);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, child]) => [k, toRedacted(child)]));
  return v;
}

/** Builds a node tree from plain JSON, every node flagged with `secret`. */
export function fromPlain(plain: Plain, secret = false): ValueNode {
  if (Array.isArray(plain)) return { value: plain.map((p) => fromPlain(p, secret)), ...(secret ? { secret } : {}) };
  if (plain !== null && typeof plain === "object") {
    const out = Object.fromEntries(Object.entries(plain).map(([k, child]) => [k, fromPlain(child, secret)]));
    return { value: out, ...(secret ? { secret } : {}) };
  }
  return { value: plain, ...(secret ? { secret } : {}) };
}
