/**
 * Every target kind, by key. A new kind is a folder under `programs/` plus one line here; the
 * `satisfies` clause makes the compiler refuse a module that does not fit the contract.
 */
import type { TargetKind } from "./contract.js";
import { fileTarget } from "./file/index.js";

export const targetKinds = {
  file: fileTarget,
} satisfies Record<string, TargetKind<any>>;

export type TargetKindName = keyof typeof targetKinds;

/** Looks a kind up by name; undefined for an unknown kind. */
export function findTargetKind(kind: string): TargetKind<any> | undefined {
  return Object.hasOwn(targetKinds, kind) ? (targetKinds as Record<string, TargetKind<any>>)[kind] : undefined;
}
