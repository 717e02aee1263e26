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

/** How many generations of one scope's values stay hidden: the current one and the one before. */
const GENERATIONS = 2;

const NOTHING_KEPT: ReadonlySet<string> = new Set();

export class Redactor {
  /** Values added for good (tokens, the passphrase). */
  #fixed = new Set<string>();
  /**
   * Values by scope (an environment), newest generation last. A long-running process reads the
   * same environments again and again: replacing a scope's values keeps the redactor's size
   * bounded by what the environments hold now, while a rotated value stays hidden one more cycle.
   */
  #scoped = new Map<string, Set<string>[]>();
  #needles: string[] = [];

  /** Adds values to hide for good. Each is also hidden in its JSON-escaped form. */
  add(...values: (string | undefined)[]): this {
    for (const form of forms(values)) this.#fixed.add(form);
    return this.#rebuild();
  }

  /** Replaces the values of one scope (keeping its previous generation hidden too). */
  replaceScope(scope: string, values: readonly (string | undefined)[]): this {
    this.#setScope(scope, values);
    return this.#rebuild();
  }

  /** Replaces the values of many scopes with one rebuild: thousands must not sort every value once each. */
  replaceScopes(scopes: Iterable<readonly [string, readonly (string | undefined)[]]>): this {
    for (const [scope, values] of scopes) this.#setScope(scope, values);
    return this.#rebuild();
  }

  /** Replaces one scope's values without rebuilding. */
  #setScope(scope: string, values: readonly (string | undefined)[]): void {
    const generations = [...(this.#scoped.get(scope) ?? []), new Set(forms(values))].slice(-GENERATIONS);
    this.#scoped.set(scope, generations);
  }

  /** How many texts are hidden: what tests bound. */
  get size(): number {
    return this.#needles.length;
  }

  /**
   * Hides every secret leaf of the environments. Each environment (at a tag, or opened as the
   * latest or a pinned number) is one scope: one call's values replace the scope's previous ones.
   */
  addEnvironments(envs: readonly ResolvedEnvironment[]): this {
    const byScope = new Map<string, string[]>();
    for (const env of envs) {
      const { org, project, name } = env.ref;
      const scope = `${org}/${project}/${name}${env.tag ? `@${env.tag}` : ""}`;
      const values = byScope.get(scope) ?? [];
      byScope.set(scope, values);
      const walk = (node: ValueNode, secret: boolean): void => {
        const isSecret = secret || node.secret === true;
        const v = node.value;
        if (Array.isArray(v)) v.forEach((c) => walk(c, isSecret));
        else if (v !== null && typeof v === "object") Object.values(v).forEach((c) => walk(c, isSecret));
        else if (isSecret && v !== null) values.push(String(v));
      };
      for (const node of Object.values(env.properties)) walk(node, false);
      values.push(...(env.secrets ?? []));
    }
    return this.replaceScopes(byScope);
  }

  #rebuild(): this {
    const all = new Set(this.#fixed);
    for (const generations of this.#scoped.values()) for (const g of generations) for (const v of g) all.add(v);
    // Longest first, so that a value containing another is hidden whole.
    this.#needles = [...all].sort((a, b) => b.length - a.length);
    return this;
  }

  /** The text with every known value replaced by `[secret]`. */
  text(input: string): string {
    let out = input;
    for (const needle of this.#needles) if (out.includes(needle)) out = out.split(needle).join("[secret]");
    return out;
  }

  /**
   * A deep copy of a JSON-like value with every string redacted, except the strings of the keys
   * in `keep`: fields of a closed vocabulary (an event's `kind`, a pair's `status`), which never
   * hold a value and which consumers switch on. A secret that happens to read "one" must not turn
   * `pair-done` into `pair-d[secret]`.
   */
  deep<T>(value: T, keep: ReadonlySet<string> = NOTHING_KEPT): T {
    if (typeof value === "string") return this.text(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.deep(v, keep)) as T;
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, keep.has(k) && typeof v === "string" ? v : this.deep(v, keep)]),
      ) as T;
    }
    return value;
  }
}

/** The forms of values worth hiding: each as is and JSON-escaped; short ones left out. */
function forms(values: readonly (string | undefined)[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (!v || v.length < MIN_LENGTH) continue;
    out.push(v, JSON.stringify(v).slice(1, -1));
  }
  return out;
}
