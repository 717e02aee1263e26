/**
 * The `${...}` language of ESC strings: interpolation parts and property accesses
 * (`a.b`, `a[0]`, `a["quoted key"]`, `["root key"].x`), with `$$` standing for a literal `$`.
 */

/** One step of a property access. `start`/`end` are offsets in the string value, for columns. */
export type Accessor =
  | { kind: "name"; name: string; start: number; end: number }
  | { kind: "subscript"; index: string | number; start: number; end: number };

/** A piece of an interpolated string: literal text, then (optionally) an access to splice in. */
export interface Interpolation {
  text: string;
  access?: Accessor[];
}

/** A problem in the access syntax, at an offset of the string value. */
export interface AccessSyntaxError {
  offset: number;
  summary: string;
}

const isSpace = (c: string): boolean => /\s/u.test(c);

/** Splits a string into interpolation parts. `$$` is an escaped `$`. */
export function parseInterpolation(value: string): { parts: Interpolation[]; errors: AccessSyntaxError[] } {
  const parts: Interpolation[] = [];
  const errors: AccessSyntaxError[] = [];
  let text = "";
  let i = 0;
  while (i < value.length) {
    if (value.startsWith("$$", i)) {
      text += "$";
      i += 2;
    } else if (value.startsWith("${", i)) {
      const parsed = parseAccess(value, i + 2, errors);
      parts.push({ text, access: parsed.accessors });
      text = "";
      i = parsed.end;
    } else {
      text += value[i];
      i++;
    }
  }
  if (text.length > 0) parts.push({ text });
  return { parts, errors };
}

/** Parses an access starting right after `${`; returns the accessors and the offset after `}`. */
function parseAccess(s: string, start: number, errors: AccessSyntaxError[]): { accessors: Accessor[]; end: number } {
  const accessors: Accessor[] = [];
  let i = start;
  const terminatesName = (c: string): boolean => c === "." || c === "[" || c === "}" || isSpace(c);

  const parseName = (from: number): Accessor => {
    let name = "";
    while (i < s.length && !terminatesName(s[i]!)) name += s[i++];
    if (name === "") errors.push({ offset: from, summary: "property name must not be empty" });
    return { kind: "name", name, start: from, end: i };
  };

  const parseSubscript = (from: number): Accessor => {
    if (i >= s.length) {
      errors.push({ offset: from, summary: "subscript is missing closing bracket ']'" });
      return { kind: "subscript", index: "", start: from, end: i };
    }
    let index: string | number;
    if (s[i] === '"') {
      i++;
      let key = "";
      let closed = false;
      while (i < s.length) {
        let c = s[i++]!;
        if (c === '"') {
          closed = true;
          break;
        }
        if (c === "\\" && s[i] === '"') c = s[i++]!;
        key += c;
      }
      if (!closed) errors.push({ offset: from + 1, summary: "key subscript is missing closing quote '\"'" });
      else if (key === "") errors.push({ offset: from + 1, summary: "key subscript must not be empty" });
      index = key;
    } else {
      let text = "";
      while (i < s.length && s[i] !== "]" && !terminatesName(s[i]!)) text += s[i++];
      if (/^[+-]?\d+$/.test(text)) {
        index = Number(text);
        if (accessors.length === 0) {
          errors.push({ offset: from, summary: "the first accessor must be a property name or key subscript, not a numeric subscript" });
        }
      } else {
        errors.push({ offset: from + 1, summary: "numeric subscript must be a positive base-10 integer" });
        index = text;
      }
    }
    if (s[i] !== "]") errors.push({ offset: from, summary: "subscript is missing closing bracket ']'" });
    else i++;
    return { kind: "subscript", index, start: from, end: i };
  };

  for (;;) {
    if (i >= s.length) {
      errors.push({ offset: i, summary: "missing closing brace '}' in interpolation" });
      break;
    }
    const c = s[i]!;
    if (c === "}") {
      i++;
      break;
    }
    if (c === ".") {
      i++;
      accessors.push(parseName(i - 1));
    } else if (c === "[") {
      i++;
      accessors.push(parseSubscript(i - 1));
    } else if (isSpace(c)) {
      errors.push({ offset: i, summary: "missing closing brace '}' in interpolation" });
      break;
    } else {
      accessors.push(parseName(i));
    }
  }
  if (accessors.length === 0) accessors.push({ kind: "name", name: "", start, end: i });
  return { accessors, end: i };
}
