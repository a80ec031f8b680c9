/**
 * Recognises the header fields the parser itself interprets, from the bytes of the field name
 * (case-insensitive, RFC 9110 §5.1), without making a string: most names are rejected by their
 * length alone.
 */

export const F_OTHER = 0;
export const F_HOST = 1;
export const F_CONTENT_LENGTH = 2;
export const F_TRANSFER_ENCODING = 3;
export const F_CONNECTION = 4;
export const F_UPGRADE = 5;
export const F_EXPECT = 6;
/**
 * `Content_Length` / `Transfer_Encoding`: valid tokens, but CGI-style servers (PHP, WSGI, Rack)
 * map "-" and "_" to the same variable, so a back end could read them as the framing header we
 * ignored. The request parser rejects them (a normalisation smuggling vector).
 */
export const F_FRAMING_LOOKALIKE = 7;

const lower = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0));
const HOST = lower('host');
const EXPECT = lower('expect');
const UPGRADE = lower('upgrade');
const CONNECTION = lower('connection');
const CONTENT_LENGTH = lower('content-length');
const TRANSFER_ENCODING = lower('transfer-encoding');

const NO = 0;
const EXACT = 1;
const LOOKALIKE = 2;

/**
 * `b | 0x20` maps A–Z onto a–z and leaves every other tchar distinct from a lowercase letter, so
 * one OR compares case-insensitively; "_" becomes 0x7f, which is how a lookalike is noticed.
 */
function match(buf: Uint8Array, s: number, name: Uint8Array): number {
  let lookalike = false;
  for (let k = 0; k < name.length; k++) {
    const b = buf[s + k]! | 0x20;
    const n = name[k]!;
    if (b === n) continue;
    if (n === 0x2d && b === 0x7f) {
      lookalike = true;
      continue;
    }
    return NO;
  }
  return lookalike ? LOOKALIKE : EXACT;
}

/** The kind (F_*) of the field name buf[s, e). */
export function fieldKind(buf: Uint8Array, s: number, e: number): number {
  switch (e - s) {
    case 4:
      return match(buf, s, HOST) === EXACT ? F_HOST : F_OTHER;
    case 6:
      return match(buf, s, EXPECT) === EXACT ? F_EXPECT : F_OTHER;
    case 7:
      return match(buf, s, UPGRADE) === EXACT ? F_UPGRADE : F_OTHER;
    case 10:
      return match(buf, s, CONNECTION) === EXACT ? F_CONNECTION : F_OTHER;
    case 14: {
      const m = match(buf, s, CONTENT_LENGTH);
      return m === EXACT ? F_CONTENT_LENGTH : m === LOOKALIKE ? F_FRAMING_LOOKALIKE : F_OTHER;
    }
    case 17: {
      const m = match(buf, s, TRANSFER_ENCODING);
      return m === EXACT ? F_TRANSFER_ENCODING : m === LOOKALIKE ? F_FRAMING_LOOKALIKE : F_OTHER;
    }
    default:
      return F_OTHER;
  }
}
