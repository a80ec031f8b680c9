/**
 * Strict, incremental HTTP/1.1 parsing and serialisation for the proxies (RFC 9110, RFC 9112).
 * Decisions per rule are documented beside the code; deviations from the Http11Probe verdicts in
 * DEVIATIONS.md.
 */
export { RequestParser } from './request-parser.ts';
export { MAX_INFORMATIONAL, ResponseParser } from './response-parser.ts';
export {
  encodeChunk,
  fieldLines,
  LAST_CHUNK,
  lastChunk,
  requestHead,
  responseHead,
} from './serialize.ts';
export {
  DEFAULT_LIMITS,
  type Framing,
  ParseError,
  type ParseErrorCode,
  type ParserLimits,
  type RequestEvents,
  type RequestHead,
  type ResponseEvents,
  type ResponseHead,
} from './types.ts';
