/**
 * The `fn::*` built-ins computed locally. Arguments are type-checked as ESC checks them (errors
 * blame the offending literal where there is one); a result is unknown when its inputs are, and
 * secret when anything it was computed from is.
 */
import type { Expr } from "./ast.js";
import type { Position } from "./syntax.js";
import { combined, fromJSONText, known, makeSecret, toGoJSON, toStringValue, typeName, unknownVal, type Val } from "./value.js";

/** What a built-in needs from the evaluator that calls it (kept narrow: no import back into it). */
export interface BuiltinHost {
  evaluateExpr(x: Expr): Val;
  error(at: Position, summary: string): void;
  /** Secret plaintexts met, for the redaction layer. */
  readonly run: { readonly secretTexts: Set<string> };
}

/** The argument shapes built-ins accept. */
type Shape = { type: "any" } | { type: "string" } | { type: "array"; items: Shape };

const ANY: Shape = { type: "any" };
const STRING: Shape = { type: "string" };
const arrayOf = (items: Shape): Shape => ({ type: "array", items });

/** Where a type error is reported: a literal when the value has one, else its expression plus a relative path. */
interface Loc {
  x: Expr;
  path: string;
  prefix: boolean;
}

function check(ev: BuiltinHost, v: Val, shape: Shape, loc: Loc): boolean {
  if (shape.type === "any" || v.unknown) return true;
  const actual = typeName(v);
  if (actual !== shape.type) {
    const summary = `expected ${shape.type}, got ${actual}`;
    ev.error(loc.x.node, loc.prefix ? `${loc.path}: ${summary}` : summary);
    return false;
  }
  if (shape.type === "array" && Array.isArray(v.repr)) {
    let ok = true;
    v.repr.forEach((item, i) => {
      const at: Loc =
        loc.x.kind === "array" && i < loc.x.elements.length
          ? { x: loc.x.elements[i]!, path: `[${i}]`, prefix: false }
          : { x: loc.x, path: `${loc.path}[${i}]`, prefix: true };
      ok = check(ev, item, shape.items, at) && ok;
    });
    return ok;
  }
  return true;
}

/** Evaluates an argument and checks its type; `ok` is false when the check failed. */
function typed(ev: BuiltinHost, x: Expr, shape: Shape): { v: Val; ok: boolean } {
  const v = ev.evaluateExpr(x);
  return { v, ok: check(ev, v, shape, { x, path: "", prefix: false }) };
}

/** A result computed from `inputs`: unknown (and not computed) if any input is. */
function derive(inputs: Val[], compute: () => Val["repr"]): Val {
  const flags = combined(...inputs);
  if (flags.unknown) return unknownVal(flags.secret);
  return known(compute(), flags.secret);
}

const str = (v: Val): string => v.repr as string;

export function evaluateBuiltin(ev: BuiltinHost, x: Expr & { kind: "builtin" }): Val {
  const [a, b] = x.args as [Expr, Expr | undefined];
  switch (x.name) {
    case "fn::secret":
      // The plaintext literal carries the secret flag (set when parsed).
      return ev.evaluateExpr(a);

    case "fn::join": {
      const delimiter = typed(ev, a, STRING);
      const values = typed(ev, b!, arrayOf(STRING));
      if (!delimiter.ok || !values.ok) return unknownVal();
      return derive([delimiter.v, values.v], () => (values.v.repr as Val[]).map(str).join(str(delimiter.v)));
    }

    case "fn::split": {
      const delimiter = typed(ev, a, STRING);
      const input = typed(ev, b!, STRING);
      if (!delimiter.ok || !input.ok) return unknownVal();
      return derive([delimiter.v, input.v], () => {
        const d = str(delimiter.v);
        // Go splits on an empty separator between code points, not UTF-16 units.
        const parts = d === "" ? Array.from(str(input.v)) : str(input.v).split(d);
        return parts.map((p) => known(p));
      });
    }

    case "fn::concat": {
      const arrays = typed(ev, a, arrayOf(arrayOf(ANY)));
      if (!arrays.ok) return unknownVal();
      return derive([arrays.v], () => (arrays.v.repr as Val[]).flatMap((inner) => inner.repr as Val[]));
    }

    case "fn::toJSON": {
      const value = ev.evaluateExpr(a);
      return derive([value], () => toGoJSON(value));
    }

    case "fn::fromJSON": {
      const input = typed(ev, a, STRING);
      if (!input.ok) return unknownVal();
      const flags = combined(input.v);
      if (flags.unknown) return unknownVal(flags.secret);
      let decoded: Val;
      try {
        decoded = fromJSONText(str(input.v));
      } catch (err) {
        // The parser's message quotes the text it failed on: say where, never what.
        if (flags.secret) ev.run.secretTexts.add(str(input.v));
        ev.error(x.node, `decoding JSON string: ${jsonProblem(err)}`);
        return unknownVal(flags.secret);
      }
      // Everything decoded from a secret is secret, down to each element.
      return flags.secret ? makeSecret(decoded) : decoded;
    }

    case "fn::toString": {
      const s = toStringValue(ev.evaluateExpr(a));
      return s.unknown ? unknownVal(s.secret) : known(s.text, s.secret);
    }

    case "fn::toBase64": {
      const input = typed(ev, a, STRING);
      if (!input.ok) return unknownVal();
      return derive([input.v], () => Buffer.from(str(input.v), "utf8").toString("base64"));
    }

    case "fn::fromBase64": {
      const input = typed(ev, a, STRING);
      if (!input.ok) return unknownVal();
      const flags = combined(input.v);
      if (flags.unknown) return unknownVal(flags.secret);
      const problem = base64Problem(str(input.v));
      if (problem !== undefined) {
        if (flags.secret) ev.run.secretTexts.add(str(input.v));
        ev.error(x.node, `decoding base64 string: illegal base64 data at input byte ${problem}`);
        return unknownVal(flags.secret);
      }
      return known(Buffer.from(str(input.v).replace(/[\r\n]/g, ""), "base64").toString("utf8"), flags.secret);
    }

    case "fn::final": {
      const value = ev.evaluateExpr(a);
      const flags = combined(value);
      return { repr: value.repr, unknown: flags.unknown, secret: flags.secret, final: true };
    }
  }
}

/**
 * What is wrong with a JSON text, from the parser's error, without quoting the text: V8's
 * messages embed the offending token and a slice of the input, so only its position is kept.
 */
export function jsonProblem(err: unknown): string {
  const message = err instanceof Error ? err.message : "";
  if (/Unexpected end of JSON input/.test(message)) return "not valid JSON: the text ends early";
  const at = /at position (\d+)(?: \(line (\d+) column (\d+)\))?/.exec(message);
  if (!at) return "not valid JSON";
  return at[2] ? `not valid JSON at line ${at[2]} column ${at[3]}` : `not valid JSON at offset ${at[1]}`;
}

/**
 * Where strict standard base64 (Go's `StdEncoding`: padded, `+/` alphabet, CR/LF ignored) is
 * invalid, as a byte offset; undefined when the text is valid.
 */
export function base64Problem(text: string): number | undefined {
  const chars: { c: string; at: number }[] = [];
  for (let i = 0; i < text.length; i++) if (text[i] !== "\r" && text[i] !== "\n") chars.push({ c: text[i]!, at: i });
  for (let i = 0; i < chars.length; i++) {
    const { c, at } = chars[i]!;
    if (/[A-Za-z0-9+/]/.test(c)) continue;
    if (c === "=") {
      // Padding may only close the last quantum: one `=` at position 3, or two at 2 and 3.
      const inQuantum = i % 4;
      const rest = chars.length - i;
      if ((inQuantum === 3 && rest === 1) || (inQuantum === 2 && rest === 2 && chars[i + 1]!.c === "=")) return undefined;
      return at;
    }
    return at;
  }
  if (chars.length % 4 !== 0) return text.length;
  return undefined;
}
