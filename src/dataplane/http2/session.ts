/**
 * One HTTP/2 connection (RFC 9113) on a raw socket, in either role: the server side of a
 * downstream connection or the client side of an upstream one. It owns the framing, HPACK state,
 * stream states, SETTINGS and both levels of flow control; the proxy sees streams with field
 * arrays and body chunks, the same shapes the HTTP/1.1 side gives it.
 *
 * Flow control is what keeps memory flat: the receive window of a stream is credited only when
 * its consumer says it passed the bytes on (`consume`), so a slow reader at the far end stops the
 * sender here after one window; the connection window is credited on arrival (a stalled stream
 * must not block its neighbours), so a connection buffers at most streams × stream window.
 * Outgoing DATA waits for both send windows and for the socket to drain below a mark.
 */
import type net from 'node:net';
import {
  type H2RequestHead,
  type H2ResponseHead,
  requestHead,
  responseHead,
  trailersProblem,
} from './fields.ts';
import {
  ACK,
  CONTINUATION,
  DATA,
  DEFAULT_MAX_FRAME,
  DEFAULT_WINDOW,
  END_HEADERS,
  END_STREAM,
  errorName,
  FRAME_HEADER,
  frameHeader,
  GOAWAY,
  goawayFrame,
  H2_ERRORS,
  HEADERS,
  headersFrames,
  MAX_WINDOW,
  PADDED,
  PING,
  PREFACE,
  PRIORITY,
  PRIORITY_FLAG,
  PUSH_PROMISE,
  pingFrame,
  RST_STREAM,
  rstStreamFrame,
  SETTINGS,
  SETTINGS_ACK,
  SETTINGS_ENABLE_PUSH,
  SETTINGS_HEADER_TABLE_SIZE,
  SETTINGS_INITIAL_WINDOW_SIZE,
  SETTINGS_MAX_CONCURRENT_STREAMS,
  SETTINGS_MAX_FRAME_SIZE,
  SETTINGS_MAX_HEADER_LIST_SIZE,
  settingsFrame,
  WINDOW_UPDATE,
  windowUpdateFrame,
} from './frames.ts';
import { HpackDecoder, HpackEncoder } from './hpack.ts';

export interface SessionLimits {
  /** Streams the peer may have open at once (what we advertise). */
  readonly maxConcurrentStreams: number;
  /** Our receive window per stream (SETTINGS_INITIAL_WINDOW_SIZE). */
  readonly streamWindow: number;
  /** Our receive window for the connection. */
  readonly connectionWindow: number;
  /** Decoded header list size (RFC 7541 §4.1 sizes) beyond which a request gets 431. */
  readonly maxHeaderListSize: number;
  /** Encoded header block bytes (HEADERS + CONTINUATION) beyond which the connection is closed. */
  readonly maxHeaderBlockBytes: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  maxConcurrentStreams: 100,
  streamWindow: DEFAULT_WINDOW,
  connectionWindow: 1 << 20,
  maxHeaderListSize: 16 * 1024,
  maxHeaderBlockBytes: 256 * 1024,
};

/** Outgoing bytes buffered in the socket above which DATA waits (and the peer stops being read from). */
const SOCKET_HIGH_WATER = 64 * 1024;
/** A peer that lets this much pile up unread while it keeps asking for answers (PING, SETTINGS) is cut off. */
const SOCKET_HARD_LIMIT = 4 * 1024 * 1024;
/** Stream resets by the peer allowed per second before the connection is closed (CVE-2023-44487). */
const MAX_PEER_RESETS_PER_SECOND = 500;
/** Ids of streams we reset recently: frames still in flight for them are ignored (RFC 9113 §5.4.2). */
const RECENT_RESETS = 256;

export interface ResetInfo {
  /** Who ended the stream: the peer (RST_STREAM or GOAWAY), us, or the connection going away. */
  readonly by: 'peer' | 'local' | 'connection';
  /** The peer never processed the stream (REFUSED_STREAM, or beyond a GOAWAY): safe to retry. */
  readonly unprocessed: boolean;
  readonly message: string;
}

export interface StreamHandler {
  /** Client streams: the final response head. */
  onResponse?(head: H2ResponseHead, endStream: boolean): void;
  /** Client streams: a 1xx response other than 101. */
  onInformational?(status: number, fields: string[]): void;
  onData(chunk: Buffer): void;
  /** The peer ended its side, with trailers when it sent some. */
  onEnd(trailers: string[] | undefined): void;
  /** The stream ended abnormally: reset by either side, or the connection died. */
  onReset(code: number, info: ResetInfo): void;
  /** Data written while `write` returned false has left. */
  onDrain(): void;
}

export interface SessionEvents {
  /** Server role: a request arrived. Set `stream.handler` before returning. */
  onRequest?(stream: H2Stream, head: H2RequestHead): void;
  /**
   * Server role: a request that cannot be forwarded. `HEADERS_TOO_LARGE`: the stream is open for
   * an answer. `BAD_REQUEST`: it is malformed and already reset (PROTOCOL_ERROR); for the log.
   */
  onBadRequest?(
    stream: H2Stream,
    code: 'HEADERS_TOO_LARGE' | 'BAD_REQUEST',
    message: string,
    head: H2RequestHead | undefined,
  ): void;
  /** A stream closed (either role): capacity for another. */
  onStreamClosed?(stream: H2Stream): void;
  /** The peer sent GOAWAY: no new streams on this connection. */
  onGoaway?(lastStream: number, code: number): void;
  /** Client role: the peer's SETTINGS arrived (stream limit known). */
  onSettings?(): void;
  /** The connection is gone; `error` when it ended with a connection error. */
  onClose(error: string | undefined): void;
}

export class H2Stream {
  readonly id: number;
  readonly session: Http2Session;
  handler: StreamHandler | undefined;
  /** Our side is done (END_STREAM sent, or reset). */
  localClosed = false;
  /** The peer's side is done (END_STREAM received, or reset). */
  remoteClosed = false;
  closed = false;
  sendWindow: number;
  recvWindow: number;
  /** Bytes passed on by the consumer and not yet credited with WINDOW_UPDATE. */
  unconsumed = 0;
  /** DATA waiting for window or socket space, then an END_STREAM (with trailers) if asked. */
  queue: Buffer[] = [];
  queuedBytes = 0;
  endQueued: { trailers: readonly string[] | undefined } | undefined;
  wantsDrain = false;
  /** Header blocks received: 0 before the head, 1 after it, 2 after trailers. */
  blocks = 0;
  /** Client streams: a final (non-1xx) response has arrived. */
  responded = false;
  /** Server streams: response headers sent. */
  headersSent = false;
  contentLength: number | undefined;
  received = 0;
  /** Client role: what the request said, for the proxy's logs. */
  method = '';

  constructor(id: number, session: Http2Session, sendWindow: number, recvWindow: number) {
    this.id = id;
    this.session = session;
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }

  /** Sends a header block: the response head (server) or trailers are `end` with trailers. */
  sendHeaders(fields: readonly string[], endStream: boolean): void {
    this.session.sendHeaders(this, fields, endStream);
  }

  /** Sends body bytes; false when some had to wait (then `onDrain` follows). */
  write(chunk: Buffer): boolean {
    return this.session.writeData(this, chunk);
  }

  /** Ends our side after whatever is queued, with trailers when given. */
  end(trailers?: readonly string[]): void {
    this.session.endStream(this, trailers);
  }

  reset(code: number): void {
    this.session.resetStream(this, code, 'reset by the proxy');
  }

  /** The consumer passed `n` body bytes on: the peer may send that many more. */
  consume(n: number): void {
    this.session.consume(this, n);
  }
}

/** One recorded connection error: GOAWAY with this code, then close. */
class ConnectionError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/** One recorded stream error: RST_STREAM with this code. */
class StreamError extends Error {
  readonly code: number;
  readonly stream: number;
  constructor(stream: number, code: number, message: string) {
    super(message);
    this.stream = stream;
    this.code = code;
  }
}

export interface SessionOptions {
  readonly role: 'server' | 'client';
  readonly socket: net.Socket;
  readonly events: SessionEvents;
  readonly limits?: Partial<SessionLimits>;
  /** Monotonic milliseconds (rapid-reset accounting). */
  readonly now: () => number;
  /** Bytes already read from the socket (server role: they start with the preface). */
  readonly initial?: Buffer;
}

export class Http2Session {
  readonly role: 'server' | 'client';
  readonly socket: net.Socket;
  readonly limits: SessionLimits;
  readonly #events: SessionEvents;
  readonly #now: () => number;
  readonly #streams = new Map<number, H2Stream>();
  readonly #decoder: HpackDecoder;
  readonly #encoder = new HpackEncoder();
  #input: Buffer | undefined;
  #prefaceSeen: boolean;
  #settingsSeen = false;
  /** Highest stream id the peer opened (server) / we opened (client). */
  #lastPeerStream = 0;
  #nextStream = 1;
  /** Streams the peer opened that are still open. */
  #peerActive = 0;
  /** Streams we opened that are still open (client role). */
  #localActive = 0;
  // Peer settings.
  #peerMaxFrame = DEFAULT_MAX_FRAME;
  #peerInitialWindow = DEFAULT_WINDOW;
  peerMaxStreams = 100;
  // Connection flow control.
  #sendWindow = DEFAULT_WINDOW;
  #recvWindow = DEFAULT_WINDOW;
  #recvUnacked = 0;
  /** Streams with queued DATA or waiting for drain, in arrival order. */
  readonly #blocked = new Set<H2Stream>();
  /** A header block in progress: its stream, flags of the HEADERS frame and its fragments. */
  #block: { stream: number; flags: number; parts: Buffer[]; bytes: number } | undefined;
  readonly #recentResets: number[] = [];
  /** Ids of streams that closed recently (frames on them are STREAM_CLOSED, not PROTOCOL_ERROR). */
  readonly #recentClosed: number[] = [];
  #resetWindowStart = 0;
  #resetsInWindow = 0;
  #corked = false;
  /** GOAWAY we sent: streams above this id are ignored. */
  #goawaySent: number | undefined;
  /** GOAWAY the peer sent. */
  goawayReceived = false;
  #draining = false;
  #closed = false;
  #closeError: string | undefined;

  constructor(options: SessionOptions) {
    this.role = options.role;
    this.socket = options.socket;
    this.#events = options.events;
    this.#now = options.now;
    this.limits = { ...DEFAULT_SESSION_LIMITS, ...options.limits };
    this.#decoder = new HpackDecoder();
    this.#prefaceSeen = this.role === 'client';
    const socket = this.socket;
    socket.on('data', (chunk: Buffer) => this.#onBytes(chunk));
    socket.on('drain', () => this.#flushBlocked());
    socket.on('error', (error) => {
      this.#closeError ??= error.message;
    });
    socket.on('close', () => this.#onSocketClose());
    // Our SETTINGS go first (the client also sends the preface before them).
    const settings: [number, number][] = [
      [SETTINGS_MAX_CONCURRENT_STREAMS, this.limits.maxConcurrentStreams],
      [SETTINGS_MAX_HEADER_LIST_SIZE, this.limits.maxHeaderListSize],
    ];
    if (this.role === 'client') settings.push([SETTINGS_ENABLE_PUSH, 0]);
    if (this.limits.streamWindow !== DEFAULT_WINDOW)
      settings.push([SETTINGS_INITIAL_WINDOW_SIZE, this.limits.streamWindow]);
    if (this.role === 'client') this.#write(PREFACE);
    this.#write(settingsFrame(settings));
    if (this.limits.connectionWindow > DEFAULT_WINDOW) {
      this.#write(windowUpdateFrame(0, this.limits.connectionWindow - DEFAULT_WINDOW));
      this.#recvWindow = this.limits.connectionWindow;
    }
    if (options.initial && options.initial.length > 0) this.#onBytes(options.initial);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Streams open now (either side opened them). */
  get activeStreams(): number {
    return this.#peerActive + this.#localActive;
  }

  /** Client role: whether another stream may be opened now. */
  get canOpenStream(): boolean {
    return (
      !this.#closed &&
      !this.goawayReceived &&
      !this.#draining &&
      this.#settingsSeen &&
      this.#localActive < this.peerMaxStreams &&
      this.#nextStream <= MAX_WINDOW
    );
  }

  get draining(): boolean {
    return this.#draining || this.goawayReceived;
  }

  // ------------------------------------------------------------------------------------------
  // Writing

  #write(buf: Buffer): void {
    if (this.#closed) return;
    if (!this.#corked) {
      this.#corked = true;
      this.socket.cork();
      process.nextTick(uncork, this);
    }
    this.socket.write(buf);
  }

  /** @internal */
  uncorkNow(): void {
    this.#corked = false;
    this.socket.uncork();
  }

  get #congested(): boolean {
    return this.socket.writableLength >= SOCKET_HIGH_WATER;
  }

  /** Client role: opens a stream and sends the request head. */
  request(fields: readonly string[], endStream: boolean, handler: StreamHandler): H2Stream {
    const id = this.#nextStream;
    this.#nextStream += 2;
    const stream = new H2Stream(id, this, this.#peerInitialWindow, this.limits.streamWindow);
    stream.handler = handler;
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i] === ':method') {
        stream.method = fields[i + 1]!;
        break;
      }
    }
    this.#streams.set(id, stream);
    this.#localActive++;
    this.#write(headersFrames(id, this.#encoder.encode(fields), endStream, this.#peerMaxFrame));
    if (endStream) stream.localClosed = true;
    return stream;
  }

  sendHeaders(stream: H2Stream, fields: readonly string[], endStream: boolean): void {
    if (stream.localClosed || this.#closed) return;
    if (stream.queue.length > 0 || stream.endQueued) {
      // Trailers after queued DATA: they go when the queue is empty.
      stream.endQueued = { trailers: fields };
      return;
    }
    stream.headersSent = true;
    this.#write(
      headersFrames(stream.id, this.#encoder.encode(fields), endStream, this.#peerMaxFrame),
    );
    if (endStream) this.#localEnd(stream);
  }

  writeData(stream: H2Stream, chunk: Buffer): boolean {
    if (stream.localClosed || this.#closed) return true;
    if (stream.queue.length === 0) {
      const sent = this.#sendData(stream, chunk, 0);
      if (sent === chunk.length) {
        if (!this.#congested) return true;
        stream.wantsDrain = true;
        this.#blocked.add(stream);
        return false;
      }
      chunk = chunk.subarray(sent);
    }
    stream.queue.push(chunk);
    stream.queuedBytes += chunk.length;
    stream.wantsDrain = true;
    this.#blocked.add(stream);
    return false;
  }

  endStream(stream: H2Stream, trailers: readonly string[] | undefined): void {
    if (stream.localClosed || this.#closed) return;
    if (stream.queue.length > 0) {
      stream.endQueued = { trailers };
      return;
    }
    this.#finishStream(stream, trailers);
  }

  #finishStream(stream: H2Stream, trailers: readonly string[] | undefined): void {
    if (trailers && trailers.length > 0) {
      this.#write(
        headersFrames(stream.id, this.#encoder.encode(trailers), true, this.#peerMaxFrame),
      );
    } else {
      this.#write(frameHeader(0, DATA, END_STREAM, stream.id));
    }
    this.#localEnd(stream);
  }

  /**
   * Sends as much of chunk[from…] as both windows allow and the socket takes without passing its
   * mark; returns how many bytes went.
   */
  #sendData(stream: H2Stream, chunk: Buffer, from: number): number {
    let at = from;
    while (at < chunk.length) {
      const allowed = Math.min(stream.sendWindow, this.#sendWindow, this.#peerMaxFrame);
      if (allowed <= 0 || this.#congested) break;
      const n = Math.min(allowed, chunk.length - at);
      this.#write(frameHeader(n, DATA, 0, stream.id));
      this.#write(chunk.subarray(at, at + n));
      stream.sendWindow -= n;
      this.#sendWindow -= n;
      at += n;
    }
    return at - from;
  }

  /** Sends queued DATA where windows and the socket allow; tells drained streams. */
  #flushBlocked(): void {
    if (this.#closed) return;
    for (const stream of this.#blocked) {
      if (this.#congested) return;
      while (stream.queue.length > 0) {
        const chunk = stream.queue[0]!;
        const sent = this.#sendData(stream, chunk, 0);
        stream.queuedBytes -= sent;
        if (sent < chunk.length) {
          stream.queue[0] = chunk.subarray(sent);
          break;
        }
        stream.queue.shift();
      }
      if (stream.queue.length > 0) continue;
      this.#blocked.delete(stream);
      if (stream.endQueued && !stream.localClosed) {
        this.#finishStream(stream, stream.endQueued.trailers);
        stream.endQueued = undefined;
      }
      if (stream.wantsDrain) {
        stream.wantsDrain = false;
        stream.handler?.onDrain();
      }
    }
  }

  consume(stream: H2Stream, n: number): void {
    if (n <= 0 || stream.remoteClosed || this.#closed) return;
    stream.unconsumed += n;
    if (stream.unconsumed >= this.limits.streamWindow >>> 1) {
      this.#write(windowUpdateFrame(stream.id, stream.unconsumed));
      stream.recvWindow += stream.unconsumed;
      stream.unconsumed = 0;
    }
  }

  resetStream(stream: H2Stream, code: number, message: string): void {
    if (stream.closed || this.#closed) return;
    this.#write(rstStreamFrame(stream.id, code));
    this.#rememberReset(stream.id);
    this.#closeStream(stream, code, { by: 'local', unprocessed: false, message });
  }

  #rememberReset(id: number): void {
    this.#recentResets.push(id);
    if (this.#recentResets.length > RECENT_RESETS) this.#recentResets.shift();
  }

  #localEnd(stream: H2Stream): void {
    stream.localClosed = true;
    this.#blocked.delete(stream);
    if (stream.remoteClosed) {
      this.#closeStream(stream, undefined, undefined);
    } else if (this.role === 'server') {
      // RFC 9113 §8.1: the response is complete; the rest of the request is not needed.
      this.#write(rstStreamFrame(stream.id, H2_ERRORS.NO_ERROR));
      this.#rememberReset(stream.id);
      this.#closeStream(stream, undefined, undefined);
    }
  }

  /** Removes a stream; tells its handler when it ended abnormally. */
  #closeStream(stream: H2Stream, code: number | undefined, info: ResetInfo | undefined): void {
    if (stream.closed) return;
    stream.closed = true;
    stream.localClosed = true;
    stream.remoteClosed = true;
    stream.queue = [];
    stream.queuedBytes = 0;
    this.#blocked.delete(stream);
    this.#streams.delete(stream.id);
    this.#recentClosed.push(stream.id);
    if (this.#recentClosed.length > RECENT_RESETS) this.#recentClosed.shift();
    if (this.#isPeerStream(stream.id)) this.#peerActive--;
    else this.#localActive--;
    if (code !== undefined && info) stream.handler?.onReset(code, info);
    this.#events.onStreamClosed?.(stream);
    this.#maybeFinishDrain();
  }

  #isPeerStream(id: number): boolean {
    return this.role === 'server' ? id % 2 === 1 : id % 2 === 0;
  }

  // ------------------------------------------------------------------------------------------
  // Shutting down

  /**
   * Graceful close: GOAWAY with the largest id first (the client stops opening streams), then,
   * once a PING round trip shows it has seen that, GOAWAY with the last stream we took. Streams
   * in flight finish; the socket closes when the last one does, or after `graceMs`.
   */
  shutdown(graceMs: number): void {
    if (this.#closed || this.#draining) return;
    this.#draining = true;
    if (this.role === 'server') {
      this.#write(goawayFrame(MAX_WINDOW, H2_ERRORS.NO_ERROR));
      this.#write(pingFrame(SHUTDOWN_PING, false));
      // Without a PING answer, the second GOAWAY goes anyway.
      const timer = setTimeout(() => this.#finalGoaway(), 1000);
      timer.unref();
    } else {
      this.#finalGoaway();
    }
    const deadline = setTimeout(() => this.destroy(), graceMs);
    deadline.unref();
    this.socket.once('close', () => clearTimeout(deadline));
    this.#maybeFinishDrain();
  }

  #finalGoaway(): void {
    if (this.#closed || this.#goawaySent !== undefined) return;
    this.#goawaySent = this.#lastPeerStream;
    this.#write(goawayFrame(this.#lastPeerStream, H2_ERRORS.NO_ERROR));
    this.#maybeFinishDrain();
  }

  #maybeFinishDrain(): void {
    if (
      !this.#closed &&
      this.#draining &&
      this.#goawaySent !== undefined &&
      this.activeStreams === 0
    ) {
      this.#closed = true;
      this.socket.end();
    }
  }

  /** Closes at once: every open stream is reset. */
  destroy(): void {
    if (this.#closed && this.socket.destroyed) return;
    this.socket.destroy();
  }

  #connectionError(code: number, message: string): void {
    if (this.#closed) return;
    this.#write(goawayFrame(this.#lastPeerStream, code, message.slice(0, 200)));
    this.#closeError = `${errorName(code)}: ${message}`;
    this.#failStreams(code, 'connection', `connection error ${errorName(code)}: ${message}`);
    this.#closed = true;
    this.socket.end();
    // A peer that does not close its side is not waited for.
    const timer = setTimeout(() => this.socket.destroy(), 1000);
    timer.unref();
  }

  #failStreams(code: number, by: ResetInfo['by'], message: string): void {
    for (const stream of [...this.#streams.values()]) {
      this.#closeStream(stream, code, { by, unprocessed: false, message });
    }
  }

  #onSocketClose(): void {
    this.#closed = true;
    this.#failStreams(
      H2_ERRORS.CANCEL,
      'connection',
      `the connection closed${this.#closeError ? ` (${this.#closeError})` : ''}`,
    );
    this.#events.onClose(this.#closeError);
  }

  // ------------------------------------------------------------------------------------------
  // Reading

  #onBytes(chunk: Buffer): void {
    if (this.#closed) return;
    const buf = this.#input ? Buffer.concat([this.#input, chunk]) : chunk;
    this.#input = undefined;
    let p = 0;
    try {
      if (!this.#prefaceSeen) {
        if (buf.length < PREFACE.length) {
          if (!PREFACE.subarray(0, buf.length).equals(buf))
            throw new ConnectionError(H2_ERRORS.PROTOCOL_ERROR, 'invalid connection preface');
          this.#input = buf;
          return;
        }
        if (!PREFACE.equals(buf.subarray(0, PREFACE.length)))
          throw new ConnectionError(H2_ERRORS.PROTOCOL_ERROR, 'invalid connection preface');
        this.#prefaceSeen = true;
        p = PREFACE.length;
      }
      if (this.role === 'client' && !this.#settingsSeen && startsWithHttp1(buf, p))
        // An HTTP/1.1 server's answer to our preface (400, then close): say so, rather than
        // report its status line read as a frame header.
        throw new ConnectionError(
          H2_ERRORS.PROTOCOL_ERROR,
          'the peer answered in HTTP/1.x: it does not speak HTTP/2 with prior knowledge (h2c)',
        );
      while (buf.length - p >= FRAME_HEADER && !this.#closed) {
        const length = (buf[p]! << 16) | (buf[p + 1]! << 8) | buf[p + 2]!;
        const type = buf[p + 3]!;
        if (length > DEFAULT_MAX_FRAME)
          throw new ConnectionError(
            H2_ERRORS.FRAME_SIZE_ERROR,
            `a frame of ${length} bytes is over SETTINGS_MAX_FRAME_SIZE ${DEFAULT_MAX_FRAME}`,
          );
        if (buf.length - p < FRAME_HEADER + length) break;
        const flags = buf[p + 4]!;
        const stream = buf.readUInt32BE(p + 5) & MAX_WINDOW;
        const payload = buf.subarray(p + FRAME_HEADER, p + FRAME_HEADER + length);
        p += FRAME_HEADER + length;
        try {
          this.#frame(type, flags, stream, payload);
        } catch (e) {
          if (!(e instanceof StreamError)) throw e;
          this.#streamError(e);
        }
      }
    } catch (e) {
      if (e instanceof ConnectionError) {
        this.#connectionError(e.code, e.message);
        return;
      }
      throw e;
    }
    if (p < buf.length && !this.#closed) {
      // A partial frame waits for the rest (at most one frame: 16 KiB plus its header).
      this.#input = buf.subarray(p);
    }
    if (this.socket.writableLength > SOCKET_HARD_LIMIT) {
      this.#connectionError(H2_ERRORS.ENHANCE_YOUR_CALM, 'the peer does not read what it asks for');
    }
  }

  #streamError(e: StreamError): void {
    const stream = this.#streams.get(e.stream);
    this.#write(rstStreamFrame(e.stream, e.code));
    this.#rememberReset(e.stream);
    if (stream)
      this.#closeStream(stream, e.code, { by: 'local', unprocessed: false, message: e.message });
  }

  #frame(type: number, flags: number, id: number, payload: Buffer): void {
    if (!this.#settingsSeen && type !== SETTINGS)
      throw new ConnectionError(H2_ERRORS.PROTOCOL_ERROR, 'the first frame must be SETTINGS');
    if (this.#block && type !== CONTINUATION)
      throw new ConnectionError(
        H2_ERRORS.PROTOCOL_ERROR,
        'a header block must be continued by CONTINUATION frames only',
      );
    switch (type) {
      case DATA:
        this.#onData(flags, id, payload);
        return;
      case HEADERS:
        this.#onHeaders(flags, id, payload);
        return;
      case PRIORITY:
        this.#onPriority(id, payload);
        return;
      case RST_STREAM:
        this.#onRstStream(id, payload);
        return;
      case SETTINGS:
        this.#onSettings(flags, id, payload);
        return;
      case PUSH_PROMISE:
        throw new ConnectionError(
          H2_ERRORS.PROTOCOL_ERROR,
          'PUSH_PROMISE is not allowed (push is disabled)',
        );
      case PING:
        this.#onPing(flags, id, payload);
        return;
      case GOAWAY:
        this.#onGoaway(id, payload);
        return;
      case WINDOW_UPDATE:
        this.#onWindowUpdate(id, payload);
        return;
      case CONTINUATION:
        this.#onContinuation(flags, id, payload);
        return;
      default:
        // Unknown frame types are ignored (RFC 9113 §4.1, §5.5).
        return;
    }
  }

  /** Strips padding (RFC 9113 §6.1); `extra` bytes follow the pad length (HEADERS priority). */
  #unpad(flags: number, payload: Buffer, extra: number): Buffer {
    if ((flags & PADDED) === 0) {
      if (payload.length < extra)
        throw new ConnectionError(H2_ERRORS.FRAME_SIZE_ERROR, 'frame too short for its fields');
      return payload;
    }
    if (payload.length < 1 + extra)
      throw new ConnectionError(H2_ERRORS.FRAME_SIZE_ERROR, 'padded frame too short');
    const pad = payload[0]!;
    if (pad > payload.length - 1 - extra)
      throw new ConnectionError(H2_ERRORS.PROTOCOL_ERROR, 'padding longer than the frame');
    return payload.subarray(1, payload.length - pad);
  }

  /** Whether `id` names a stream that is closed (as opposed to idle) from our point of view. */
  #isClosedId(id: number): boolean {
    return this.#isPeerStream(id) ? id <= this.#lastPeerStream : id < this.#nextStream;
  }

  #onData(flags: number, id: number, payload: Buffer): void {
    if (id === 0) throw new ConnectionError(H2_ERRORS.PROTOCOL_ERROR, 'DATA on stream 0');
    const length = payload.length;
    // Flow control counts the whole frame, padding included, whatever the stream's state.
    if (length > this.#recvWindow)
      throw new ConnectionError(H2_ERRORS.FLOW_CONTROL_ERROR, 'DATA beyond the connection window');
    this.#recvWindow -= length;
    this.#recvUnacked += length;
    if (this.#recvUnacked >= this.limits.connectionWindow >>> 1) {
      this.#write(windowUpdateFrame(0, this.#recvUnacked));
      this.#recvWindow += this.#recvUnacked;
      this.#recvUnacked = 0;
    }
    const stream = this.#streams.get(id);
    if (!stream) {
      if (!this.#isClosedId(id))
        throw new ConnectionError(H2_ERRORS.PROTOCOL_ERROR, `DATA on idle stream ${id}`);
      if (this.#recentResets.includes(id)) return;
      throw new ConnectionError(H2_ERRORS.STREAM_CLOSED, `DATA on closed stream ${id}`);
    }
    const data = this.#unpad(flags, payload, 0);
    if (stream.remoteClosed)
      throw new StreamError(id, H2_ERRORS.STREAM_CLOSED, 'DATA after END_STREAM');
    if (stream.blocks === 0 || (this.role === 'client' && !stream.responded))
      throw new StreamError(id, H2_ERRORS.PROTOCOL_ERROR, 'DATA before the message head');
    if (length > stream.recvWindow)
      throw new StreamError(id, H2_ERRORS.FLOW_CONTROL_ERROR, 'DATA beyond the stream window');
    stream.recvWindow -= length;
    // Padding is credited back at once: nobody consumes it.
    if (length > data.length) this.consume(stream, length - data.length);
    stream.received += data.length;
    if (stream.contentLength !== undefined && stream.received > stream.contentLength)
      throw new StreamError(id, H2_ERRORS.PROTOCOL_ERROR, 'more DATA than content-length says');
    const end = (flags & END_STREAM) !== 0;
    if (end && stream.contentLength !== undefined && stream.received !== stream.contentLength)
      throw new StreamError(id, H2_ERRORS.PROTOCOL_ERROR, 'less DATA than content-length says');
    if (data.length > 0) stream.handler?.onData(data);
    if (end && !stream.closed) this.#remoteEnd(stream, undefined);
  }

  #remoteEnd(stream: H2Stream, trailers: string[] | undefined): void {
    stream.remoteClosed = true;
    stream.handler?.onEnd(trailers);
    if (stream.localClosed) this.#closeStream(stream, undefined, undefined);
  }

  #onHeaders(flags: number, id: number, payload: Buffer): void {
    if (id === 0) throw new ConnectionError(H2_ERRORS.PROTOCOL_ERROR, 'HEADERS on stream 0');
    const priority = (flags & PRIORITY_FLAG) !== 0;
    let fragment = this.#unpad(flags, payload, priority ? 5 : 0);
    if (priority) {
      const dependency = fragment.readUInt32BE(0) & MAX_WINDOW;
      fragment = fragment.subarray(5);
      if (dependency === id) {
        // Still decode the block (HPACK state), then refuse the stream.
        this.#startBlock(id, flags, fragment, 'self-dependency');
        return;
      }
    }
    this.#startBlock(id, flags, fragment, undefined);
  }

  #pendingProblem: string | undefined;

  #startBlock(id: number, flags: number, fragment: Buffer, problem: string | undefined): void {
    this.#pendingProblem = problem;
    if (flags & END_HEADERS) {
      this.#onBlock(id, flags, fragment);
      return;
    }
    this.#block = { stream: id, flags, parts: [fragment], bytes: fragment.length };
  }

  #onContinuation(flags: number, id: number, payload: Buffer): void {
    const block = this.#block;
    if (!block || block.stream !== id)
      throw new ConnectionError(
        H2_ERRORS.PROTOCOL_ERROR,
        'CONTINUATION without a header block to continue',
      );
    block.parts.push(payload);
    block.bytes += payload.length;
    if (block.bytes > this.limits.maxHeaderBlockBytes)
      throw new ConnectionError(
        H2_ERRORS.ENHANCE_YOUR_CALM,
        `a header block over ${this.limits.maxHeaderBlockBytes} bytes`,
      );
    if (flags & END_HEADERS) {
      this.#block = undefined;
      this.#onBlock(id, block.flags, Buffer.concat(block.parts, block.bytes));
    }
  }

  /** A complete header block for stream `id`; `flags` are those of its HEADERS frame. */
  #onBlock(id: number, flags: number, block: Buffer): void {
    const fields: string[] = [];
    const decoded = this.#decoder.decode(block, fields, this.limits.maxHeaderListSize);
    if (!decoded.ok) throw new ConnectionError(H2_ERRORS.COMPRESSION_ERROR, decoded.message);
    const endStream = (flags & END_STREAM) !== 0;
    const problem = this.#pendingProblem;
    this.#pendingProblem = undefined;
    let stream = this.#streams.get(id);
    if (!stream) {
      if (this.#isClosedId(id)) {
        if (this.#recentResets.includes(id)) return;
        if (!this.#recentClosed.includes(id))
          throw new ConnectionError(
            H2_ERRORS.PROTOCOL_ERROR,
            `HEADERS opening stream ${id}, below the last one opened`,
          );
        throw new ConnectionError(H2_ERRORS.STREAM_CLOSED, `HEADERS on closed stream ${id}`);
      }
      if (!this.#isPeerStream(id))
        throw new ConnectionError(
          H2_ERRORS.PROTOCOL_ERROR,
          `HEADERS opening stream ${id}, which is ours to open`,
        );
      if (this.role === 'client')
        throw new ConnectionError(H2_ERRORS.PROTOCOL_ERROR, 'a server may not open streams');
      this.#lastPeerStream = id;
      if (problem) throw new StreamError(id, H2_ERRORS.PROTOCOL_ERROR, problem);
      if (this.#goawaySent !== undefined && id > this.#goawaySent) {
        // After our final GOAWAY new streams are ignored (the client retries them elsewhere).
        this.#rememberReset(id);
        return;
      }
      if (this.#peerActive >= this.limits.maxConcurrentStreams) {
        this.#write(rstStreamFrame(id, H2_ERRORS.REFUSED_STREAM));
        this.#rememberReset(id);
        return;
      }
      stream = new H2Stream(id, this, this.#peerInitialWindow, this.limits.streamWindow);
      this.#streams.set(id, stream);
      this.#peerActive++;
      this.#onRequestBlock(stream, fields, decoded.overLimit, endStream);
      return;
    }
    if (problem) throw new StreamError(id, H2_ERRORS.PROTOCOL_ERROR, problem);
    if (stream.remoteClosed)
      throw new StreamError(id, H2_ERRORS.STREAM_CLOSED, 'HEADERS after END_STREAM');
    if (this.role === 'client' && !stream.responded) {
      this.#onResponseBlock(stream, fields, decoded.overLimit, endStream);
      return;
    }
    // Trailers: they end the stream and carry no pseudo-headers.
    if (!endStream)
      throw new StreamError(id, H2_ERRORS.PROTOCOL_ERROR, 'trailers without END_STREAM');
    if (decoded.overLimit)
      throw new StreamError(id, H2_ERRORS.PROTOCOL_ERROR, 'trailers over the header list limit');
    const bad = trailersProblem(fields);
    if (bad) throw new StreamError(id, H2_ERRORS.PROTOCOL_ERROR, bad);
    if (stream.contentLength !== undefined && stream.received !== stream.contentLength)
      throw new StreamError(id, H2_ERRORS.PROTOCOL_ERROR, 'less DATA than content-length says');
    stream.blocks = 2;
    this.#remoteEnd(stream, fields);
  }

  #onRequestBlock(
    stream: H2Stream,
    fields: string[],
    overLimit: boolean,
    endStream: boolean,
  ): void {
    stream.blocks = 1;
    if (endStream) stream.remoteClosed = true;
    if (overLimit) {
      this.#events.onBadRequest?.(
        stream,
        'HEADERS_TOO_LARGE',
        `the request head is over ${this.limits.maxHeaderListSize} bytes`,
        undefined,
      );
      return;
    }
    const head = requestHead(fields);
    if (typeof head === 'string') {
      this.#streamError(new StreamError(stream.id, H2_ERRORS.PROTOCOL_ERROR, head));
      this.#events.onBadRequest?.(stream, 'BAD_REQUEST', head, undefined);
      return;
    }
    stream.contentLength = head.contentLength;
    if (endStream && head.contentLength !== undefined && head.contentLength !== 0) {
      this.#streamError(
        new StreamError(stream.id, H2_ERRORS.PROTOCOL_ERROR, 'less DATA than content-length says'),
      );
      this.#events.onBadRequest?.(
        stream,
        'BAD_REQUEST',
        'content-length says there is a body, but the request ended',
        head,
      );
      return;
    }
    this.#events.onRequest?.(stream, head);
    if (endStream && !stream.closed) stream.handler?.onEnd(undefined);
  }

  #onResponseBlock(
    stream: H2Stream,
    fields: string[],
    overLimit: boolean,
    endStream: boolean,
  ): void {
    if (overLimit)
      throw new StreamError(
        stream.id,
        H2_ERRORS.PROTOCOL_ERROR,
        'response head over the header list limit',
      );
    const head = responseHead(fields);
    if (typeof head === 'string') throw new StreamError(stream.id, H2_ERRORS.PROTOCOL_ERROR, head);
    if (head.status < 200) {
      if (head.status === 101)
        throw new StreamError(stream.id, H2_ERRORS.PROTOCOL_ERROR, '101 is not allowed in HTTP/2');
      if (endStream)
        throw new StreamError(
          stream.id,
          H2_ERRORS.PROTOCOL_ERROR,
          'a 1xx response ended the stream',
        );
      stream.handler?.onInformational?.(head.status, head.fields);
      return;
    }
    stream.responded = true;
    stream.blocks = 1;
    stream.contentLength =
      stream.method === 'HEAD' || head.status === 204 || head.status === 304
        ? 0
        : head.contentLength;
    if (
      endStream &&
      stream.contentLength !== undefined &&
      stream.contentLength !== 0 &&
      stream.method !== 'HEAD'
    )
      throw new StreamError(
        stream.id,
        H2_ERRORS.PROTOCOL_ERROR,
        'less DATA than content-length says',
      );
    stream.handler?.onResponse?.(head, endStream);
    if (endStream && !stream.closed) this.#remoteEnd(stream, undefined);
  }

  #onPriority(id: number, payload: Buffer): void {
    if (id === 0) throw new ConnectionError(H2_ERRORS.PROTOCOL_ERROR, 'PRIORITY on stream 0');
    if (payload.length !== 5)
      throw new StreamError(id, H2_ERRORS.FRAME_SIZE_ERROR, 'PRIORITY of the wrong size');
    if ((payload.readUInt32BE(0) & MAX_WINDOW) === id)
      throw new StreamError(id, H2_ERRORS.PROTOCOL_ERROR, 'a stream cannot depend on itself');
    // Priorities are advice (RFC 9113 §5.3.2 deprecates them); the proxy serves streams in order.
  }

  #onRstStream(id: number, payload: Buffer): void {
    if (id === 0) throw new ConnectionError(H2_ERRORS.PROTOCOL_ERROR, 'RST_STREAM on stream 0');
    if (payload.length !== 4)
      throw new ConnectionError(H2_ERRORS.FRAME_SIZE_ERROR, 'RST_STREAM of the wrong size');
    const stream = this.#streams.get(id);
    if (!stream) {
      if (!this.#isClosedId(id))
        throw new ConnectionError(H2_ERRORS.PROTOCOL_ERROR, `RST_STREAM on idle stream ${id}`);
      return;
    }
    const code = payload.readUInt32BE(0);
    if (this.#isPeerStream(id)) this.#countPeerReset();
    this.#closeStream(stream, code, {
      by: 'peer',
      unprocessed: code === H2_ERRORS.REFUSED_STREAM,
      message: `the peer reset the stream (${errorName(code)})`,
    });
  }

  #countPeerReset(): void {
    const now = this.#now();
    if (now - this.#resetWindowStart > 1000) {
      this.#resetWindowStart = now;
      this.#resetsInWindow = 0;
    }
    if (++this.#resetsInWindow > MAX_PEER_RESETS_PER_SECOND)
      throw new ConnectionError(H2_ERRORS.ENHANCE_YOUR_CALM, 'too many stream resets');
  }

  #onSettings(flags: number, id: number, payload: Buffer): void {
    if (id !== 0) throw new ConnectionError(H2_ERRORS.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if (flags & ACK) {
      if (payload.length !== 0)
        throw new ConnectionError(H2_ERRORS.FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload');
      return;
    }
    if (payload.length % 6 !== 0)
      throw new ConnectionError(H2_ERRORS.FRAME_SIZE_ERROR, 'SETTINGS of the wrong size');
    for (let p = 0; p < payload.length; p += 6) {
      const key = payload.readUInt16BE(p);
      const value = payload.readUInt32BE(p + 2);
      switch (key) {
        case SETTINGS_HEADER_TABLE_SIZE:
          this.#encoder.setPeerLimit(value);
          break;
        case SETTINGS_ENABLE_PUSH:
          if (value > 1)
            throw new ConnectionError(H2_ERRORS.PROTOCOL_ERROR, 'SETTINGS_ENABLE_PUSH not 0 or 1');
          if (this.role === 'client' && value === 1)
            throw new ConnectionError(H2_ERRORS.PROTOCOL_ERROR, 'a server may not enable push');
          break;
        case SETTINGS_MAX_CONCURRENT_STREAMS:
          this.peerMaxStreams = value;
          break;
        case SETTINGS_INITIAL_WINDOW_SIZE: {
          if (value > MAX_WINDOW)
            throw new ConnectionError(
              H2_ERRORS.FLOW_CONTROL_ERROR,
              'SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1',
            );
          const delta = value - this.#peerInitialWindow;
          this.#peerInitialWindow = value;
          for (const stream of this.#streams.values()) {
            stream.sendWindow += delta;
            if (stream.sendWindow > MAX_WINDOW)
              throw new ConnectionError(
                H2_ERRORS.FLOW_CONTROL_ERROR,
                'a stream window over 2^31-1',
              );
          }
          break;
        }
        case SETTINGS_MAX_FRAME_SIZE:
          if (value < DEFAULT_MAX_FRAME || value > 0xffffff)
            throw new ConnectionError(
              H2_ERRORS.PROTOCOL_ERROR,
              'SETTINGS_MAX_FRAME_SIZE out of range',
            );
          this.#peerMaxFrame = value;
          break;
        default:
          // SETTINGS_MAX_HEADER_LIST_SIZE is advice; unknown settings are ignored (§6.5.2).
          break;
      }
    }
    this.#write(SETTINGS_ACK);
    const first = !this.#settingsSeen;
    this.#settingsSeen = true;
    this.#flushBlocked();
    if (first) this.#events.onSettings?.();
  }

  #onPing(flags: number, id: number, payload: Buffer): void {
    if (id !== 0) throw new ConnectionError(H2_ERRORS.PROTOCOL_ERROR, 'PING on a stream');
    if (payload.length !== 8)
      throw new ConnectionError(H2_ERRORS.FRAME_SIZE_ERROR, 'PING of the wrong size');
    if (flags & ACK) {
      if (payload.equals(SHUTDOWN_PING)) this.#finalGoaway();
      return;
    }
    this.#write(pingFrame(payload, true));
  }

  #onGoaway(id: number, payload: Buffer): void {
    if (id !== 0) throw new ConnectionError(H2_ERRORS.PROTOCOL_ERROR, 'GOAWAY on a stream');
    if (payload.length < 8)
      throw new ConnectionError(H2_ERRORS.FRAME_SIZE_ERROR, 'GOAWAY too short');
    const last = payload.readUInt32BE(0) & MAX_WINDOW;
    const code = payload.readUInt32BE(4);
    this.goawayReceived = true;
    // Streams we opened above `last` were never processed: their owners may retry them anywhere.
    for (const stream of [...this.#streams.values()]) {
      if (!this.#isPeerStream(stream.id) && stream.id > last) {
        this.#closeStream(stream, H2_ERRORS.REFUSED_STREAM, {
          by: 'peer',
          unprocessed: true,
          message: `the peer is going away (GOAWAY ${errorName(code)}) and did not process the stream`,
        });
      }
    }
    this.#events.onGoaway?.(last, code);
    if (this.activeStreams === 0) this.socket.end();
  }

  #onWindowUpdate(id: number, payload: Buffer): void {
    if (payload.length !== 4)
      throw new ConnectionError(H2_ERRORS.FRAME_SIZE_ERROR, 'WINDOW_UPDATE of the wrong size');
    const increment = payload.readUInt32BE(0) & MAX_WINDOW;
    if (id === 0) {
      if (increment === 0)
        throw new ConnectionError(H2_ERRORS.PROTOCOL_ERROR, 'WINDOW_UPDATE of 0');
      this.#sendWindow += increment;
      if (this.#sendWindow > MAX_WINDOW)
        throw new ConnectionError(H2_ERRORS.FLOW_CONTROL_ERROR, 'connection window over 2^31-1');
      this.#flushBlocked();
      return;
    }
    const stream = this.#streams.get(id);
    if (!stream) {
      if (!this.#isClosedId(id))
        throw new ConnectionError(H2_ERRORS.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${id}`);
      return;
    }
    if (increment === 0) throw new StreamError(id, H2_ERRORS.PROTOCOL_ERROR, 'WINDOW_UPDATE of 0');
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW)
      throw new StreamError(id, H2_ERRORS.FLOW_CONTROL_ERROR, 'stream window over 2^31-1');
    if (stream.queue.length > 0 || stream.endQueued) this.#flushBlocked();
  }
}

const SHUTDOWN_PING = Buffer.from('lanes-go', 'latin1');

const HTTP1_START = Buffer.from('HTTP/1.', 'latin1');

/** Whether buf[at…] begins an HTTP/1.x status line (as far as it goes). */
function startsWithHttp1(buf: Buffer, at: number): boolean {
  const n = Math.min(buf.length - at, HTTP1_START.length);
  return n > 0 && buf.compare(HTTP1_START, 0, n, at, at + n) === 0;
}

function uncork(session: Http2Session): void {
  session.uncorkNow();
}
