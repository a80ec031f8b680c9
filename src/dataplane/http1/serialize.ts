/**
 * Writing HTTP/1.1 heads and chunks (RFC 9112). Heads are latin1 strings, for
 * `socket.write(head, 'latin1')`.
 *
 * Every part is checked before it is written: a field value with CR or LF (for instance from a
 * percent-decoded baggage entry, or a header operation in config) would otherwise split the
 * head — request/response splitting (RFC 9112 §11.1). A bad part throws a TypeError: it is a bug
 * or an injection attempt upstream of this call, never something to send.
 */

import type { Writable } from 'node:stream';
import { FIELD_VALUE, TOKEN } from './chars.ts';

const CRLF = '\r\n';

/** A request head; always HTTP/1.1 (a proxy sends its own version, RFC 9110 §6.2). */
export function requestHead(method: string, target: string, rawHeaders: readonly string[]): string {
  if (!isToken(method)) throw new TypeError(`invalid method ${JSON.stringify(method)}`);
  if (!isTarget(target)) throw new TypeError(`invalid request-target ${JSON.stringify(target)}`);
  return `${method} ${target} HTTP/1.1\r\n${fieldLines(rawHeaders)}\r\n`;
}

/** A response head: status 100–999, reason-phrase (may be empty), HTTP/1.`minor`. */
export function responseHead(
  status: number,
  reason: string,
  rawHeaders: readonly string[],
  minor: 0 | 1 = 1,
): string {
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new TypeError(`invalid status code ${status}`);
  }
  if (!isFieldValue(reason)) throw new TypeError(`invalid reason-phrase ${JSON.stringify(reason)}`);
  return `HTTP/1.${minor === 0 ? 0 : 1} ${status} ${reason}\r\n${fieldLines(rawHeaders)}\r\n`;
}

/**
 * One chunk of a chunked body, as [size line, data, CRLF] for three writes (or a writev). An
 * empty buffer gives ['', data, ''] — nothing on the wire — because a zero-size chunk would end
 * the body.
 */
export function encodeChunk(data: Buffer): [string, Buffer, string] {
  if (data.length === 0) return ['', data, ''];
  return [`${data.length.toString(16)}\r\n`, data, CRLF];
}

/**
 * Writes one chunk of a chunked body; returns what the last write returned (false: wait for
 * 'drain'). An empty buffer writes nothing: a zero-size chunk would end the body.
 */
export function writeChunk(socket: Writable, data: Buffer): boolean {
  if (data.length === 0) return true;
  socket.write(`${data.length.toString(16)}\r\n`, 'latin1');
  socket.write(data);
  return socket.write(CRLF, 'latin1');
}

/** The last chunk and an empty trailer section: the end of a chunked body. */
export const LAST_CHUNK = '0\r\n\r\n';

/** The last chunk with trailer fields (RFC 9112 §7.1.2); LAST_CHUNK when there are none. */
export function lastChunk(trailers: readonly string[] | undefined): string {
  if (trailers === undefined || trailers.length === 0) return LAST_CHUNK;
  return `0\r\n${fieldLines(trailers)}\r\n`;
}

/** "name: value\r\n" for each pair of [name, value, name, value, …]. */
export function fieldLines(rawHeaders: readonly string[]): string {
  const n = rawHeaders.length;
  if (n % 2 !== 0) throw new TypeError('rawHeaders must hold name/value pairs');
  let out = '';
  for (let k = 0; k < n; k += 2) {
    const name = rawHeaders[k]!;
    const value = rawHeaders[k + 1]!;
    if (!isToken(name)) throw new TypeError(`invalid field name ${JSON.stringify(name)}`);
    if (!isFieldValue(value)) {
      throw new TypeError(`invalid value for field ${name}: ${JSON.stringify(value)}`);
    }
    out += `${name}: ${value}\r\n`;
  }
  return out;
}

function isToken(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(k);
    if (c > 0x7f || TOKEN[c] !== 1) return false;
  }
  return true;
}

/** field-value bytes (RFC 9110 §5.5): no CR, LF, NUL or other CTL but HTAB; latin1 only. */
function isFieldValue(s: string): boolean {
  const n = s.length;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(k);
    if (c > 0xff || FIELD_VALUE[c] !== 1) return false;
  }
  return true;
}

/** Printable ASCII without SP (RFC 9112 §3.2). */
function isTarget(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(k);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}
