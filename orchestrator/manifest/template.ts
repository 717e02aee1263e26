/**
 * Naming templates: `{project}-{env}`, `/{project}/{env}/{key}`. `{{` and `}}` stand for
 * literal braces.
 */
import type { NameContext } from "../../programs/contract.js";

const PLACEHOLDER = /\{\{|\}\}|\{([A-Za-z]+)\}/g;

/** The placeholder names a template uses. */
export function templatePlaceholders(template: string): string[] {
  const names: string[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) if (m[1]) names.push(m[1]);
  return names;
}

/** Fills a template. Throws on a placeholder the context lacks (the manifest check prevents it). */
export function renderTemplate(template: string, ctx: NameContext): string {
  return template.replace(PLACEHOLDER, (whole, name: string | undefined) => {
    if (whole === "{{") return "{";
    if (whole === "}}") return "}";
    const value = (ctx as unknown as Record<string, string | undefined>)[name!];
    if (value === undefined) throw new Error(`template "${template}": {${name}} is not available here`);
    return value;
  });
}
