/**
 * The redaction layer: every text esc-sync prints passes through one {@link Redactor}, which
 * replaces secret values and tokens it was told about with `[secret]`. A second line of defence
 * behind {@link SecretValue}: it catches values echoed back by the Pulumi CLI, a provider or an
 * SDK error.
 */
import type { ResolvedEnvironment } from "./sources/source.js";
import type { ValueNode } from "./values.js";

/** Values shorter than this are not redacted: replacing "1" or "on" everywhere would garble text. */
const MIN_LENGTH = 3;

export class Redactor {
  #needles: string[] = [];

  /** Adds values to hide. Each is also hidden in its JSON-escaped form. */
  add(...values: (string | undefined)[]): this {
    for (const v of values) {
      if (!v || v.length < MIN_LENGTH) continue;
      for (const form of new Set([v, JSON.stringify(v).slice(1, -1)])) {
        if (!this.#needles.includes(form)) this.#needles.push(form);
      }
    }
    // Longest first, so that a value containing another is hidden whole.
    this.#needles.sort((a, b) => b.length - a.length);
    return this;
  }

  /** Adds every secret leaf of the environments. */
  addEnvironments(envs: readonly ResolvedEnvironment[]): this {
    const walk = (node: ValueNode, secret: boolean): void => {
      const isSecret = secret || node.secret === true;
      const v = node.value;
      if (Array.isArray(v)) v.forEach((c) => walk(c, isSecret));
      else if (v !== null && typeof v === "object") Object.values(v).forEach((c) => walk(c, isSecret));
      else if (isSecret && v !== null) this.add(String(v));
    };
    for (const env of envs) {
      for (const node of Object.values(env.properties)) walk(node, false);
      this.add(...(env.secrets ?? []));
    }
    return this;
  }

  /** The text with every known value replaced by `[secret]`. */
  text(input: string): string {
    let out = input;
    for (const needle of this.#needles) if (out.includes(needle)) out = out.split(needle).join("[secret]");
    return out;
  }

  /** A deep copy of a JSON-like value with every string redacted. */
  deep<T>(value: T): T {
    if (typeof value === "string") return this.text(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.deep(v)) as T;
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.deep(v)])) as T;
    }
    return value;
  }
}
