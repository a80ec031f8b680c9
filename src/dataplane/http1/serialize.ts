/**
 * Writing HTTP/1.1 heads and chunks (RFC 9112): the one place the proxy writes a message head,
 * whether it forwards a message or answers itself (an error, a redirect, a direct response).
 * Heads are latin1 strings, for `socket.write(head, 'latin1')`; the proxy always speaks HTTP/1.1
 * itself (RFC 9110 §6.2).
 *
 * Field values are not checked here: they come from the strict parser, from configuration
 * validated at load (Istio's header value rules), or from codecs that encode what they write
 * (W3C baggage). Checking every value again would cost the hot path for nothing.
 */

import type { Writable } from 'node:stream';
import type { Framing } from './types.ts';

const CRLF = '\r\n';

/** The line that says how the body is framed (none for no body or a close-delimited one). */
function framingLine(framing: Framing): string {
  switch (framing.kind) {
    case 'length':
      return `content-length: ${framing.length}\r\n`;
    case 'chunked':
      return 'transfer-encoding: chunked\r\n';
    case 'none':
    case 'close':
      return '';
  }
}

const upgradeLines = (protocol: string) => `connection: upgrade\r\nupgrade: ${protocol}\r\n`;

export interface RequestHeadParts {
  readonly method: string;
  readonly target: string;
  /** Written first, as the Host field (RFC 9112 §3.2 wants it early). */
  readonly host: string;
  /** Every other field line, `name: value\r\n` each (HeaderList.serialize()). */
  readonly fields: string;
  readonly framing: Framing;
  /** The protocol of a request to upgrade the connection (WebSocket). */
  readonly upgrade?: string | undefined;
}

export function requestHead(p: RequestHeadParts): string {
  const connection = p.upgrade === undefined ? '' : upgradeLines(p.upgrade);
  return `${p.method} ${p.target} HTTP/1.1\r\nhost: ${p.host}\r\n${p.fields}${framingLine(p.framing)}${connection}\r\n`;
}

export interface ResponseHeadParts {
  readonly status: number;
  readonly reason: string;
  /** Field lines, `name: value\r\n` each (HeaderList.serialize()). */
  readonly fields: string;
  readonly framing: Framing;
  /** The connection stays open for the next request; otherwise `connection: close`. */
  readonly keepAlive: boolean;
  /** The client's HTTP/1 minor version: a 1.0 client keeps its connection only when told so. */
  readonly minor: 0 | 1;
  /** The protocol the connection switches to (a 101 answer). */
  readonly upgrade?: string | undefined;
}

export function responseHead(p: ResponseHeadParts): string {
  let connection = '';
  if (p.upgrade !== undefined) connection = upgradeLines(p.upgrade);
  else if (!p.keepAlive) connection = 'connection: close\r\n';
  else if (p.minor === 0) connection = 'connection: keep-alive\r\n';
  return `HTTP/1.1 ${p.status} ${p.reason}\r\n${p.fields}${framingLine(p.framing)}${connection}\r\n`;
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
  let out = '0\r\n';
  for (let k = 0; k + 1 < trailers.length; k += 2) out += `${trailers[k]}: ${trailers[k + 1]}\r\n`;
  return `${out}\r\n`;
}
