/** Durations as people write them in flags and the manifest: `90s`, `15m`, `1h30m`, `500ms`. */

const PART = /(\d+)(ms|s|m|h)/g;
const WHOLE = /^(?:\d+(?:ms|s|m|h))+$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (!WHOLE.test(t)) return undefined;
  let ms = 0;
  for (const [, n, unit] of t.matchAll(PART)) ms += Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
  // Node's timers hold at most 2^31-1 ms (24.8 days); past that they fire at once, in a loop.
  return ms > 0 && ms <= MAX_DURATION_MS ? ms : undefined;
}

/** The longest duration a timer can wait. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

export const DURATION_HINT = "a duration such as 90s, 15m or 1h30m, at most 596h";
