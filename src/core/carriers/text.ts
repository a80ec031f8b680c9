/**
 * Index-based scanning helpers shared by the carrier codecs. They take `[start, end)` bounds instead
 * of returning substrings so the per-request paths can validate a header without allocating.
 * OWS is `*( SP / HTAB )` (RFC 9110 §5.6.3), the definition both W3C specs use.
 */

const SP = 0x20;
const HTAB = 0x09;

/** First index in `[i, end)` that is not OWS, or `end`. */
export function skipOws(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c !== SP && c !== HTAB) break;
    i++;
  }
  return i;
}

/** End of `[start, end)` once trailing OWS is cut off. */
export function trimOwsEnd(s: string, start: number, end: number): number {
  while (end > start) {
    const c = s.charCodeAt(end - 1);
    if (c !== SP && c !== HTAB) break;
    end--;
  }
  return end;
}

/** Whether `[start, end)` is all lower-case hex digits (both W3C and B3 ids are lower-hex only). */
export function isLowerHex(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** Lower-hex and not all `0`: an all-zero id is "invalid" in every id format we read. */
export function isNonZeroLowerHex(s: string, start: number, end: number): boolean {
  let nonZero = false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x30) continue;
    if (!((c >= 0x31 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
    nonZero = true;
  }
  return nonZero;
}
