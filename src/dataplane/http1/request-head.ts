/**
 * A scanned request head → RequestHead: target form, Host, framing (RFC 9112 §6), connection
 * handling. Any doubt about where the body ends is an error, never a guess.
 */
import {
  F_CONNECTION,
  F_CONTENT_LENGTH,
  F_EXPECT,
  F_FRAMING_LOOKALIKE,
  F_HOST,
  F_OTHER,
  F_TRANSFER_ENCODING,
  F_UPGRADE,
} from './field-names.ts';
import {
  CONN_CLOSE,
  CONN_KEEP_ALIVE,
  CONN_UPGRADE,
  connectionOptions,
  expectation,
  parseContentLength,
  transferEncodingProblem,
} from './field-values.ts';
import { CHUNKED, lengthFraming, NO_BODY } from './framing.ts';
import type { HeadScanner } from './head-scanner.ts';
import { hostProblem } from './host.ts';
import { targetProblem } from './target.ts';
import { ParseError, type RequestHead } from './types.ts';

const bad = (message: string) => new ParseError('BAD_REQUEST', message);

export function buildRequestHead(sc: HeadScanner): RequestHead | ParseError {
  const method = sc.method;
  const target = sc.target;
  const minor = sc.minor;
  const raw = sc.rawHeaders;

  const targetIssue = targetProblem(method, target);
  if (targetIssue !== undefined) return bad(targetIssue);

  let hosts = 0;
  let host = '';
  let lengths = 0;
  let length = '';
  let te: string | undefined;
  let conn = 0;
  let upgrade: string | undefined;
  let expect: 'none' | '100-continue' | 'other' = 'none';
  const kinds = sc.kinds;
  for (let k = 0; k < sc.fieldCount; k++) {
    const kind = kinds[k];
    if (kind === F_OTHER) continue;
    const value = raw[2 * k + 1]!;
    switch (kind) {
      case F_HOST:
        hosts++;
        host = value;
        break;
      case F_CONTENT_LENGTH:
        lengths++;
        length = value;
        break;
      case F_TRANSFER_ENCODING:
        // Field lines of a list field combine in order (RFC 9110 §5.3).
        te = te === undefined ? value : `${te},${value}`;
        break;
      case F_CONNECTION:
        conn |= connectionOptions(value);
        break;
      case F_UPGRADE:
        upgrade = upgrade === undefined ? value : `${upgrade}, ${value}`;
        break;
      case F_EXPECT: {
        const e = expectation(value);
        if (e === 'other' || expect === 'none') expect = e;
        break;
      }
      case F_FRAMING_LOOKALIKE:
        return bad(
          `header field "${raw[2 * k]}" differs from a framing header only by "_" for "-" (servers that normalise names would read it as one)`,
        );
    }
  }

  // Framing, RFC 9112 §6.1 and §6.3.
  let framing = NO_BODY;
  if (te !== undefined) {
    if (minor === 0) {
      // RFC 9112 §6.1: HTTP/1.0 has no Transfer-Encoding; the framing is faulty.
      return bad('Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1)');
    }
    if (lengths > 0) {
      // RFC 9112 §6.1 lets a server reject this or ignore Content-Length; a proxy that forwards
      // it lets the next hop pick the other one.
      return bad('Content-Length and Transfer-Encoding together (request smuggling risk)');
    }
    const problem = transferEncodingProblem(te);
    if (problem !== undefined) {
      return new ParseError(
        problem.unsupported ? 'NOT_IMPLEMENTED' : 'BAD_REQUEST',
        problem.message,
      );
    }
    framing = CHUNKED;
  } else if (lengths > 0) {
    if (lengths > 1) {
      // RFC 9110 §8.6 allows collapsing identical values; we forward fields as they are, so
      // one field only.
      return bad('more than one Content-Length header field (RFC 9110 §8.6)');
    }
    const n = parseContentLength(length);
    if (typeof n === 'string') return bad(n);
    framing = lengthFraming(n);
  }
  if (
    method === 'CONNECT' &&
    (framing.kind === 'chunked' || (framing.kind === 'length' && framing.length > 0))
  ) {
    // RFC 9110 §9.3.6: a CONNECT request has no content; bytes after its head are tunnel data.
    return bad('CONNECT request with content (RFC 9110 §9.3.6)');
  }

  // Host, RFC 9112 §3.2: exactly one in HTTP/1.1 (HTTP/1.0 may omit it), and well-formed.
  if (hosts > 1) return bad('more than one Host header field (RFC 9112 §3.2)');
  if (hosts === 0) {
    if (minor === 1) return bad('HTTP/1.1 request without a Host header field (RFC 9112 §3.2)');
  } else {
    const problem = hostProblem(host, false);
    if (problem !== undefined) return bad(`invalid Host header field: ${problem}`);
  }

  // RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
  const keepAlive = (conn & CONN_CLOSE) === 0 && (minor === 1 || (conn & CONN_KEEP_ALIVE) !== 0);
  return {
    method,
    target,
    minor,
    rawHeaders: raw,
    host: hosts === 1 ? host : undefined,
    framing,
    keepAlive,
    // RFC 9110 §7.8: Upgrade counts only when Connection lists it, and a server MUST ignore it
    // in an HTTP/1.0 request.
    upgrade:
      minor === 1 && (conn & CONN_UPGRADE) !== 0 && upgrade !== undefined && upgrade !== ''
        ? upgrade
        : undefined,
    // RFC 9110 §10.1.1: a server MUST ignore a 100-continue expectation in an HTTP/1.0 request.
    expect: minor === 0 && expect === '100-continue' ? 'none' : expect,
    headBytes: sc.headBytes,
  };
}
