/**
 * Incremental, strict HTTP/1.1 request parser (RFC 9112) for the proxies' downstream side: the
 * boundary against request smuggling. See message-parser.ts for the input model and
 * request-head.ts / head-scanner.ts for the rules.
 *
 * Upgrade and CONNECT: the parser does not switch by itself. After onEnd of such a request the
 * caller pauses (as for any request it is still answering); then either takeRemainder() and
 * tunnel, or resume() to read the next request as HTTP when the upgrade was declined.
 */

import { MODE_REQUEST } from './head-scanner.ts';
import { MessageParser } from './message-parser.ts';
import { buildRequestHead } from './request-head.ts';
import { ParseError, type ParserLimits, type RequestEvents } from './types.ts';

export type { RequestEvents } from './types.ts';

export class RequestParser extends MessageParser {
  private readonly events: RequestEvents;

  constructor(events: RequestEvents, limits?: Partial<ParserLimits>) {
    super(MODE_REQUEST, events, limits, 'BAD_REQUEST', 431);
    this.events = events;
  }

  protected headDone(): void {
    const head = buildRequestHead(this.head);
    if (head instanceof ParseError) {
      this.fail(head);
      return;
    }
    this.beginBody(head.framing);
    this.events.onHead(head);
  }
}
