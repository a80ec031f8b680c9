/**
 * Trace ids that key the proxy's trace-id → lane memory (SPEC §4.2, §4.3 step 2), and the ids a
 * gateway generates when a request has none (SPEC §4.1 step 5).
 *
 * - `traceparent`: W3C Trace Context Level 2 (w3c/trace-context `spec/20-http_request_header_format.md`):
 *   "traceparent Header Field Values" (lower-case hex, all-zero ids and version `ff` invalid) and
 *   "Versioning of traceparent" (how a higher version is read). Surrounding OWS and duplicated
 *   headers are handled as the W3C test suite (`test/test.py`) expects.
 * - `x-b3-traceid` and `b3`: openzipkin/b3-propagation README ("Multiple Headers", "Single Header").
 * - `grpc-trace-bin`: gRPC's binary trace context (census-instrumentation/opencensus-specs
 *   `encodings/BinaryEncoding.md`), base64 in metadata: version 0, field 0 with the 16-byte trace
 *   id, field 1 with the 8-byte span id, field 2 with the options byte.
 * - `x-request-id` and custom headers: opaque tokens, see `MAX_OPAQUE_ID_LENGTH`.
 *
 * The proxy does not take part in the trace: it reads ids and never rewrites `traceparent`, so it
 * has no `tracestate` to parse (the spec forbids touching it when `traceparent` is unchanged).
 */

import { Buffer } from 'node:buffer';
import { randomFillSync, randomUUID } from 'node:crypto';
import { TRACE_ID_HEADERS } from '../../config/kinds/carrier-names.ts';
import { isLowerHex, isNonZeroLowerHex, skipOws, trimOwsEnd } from './text.ts';

export type TraceIdKind =
  | 'traceparent'
  | 'x-request-id'
  | 'x-b3-traceid'
  | 'b3'
  | 'grpc-trace-bin'
  | 'custom';

/** A header as Node hands it over: one value, or each field line when asked for distinct values. */
export type HeaderValue = string | readonly string[] | undefined;

export interface Traceparent {
  /** Two lower-hex characters; `00` or a higher version read by the versioning rules. */
  readonly version: string;
  readonly traceId: string;
  readonly parentId: string;
  /** The 8-bit trace-flags as sent (bit 0 sampled, bit 1 random trace id in Level 2). */
  readonly flags: number;
}

/**
 * Longest `x-request-id` / custom id we key on. Ids live in a bounded memory, so a bound on the key
 * bounds its bytes; 256 is far above the ids in use (UUID 36, Envoy's x-request-id 36, AWS
 * X-Amzn-Trace-Id ~50) and matches the longest key tracestate allows. Longer values are refused, not
 * cut, because two different ids sharing a prefix would otherwise share a lane.
 */
export const MAX_OPAQUE_ID_LENGTH = 256;

const DASH = 0x2d;
const TRACEPARENT_V00_LENGTH = 55;
const B3_64BIT_PAD = '0000000000000000';

/**
 * Start of the trimmed value when it is a valid traceparent, else -1. Only the first 56 characters
 * are inspected, so a huge header costs no more than its trailing whitespace.
 */
function traceparentStart(v: string): number {
  const s = skipOws(v, 0, v.length);
  const length = trimOwsEnd(v, s, v.length) - s;
  if (length < TRACEPARENT_V00_LENGTH) return -1;
  if (!isLowerHex(v, s, s + 2) || v.charCodeAt(s + 2) !== DASH) return -1;
  if (v.startsWith('ff', s)) return -1;
  if (v.startsWith('00', s)) {
    if (length !== TRACEPARENT_V00_LENGTH) return -1;
  } else if (length > TRACEPARENT_V00_LENGTH && v.charCodeAt(s + 55) !== DASH) {
    // A higher version may append fields, but only after a dash: "followed by a dash".
    return -1;
  }
  if (!isNonZeroLowerHex(v, s + 3, s + 35) || v.charCodeAt(s + 35) !== DASH) return -1;
  if (!isNonZeroLowerHex(v, s + 36, s + 52) || v.charCodeAt(s + 52) !== DASH) return -1;
  if (!isLowerHex(v, s + 53, s + 55)) return -1;
  return s;
}

/**
 * The one traceparent value, or undefined. traceparent is not a list, so two field lines make the
 * request's trace ambiguous: the test suite's `test_traceparent_duplicated` expects a restart.
 * Node joins repeated lines with ", ", which no valid value survives either.
 */
function singleValue(value: HeaderValue): string | undefined {
  if (typeof value === 'string') return value;
  return value?.length === 1 ? value[0] : undefined;
}

/** B3 "When extracting state headers, the first value wins"; applied to opaque ids alike. */
function firstValue(value: HeaderValue): string | undefined {
  return typeof value === 'string' ? value : value?.[0];
}

export function parseTraceparent(value: HeaderValue): Traceparent | undefined {
  const v = singleValue(value);
  if (v === undefined) return undefined;
  const s = traceparentStart(v);
  if (s === -1) return undefined;
  return {
    version: v.slice(s, s + 2),
    traceId: v.slice(s + 3, s + 35),
    parentId: v.slice(s + 36, s + 52),
    flags: Number.parseInt(v.slice(s + 53, s + 55), 16),
  };
}

/**
 * 64-bit B3 trace ids are left-padded with zeros to 32 characters, as OTel's B3 propagators do when
 * they turn B3 into a W3C trace id, so one trace seen as `x-b3-traceid: <16 hex>` at one hop and as
 * `traceparent: 00-0000000000000000<16 hex>-…` at another gives one memory key.
 */
function b3TraceIdAt(v: string, start: number, end: number): string | undefined {
  const length = end - start;
  if (length !== 16 && length !== 32) return undefined;
  // All-zero ids would put every request that carries one into the same lane.
  if (!isNonZeroLowerHex(v, start, end)) return undefined;
  const id = v.slice(start, end);
  return length === 16 ? B3_64BIT_PAD + id : id;
}

/**
 * Trace id of a single `b3` header: `{traceid}-{spanid}[-{sampling}][-{parentspanid}]`. The README
 * writes the parent after the sampling state, but Brave and OTel JS also accept it without one (a
 * deferred decision), so we do. A sampling-only value (`0`, `1`, `d`) carries no trace id.
 */
function b3SingleTraceId(v: string): string | undefined {
  const s = skipOws(v, 0, v.length);
  const e = trimOwsEnd(v, s, v.length);
  if (e - s < 33) return undefined;
  const idLength = v.charCodeAt(s + 16) === DASH ? 16 : v.charCodeAt(s + 32) === DASH ? 32 : -1;
  if (idLength === -1) return undefined;
  const spanStart = s + idLength + 1;
  let p = spanStart + 16;
  if (p > e || !isNonZeroLowerHex(v, spanStart, p)) return undefined;
  if (p + 2 <= e && v.charCodeAt(p) === DASH && isSamplingState(v.charCodeAt(p + 1))) {
    if (p + 2 === e || v.charCodeAt(p + 2) === DASH) p += 2;
  }
  if (p < e && (v.charCodeAt(p) !== DASH || e - p !== 17 || !isLowerHex(v, p + 1, e))) {
    return undefined;
  }
  return b3TraceIdAt(v, s, s + idLength);
}

/** Bytes of a version-0 grpc-trace-bin value: version, 0 + trace id, 1 + span id, 2 + options. */
const GRPC_TRACE_BIN_LENGTH = 29;

/**
 * Trace id of a `grpc-trace-bin` value, as 32 lower-hex characters: the same key as the
 * traceparent of the same trace, so one trace seen in either form at different hops is one entry.
 */
function grpcTraceBinTraceId(v: string): string | undefined {
  const s = skipOws(v, 0, v.length);
  const e = trimOwsEnd(v, s, v.length);
  // Base64 of 29 bytes is 40 characters (padding may be left out, as gRPC metadata allows).
  if (e - s < 39 || e - s > 40) return undefined;
  const bytes = Buffer.from(v.slice(s, e), 'base64');
  if (bytes.length !== GRPC_TRACE_BIN_LENGTH || bytes[0] !== 0 || bytes[1] !== 0) return undefined;
  if (bytes[18] !== 1 || bytes[27] !== 2) return undefined;
  const id = bytes.toString('hex', 2, 18);
  return isNonZeroLowerHex(id, 0, 32) ? id : undefined;
}

function isSamplingState(c: number): boolean {
  return c === 0x30 || c === 0x31 || c === 0x64;
}

/** A non-empty run of visible ASCII (VCHAR) up to MAX_OPAQUE_ID_LENGTH, kept as sent. */
function opaqueId(v: string): string | undefined {
  const s = skipOws(v, 0, v.length);
  const e = trimOwsEnd(v, s, v.length);
  if (e === s || e - s > MAX_OPAQUE_ID_LENGTH) return undefined;
  for (let i = s; i < e; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return undefined;
  }
  return v.slice(s, e);
}

/**
 * The key a header contributes to the trace-id memory, or undefined when it carries no usable id.
 * traceparent and B3 give 32 lower-hex characters (one key space: the same trace matches under
 * either); x-request-id and custom headers give the token as sent, case included. The two spaces
 * are not kept apart, so a memory fed by both should prefix keys with the header they came from.
 */
export function traceIdFrom(kind: TraceIdKind, value: HeaderValue): string | undefined {
  switch (kind) {
    case 'traceparent': {
      const v = singleValue(value);
      if (v === undefined) return undefined;
      const s = traceparentStart(v);
      return s === -1 ? undefined : v.slice(s + 3, s + 35);
    }
    case 'x-b3-traceid': {
      const v = firstValue(value);
      if (v === undefined) return undefined;
      const s = skipOws(v, 0, v.length);
      return b3TraceIdAt(v, s, trimOwsEnd(v, s, v.length));
    }
    case 'b3': {
      const v = firstValue(value);
      return v === undefined ? undefined : b3SingleTraceId(v);
    }
    case 'grpc-trace-bin': {
      const v = firstValue(value);
      return v === undefined ? undefined : grpcTraceBinTraceId(v);
    }
    case 'x-request-id':
    case 'custom': {
      const v = firstValue(value);
      return v === undefined ? undefined : opaqueId(v);
    }
  }
}

/** Which reader applies to a configured trace-id header (names compare case-insensitively). */
export function traceIdKindOf(headerName: string): TraceIdKind {
  const name = headerName.toLowerCase();
  return (TRACE_ID_HEADERS as readonly string[]).includes(name)
    ? (name as (typeof TRACE_ID_HEADERS)[number])
    : 'custom';
}

/** Where new ids come from: random in a proxy, fixed in `explain`, seeded in the conformance runner. */
export interface IdSource {
  /** 16 bytes, lower hex. */
  traceId(): string;
  /** 8 bytes, lower hex. */
  spanId(): string;
  /** For x-request-id and custom headers. */
  requestId(): string;
}

/**
 * The fields that start a trace in `header` for a request that has none (the `ensure-trace-id`
 * operation): W3C traceparent, B3 multi (with its span id and sampled flag), B3 single, or one id.
 */
export function traceStartFields(header: string, ids: IdSource): Record<string, string> {
  switch (header) {
    case 'traceparent':
      return { traceparent: `00-${ids.traceId()}-${ids.spanId()}-01` };
    case 'x-b3-traceid':
      return { 'x-b3-traceid': ids.traceId(), 'x-b3-spanid': ids.spanId(), 'x-b3-sampled': '1' };
    case 'b3':
      return { b3: `${ids.traceId()}-${ids.spanId()}-1` };
    case 'grpc-trace-bin': {
      const bytes = Buffer.alloc(GRPC_TRACE_BIN_LENGTH);
      bytes.write(ids.traceId(), 2, 'hex');
      bytes[18] = 1;
      bytes.write(ids.spanId(), 19, 'hex');
      bytes[27] = 2;
      bytes[28] = 1; // sampled
      return { 'grpc-trace-bin': bytes.toString('base64') };
    }
    default:
      return { [header]: ids.requestId() };
  }
}

// ---- generators -------------------------------------------------------------------------------

// Random bytes are drawn in 4 KiB batches, the way randomUUID caches its entropy, so an id costs a
// slice of a buffer rather than a call into OpenSSL and a fresh allocation.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomHexId(bytes: number): string {
  for (;;) {
    if (poolOffset + bytes > pool.length) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    const start = poolOffset;
    poolOffset += bytes;
    // All-zero ids are invalid in both W3C and B3; the odds are 2^-64 at worst, but never send one.
    for (let i = start; i < poolOffset; i++) {
      if (pool[i] !== 0) return pool.toString('hex', start, poolOffset);
    }
  }
}

/**
 * A version-00 traceparent with random ids and the sampled flag, for a request that has none.
 * Level 2 adds that the random-trace-id flag (0x02) SHOULD be set for fully random ids like these;
 * flags stay `01` for now, which Level 1 and Level 2 receivers both accept.
 */
export function newTraceparent(): string {
  return `00-${randomHexId(16)}-${randomHexId(8)}-01`;
}

/** A UUID v4, the form Envoy and Istio use for x-request-id. */
export function newRequestId(): string {
  return randomUUID();
}

/** Random ids, for a proxy. */
export const RANDOM_IDS: IdSource = {
  traceId: () => randomHexId(16),
  spanId: () => randomHexId(8),
  requestId: newRequestId,
};

/** A 128-bit B3 trace id: 32 lower-hex characters. */
export function newB3TraceId(): string {
  return randomHexId(16);
}

/** Trace headers in the order a request's trace id is read from them: W3C, then B3 (one key space), then x-request-id. */
const REQUEST_TRACE_HEADERS = ['traceparent', 'b3', 'x-b3-traceid', 'x-request-id'] as const;

/**
 * The id that follows a request across hops, from the first trace header it carries; undefined
 * when it carries none. `header` reads a field by lower-case name.
 */
export function requestTraceId(
  header: (name: string) => HeaderValue | undefined,
): string | undefined {
  for (const name of REQUEST_TRACE_HEADERS) {
    const value = header(name);
    if (value === undefined) continue;
    const id = traceIdFrom(name, value);
    if (id !== undefined) return id;
  }
  return undefined;
}
