/** "Did you mean" suggestions, as ESC makes them for unknown property names: used by the evaluator, the manifest and the CLI. */

/** The candidate nearest to `x` by edit distance (case and `_` ignored), if within 50% typos. */
export function nearest(x: string, candidates: Iterable<string>): string | undefined {
  const target = fold(x);
  let best: string | undefined;
  let bestDistance = Math.floor((target.length + 1) / 2);
  for (const candidate of candidates) {
    const d = levenshtein(target, fold(candidate));
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best;
}

function fold(s: string): string {
  return s.replaceAll("_", "").toLowerCase();
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(prev + (a[i - 1] === b[j - 1] ? 0 : 1), row[j - 1]! + 1, row[j]! + 1);
      prev = row[j]!;
      row[j] = next;
    }
  }
  return row[b.length]!;
}
