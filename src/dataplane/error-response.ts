/**
 * The responses the mesh itself writes (SPEC §4.4): status, `x-lanes-error: <CODE>`, and a
 * plain-text body that says what happened, for which service and lane, and which fallbacks were
 * tried — so a mesh error is never mistaken for the application's own.
 */
import { STATUS_CODES } from 'node:http';
import type net from 'node:net';
import { type ErrorCode, statusOf } from '../core/engine/errors.ts';
import type { FallbackStep } from '../core/engine/types.ts';
import { DELIVERED_HEADER, ERROR_HEADER } from './attempt.ts';
import { lengthFraming } from './http1/framing.ts';
import { responseHead } from './http1/serialize.ts';

export interface ErrorDetails {
  readonly code: ErrorCode;
  readonly message: string;
  readonly service: string | null | undefined;
  readonly lane: string | null | undefined;
  readonly fallback: readonly FallbackStep[];
  /** Which hop answered, e.g. `gateway istio-system/ingressgateway:80`. */
  readonly hop: string;
  readonly keepAlive: boolean;
  /** The client's HTTP/1 minor version (1 when the request could not be read). */
  readonly minor?: 0 | 1;
  /**
   * Whether the request can have reached an application: `none` when nothing of it was
   * forwarded (the caller's proxy may then send it elsewhere, whatever its method). Default none.
   */
  readonly delivered?: 'none' | 'unknown';
}

/** Node's own table of reason phrases; the phrase means nothing to a client, but "503 OK" misleads a reader. */
export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown';
}

/** Removes CR, LF and other controls, so nothing from a request can split the response. */
function clean(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += (c < 0x20 && c !== 0x09) || c === 0x7f ? ' ' : text[i];
  }
  return out;
}

export function errorBody(d: ErrorDetails): string {
  const lines = [`lanes: ${d.code}: ${clean(d.message)}`];
  if (d.service) lines.push(`service: ${clean(d.service)}`);
  if (d.lane) lines.push(`lane: ${clean(d.lane)}`);
  if (d.fallback.length > 0) {
    lines.push(
      `tried: ${d.fallback.map((f) => `${clean(f.lane)} (${f.reason.replaceAll('-', ' ')})`).join(', ')}`,
    );
  }
  lines.push(`hop: ${clean(d.hop)}`);
  return `${lines.join('\n')}\n`;
}

/** Writes a complete error response; returns its status. */
export function writeError(socket: net.Socket, d: ErrorDetails): number {
  const status = statusOf(d.code);
  const body = errorBody(d);
  const head = responseHead({
    status,
    reason: reasonPhrase(status),
    fields:
      `${ERROR_HEADER}: ${d.code}\r\n` +
      `${DELIVERED_HEADER}: ${d.delivered ?? 'none'}\r\n` +
      'content-type: text/plain; charset=utf-8\r\n',
    framing: lengthFraming(Buffer.byteLength(body)),
    keepAlive: d.keepAlive,
    minor: d.minor ?? 1,
  });
  if (!socket.destroyed && socket.writable) socket.write(head + body);
  return status;
}
