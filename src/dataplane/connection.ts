/**
 * One downstream connection: parses requests one at a time (pipelined ones wait in the parser),
 * asks the decision engine where each goes, and runs an exchange or answers itself. Slow
 * clients are bounded: the whole request head must arrive within the header timeout, and an idle
 * keep-alive connection is closed after the idle timeout.
 */
import net from 'node:net';
import { hostOnly, portOf } from '../core/compiler/hosts.ts';
import type { ErrorCode } from '../core/engine/errors.ts';
import { connectTarget } from '../core/engine/outbound.ts';
import type { Respond } from '../core/engine/types.ts';
import { reasonPhrase, writeError } from './error-response.ts';
import { Exchange } from './exchange.ts';
import { H2Downstream } from './h2-downstream.ts';
import { HeaderList } from './headers.ts';
import { lengthFraming } from './http1/framing.ts';
import { RequestParser } from './http1/request-parser.ts';
import { responseHead } from './http1/serialize.ts';
import { splitAbsoluteForm } from './http1/target.ts';
import type { ParseError, RequestEvents, RequestHead } from './http1/types.ts';
import { PREFACE } from './http2/frames.ts';
import type { ProxyCore } from './proxy.ts';
import {
  endLocalHop,
  errorDetails,
  errorMeta,
  exchangeInit,
  type ForwardMeta,
  hopRecord,
  NOWHERE,
  type Plan,
  planRequest,
  type Target,
  upstreamFields,
  upstreamProtocol,
} from './request-plan.ts';
import { RawRequestView } from './request-view.ts';
import { Http1Sink } from './response-sink.ts';

const EMPTY = Buffer.alloc(0);

const CONNECTED = 'HTTP/1.1 200 Connection Established\r\n\r\n';

const PARSE_CODES: Record<ParseError['code'], ErrorCode> = {
  BAD_REQUEST: 'BAD_REQUEST',
  HEADERS_TOO_LARGE: 'HEADERS_TOO_LARGE',
  URI_TOO_LONG: 'URI_TOO_LONG',
  NOT_IMPLEMENTED: 'NOT_IMPLEMENTED',
  VERSION_NOT_SUPPORTED: 'VERSION_NOT_SUPPORTED',
  BAD_RESPONSE: 'BAD_REQUEST',
};

/**
 * Where a request goes: origin-form (and OPTIONS *) use Host, absolute-form (what an http_proxy
 * client sends) carries its own authority. The parser has checked the form already.
 */
function targetOf(head: RequestHead, tunnelAuthority: string | undefined): Target | string {
  const t = head.target;
  if (t.charCodeAt(0) === 47 /* / */ || t === '*')
    return { authority: head.host ?? tunnelAuthority ?? '', pathAndQuery: t };
  const abs = splitAbsoluteForm(t);
  if (abs === undefined)
    return `request target ${JSON.stringify(t.slice(0, 100))} is not origin-form or absolute-form`;
  if (abs.scheme === 'https')
    return 'https:// targets need TLS, which lanes does not originate yet; call the service with http://';
  return { authority: abs.authority, pathAndQuery: abs.pathAndQuery };
}

export class DownstreamConnection implements RequestEvents {
  readonly socket: net.Socket;
  readonly #core: ProxyCore;
  readonly #parser: RequestParser;
  #exchange: Exchange | undefined;
  /** The current request's body goes nowhere (its response is already written). */
  #discardBody = false;
  /** The current request has been read completely. */
  #requestComplete = true;
  /** The current request has been answered completely. */
  #answered = true;
  /** When the first byte of the request head now being read arrived (monotonic ms). */
  #headStartedAt: number | undefined;
  #paused = 0;
  #closed = false;
  #detached = false;
  /** True while the parser is running our callbacks: resuming it then must wait. */
  #inParser = false;
  #resumePending = false;
  /** Bytes of the connection's start while they might still be the HTTP/2 client preface. */
  #prefix: Buffer | undefined = EMPTY;
  /** Set once the client sent the HTTP/2 preface: the connection is an HTTP/2 one from then on. */
  #h2: H2Downstream | undefined;
  /** The client ended its side (half-close): answer what it sent, then end ours. */
  #clientEnded = false;
  /** Inside a CONNECT tunnel: the authority it was opened to. */
  readonly #tunnelAuthority: string | undefined;

  /**
   * `tunnel`: this connection is the inside of a CONNECT tunnel to a mesh host: requests without
   * a Host get its authority, and `initial` holds bytes the client sent right behind CONNECT.
   */
  constructor(
    socket: net.Socket,
    core: ProxyCore,
    tunnel?: { readonly authority: string; readonly initial: Buffer | undefined },
  ) {
    this.socket = socket;
    this.#core = core;
    this.#tunnelAuthority = tunnel?.authority;
    this.#parser = new RequestParser(this, core.limits);
    socket.setNoDelay(true);
    socket.setTimeout(core.limits.idleTimeoutMs, this.#onTimeout);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onClientEnd());
    socket.on('error', () => {});
    socket.on('close', () => {
      this.#closed = true;
      this.#exchange?.abort();
      this.#exchange = undefined;
      core.connectionClosed(this);
    });
    if (tunnel?.initial && tunnel.initial.length > 0) this.#onData(tunnel.initial);
  }

  readonly #onTimeout = (): void => {
    // Idle between requests, or a stalled body: either way nothing is moving. A client that
    // never ends its side after we ended ours is not waited for twice.
    if (this.#parser.idle && !this.#exchange && !this.socket.writableEnded) this.socket.end();
    else this.socket.destroy();
  };

  #onData(chunk: Buffer): void {
    if (this.#detached) return;
    if (this.#prefix !== undefined) {
      chunk = this.#detectPreface(chunk);
      if (chunk.length === 0) return;
    }
    if (this.#parser.idle && !this.#exchange && this.#headStartedAt === undefined) {
      this.#headStartedAt = this.#core.runtime.now();
    }
    this.#runParser(chunk);
  }

  /**
   * h2c with prior knowledge and HTTP/1.1 share the port: a connection that starts with the
   * HTTP/2 client preface is handed to an HTTP/2 session, any other goes on as HTTP/1.1. Returns
   * the bytes for the HTTP/1.1 parser (none while the start may still be a preface).
   */
  #detectPreface(chunk: Buffer): Buffer {
    const seen = this.#prefix!.length === 0 ? chunk : Buffer.concat([this.#prefix!, chunk]);
    const n = Math.min(seen.length, PREFACE.length);
    if (!seen.subarray(0, n).equals(PREFACE.subarray(0, n))) {
      this.#prefix = undefined;
      return seen;
    }
    if (seen.length < PREFACE.length) {
      this.#prefix = seen;
      return EMPTY;
    }
    this.#prefix = undefined;
    this.#detached = true;
    this.#dropTimeout();
    this.socket.removeAllListeners('data');
    this.#h2 = new H2Downstream(this.socket, this.#core, seen, this.#tunnelAuthority);
    return EMPTY;
  }

  /** Whoever takes the socket over sets its own idle timeout; ours must not fire on it. */
  #dropTimeout(): void {
    this.socket.setTimeout(0);
    this.socket.removeListener('timeout', this.#onTimeout);
  }

  /** Closes gracefully: HTTP/2 sends GOAWAY and lets streams finish; HTTP/1.1 closes when idle. */
  shutdown(graceMs: number): void {
    if (this.#h2) this.#h2.shutdown(graceMs);
    else if (!this.busy) this.socket.end();
  }

  /** Runs the parser; resumes asked for inside its callbacks happen after it returns. */
  #runParser(chunk: Buffer | undefined): void {
    this.#inParser = true;
    try {
      if (chunk) this.#parser.execute(chunk);
      while (this.#resumePending && !this.#closed && !this.#detached) {
        this.#resumePending = false;
        this.#parser.resume();
      }
    } finally {
      this.#inParser = false;
    }
  }

  #resumeParser(): void {
    this.#resumePending = true;
    if (!this.#inParser) this.#runParser(undefined);
  }

  get busy(): boolean {
    if (this.#h2) return this.#h2.busy;
    return this.#exchange !== undefined || !this.#parser.idle;
  }

  /**
   * Called by the proxy's once-a-second sweep: a request head that is still incomplete after the
   * header timeout gets 408 (a per-request timer would cost more than the check).
   */
  checkHeadTimeout(now: number): void {
    const started = this.#headStartedAt;
    if (started === undefined || this.#closed) return;
    if (now - started < this.#core.limits.headersTimeoutMs) return;
    this.#headStartedAt = undefined;
    this.#answerAndClose(
      'REQUEST_TIMEOUT',
      `the request head did not arrive within ${this.#core.limits.headersTimeoutMs} ms`,
      started,
    );
  }

  pauseReading(): void {
    if (this.#paused++ === 0) this.socket.pause();
  }

  resumeReading(): void {
    if (this.#paused > 0 && --this.#paused === 0) this.socket.resume();
  }

  /** For a tunnel: stop parsing and hand over bytes the client already sent. */
  detach(): Buffer | undefined {
    this.#detached = true;
    this.#dropTimeout();
    while (this.#paused > 0) this.resumeReading();
    return this.#parser.takeRemainder();
  }

  exchangeDone(keepAlive: boolean): void {
    this.#exchange = undefined;
    this.#finishResponse(keepAlive);
  }

  /** The current response is complete: continue with the next request, or close. */
  #finishResponse(keepAlive: boolean): void {
    this.#answered = true;
    if (this.#closed) return;
    if (!keepAlive) {
      this.#parser.pause();
      this.socket.end();
      return;
    }
    // A body still arriving for a request already answered is read and dropped.
    if (!this.#requestComplete) this.#discardBody = true;
    this.#resumeParser();
    // A client that ended its side gets answers to the requests it sent (pipelined ones run
    // above), then the connection ends.
    if (this.#clientEnded && this.#answered) this.#endAfterClient();
  }

  /**
   * The client ended its side. Whatever it sent completely is still answered; a request it can
   * no longer finish (a partial head, a body cut short) is dropped with the connection.
   */
  #onClientEnd(): void {
    this.#clientEnded = true;
    if (this.#detached || this.#closed) return;
    if (!this.#requestComplete && this.#exchange) {
      this.#exchange.abort();
      this.#exchange = undefined;
      this.socket.destroy();
      return;
    }
    if (this.#answered) this.#endAfterClient();
  }

  /** Nothing is left to answer: end our side too, or drop a partial head that cannot complete. */
  #endAfterClient(): void {
    if (this.#parser.idle) this.socket.end();
    else this.socket.destroy();
  }

  /**
   * Answers a request that never became one (a malformed or late head, a malformed body) and
   * closes the connection. It is logged like any answer, so an operator sees why clients got it.
   */
  #answerAndClose(
    code: ErrorCode,
    message: string,
    startedAt: number,
    delivered: 'none' | 'unknown' = 'none',
  ): void {
    const status = writeError(this.socket, {
      ...errorDetails(this.#core, { code, message }, NOWHERE, false),
      delivered,
    });
    this.#logLocal(undefined, undefined, startedAt, NOWHERE, status, code);
    this.socket.end();
  }

  // ------------------------------------------------------------------------------------------
  // Parser events

  onHead(head: RequestHead): void {
    this.#headStartedAt = undefined;
    this.#requestComplete = false;
    this.#answered = false;
    this.#discardBody = false;
    const core = this.#core;
    const startedAt = core.runtime.now();
    const snapshot = core.snapshot;
    // One view per request (it lower-cases every header name): for a target the proxy cannot
    // route, the raw target stands in, so the error is still logged with what was asked.
    const target = targetOf(head, this.#tunnelAuthority);
    const view =
      typeof target === 'string'
        ? new RawRequestView(head.method, '', head.target, head.rawHeaders)
        : new RawRequestView(head.method, target.authority, target.pathAndQuery, head.rawHeaders);
    if (!snapshot) {
      this.#respondError(head, view, startedAt, {
        code: 'NO_CONFIG',
        message: 'this proxy has not received a routing table yet',
      });
      return;
    }
    if (head.method === 'CONNECT') {
      this.#connect(head, view, startedAt);
      return;
    }
    if (typeof target === 'string') {
      this.#respondError(head, view, startedAt, { code: 'BAD_REQUEST', message: target });
      return;
    }
    if (head.expect === 'other') {
      this.#respondError(head, view, startedAt, {
        code: 'EXPECTATION_FAILED',
        message: 'only Expect: 100-continue is supported',
      });
      return;
    }
    const plan = planRequest(core, snapshot, view, target);
    switch (plan.kind) {
      case 'error':
        this.#respondError(head, view, startedAt, plan, errorMeta(plan));
        return;
      case 'respond':
        this.#respond(head, plan.decision, startedAt, view);
        return;
      case 'forward':
        this.#forward(head, view, plan, startedAt);
        return;
    }
  }

  /**
   * CONNECT, which an app's HTTP client sends its http_proxy to tunnel through it (Node's fetch()
   * under NODE_USE_ENV_PROXY, grpc-js, Python grpcio). Only a sidecar's outbound side is a proxy
   * for its app. A tunnel to a mesh host is not a blind pipe: its bytes are read as a new
   * connection (HTTP/1.1 or h2c) whose requests are routed one by one, lanes included. Other
   * hosts follow the outbound traffic policy: a raw tunnel (ALLOW_ANY) or REGISTRY_ONLY.
   */
  #connect(head: RequestHead, view: RawRequestView, startedAt: number): void {
    const core = this.#core;
    const hop = core.hop;
    if (hop.kind !== 'outbound') {
      this.#respondError(head, view, startedAt, {
        code: 'CONNECT_UNSUPPORTED',
        message:
          "CONNECT is accepted only by a sidecar's outbound side (the app's http_proxy); send requests to a gateway or an inbound side directly",
      });
      return;
    }
    const authority = head.target;
    const kind = connectTarget(core.snapshot!.table, hop.workload, authority);
    if (kind === 'registry-only') {
      this.#respondError(head, view, startedAt, {
        code: 'REGISTRY_ONLY',
        message: `${hostOnly(authority)} is not a service of the mesh, and the mesh only allows its registry (Mesh spec.outboundTrafficPolicy.mode: REGISTRY_ONLY)`,
      });
      return;
    }
    const rest = this.detach();
    core.connectionClosed(this);
    this.#answered = true;
    const tunnelView = new RawRequestView('CONNECT', authority, '', head.rawHeaders);
    if (kind === 'mesh') {
      this.socket.write(CONNECTED, 'latin1');
      this.#logLocal(head, tunnelView, startedAt, NOWHERE, 200, null);
      core.connections.add(
        new DownstreamConnection(this.socket, core, { authority, initial: rest }),
      );
      return;
    }
    const host = hostOnly(authority).replace(/^\[|\]$/g, '');
    const port = portOf(authority) ?? 443;
    const down = this.socket;
    const up = net.connect({ host, port, noDelay: true });
    let connected = false;
    let bytesIn = 0;
    let bytesOut = 0;
    const timer = setTimeout(
      () =>
        up.destroy(new Error(`connect timed out after ${core.defaultPolicy.connectTimeoutMs} ms`)),
      core.defaultPolicy.connectTimeoutMs,
    );
    up.once('connect', () => {
      connected = true;
      clearTimeout(timer);
      down.write(CONNECTED, 'latin1');
      if (rest && rest.length > 0) up.write(rest);
      up.on('data', (c: Buffer) => {
        bytesOut += c.length;
      });
      down.on('data', (c: Buffer) => {
        bytesIn += c.length;
      });
      up.pipe(down);
      down.pipe(up);
    });
    up.on('error', (error) => {
      clearTimeout(timer);
      if (connected) return;
      const code = 'UPSTREAM_CONNECT_FAILURE';
      const message = `CONNECT to ${authority} (outside the mesh) failed: ${error.message}`;
      const status = writeError(down, errorDetails(core, { code, message }, NOWHERE, false));
      this.#logLocal(head, tunnelView, startedAt, NOWHERE, status, code);
      down.end();
    });
    up.on('close', () => {
      if (!connected) return;
      down.destroy();
      core.runtime.hops.end(
        hopRecord(core, { view: tunnelView, protocol: 'HTTP/1.1', startedAt }, NOWHERE, undefined),
        {
          upstream: `${host}:${port}`,
          status: 200,
          bytesIn,
          bytesOut,
          error: null,
          attempts: 1,
          event: 'tunnel to a host outside the mesh (passthrough)',
        },
      );
    });
    down.on('close', () => up.destroy());
  }

  #forward(
    head: RequestHead,
    view: RawRequestView,
    plan: Extract<Plan, { kind: 'forward' }>,
    startedAt: number,
  ): void {
    const core = this.#core;
    const framing = head.framing;
    // `Upgrade: h2c` is not passed on: an upstream that accepted it would carry every later
    // request of the connection past the proxy's routing (h2c smuggling).
    const upgrade =
      head.upgrade !== undefined && !/^\s*h2c\s*$/i.test(head.upgrade) ? head.upgrade : undefined;
    const headers = upstreamFields(
      core,
      head.rawHeaders,
      view.lowerNames,
      plan.ops,
      view.authority,
      this.socket.remoteAddress,
    );
    if (head.expect === '100-continue' && framing.kind !== 'none') {
      // RFC 9110 §10.1.1: a proxy may answer 100 itself once it knows it will forward the body.
      this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    }
    const policy = plan.decision?.policy ?? core.defaultPolicy;
    this.#exchange = new Exchange(
      exchangeInit(core, plan, {
        down: this,
        sink: new Http1Sink(this.socket, head.minor),
        view,
        request: {
          method: head.method,
          authority: plan.target.authority,
          pathAndQuery: plan.target.pathAndQuery,
          headers,
          framing,
          upgrade,
          teTrailers: view.header('te')?.toLowerCase().includes('trailers') ?? false,
        },
        upstreamProtocol: upstreamProtocol(plan, policy, 'HTTP/1.1', upgrade !== undefined),
        clientKeepAlive: head.keepAlive,
        startedAt,
        bytesIn: head.headBytes,
      }),
    );
  }

  #respond(head: RequestHead, decision: Respond, startedAt: number, view: RawRequestView): void {
    const keepAlive = head.keepAlive && head.framing.kind === 'none';
    const fields = new HeaderList();
    for (const [name, value] of decision.headers) fields.push(name, name, value);
    if (decision.reason === 'fault-abort') fields.push('x-lanes-fault', 'x-lanes-fault', 'abort');
    const out = responseHead({
      status: decision.status,
      reason: reasonPhrase(decision.status),
      fields: fields.serialize(),
      framing: lengthFraming(Buffer.byteLength(decision.body)),
      keepAlive,
      minor: head.minor,
    });
    this.socket.write(out + decision.body);
    this.#logLocal(head, view, startedAt, NOWHERE, decision.status, null);
    this.#finishResponse(keepAlive);
  }

  /** Answers with a mesh error; `meta` says where the request was going, when a decision said. */
  #respondError(
    head: RequestHead,
    view: RawRequestView,
    startedAt: number,
    error: { readonly code: ErrorCode; readonly message: string },
    meta: ForwardMeta = NOWHERE,
  ): void {
    // With a body on its way, answering early and closing is simpler and safer than draining it.
    const keepAlive = head.keepAlive && head.framing.kind === 'none';
    const status = writeError(this.socket, {
      ...errorDetails(this.#core, error, meta, keepAlive),
      minor: head.minor,
    });
    this.#logLocal(head, view, startedAt, meta, status, error.code);
    this.#finishResponse(keepAlive);
  }

  /** `head` and `view` are undefined for a request whose head could not be read. */
  #logLocal(
    head: RequestHead | undefined,
    view: RawRequestView | undefined,
    startedAt: number,
    meta: ForwardMeta,
    status: number,
    error: ErrorCode | null,
  ): void {
    endLocalHop(this.#core, { view, protocol: 'HTTP/1.1', startedAt }, meta, {
      status,
      error,
      bytesIn: head?.headBytes ?? 0,
    });
  }

  onBody(chunk: Buffer): void {
    if (this.#discardBody) return;
    this.#exchange?.requestBody(chunk);
  }

  onEnd(): void {
    this.#requestComplete = true;
    this.#discardBody = false;
    if (this.#answered) return;
    // The next pipelined request waits until this response is complete.
    this.#parser.pause();
    this.#exchange?.requestEnd();
  }

  onError(err: ParseError): void {
    const startedAt = this.#headStartedAt ?? this.#core.runtime.now();
    this.#headStartedAt = undefined;
    const exchange = this.#exchange;
    if (exchange) {
      // The body (or its trailers) turned out malformed after the head was forwarded: abort the
      // upstream side, so it never sees a complete message, and answer the client if we still can.
      this.#exchange = undefined;
      const started = exchange.responseStarted;
      exchange.abort('BAD_REQUEST');
      if (started) this.socket.destroy();
      else
        this.#answerAndClose(
          PARSE_CODES[err.code],
          `${err.message} (in the request body)`,
          startedAt,
          // The head (and maybe some of the body) went upstream already.
          'unknown',
        );
      return;
    }
    this.#answerAndClose(PARSE_CODES[err.code], err.message, startedAt);
  }
}
