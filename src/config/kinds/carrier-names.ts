/**
 * The names a lane-tag carrier may use. The LaneGroup kind validates them; the codecs in
 * core/carriers read and write them. Pure data, so the config model needs nothing from the core.
 */

/** The standard headers a trace id rides on; any other header is a custom one. */
export const TRACE_ID_HEADERS = [
  'traceparent',
  'x-request-id',
  'x-b3-traceid',
  'b3',
  'grpc-trace-bin',
] as const;

/** A W3C baggage key is an RFC 7230 token: ALPHA / DIGIT / "!#$%&'*+-.^_`|~", at least one. */
const BAGGAGE_KEY = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function isValidBaggageKey(key: string): boolean {
  return BAGGAGE_KEY.test(key);
}
