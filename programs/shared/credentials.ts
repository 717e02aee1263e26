/**
 * Credentials a binding takes from the environment itself (`credentials: aws.login`): the string
 * leaves under that path, by their path below it. Each kind says which fields it reads and which
 * fields of its ESC login provider's output it knows and leaves alone; anything else, or a field
 * it needs and does not find, stops the program with a message naming fields, never values.
 * What it reads reaches the provider inside `pulumi.secret`, so state holds ciphertext only.
 */
import * as pulumi from "@pulumi/pulumi";
import type { SecretValue } from "../secret-value.js";

/** The credentials under a binding's `credentials:` path do not have the fields a kind needs. */
export class CredentialsError extends Error {
  override readonly name = "CredentialsError";
}

/** What a kind reads from the credentials, for checks and messages. */
export interface CredentialSpec {
  /** Who reads them, for messages: a kind (`aws-secrets-manager`). */
  readonly target: string;
  /** The fields it can read. */
  readonly fields: readonly string[];
  /** Fields of its login provider's output it knows and does not use (`project`, `expiry`). */
  readonly ignored?: readonly string[];
  /** The fields it needs, for people: `accessKeyId and secretAccessKey, optionally sessionToken`. */
  readonly expected: string;
  /** Where such credentials come from: `the output of fn::open::aws-login`. */
  readonly source: string;
}

/** The credentials of one pair, checked against a kind's {@link CredentialSpec}. */
export class Credentials {
  readonly #values: Readonly<Record<string, SecretValue>>;
  readonly #spec: CredentialSpec;

  constructor(values: Readonly<Record<string, SecretValue>>, spec: CredentialSpec) {
    this.#values = values;
    this.#spec = spec;
    const known = new Set([...spec.fields, ...(spec.ignored ?? [])]);
    const unknown = Object.keys(values).filter((name) => !known.has(name)).sort();
    if (unknown.length > 0) throw this.error(`unexpected field${unknown.length === 1 ? "" : "s"} ${unknown.join(", ")}`);
  }

  /** True when the field is there and not empty. */
  has(field: string): boolean {
    const value = this.#values[field];
    return value !== undefined && value.byteLength > 0;
  }

  /** The first of `fields` that is there, as a secret Output; undefined when none is. */
  optional(...fields: string[]): pulumi.Output<string> | undefined {
    const field = fields.find((f) => this.has(f));
    return field === undefined ? undefined : pulumi.secret(this.#values[field]!.reveal());
  }

  /** The first of `fields` that is there, as a secret Output; throws naming them when none is. */
  required(...fields: string[]): pulumi.Output<string> {
    const value = this.optional(...fields);
    if (value === undefined) throw this.missing(fields.join(" or "));
    return value;
  }

  /** An error saying that `what` is missing, for combinations a kind checks itself. */
  missing(what: string): CredentialsError {
    return this.error(`missing ${what}`);
  }

  private error(problem: string): CredentialsError {
    const s = this.#spec;
    return new CredentialsError(
      `credentials for ${s.target} from the environment (binding credentials: or providerConfigFrom: environment): ${problem}; expected ${s.expected} (${s.source}), ` +
        `or no credentials: to use the usual credential chain`,
    );
  }
}

/** The pair's credentials checked against `spec`, or undefined when the binding gives none. */
export function credentialsFor(values: Readonly<Record<string, SecretValue>> | undefined, spec: CredentialSpec): Credentials | undefined {
  return values === undefined ? undefined : new Credentials(values, spec);
}
