/**
 * The values of the header fields that decide framing and connection handling: Content-Length,
 * Transfer-Encoding, Connection, Expect. Values arrive OWS-trimmed and free of CTLs (the head
 * scanner saw to that); these functions check the field grammar on top.
 */
import { TOKEN } from './chars.ts';

const quote = (v: string) => JSON.stringify(v);

/**
 * Content-Length = 1*DIGIT (RFC 9110 §8.6). Returns the length, or why the value is invalid.
 * - no sign, no inner spaces, no hex/octal prefixes, no lists (a list of identical values MAY be
 *   collapsed, RFC 9110 §8.6; we reject it: the raw field would be forwarded as it is);
 * - no leading zeros: 1*DIGIT allows "0200", but some parsers read it as octal 128 — a length two
 *   hops disagree on is a smuggling primitive, and no real sender pads lengths;
 * - at most 2^53-1 (a JavaScript number stays exact).
 */
export function parseContentLength(v: string): number | string {
  const n = v.length;
  if (n === 0) return 'empty Content-Length';
  let x = 0;
  for (let k = 0; k < n; k++) {
    const d = v.charCodeAt(k) - 0x30;
    if (d < 0 || d > 9) {
      return v.includes(',')
        ? `Content-Length is a list (${quote(v)}); one value only`
        : `Content-Length ${quote(v)} is not a decimal number (1*DIGIT, RFC 9110 §8.6)`;
    }
    x = x * 10 + d;
    if (x > Number.MAX_SAFE_INTEGER) return `Content-Length ${quote(v)} exceeds 2^53-1`;
  }
  if (n > 1 && v.charCodeAt(0) === 0x30) {
    return `Content-Length ${quote(v)} has leading zeros (decimal and octal readings differ)`;
  }
  return x;
}

export interface CodingProblem {
  /** True: well-formed, but a transfer-coding we do not implement (501 for requests). */
  readonly unsupported: boolean;
  readonly message: string;
}

/**
 * Transfer-Encoding = #transfer-coding (RFC 9112 §6.1), the field lines joined with ",".
 * Accepted: exactly one coding, "chunked" (case-insensitive, RFC 9112 §7). Otherwise:
 * - empty elements, parameters or non-token bytes → malformed. RFC 9110 §5.6.1 lets recipients
 *   skip empty list elements, but this field decides framing: every oddity is rejected;
 * - chunked not last → malformed (RFC 9112 §6.3: the length cannot be determined, MUST 400);
 * - chunked more than once → malformed (RFC 9112 §6.1: a sender MUST NOT);
 * - chunked last, preceded by another coding (gzip, identity, …) → unsupported (RFC 9112 §6.1:
 *   SHOULD 501). We decode none, and forwarding framing we cannot check is how smuggling starts.
 */
export function transferEncodingProblem(value: string): CodingProblem | undefined {
  if (value.length === 7 && equalsLower(value, 0, 'chunked')) return undefined;
  const codings: string[] = [];
  let start = 0;
  for (;;) {
    let comma = value.indexOf(',', start);
    if (comma < 0) comma = value.length;
    let s = start;
    let e = comma;
    while (s < e && isOws(value.charCodeAt(s))) s++;
    while (e > s && isOws(value.charCodeAt(e - 1))) e--;
    if (s === e) return malformed(`empty element in Transfer-Encoding ${quote(value)}`);
    for (let k = s; k < e; k++) {
      const c = value.charCodeAt(k);
      if (c > 0xff || TOKEN[c] !== 1) {
        return malformed(
          c === 0x3b
            ? `transfer-coding parameters in Transfer-Encoding ${quote(value)}`
            : `invalid transfer-coding in Transfer-Encoding ${quote(value)}`,
        );
      }
    }
    codings.push(value.slice(s, e).toLowerCase());
    if (comma === value.length) break;
    start = comma + 1;
  }
  const chunked = codings.filter((c) => c === 'chunked').length;
  if (codings[codings.length - 1] !== 'chunked') {
    return malformed(
      `Transfer-Encoding ${quote(value)}: chunked is not the final coding (RFC 9112 §6.3)`,
    );
  }
  if (chunked > 1) return malformed(`Transfer-Encoding ${quote(value)} applies chunked twice`);
  return {
    unsupported: true,
    message: `Transfer-Encoding ${quote(value)}: only chunked is implemented (RFC 9112 §6.1)`,
  };
}

function malformed(message: string): CodingProblem {
  return { unsupported: false, message };
}

/** value[s, s + lower.length) equals `lower` ASCII-case-insensitively (`lower` has no A–Z). */
function equalsLower(value: string, s: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) {
    const c = value.charCodeAt(s + k);
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== lower.charCodeAt(k)) return false;
  }
  return true;
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

export const CONN_CLOSE = 1;
export const CONN_KEEP_ALIVE = 2;
export const CONN_UPGRADE = 4;

/**
 * Connection = #connection-option (RFC 9110 §7.6.1): the options we act on, as CONN_* bits.
 * Other options (names of hop-by-hop fields) are the proxy's to strip; they are not validated
 * here because they do not change how this message is read.
 */
export function connectionOptions(value: string): number {
  let bits = 0;
  let start = 0;
  const n = value.length;
  while (start <= n) {
    let comma = value.indexOf(',', start);
    if (comma < 0) comma = n;
    let s = start;
    let e = comma;
    while (s < e && isOws(value.charCodeAt(s))) s++;
    while (e > s && isOws(value.charCodeAt(e - 1))) e--;
    const len = e - s;
    if (len === 5 && equalsLower(value, s, 'close')) bits |= CONN_CLOSE;
    else if (len === 10 && equalsLower(value, s, 'keep-alive')) bits |= CONN_KEEP_ALIVE;
    else if (len === 7 && equalsLower(value, s, 'upgrade')) bits |= CONN_UPGRADE;
    start = comma + 1;
  }
  return bits;
}

/**
 * Expect = #expectation (RFC 9110 §10.1.1): '100-continue' when that is the only expectation
 * (case-insensitive), 'other' when anything else is expected, 'none' for an empty value.
 */
export function expectation(value: string): 'none' | '100-continue' | 'other' {
  let found: 'none' | '100-continue' | 'other' = 'none';
  let start = 0;
  const n = value.length;
  while (start <= n) {
    let comma = value.indexOf(',', start);
    if (comma < 0) comma = n;
    let s = start;
    let e = comma;
    while (s < e && isOws(value.charCodeAt(s))) s++;
    while (e > s && isOws(value.charCodeAt(e - 1))) e--;
    if (e > s) {
      if (e - s === 12 && equalsLower(value, s, '100-continue')) {
        if (found === 'none') found = '100-continue';
      } else {
        return 'other';
      }
    }
    start = comma + 1;
  }
  return found;
}
