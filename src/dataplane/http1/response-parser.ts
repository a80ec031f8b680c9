/**
 * Incremental, strict HTTP/1.1 response parser (RFC 9112) for the proxies' upstream side. The
 * framing of a response depends on its request (RFC 9112 §6.3): call expect(method) before each
 * response, in request order (pipelining queues them).
 *
 * - 1xx other than 101: onInformational, then the final response follows (RFC 9110 §15.2).
 * - 101, or 2xx to CONNECT: onHead (framing none, keepAlive false) and no onEnd; the parser stops
 *   reading HTTP, bytes after the head wait for takeRemainder().
 * - A close-delimited body ends at finish().
 */

import { MODE_RESPONSE } from './head-scanner.ts';
import { MessageParser } from './message-parser.ts';
import { buildResponseHead } from './response-head.ts';
import { ParseError, type ParserLimits, type ResponseEvents } from './types.ts';

export type { ResponseEvents } from './types.ts';

/**
 * 1xx responses before a final one. Each is bounded by maxHeadBytes, but an endless stream of
 * them would hold the exchange forever; no server needs more than a handful (100, 102, 103s).
 */
export const MAX_INFORMATIONAL = 32;

export class ResponseParser extends MessageParser {
  private readonly events: ResponseEvents;
  /** Methods of the requests whose responses are due, oldest first. */
  private readonly methods: string[] = [];
  private informational = 0;

  constructor(events: ResponseEvents, limits?: Partial<ParserLimits>) {
    super(MODE_RESPONSE, events, limits, 'BAD_RESPONSE', 502);
    this.events = events;
  }

  /** Before each response: the method of its request (HEAD → no body; CONNECT 2xx → tunnel). */
  expect(method: string): void {
    this.methods.push(method);
  }

  /**
   * The upstream closed: ends a close-delimited body (onEnd), or reports BAD_RESPONSE for a
   * truncated message. Nothing happens between messages (a response that never started is the
   * caller's to report). Kept bytes are parsed first if the parser is paused.
   */
  finish(): void {
    this.endInput();
  }

  protected override canStartHead(): boolean {
    if (this.methods.length > 0) return true;
    this.fail(
      new ParseError('BAD_RESPONSE', 'upstream sent data while no request was outstanding'),
    );
    return false;
  }

  protected headDone(): void {
    const sc = this.head;
    const status = sc.status;
    const method = this.methods[0]!;
    if (status < 200 && status !== 101) {
      if (++this.informational > MAX_INFORMATIONAL) {
        this.fail(new ParseError('BAD_RESPONSE', `more than ${MAX_INFORMATIONAL} 1xx responses`));
        return;
      }
      const raw = sc.rawHeaders;
      this.nextHead();
      this.events.onInformational(status, raw);
      return;
    }
    if (status === 101 && sc.minor === 0) {
      this.fail(new ParseError('BAD_RESPONSE', '101 Switching Protocols in an HTTP/1.0 response'));
      return;
    }
    const tunnel = status === 101 || (method === 'CONNECT' && status < 300);
    const head = buildResponseHead(sc, method, tunnel);
    if (head instanceof ParseError) {
      this.fail(head);
      return;
    }
    this.methods.shift();
    this.informational = 0;
    if (tunnel) this.tunnel();
    else this.beginBody(head.framing);
    this.events.onHead(head);
  }
}
