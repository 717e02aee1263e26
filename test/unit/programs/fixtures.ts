/**
 * Shared fixtures for the target-kind program tests: planned entries, program inputs, and a
 * runner that executes a kind's `PulumiFn` under `pulumi.runtime.setMocks` and returns every
 * resource the program registered, with its inputs exactly as the engine would receive them.
 *
 * `setMocks` is process-global: each test file calls {@link runProgram}, which resets the mocks
 * before every run, and vitest runs each file in its own worker.
 */
import * as pulumi from "@pulumi/pulumi";
import { expect } from "vitest";
import type { PlannedEntry, ProgramInput, Shape, TargetKind } from "../../../programs/contract.js";
import { SecretValue } from "../../../programs/secret-value.js";

export const ENV = { org: "acme", project: "payments", name: "prod" } as const;

/** A planned entry; `key` defaults to the name for the `keys` shape. */
export function entry(name: string, text: string, opts: { key?: string; secret?: boolean } = {}): PlannedEntry {
  return {
    name,
    ...(opts.key !== undefined ? { key: opts.key } : {}),
    value: new SecretValue(text),
    secret: opts.secret ?? true,
  };
}

/** A `json`-shape entry: one document, no key. */
export function jsonEntry(name: string, doc: unknown): PlannedEntry {
  return entry(name, JSON.stringify(doc));
}

/** `keys`-shape entries from a record of key → text, named by `name(key)`. */
export function keyEntries(values: Record<string, string>, name: (key: string) => string = (k) => k, secret = true): PlannedEntry[] {
  return Object.entries(values).map(([key, text]) => entry(name(key), text, { key, secret }));
}

/** A text of exactly `bytes` UTF-8 bytes. */
export function textOfBytes(bytes: number): string {
  return "x".repeat(bytes);
}

/** A program input for a pair of the fixture environment. */
export function programInput<S>(settings: S, shape: Shape, entries: PlannedEntry[], overrides: Partial<ProgramInput<S>> = {}): ProgramInput<S> {
  return {
    settings,
    shape,
    env: { ...ENV },
    targetId: "primary",
    bindingId: "default",
    entries,
    retainOnDelete: false,
    ...overrides,
  };
}

/** Parses raw settings through the kind's schema, as the manifest loader does. */
export function parseSettings<S extends object>(kind: TargetKind<S>, raw: unknown): S {
  return kind.settingsSchema.parse(raw);
}

/** One resource registration seen by the mock monitor. */
export interface Registration {
  type: string;
  name: string;
  /** Inputs as deserialized by the mocks: secret values stay wrapped (see {@link expectSecret}). */
  inputs: Record<string, any>;
  /** Provider reference `urn::id`, or "" when the default provider is used. */
  provider: string;
  retainOnDelete: boolean | undefined;
  urn: string;
}

/** Runs a kind's program under Pulumi mocks and returns what it registered, in order. */
export async function runProgram(fn: () => Promise<Record<string, any> | void>): Promise<{ resources: Registration[]; outputs: Record<string, any> | void }> {
  const resources: Registration[] = [];
  const byName = new Map<string, Partial<Registration>>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const extra = byName.get(`${args.type}::${args.name}`) ?? {};
        resources.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          provider: args.provider ?? "",
          retainOnDelete: extra.retainOnDelete,
          urn: `urn:pulumi:stack::esc-sync::${args.type}::${args.name}`,
        });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call(args) {
        return args.inputs;
      },
    },
    "esc-sync",
    "stack",
    false,
  );
  // The mocks do not pass resource options to `newResource`; read `retainOnDelete` from the
  // registration request itself on its way to the mock monitor.
  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, cb: any) => {
    byName.set(`${req.getType()}::${req.getName()}`, { retainOnDelete: req.getRetainondelete() });
    return register(req, cb);
  };
  const outputs = await fn();
  await waitForRegistrations(resources);
  return { resources, outputs };
}

async function waitForRegistrations(resources: Registration[]): Promise<void> {
  const waitForRPCs = (pulumi.runtime as any).waitForRPCs as (() => Promise<void>) | undefined;
  if (waitForRPCs) await waitForRPCs();
  // Belt and braces: wait until no registration has arrived for a few ticks.
  let seen = -1;
  for (let stable = 0; stable < 3; ) {
    await new Promise((r) => setTimeout(r, 10));
    if (resources.length === seen) stable++;
    else {
      seen = resources.length;
      stable = 0;
    }
  }
}

/** Resources of one type. */
export function ofType(resources: Registration[], type: string): Registration[] {
  return resources.filter((r) => r.type === type);
}

/** The single resource of a type and name. */
export function one(resources: Registration[], type: string, name?: string): Registration {
  const found = resources.filter((r) => r.type === type && (name === undefined || r.name === name));
  expect(found, `${type}${name ? ` ${name}` : ""}`).toHaveLength(1);
  return found[0]!;
}

/**
 * Asserts that an input reached the engine marked secret, holding `plain`. A value passed in
 * plain arrives as a bare string and fails here.
 */
export function expectSecret(input: unknown, plain: string): void {
  expect(pulumi.runtime.isRpcSecret(input), `expected a secret input, got ${JSON.stringify(input)}`).toBe(true);
  expect(pulumi.runtime.unwrapRpcSecret(input)).toBe(plain);
}

/**
 * Asserts that an object input reached the engine marked secret (a secret nested in an object
 * makes the mocks mark the whole top-level input secret), holding `plain`.
 */
export function expectSecretObject(input: unknown, plain: Record<string, unknown>): void {
  expect(pulumi.runtime.isRpcSecret(input), `expected a secret input, got ${JSON.stringify(input)}`).toBe(true);
  expect(pulumi.runtime.unwrapRpcSecret(input)).toEqual(plain);
}

/** Asserts that every store resource uses the (single) explicit provider of `providerType`. */
export function expectExplicitProvider(resources: Registration[], providerType: string): Registration {
  const provider = one(resources, providerType);
  const others = resources.filter((r) => r !== provider);
  expect(others.length).toBeGreaterThan(0);
  for (const r of others) {
    expect(r.provider, `${r.type} ${r.name} provider`).toBe(`${provider.urn}::${provider.name}-id`);
  }
  return provider;
}

/** Messages of the problems, for matching. */
export function messages(problems: { message: string }[]): string[] {
  return problems.map((p) => p.message);
}
