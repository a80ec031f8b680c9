/**
 * A scanned response head → ResponseHead, framing per RFC 9112 §6.3 given the request method.
 * Upstreams are held to the same framing rules as clients: anything two hops could read
 * differently is BAD_RESPONSE (the proxy answers 502) rather than forwarded.
 */
import { F_CONNECTION, F_CONTENT_LENGTH, F_TRANSFER_ENCODING } from './field-names.ts';
import {
  CONN_CLOSE,
  CONN_KEEP_ALIVE,
  connectionOptions,
  parseContentLength,
  transferEncodingProblem,
} from './field-values.ts';
import { CHUNKED, CLOSE_DELIMITED, lengthFraming, NO_BODY } from './framing.ts';
import type { HeadScanner } from './head-scanner.ts';
import { type Framing, ParseError, type ResponseHead } from './types.ts';

const bad = (message: string) => new ParseError('BAD_RESPONSE', message);

/** `tunnel`: a 101, or a 2xx to CONNECT — no body, and the connection stops being HTTP. */
export function buildResponseHead(
  sc: HeadScanner,
  method: string,
  tunnel: boolean,
): ResponseHead | ParseError {
  const status = sc.status;
  const minor = sc.minor;
  const raw = sc.rawHeaders;
  let lengths = 0;
  let length = '';
  let te: string | undefined;
  let conn = 0;
  const kinds = sc.kinds;
  for (let k = 0; k < sc.fieldCount; k++) {
    switch (kinds[k]) {
      case F_CONTENT_LENGTH:
        lengths++;
        length = raw[2 * k + 1]!;
        break;
      case F_TRANSFER_ENCODING:
        te = te === undefined ? raw[2 * k + 1]! : `${te},${raw[2 * k + 1]}`;
        break;
      case F_CONNECTION:
        conn |= connectionOptions(raw[2 * k + 1]!);
        break;
    }
  }

  // Content-Length is checked even where it does not frame the body (HEAD, 304): the proxy
  // forwards it, and the client reads it.
  let n = -1;
  if (lengths > 1) return bad('more than one Content-Length header field (RFC 9110 §8.6)');
  if (lengths === 1) {
    const parsed = parseContentLength(length);
    if (typeof parsed === 'string') return bad(parsed);
    n = parsed;
  }
  if (te !== undefined) {
    if (minor === 0) return bad('Transfer-Encoding in an HTTP/1.0 response (RFC 9112 §6.1)');
    // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length, but such a message "ought to be
    // handled as an error" (response splitting); forwarding it would need Content-Length removed
    // first, which is easy to get wrong downstream. Refuse.
    if (lengths > 0) return bad('Content-Length and Transfer-Encoding together');
  }

  // RFC 9112 §6.3, in order.
  let framing: Framing;
  if (tunnel || method === 'HEAD' || status < 200 || status === 204 || status === 304) {
    framing = NO_BODY; // rules 1 and 2
  } else if (te !== undefined) {
    // Rule 4 would make a non-chunked final coding close-delimited. We never send a TE request
    // field, so a server may only use chunked (RFC 9112 §6.1, RFC 9110 §10.1.4): anything else
    // is malformed — and forwarding a gzip transfer-coding we cannot decode is not an option.
    const problem = transferEncodingProblem(te);
    if (problem !== undefined) return bad(problem.message);
    framing = CHUNKED;
  } else if (n >= 0) {
    framing = lengthFraming(n); // rule 6
  } else {
    framing = CLOSE_DELIMITED; // rule 8
  }

  const keepAlive =
    !tunnel &&
    framing.kind !== 'close' &&
    (conn & CONN_CLOSE) === 0 &&
    (minor === 1 || (conn & CONN_KEEP_ALIVE) !== 0);
  return {
    status,
    reason: sc.reason,
    minor,
    rawHeaders: raw,
    framing,
    keepAlive,
    headBytes: sc.headBytes,
  };
}
