/**
 * W3C Baggage codec for the `baggage` header: https://www.w3.org/TR/baggage/ (text as in
 * w3c/baggage `baggage/HTTP_HEADER_FORMAT.md`). Follows "Definition" (grammar, OWS), "key",
 * "value" and "property" (percent-encoding), "Limits", and "Mutating baggage" (what to do with
 * members that are not well-formed). Where the spec leaves a choice, the W3C reference
 * implementation (`test/baggage/baggage.py`) and OpenTelemetry JS's W3CBaggagePropagator are
 * named beside the decision.
 *
 * Members are validated in place and forwarded as slices of the incoming header, so the per-request
 * helpers (get / set / remove) never build entry objects.
 */

import { isValidBaggageKey } from '../../config/kinds/carrier-names.ts';
import { skipOws, trimOwsEnd } from './text.ts';

export interface BaggageProperty {
  readonly key: string;
  /** Percent-decoded; `null` for a key-only property such as `;secure`. */
  readonly value: string | null;
}

export interface BaggageEntry {
  readonly key: string;
  /** Percent-decoded. */
  readonly value: string;
  readonly properties: readonly BaggageProperty[];
  /** The member as it arrived, without surrounding OWS: what set/remove forward for it. */
  readonly raw: string;
}

export interface BaggageEntryInit {
  readonly key: string;
  readonly value: string;
  readonly properties?: readonly BaggageProperty[];
}

/**
 * "Limits": a platform MUST propagate everything while the result has at most 64 members and 8192
 * bytes, and MAY drop whole members beyond that. We stop at exactly those minimums so whatever we
 * forward is guaranteed to survive every conforming hop after us.
 */
export const BAGGAGE_MAX_MEMBERS = 64;
export const BAGGAGE_MAX_BYTES = 8192;

/**
 * Only members that end within the first 32 KiB of a header are looked at. Anything past it could
 * never be forwarded (the output cap is 8 KiB) and Node's default header limit is 16 KiB anyway, so
 * this only bounds the work a hostile header can cause; a member cut by the bound is ignored whole.
 */
export const BAGGAGE_SCAN_LIMIT = 32 * 1024;

const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const PERCENT = 0x25;

const TCHAR = 1;
const OCTET = 2;
const CHAR_CLASS = new Uint8Array(128);
// baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E (no CTL, SP, DQUOTE, comma,
// semicolon, backslash).
for (let c = 0x21; c <= 0x7e; c++) {
  if (c !== 0x22 && c !== COMMA && c !== SEMICOLON && c !== 0x5c) CHAR_CLASS[c] = OCTET;
}
// key = token (RFC 7230 §3.2.6): ALPHA / DIGIT / "!#$%&'*+-.^_`|~".
for (const ch of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  const c = ch.charCodeAt(0);
  CHAR_CLASS[c] = CHAR_CLASS[c]! | TCHAR;
}

function isTchar(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & TCHAR) !== 0;
}

function isOctet(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & OCTET) !== 0;
}

// ---- percent-encoding -------------------------------------------------------------------------

const ENCODED_BYTE: readonly string[] = Array.from(
  { length: 256 },
  (_, b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
);
const utf8Encoder = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF as data instead of silently eating it.
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * "value": code points outside baggage-octet and `%` itself MUST be percent-encoded; others MAY be.
 * We encode only what we must, so lane tags (`v2`, `dev-alice`) travel as written. TextEncoder turns
 * a lone surrogate into U+FFFD where encodeURIComponent would throw.
 */
function encodeValue(value: string): string {
  let i = 0;
  while (i < value.length) {
    const c = value.charCodeAt(i);
    if (c === PERCENT || !isOctet(c)) break;
    i++;
  }
  if (i === value.length) return value;
  let out = value.slice(0, i);
  for (const b of utf8Encoder.encode(value.slice(i))) {
    out += b !== PERCENT && isOctet(b) ? String.fromCharCode(b) : ENCODED_BYTE[b]!;
  }
  return out;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Decodes `[start, end)`, which holds only ASCII (it passed the grammar). Byte sequences that are not
 * UTF-8 become U+FFFD, as "value" requires. A `%` not followed by two hex digits is kept literally:
 * the spec says nothing about it, and this is what the W3C reference implementation (Python's
 * `unquote`) does; OTel JS instead drops the whole member because decodeURIComponent throws.
 */
function decode(s: string, start: number, end: number): string {
  const firstPercent = s.indexOf('%', start);
  if (firstPercent === -1 || firstPercent >= end) return s.slice(start, end);
  const bytes = new Uint8Array(end - start);
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === PERCENT && i + 2 < end) {
      const hi = hexValue(s.charCodeAt(i + 1));
      const lo = hexValue(s.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        bytes[n++] = hi * 16 + lo;
        i += 2;
        continue;
      }
    }
    bytes[n++] = c;
  }
  return utf8Decoder.decode(bytes.subarray(0, n));
}

// ---- member scanning --------------------------------------------------------------------------

// Where scanMember found the key and value; module state so the hot path allocates nothing.
let keyEnd = 0;
let valueStart = 0;
let valueEnd = 0;

/**
 * Whether `[start, end)` (OWS already trimmed, non-empty) is a whole `list-member`:
 * `key OWS "=" OWS value *( OWS ";" OWS property )`. Pushes decoded properties when given an array.
 */
function scanMember(
  s: string,
  start: number,
  end: number,
  props: BaggageProperty[] | null,
): boolean {
  let i = start;
  while (i < end && isTchar(s.charCodeAt(i))) i++;
  if (i === start) return false;
  keyEnd = i;
  i = skipOws(s, i, end);
  if (i === end || s.charCodeAt(i) !== EQUALS) return false;
  i = skipOws(s, i + 1, end);
  valueStart = i;
  while (i < end && isOctet(s.charCodeAt(i))) i++;
  valueEnd = i;
  for (;;) {
    i = skipOws(s, i, end);
    if (i === end) return true;
    if (s.charCodeAt(i) !== SEMICOLON) return false;
    i = skipOws(s, i + 1, end);
    const propKeyStart = i;
    while (i < end && isTchar(s.charCodeAt(i))) i++;
    if (i === propKeyStart) return false;
    const propKeyEnd = i;
    i = skipOws(s, i, end);
    if (i < end && s.charCodeAt(i) === EQUALS) {
      i = skipOws(s, i + 1, end);
      const propValueStart = i;
      while (i < end && isOctet(s.charCodeAt(i))) i++;
      props?.push({ key: s.slice(propKeyStart, propKeyEnd), value: decode(s, propValueStart, i) });
    } else {
      props?.push({ key: s.slice(propKeyStart, propKeyEnd), value: null });
    }
  }
}

/** End of the region members are read from: whole members that end within the scan limit. */
function scanStop(header: string): number {
  if (header.length <= BAGGAGE_SCAN_LIMIT) return header.length;
  return header.lastIndexOf(',', BAGGAGE_SCAN_LIMIT);
}

/**
 * Whether the member whose key is `[start, end)` has key `key`, counting percent-encoded spellings
 * of it (`versio%6E`). Keys are compared case-sensitively and never decoded by the spec, but
 * OTel JS decodes keys with decodeURIComponent and lets a later duplicate win, so an alias we
 * forwarded would reach the app as the lane key and override ours: set/remove must drop aliases too.
 */
function isKeyOrAlias(s: string, start: number, end: number, key: string): boolean {
  const length = end - start;
  if (length === key.length) return s.startsWith(key, start);
  if (length < key.length) return false;
  const percent = s.indexOf('%', start);
  return percent !== -1 && percent < end && decode(s, start, end) === key;
}

function matchesDrop(s: string, start: number, end: number, drop: string | readonly string[]) {
  if (typeof drop === 'string') return isKeyOrAlias(s, start, end, drop);
  for (const key of drop) if (isKeyOrAlias(s, start, end, key)) return true;
  return false;
}

/**
 * `first` followed by the well-formed members of `header` whose key is not in `drop`, in their
 * original order and spelling, within the limits.
 *
 * - Malformed members are dropped ("Mutating baggage" leaves it undefined and allows removing an
 *   offending member; OTel JS skips them one by one too). Forwarding only what we parsed also means
 *   a lenient parser downstream cannot read a lane key out of something we could not see, e.g.
 *   `version=dev-alice;` with its trailing `;`.
 * - Over the limits we drop other whole members, never a part of one ("MUST NOT propagate any
 *   partial list-members") and never `first`: a member is kept if it still fits, so a later, small
 *   member may survive an oversized one. Keeping the front of the list matches OTel JS, which
 *   truncates the same way, and `first` (our lane entry) goes in front so that a downstream SDK that
 *   trims the list also keeps it, and so lookups at the next hop stop at the first member.
 */
function rebuild(header: string, drop: string | readonly string[], first: string | undefined) {
  let out = first ?? '';
  let count = first === undefined ? 0 : 1;
  const stop = scanStop(header);
  let next = 0;
  while (next < stop && count < BAGGAGE_MAX_MEMBERS) {
    let end = header.indexOf(',', next);
    if (end === -1 || end > stop) end = stop;
    const start = skipOws(header, next, end);
    const memberEnd = trimOwsEnd(header, start, end);
    next = end + 1;
    if (start === memberEnd || !scanMember(header, start, memberEnd, null)) continue;
    if (matchesDrop(header, start, keyEnd, drop)) continue;
    const size = memberEnd - start;
    if (count === 0) {
      if (size > BAGGAGE_MAX_BYTES) continue;
      out = header.slice(start, memberEnd);
    } else {
      if (out.length + 1 + size > BAGGAGE_MAX_BYTES) continue;
      out = `${out},${header.slice(start, memberEnd)}`;
    }
    count++;
  }
  return out;
}

// ---- public API -------------------------------------------------------------------------------

/**
 * Every well-formed member, in order, duplicates included ("Uniqueness of keys ... is not
 * guaranteed"). Malformed members are skipped one by one; never throws.
 */
export function parseBaggage(header: string): BaggageEntry[] {
  const entries: BaggageEntry[] = [];
  const stop = scanStop(header);
  let next = 0;
  while (next < stop) {
    let end = header.indexOf(',', next);
    if (end === -1 || end > stop) end = stop;
    const start = skipOws(header, next, end);
    const memberEnd = trimOwsEnd(header, start, end);
    next = end + 1;
    if (start === memberEnd) continue;
    const properties: BaggageProperty[] = [];
    if (!scanMember(header, start, memberEnd, properties)) continue;
    entries.push({
      key: header.slice(start, keyEnd),
      value: decode(header, valueStart, valueEnd),
      properties,
      raw: header.slice(start, memberEnd),
    });
  }
  return entries;
}

/**
 * Decoded value of the first well-formed member whose key is exactly `key`; the same answer as
 * `parseBaggage(header).find(e => e.key === key)?.value`. Members with other keys are skipped
 * without being validated. (OTel JS keeps the last duplicate instead; we never send duplicates.)
 */
export function getBaggageValue(header: string | undefined, key: string): string | undefined {
  if (header === undefined || key.length === 0) return undefined;
  const stop = scanStop(header);
  let next = 0;
  while (next < stop) {
    let end = header.indexOf(',', next);
    if (end === -1 || end > stop) end = stop;
    const start = skipOws(header, next, end);
    next = end + 1;
    if (!header.startsWith(key, start)) continue;
    const memberEnd = trimOwsEnd(header, start, end);
    if (!scanMember(header, start, memberEnd, null)) continue;
    if (keyEnd - start === key.length) return decode(header, valueStart, valueEnd);
  }
  return undefined;
}

/**
 * `key=<encoded value>` first, then the other well-formed members of `header` verbatim (see
 * `rebuild` for what is dropped and why). Every member with `key`, or a percent-encoded spelling of
 * it, is replaced. Our own entry is kept even if it alone exceeds the byte limit.
 * Throws a TypeError when `key` is not a token: that is a configuration error, not request input.
 */
export function setBaggageValue(header: string | undefined, key: string, value: string): string {
  if (!isValidBaggageKey(key)) throw new TypeError(`not a baggage key (RFC 7230 token): "${key}"`);
  const own = `${key}=${encodeValue(value)}`;
  if (header === undefined || header.length === 0) return own;
  return rebuild(header, key, own);
}

/**
 * `header` without the members whose key (or a percent-encoded spelling of it) is in `keys`, for
 * edge hygiene. The result holds only well-formed members within the limits; undefined when none.
 */
export function removeBaggageKeys(
  header: string | undefined,
  keys: readonly string[],
): string | undefined {
  if (header === undefined) return undefined;
  const out = rebuild(header, keys, undefined);
  return out.length === 0 ? undefined : out;
}

/**
 * Serialises entries in order (duplicates kept: "The order of duplicate entries SHOULD be
 * preserved"), dropping whole entries past the limits as `setBaggageValue` does. Returns '' when
 * nothing is left, meaning: send no header. Throws a TypeError for a key that is not a token.
 */
export function serializeBaggage(entries: readonly BaggageEntryInit[]): string {
  let out = '';
  let count = 0;
  for (const entry of entries) {
    if (count === BAGGAGE_MAX_MEMBERS) break;
    let member = `${checkedKey(entry.key)}=${encodeValue(entry.value)}`;
    for (const p of entry.properties ?? []) {
      member +=
        p.value === null
          ? `;${checkedKey(p.key)}`
          : `;${checkedKey(p.key)}=${encodeValue(p.value)}`;
    }
    const size = count === 0 ? member.length : out.length + 1 + member.length;
    if (size > BAGGAGE_MAX_BYTES) continue;
    out = count === 0 ? member : `${out},${member}`;
    count++;
  }
  return out;
}

function checkedKey(key: string): string {
  if (!isValidBaggageKey(key)) throw new TypeError(`not a baggage key (RFC 7230 token): "${key}"`);
  return key;
}
