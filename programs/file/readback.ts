/**
 * Reads a `file` pair back from its refreshed state, for `esc-sync drift`. The program writes one
 * dynamic-provider resource per pair: its `content` input is the text esc-sync wrote and writes
 * again while ESC is unchanged; its outputs hold what a refresh found on disk (`content`, `mode`,
 * and `present: false` once the file is gone).
 *
 * The next `sync --refresh` rewrites the file whenever its bytes or its mode differ from what
 * esc-sync writes (the provider's `diff`), so the read-back accounts for every byte: the entries'
 * values, then what the values do not show, as findings: a line or key esc-sync did not write
 * (`extra`), comments, order, spacing or quoting (`format`, on the entry `(file)`), the mode
 * (`(file mode)`), and a file gone that held no entry (`(file)` missing).
 */
import type { EntryReadback, Shape, StateResource } from "../contract.js";
import { documentFindings, parseJson, sameJson, text } from "../shared/readback.js";
import { canonicalText, DOC, fileEntries, parseDotenv } from "./render.js";

/** The resource type of a file in state. */
export const FILE_TYPE = "pulumi-nodejs:dynamic/esc-sync:File";

/** The report's entry for the file as a whole: its layout, or its absence. */
export const FILE_ENTRY = "(file)";
/** The report's entry for the file's mode. */
export const MODE_ENTRY = "(file mode)";

/** The permission bits of an octal mode text (`0600`, `600`, `00`); undefined when it is not one. */
export function modeBits(mode: string | undefined): number | undefined {
  return mode !== undefined && /^[0-7]{1,4}$/.test(mode) ? parseInt(mode, 8) & 0o777 : undefined;
}

const octal = (bits: number) => "0" + bits.toString(8).padStart(3, "0");

export function readBack(resources: readonly StateResource[], shape: Shape): EntryReadback {
  const out: EntryReadback = { applied: new Map(), actual: new Map(), findings: [] };
  const findings = out.findings!;
  const file = resources.find((r) => r.type === FILE_TYPE);
  if (!file) return out;
  const docName = text(file.inputs, "docName") ?? DOC;
  const written = text(file.inputs, "content");
  const onDisk = file.outputs?.present === false ? undefined : text(file.outputs, "content");
  // An adopted file not yet synced: what was "written" is what was there when it was adopted,
  // and what the next sync changes in it is pending, not changed outside esc-sync.
  const adopted = file.outputs?.adopt === true && onDisk !== undefined;
  const appliedText = adopted ? onDisk : written;
  if (appliedText === undefined) return out;
  out.applied = fileEntries(shape, appliedText, docName);

  if (onDisk === undefined) {
    // Gone: its entries read as missing; a file that held none is missing itself.
    if (out.applied.size === 0) findings.push({ name: FILE_ENTRY, status: "missing" });
    return out;
  }

  if (shape === "keys") {
    for (const [name, value] of parseDotenv(onDisk)) {
      if (out.applied.has(name)) out.actual.set(name, value);
      else findings.push({ name, reason: "extra", value });
    }
  } else {
    const holds = parseJson(onDisk);
    const wrote = parseJson(appliedText);
    // The same document in another layout has the value written; the layout is a finding below.
    if (holds !== undefined && wrote !== undefined && sameJson(holds.value, wrote.value)) out.actual.set(docName, out.applied.get(docName)!);
    else out.actual.set(docName, holds !== undefined ? JSON.stringify(holds.value) : onDisk);
    findings.push(...documentFindings(docName, appliedText, onDisk));
  }

  const valuesDiffer =
    findings.length > 0 || out.applied.size !== out.actual.size || [...out.applied].some(([name, value]) => out.actual.get(name) !== value);
  const canonical = canonicalText(shape, onDisk);
  // Not laid out as esc-sync writes these values; or the same values in other bytes than written
  // (the order of a JSON document's keys): either way the next sync rewrites the file.
  if ((canonical !== undefined && canonical !== onDisk) || (!valuesDiffer && written !== undefined && onDisk !== written)) {
    findings.push({
      name: FILE_ENTRY,
      reason: "format",
      detail: shape === "keys" ? "comments, blank lines, order, spacing or quoting differ from what esc-sync writes" : "key order or spacing differs from what esc-sync writes",
    });
  }

  const wantMode = modeBits(text(file.inputs, "mode"));
  const hasMode = modeBits(text(file.outputs, "mode"));
  if (wantMode !== undefined && hasMode !== undefined && wantMode !== hasMode) {
    findings.push({ name: MODE_ENTRY, reason: "mode", detail: `${octal(hasMode)}, esc-sync writes ${octal(wantMode)}` });
  }
  if (adopted) for (const f of findings) f.status ??= "pending";
  return out;
}
