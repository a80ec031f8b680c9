/**
 * What request and response parsing share: the input queue with pause/resume, the head scan,
 * and the body — Content-Length, chunked with trailers, or close-delimited.
 *
 * Input is consumed in place: body bytes go out as subarrays of the chunk given to execute()
 * (zero copy). Only an unfinished head or trailer section is copied (into its scanner's stash,
 * at most maxHeadBytes); bytes not yet parsed while paused are kept as the caller's buffers. So a
 * buffer given to execute() must not be reused or changed afterwards (socket reads never are).
 *
 * State changes happen before each callback, so a callback may pause(), resume(),
 * takeRemainder() or execute() (re-entrantly: the bytes queue behind the current ones) and sees
 * a consistent parser. Parse problems never throw: they become onError(ParseError) and the
 * parser is dead. An exception thrown by a callback propagates to the caller of execute(); the
 * bytes not parsed yet are kept, and the next execute() or resume() continues with them.
 */
import { CR, LF } from './chars.ts';
import { ChunkScanner } from './chunk-scanner.ts';
import {
  F_CONTENT_LENGTH,
  F_FRAMING_LOOKALIKE,
  F_HOST,
  F_TRANSFER_ENCODING,
} from './field-names.ts';
import { FAILED, HeadScanner, MODE_TRAILERS, NEED_MORE } from './head-scanner.ts';
import {
  type Framing,
  ParseError,
  type ParseErrorCode,
  type ParserLimits,
  resolveLimits,
} from './types.ts';

const EMPTY = Buffer.alloc(0);

export const S_HEAD = 0;
const S_BODY_LENGTH = 1;
const S_BODY_CLOSE = 2;
const S_CHUNK_SIZE = 3;
const S_CHUNK_DATA = 4;
const S_CHUNK_DATA_CR = 5;
const S_CHUNK_DATA_LF = 6;
const S_TRAILERS = 7;
/** The message is complete; onEnd is due (also while paused: it waits for resume()). */
const S_END = 8;
// From here on the parser reads no more HTTP; execute() only keeps bytes (or drops them).
/** Responses: after a 101 or a 2xx to CONNECT the bytes belong to a tunnel. */
export const S_TUNNEL = 9;
/** takeRemainder() was called. */
const S_DETACHED = 10;
/** finish() ended the input. */
const S_FINISHED = 11;
/** onError was called. */
const S_DEAD = 12;

export interface BodyEvents {
  onBody(chunk: Buffer): void;
  onEnd(trailers: string[] | undefined): void;
  onError(err: ParseError): void;
}

export abstract class MessageParser {
  protected readonly limits: ParserLimits;
  protected readonly head: HeadScanner;
  protected state = S_HEAD;
  private readonly sink: BodyEvents;
  private readonly bad: ParseErrorCode;
  private readonly tooLargeStatus: number;
  private readonly chunks = new ChunkScanner();
  private trailerScanner: HeadScanner | undefined = undefined;
  private paused = false;
  private running = false;
  private eof = false;
  /** Unparsed input, oldest first. */
  private kept: Buffer[] = [];
  private keptBytes = 0;
  /** The input being parsed now (visible to callbacks through takeRemainder / idle). */
  private cur: Buffer = EMPTY;
  private curPos = 0;
  /** Body bytes still due: of the Content-Length, or of the current chunk. */
  private remaining = 0;
  private length = 0;
  private trailers: string[] | undefined = undefined;

  constructor(
    mode: number,
    sink: BodyEvents,
    limits: Partial<ParserLimits> | undefined,
    bad: ParseErrorCode,
    tooLargeStatus: number,
  ) {
    this.limits = resolveLimits(limits);
    this.sink = sink;
    this.bad = bad;
    this.tooLargeStatus = tooLargeStatus;
    this.head = new HeadScanner(mode, this.limits, bad, tooLargeStatus);
  }

  /** A complete head is in `this.head`: build it, call beginBody()/state changes, emit it. */
  protected abstract headDone(): void;

  /** Whether a head may start now (responses need an outstanding request); may call fail(). */
  protected canStartHead(): boolean {
    return true;
  }

  /** Feeds bytes. Parses until the input is used up, or until pause() is called in a callback. */
  execute(chunk: Buffer): void {
    if (this.state >= S_FINISHED || chunk.length === 0) return;
    if (this.running || this.paused || this.state >= S_TUNNEL || this.kept.length > 0) {
      // Behind bytes not parsed yet (re-entrant call, paused, or left by a callback that threw).
      this.kept.push(chunk);
      this.keptBytes += chunk.length;
      if (!this.running && !this.paused && this.state < S_TUNNEL) this.run();
      return;
    }
    this.cur = chunk;
    this.curPos = 0;
    this.run();
  }

  /** Stops after the current callback returns; unparsed bytes are kept. */
  pause(): void {
    this.paused = true;
  }

  /** Continues with kept bytes (synchronously calls callbacks). */
  resume(): void {
    this.paused = false;
    if (this.running || this.state >= S_TUNNEL) return;
    this.run();
  }

  /** Bytes held: kept unparsed input plus a stashed unfinished head or trailer section. */
  get bufferedBytes(): number {
    return (
      this.keptBytes +
      (this.cur.length - this.curPos) +
      this.head.buffered +
      (this.trailerScanner?.buffered ?? 0)
    );
  }

  /** True between messages: no byte of a next message taken or waiting. */
  get idle(): boolean {
    return (
      this.state === S_HEAD &&
      this.head.idle &&
      this.keptBytes === 0 &&
      this.curPos >= this.cur.length
    );
  }

  /**
   * Returns every byte not parsed yet (an unfinished head included) and stops parsing for good:
   * for after an upgrade or CONNECT, when the rest of the stream is not HTTP. Bytes given to
   * execute() later are kept for the next call.
   */
  takeRemainder(): Buffer | undefined {
    if (this.state === S_DEAD || this.state === S_FINISHED) return undefined;
    const parts: Buffer[] = [];
    const stash = this.state === S_HEAD ? this.head.takeStash() : undefined;
    if (stash !== undefined) parts.push(stash);
    if (this.curPos < this.cur.length) parts.push(this.cur.subarray(this.curPos));
    this.curPos = this.cur.length;
    for (const b of this.kept) parts.push(b);
    this.kept = [];
    this.keptBytes = 0;
    this.state = S_DETACHED;
    if (parts.length === 0) return undefined;
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /** The input has ended (the peer closed): see onEndOfInput. */
  protected endInput(): void {
    if (this.state >= S_TUNNEL) return;
    this.eof = true;
    if (!this.running && !this.paused) this.run();
  }

  /** Sets the body state for a head just built; call before emitting the head. */
  protected beginBody(framing: Framing): void {
    switch (framing.kind) {
      case 'none':
        this.state = S_END;
        break;
      case 'length':
        this.length = framing.length;
        this.remaining = framing.length;
        this.state = framing.length === 0 ? S_END : S_BODY_LENGTH;
        break;
      case 'chunked':
        this.chunks.startMessage();
        this.state = S_CHUNK_SIZE;
        break;
      case 'close':
        this.state = S_BODY_CLOSE;
        break;
    }
  }

  /** The next head follows (after a 1xx). */
  protected nextHead(): void {
    this.head.reset();
    this.state = S_HEAD;
  }

  protected tunnel(): void {
    this.state = S_TUNNEL;
  }

  protected fail(err: ParseError): void {
    this.state = S_DEAD;
    this.curPos = this.cur.length;
    this.kept = [];
    this.keptBytes = 0;
    this.head.reset();
    this.trailerScanner = undefined;
    this.sink.onError(err);
  }

  private run(): void {
    this.running = true;
    try {
      for (;;) {
        this.drain();
        if (this.paused || this.state >= S_TUNNEL) break;
        const next = this.kept.shift();
        if (next === undefined) break;
        this.keptBytes -= next.length;
        this.cur = next;
        this.curPos = 0;
      }
      if (this.eof && !this.paused && this.state < S_TUNNEL && this.curPos >= this.cur.length) {
        this.atEndOfInput();
      }
    } finally {
      this.running = false;
      const cur = this.cur;
      if (this.curPos < cur.length && this.state !== S_DEAD && this.state !== S_FINISHED) {
        this.kept.unshift(this.curPos === 0 ? cur : cur.subarray(this.curPos));
        this.keptBytes += cur.length - this.curPos;
      }
      this.cur = EMPTY;
      this.curPos = 0;
    }
  }

  /** Parses `cur` until it is used up, the parser is paused, or parsing stops for good. */
  private drain(): void {
    for (;;) {
      if (this.paused) return;
      const state = this.state;
      if (state === S_END) {
        this.endMessage();
        continue;
      }
      const buf = this.cur;
      const pos = this.curPos;
      const end = buf.length;
      if (pos >= end) return;
      switch (state) {
        case S_HEAD: {
          if (this.head.idle && buf[pos] !== CR && !this.canStartHead()) return;
          const r = this.head.feed(buf, pos, end);
          if (r >= 0) {
            this.curPos = r;
            this.headDone();
          } else if (r === NEED_MORE) {
            this.curPos = end;
            return;
          } else {
            this.fail(this.head.error());
            return;
          }
          continue;
        }
        case S_BODY_LENGTH:
        case S_CHUNK_DATA: {
          let n = end - pos;
          if (n > this.remaining) n = this.remaining;
          this.remaining -= n;
          this.curPos = pos + n;
          if (this.remaining === 0) this.state = state === S_BODY_LENGTH ? S_END : S_CHUNK_DATA_CR;
          this.sink.onBody(n === end && pos === 0 ? buf : buf.subarray(pos, pos + n));
          continue;
        }
        case S_BODY_CLOSE: {
          this.curPos = end;
          this.sink.onBody(pos === 0 ? buf : buf.subarray(pos));
          continue;
        }
        case S_CHUNK_SIZE: {
          const r = this.chunks.feed(buf, pos, end);
          if (r === NEED_MORE) {
            this.curPos = end;
            return;
          }
          if (r === FAILED) {
            this.fail(new ParseError(this.bad, this.chunks.message));
            return;
          }
          this.curPos = r;
          const size = this.chunks.size;
          if (size === 0) {
            this.trailerSection().reset();
            this.state = S_TRAILERS;
          } else {
            this.remaining = size;
            this.state = S_CHUNK_DATA;
          }
          continue;
        }
        case S_CHUNK_DATA_CR: {
          // RFC 9112 §7.1: chunk-data is followed by CRLF, nothing else.
          const c = buf[pos];
          if (c !== CR) {
            this.fail(
              new ParseError(
                this.bad,
                c === LF
                  ? 'bare LF (without CR) after chunk data'
                  : 'chunk data longer than its chunk-size (no CRLF after it)',
              ),
            );
            return;
          }
          this.curPos = pos + 1;
          this.state = S_CHUNK_DATA_LF;
          continue;
        }
        case S_CHUNK_DATA_LF: {
          if (buf[pos] !== LF) {
            this.fail(new ParseError(this.bad, 'CR not followed by LF after chunk data'));
            return;
          }
          this.curPos = pos + 1;
          this.chunks.startLine();
          this.state = S_CHUNK_SIZE;
          continue;
        }
        case S_TRAILERS: {
          const t = this.trailerSection();
          const r = t.feed(buf, pos, end);
          if (r === NEED_MORE) {
            this.curPos = end;
            return;
          }
          if (r === FAILED) {
            this.fail(t.error());
            return;
          }
          this.curPos = r;
          const problem = forbiddenTrailer(t);
          if (problem !== undefined) {
            this.fail(new ParseError(this.bad, problem));
            return;
          }
          this.trailers = t.fieldCount > 0 ? t.rawHeaders : undefined;
          this.state = S_END;
          continue;
        }
        default:
          // Tunnel, detached, finished, dead: nothing more is parsed.
          return;
      }
    }
  }

  private endMessage(): void {
    const trailers = this.trailers;
    this.trailers = undefined;
    this.head.reset();
    this.state = S_HEAD;
    this.sink.onEnd(trailers);
  }

  private trailerSection(): HeadScanner {
    this.trailerScanner ??= new HeadScanner(
      MODE_TRAILERS,
      this.limits,
      this.bad,
      this.tooLargeStatus,
    );
    return this.trailerScanner;
  }

  /** The peer closed and every byte was parsed. */
  private atEndOfInput(): void {
    switch (this.state) {
      case S_HEAD:
        if (this.head.idle) {
          this.state = S_FINISHED;
          return;
        }
        this.fail(new ParseError(this.bad, 'connection closed in the middle of a head'));
        return;
      case S_BODY_CLOSE:
        // RFC 9112 §6.3 rule 8: a close-delimited body ends when the connection closes.
        this.state = S_END;
        this.drain();
        if (this.state === S_HEAD) this.state = S_FINISHED;
        return;
      case S_BODY_LENGTH:
        this.fail(
          new ParseError(
            this.bad,
            `connection closed after ${this.length - this.remaining} of ${this.length} body bytes`,
          ),
        );
        return;
      case S_END:
        return;
      default:
        this.fail(new ParseError(this.bad, 'connection closed in the middle of a chunked body'));
    }
  }
}

/**
 * RFC 9110 §6.5.1: fields that frame the message or route it cannot be trailers. Trailers are
 * never merged into the header section here, but a next hop that merges them would read a
 * second Content-Length, Transfer-Encoding or Host; reject those.
 */
function forbiddenTrailer(t: HeadScanner): string | undefined {
  for (let k = 0; k < t.fieldCount; k++) {
    const kind = t.kinds[k];
    if (
      kind === F_CONTENT_LENGTH ||
      kind === F_TRANSFER_ENCODING ||
      kind === F_HOST ||
      kind === F_FRAMING_LOOKALIKE
    ) {
      return `${t.rawHeaders[2 * k]} is not allowed in a trailer section (RFC 9110 §6.5.1)`;
    }
  }
  return undefined;
}
