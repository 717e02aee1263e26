/**
 * The one type a secret travels in, from the sources through the planner to the programs: it
 * lives on the programs' side of the contract, which the orchestrator uses and never the other
 * way round.
 */
import { inspect } from "node:util";

/**
 * A value that must never be shown. Printing, logging or JSON-encoding it yields `[secret]`;
 * only {@link SecretValue.reveal} gives the text, and only the program that writes it calls that.
 */
export class SecretValue {
  readonly #text: string;
  constructor(text: string) {
    this.#text = text;
  }
  reveal(): string {
    return this.#text;
  }
  /** Size in bytes of the UTF-8 text, for store limits. */
  get byteLength(): number {
    return Buffer.byteLength(this.#text, "utf8");
  }
  toString(): string {
    return "[secret]";
  }
  toJSON(): string {
    return "[secret]";
  }
  [inspect.custom](): string {
    return "[secret]";
  }
}
