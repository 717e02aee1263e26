/**
 * The one place a store program turns a planned entry's value into text: always inside
 * `pulumi.secret`, so that state holds ciphertext only.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PlannedEntry } from "../contract.js";

/** The entry's text as a secret Output, for a store's value input. */
export function secretText(entry: PlannedEntry): pulumi.Output<string> {
  return pulumi.secret(entry.value.reveal());
}

/** Resource options every store resource gets: the pair's explicit provider and `retainOnDelete`. */
export function storeOptions(provider: pulumi.ProviderResource, retainOnDelete: boolean, extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions {
  return { ...extra, provider, retainOnDelete };
}
