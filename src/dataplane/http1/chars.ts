/**
 * Byte classes as lookup tables (1 = allowed), so the scanners test one byte with one load.
 */

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;
export const SEMICOLON = 0x3b;
export const EQUALS = 0x3d;
export const DQUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const QUESTION = 0x3f;
export const HASH = 0x23;

function table(allowed: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = allowed(c) ? 1 : 0;
  return t;
}

const isAlpha = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** tchar (RFC 9110 §5.6.2): methods, field names, transfer-codings, chunk-ext names and tokens. */
export const TOKEN = table(
  (c) => isAlpha(c) || isDigit(c) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)),
);

/**
 * field-vchar / SP / HTAB (RFC 9110 §5.5): VCHAR and obs-text (0x80–0xFF, kept as latin1), plus
 * the whitespace allowed inside a value. Everything else — NUL, CR, LF, other CTLs, DEL — is not.
 * Also the class of reason-phrase (RFC 9112 §4).
 */
export const FIELD_VALUE = table((c) => c === HTAB || (c >= 0x20 && c !== 0x7f));

/**
 * request-target bytes the scanner passes without a second look: VCHAR except "#" (a fragment is
 * never part of a request-target, RFC 9112 §3.2), "\" (allowed only in the query, see the scanner)
 * and "?" (switches the scanner to the query). CTLs, SP and non-ASCII are never allowed.
 */
export const TARGET = table(
  (c) => c > 0x20 && c < 0x7f && c !== HASH && c !== BACKSLASH && c !== QUESTION,
);

/** qdtext (RFC 9110 §5.6.4): HTAB / SP / 0x21 / 0x23–0x5B / 0x5D–0x7E / obs-text. */
export const QDTEXT = table(
  (c) => c === HTAB || c === SP || c === 0x21 || (c >= 0x23 && c !== BACKSLASH && c !== 0x7f),
);

/** Hex digit values, -1 for anything else. */
export const HEX = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let c = 0; c < 10; c++) t[0x30 + c] = c;
  for (let c = 0; c < 6; c++) {
    t[0x41 + c] = 10 + c;
    t[0x61 + c] = 10 + c;
  }
  return t;
})();

/** How a byte that is not allowed reads in an error message. */
export function describeByte(c: number): string {
  if (c === CR) return 'CR';
  if (c === LF) return 'LF';
  if (c === SP) return 'SP';
  if (c === HTAB) return 'HTAB';
  if (c === 0) return 'NUL';
  if (c < 0x20 || c === 0x7f) return `control character 0x${c.toString(16).padStart(2, '0')}`;
  if (c >= 0x80) return `non-ASCII byte 0x${c.toString(16)}`;
  return `"${String.fromCharCode(c)}"`;
}

interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
}

/** buf[s, e) as a latin1 string (one byte → one UTF-16 unit): Node's fast path, no encoding lookup. */
export function latin1(buf: Buffer, s: number, e: number): string {
  return (buf as Latin1Buffer).latin1Slice(s, e);
}
