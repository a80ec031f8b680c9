/** Suggests the closest known word for a misspelt one, or nothing when none is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === undefined) return undefined;
  // Allow roughly one typo per four characters, and always a case-only difference.
  const limit = Math.max(1, Math.floor(Math.max(word.length, best.length) / 4));
  return bestDistance <= limit ? best : undefined;
}

/** Damerau-Levenshtein (optimal string alignment) distance. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(
        (d[(i - 1) * cols + j] ?? 0) + 1,
        (d[i * cols + j - 1] ?? 0) + 1,
        (d[(i - 1) * cols + j - 1] ?? 0) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, (d[(i - 2) * cols + j - 2] ?? 0) + 1);
      }
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1] ?? 0;
}

/** Beyond this many names, listing them helps less than it clutters. */
const LISTED = 8;

/**
 * What to add to "X does not exist": ` (did you mean "stable"?)` for the closest known name, since
 * a typo is the usual cause, else ` (lanes: a, b)` while there are few, else nothing.
 */
export function suggestName(word: string, known: Iterable<string>, what: string): string {
  const names = [...new Set(known)].sort();
  const close = didYouMean(word, names);
  if (close !== undefined) return ` (did you mean ${JSON.stringify(close)}?)`;
  if (names.length === 0 || names.length > LISTED) return '';
  return ` (${what}: ${names.join(', ')})`;
}
