/** Header-name rules shared by every kind that names headers. */

import { isHopByHop } from '../../util/hop-by-hop.ts';
import { type Schema, str } from '../schema/dsl.ts';

/** RFC 9110 token characters, lower case (HTTP/2 and our matching use lower-case names). */
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * Headers that mean something to HTTP itself or to tracing, so they cannot carry a lane tag (the
 * hop-by-hop ones are refused too: the proxy drops them, see isHopByHop).
 */
export const RESERVED_HEADERS = new Set([
  'host',
  'content-type',
  'cookie',
  'set-cookie',
  'authorization',
  'baggage',
  'traceparent',
  'tracestate',
  'x-request-id',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'b3',
  'grpc-trace-bin',
]);

export function headerName(): Schema<string> {
  return str({
    pattern: HEADER_NAME,
    maxLength: 256,
    patternHint: "a header name must be lower-case letters, digits and !#$%&'*+.^_`|~-",
  });
}

/** A header that will carry a lane tag: a plain header name that HTTP and tracing don't own. */
export function laneHeaderName(): Schema<string> {
  return headerName().check((name, c) => {
    if (isHopByHop(name)) {
      c.error(
        `Invalid value: ${JSON.stringify(name)}: proxies do not forward this header, so a lane tag in it would be lost after one hop; use a header of your own such as "x-lane" or "version"`,
      );
    } else if (RESERVED_HEADERS.has(name)) {
      c.error(
        `Invalid value: ${JSON.stringify(name)}: this header is owned by HTTP or tracing and cannot carry a lane tag; use a header of your own such as "x-lane" or "version"`,
      );
    }
  });
}
