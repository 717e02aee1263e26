/**
 * Writes imported values into an ESC environment definition with the `yaml` Document API, so that
 * every other key, comment and ciphertext of the definition stays as it was. Pure: text in, text
 * out.
 *
 * An imported string becomes `fn::secret: <text>` with every `$` doubled (ESC reads `$$` as `$`,
 * and `${...}` would otherwise be interpolated). A JSON document imported as an object becomes
 * nested maps and lists whose string leaves are `fn::secret`; ESC's `fn::secret` takes strings
 * only, so a number, boolean or null leaf becomes `fn::fromJSON: {fn::secret: "<json>"}`, which
 * ESC evaluates to the same secret value of the same type.
 */
import { isMap, parseDocument, type Document } from "yaml";
import type { Plain } from "../values.js";

/** The definition could not take the import (not YAML, or the path is not a mapping). */
export class DefinitionError extends Error {
  override readonly name = "DefinitionError";
}

/** A definition being edited. */
export class DefinitionEditor {
  readonly #doc: Document;
  /** `values` then the property path: where imported keys go. */
  readonly #base: string[];

  constructor(yaml: string, path: readonly string[]) {
    this.#doc = parseDocument(yaml, { keepSourceTokens: false });
    if (this.#doc.errors.length > 0) {
      throw new DefinitionError(`the environment definition is not valid YAML: ${this.#doc.errors[0]!.message.split("\n")[0]}`);
    }
    this.#base = ["values", ...path];
    // Each level down to the path must be a mapping (or absent): never replace what is there.
    if (this.#doc.contents !== null && !isMap(this.#doc.contents)) throw new DefinitionError("the environment definition is not a mapping");
    for (let i = 1; i <= this.#base.length; i++) {
      const node = this.#doc.getIn(this.#base.slice(0, i), true);
      if (node === undefined || node === null) break;
      const where = this.#base.slice(0, i).join(".");
      if (!isMap(node)) throw new DefinitionError(`${where} is not a mapping in the definition: esc-sync cannot merge into it (choose another --path)`);
      if (node.items.some((pair) => typeof (pair.key as { value?: unknown })?.value === "string" && String((pair.key as { value: string }).value).startsWith("fn::"))) {
        throw new DefinitionError(`${where} is a function call in the definition: esc-sync cannot merge into it (choose another --path)`);
      }
    }
  }

  /** True when the definition itself has `key` under the path (it may also come from an import). */
  has(key: string): boolean {
    return this.#doc.hasIn([...this.#base, key]);
  }

  /** Sets `key` under the path to `value` as secret text, or to a document whose leaves are secret. */
  set(key: string, value: string | { json: Plain }): void {
    const node = typeof value === "string" ? secretText(value) : secretDocument(value.json);
    this.#doc.setIn([...this.#base, key], this.#doc.createNode(node));
  }

  toString(): string {
    return this.#doc.toString();
  }
}

/** `fn::secret` of a text, with `$` escaped for ESC's interpolation. */
function secretText(text: string): Record<string, string> {
  // A function replacement: in a replacement string, "$$" would itself mean one "$".
  return { "fn::secret": text.replaceAll("$", () => "$$") };
}

function secretDocument(value: Plain): unknown {
  if (typeof value === "string") return secretText(value);
  if (Array.isArray(value)) return value.map(secretDocument);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, secretDocument(v)]));
  }
  return { "fn::fromJSON": secretText(JSON.stringify(value)) };
}
