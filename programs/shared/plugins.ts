/**
 * Plugin requirements read from the installed provider packages, so that the version the run
 * installs is always the one the SDK package was generated for.
 */
import { createRequire } from "node:module";
import type { PluginRequirement } from "../contract.js";

const require = createRequire(import.meta.url);

interface ProviderPackageJson {
  version: string;
  pulumi?: { resource?: boolean; name?: string; version?: string };
}

/** The provider plugin behind an installed `@pulumi/<name>` package (its `pulumi` block). */
export function pluginOf(npmPackage: string): PluginRequirement {
  const pkg = require(`${npmPackage}/package.json`) as ProviderPackageJson;
  const name = pkg.pulumi?.name ?? npmPackage.replace(/^@pulumi\//, "");
  return { name, version: pkg.pulumi?.version ?? pkg.version };
}
