/**
 * The HTTP/2 side of a downstream connection (h2c with prior knowledge, detected by the client
 * preface): every stream is a request routed exactly like an HTTP/1.1 one (request-plan.ts) and
 * forwarded by the same exchange, which answers through an H2Sink. Mesh errors reach gRPC
 * clients as trailers-only answers with a `grpc-status`; others get the usual text body.
 */
import type net from 'node:net';
import { type ErrorCode, statusOf } from '../core/engine/errors.ts';
import type { Respond } from '../core/engine/types.ts';
import { DELIVERED_HEADER, ERROR_HEADER } from './attempt.ts';
import { type ErrorDetails, errorBody } from './error-response.ts';
import { type Downstream, Exchange } from './exchange.ts';
import { encodeGrpcMessage, GRPC_STATUS, grpcStatusOf, isGrpcContentType } from './grpc.ts';
import type { HeaderList } from './headers.ts';
import { CHUNKED, lengthFraming, NO_BODY } from './http1/framing.ts';
import type { Framing } from './http1/types.ts';
import type { H2RequestHead } from './http2/fields.ts';
import { H2_ERRORS } from './http2/frames.ts';
import {
  type H2Stream,
  Http2Session,
  type ResetInfo,
  type StreamHandler,
} from './http2/session.ts';
import type { ProxyCore } from './proxy.ts';
import {
  endLocalHop,
  errorDetails,
  errorMeta,
  exchangeInit,
  type ForwardMeta,
  NOWHERE,
  planRequest,
  upstreamFields,
  upstreamProtocol,
} from './request-plan.ts';
import { RawRequestView } from './request-view.ts';
import type { ResponseSink } from './response-sink.ts';

/** Responses to an HTTP/2 client: one stream. */
export class H2Sink implements ResponseSink {
  readonly protocol = 'HTTP/2';
  readonly #stream: H2Stream;
  readonly #grpc: boolean;
  #drainWaiters: (() => void)[] = [];
  #headSent = false;
  #ended = false;
  /** The gRPC status the client got (head, trailers or a mesh error), for the log. */
  grpcStatus: number | undefined;

  constructor(stream: H2Stream, grpc: boolean) {
    this.#stream = stream;
    this.#grpc = grpc;
  }

  head(
    status: number,
    _reason: string,
    headers: HeaderList,
    framing: Framing,
    _keepAlive: boolean,
    _upgrade: string | undefined,
  ): Framing {
    const fields = [':status', String(status)];
    const { lower, values } = headers;
    for (let i = 0; i < lower.length; i++) {
      const name = lower[i]!;
      if (name !== '') fields.push(name, values[i]!);
    }
    if (framing.kind === 'length') fields.push('content-length', String(framing.length));
    this.#noteGrpcStatus(fields);
    const end = framing.kind === 'none';
    this.#headSent = true;
    this.#ended = end;
    this.#stream.sendHeaders(fields, end);
    return framing;
  }

  body(chunk: Buffer): boolean {
    return this.#stream.write(chunk);
  }

  onceDrain(callback: () => void): void {
    this.#drainWaiters.push(callback);
  }

  drained(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }

  end(trailers: readonly string[] | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    if (trailers === undefined || trailers.length === 0) {
      this.#stream.end();
      return;
    }
    // HTTP/1.1 trailers may be in any case; HTTP/2 field names are lower case.
    const fields: string[] = [];
    for (let i = 0; i < trailers.length; i += 2)
      fields.push(trailers[i]!.toLowerCase(), trailers[i + 1]!);
    this.#noteGrpcStatus(fields);
    this.#stream.end(fields);
  }

  abort(code: ErrorCode, resetCode: number | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#grpc && this.#headSent && resetCode === undefined) {
      // A gRPC client reads a status from trailers better than from a reset.
      const grpcStatus = GRPC_STATUS[grpcStatusOf(code)];
      this.grpcStatus = grpcStatus;
      this.#stream.end([
        'grpc-status',
        String(grpcStatus),
        'grpc-message',
        encodeGrpcMessage(`lanes: ${code}: the upstream response was cut short`),
        'x-lanes-error',
        code,
      ]);
      return;
    }
    // An upstream reset goes on with its own code; anything else is the proxy's INTERNAL_ERROR.
    // The exchange ends itself: the reset is not news to it.
    // A reset with NO_ERROR before the end is still a truncation: the client hears CANCEL.
    this.#stream.handler = undefined;
    this.#stream.reset(
      resetCode === undefined
        ? H2_ERRORS.INTERNAL_ERROR
        : resetCode === H2_ERRORS.NO_ERROR
          ? H2_ERRORS.CANCEL
          : resetCode,
    );
  }

  error(d: ErrorDetails): number {
    this.#headSent = true;
    this.#ended = true;
    if (this.#grpc) {
      const grpcStatus = GRPC_STATUS[grpcStatusOf(d.code)];
      this.grpcStatus = grpcStatus;
      // Trailers-only (PROTOCOL-HTTP2.md): HTTP 200 and the status in the one header block.
      this.#stream.sendHeaders(
        [
          ':status',
          '200',
          'content-type',
          'application/grpc',
          'grpc-status',
          String(grpcStatus),
          'grpc-message',
          encodeGrpcMessage(errorBody(d).trimEnd().replaceAll('\n', '; ')),
          ERROR_HEADER,
          d.code,
          DELIVERED_HEADER,
          d.delivered ?? 'none',
        ],
        true,
      );
      return 200;
    }
    const status = statusOf(d.code);
    const body = Buffer.from(errorBody(d), 'utf8');
    this.#stream.sendHeaders(
      [
        ':status',
        String(status),
        ERROR_HEADER,
        d.code,
        DELIVERED_HEADER,
        d.delivered ?? 'none',
        'content-type',
        'text/plain; charset=utf-8',
        'content-length',
        String(body.length),
      ],
      false,
    );
    this.#stream.write(body);
    this.#stream.end();
    return status;
  }

  cork(): void {}

  uncork(): void {}

  #noteGrpcStatus(fields: readonly string[]): void {
    if (!this.#grpc) return;
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i] === 'grpc-status') this.grpcStatus = Number(fields[i + 1]);
    }
  }
}

/** One request stream: what the exchange sees as its downstream. */
class RequestStream implements Downstream, StreamHandler {
  readonly stream: H2Stream;
  exchange: Exchange | undefined;
  sink: H2Sink | undefined;
  #paused = 0;
  #unconsumed = 0;

  constructor(stream: H2Stream) {
    this.stream = stream;
  }

  pauseReading(): void {
    this.#paused++;
  }

  resumeReading(): void {
    if (this.#paused > 0 && --this.#paused === 0 && this.#unconsumed > 0) {
      this.stream.consume(this.#unconsumed);
      this.#unconsumed = 0;
    }
  }

  exchangeDone(): void {
    this.exchange = undefined;
  }

  // Flow control: a chunk is credited back to the client only once the exchange passed it on.
  onData(chunk: Buffer): void {
    const exchange = this.exchange;
    if (!exchange) {
      this.stream.consume(chunk.length);
      return;
    }
    exchange.requestBody(chunk);
    if (this.#paused > 0) this.#unconsumed += chunk.length;
    else this.stream.consume(chunk.length);
  }

  onEnd(): void {
    // Request trailers are not forwarded (HTTP/1.1 upstreams would need them chunked).
    this.exchange?.requestEnd();
  }

  onReset(_code: number, info: ResetInfo): void {
    // The client reset the stream (or the connection went), or the session found the rest of the
    // request malformed (a DATA length that contradicts content-length): the upstream stream is
    // reset too, so it never sees a complete request.
    this.exchange?.abort(info.by === 'local' ? 'BAD_REQUEST' : 'DOWNSTREAM_CLOSED');
    this.exchange = undefined;
  }

  onDrain(): void {
    this.sink?.drained();
  }
}

/** The HTTP/2 server side of one downstream connection. */
export class H2Downstream {
  readonly session: Http2Session;
  readonly #core: ProxyCore;
  readonly #remoteAddress: string | undefined;
  readonly #tunnelAuthority: string | undefined;

  /** `tunnelAuthority`: inside a CONNECT tunnel, the authority of requests that name none. */
  constructor(
    socket: net.Socket,
    core: ProxyCore,
    initial: Buffer,
    tunnelAuthority: string | undefined,
  ) {
    this.#core = core;
    this.#tunnelAuthority = tunnelAuthority;
    this.#remoteAddress = socket.remoteAddress;
    // A connection with no stream for the idle timeout is closed (GOAWAY); an open stream with
    // nothing moving (a quiet gRPC stream) is not: its own deadlines are the client's business.
    socket.setTimeout(core.limits.idleTimeoutMs, () => {
      if (!this.busy) this.session.shutdown(1000);
    });
    this.session = new Http2Session({
      role: 'server',
      socket,
      now: core.runtime.now,
      initial,
      limits: {
        maxHeaderListSize: core.limits.maxHeadBytes,
      },
      events: {
        onRequest: (stream, head) => this.#onRequest(stream, head),
        onBadRequest: (stream, code, message, head) =>
          this.#onBadRequest(stream, code, message, head),
        onClose: () => {},
      },
    });
  }

  get busy(): boolean {
    return this.session.activeStreams > 0;
  }

  /** GOAWAY: streams in flight finish, new ones go elsewhere (the client retries them). */
  shutdown(graceMs: number): void {
    this.session.shutdown(graceMs);
  }

  #onBadRequest(
    stream: H2Stream,
    code: 'HEADERS_TOO_LARGE' | 'BAD_REQUEST',
    message: string,
    head: H2RequestHead | undefined,
  ): void {
    const startedAt = this.#core.runtime.now();
    const view = head
      ? new RawRequestView(head.method, head.authority, head.path, head.fields)
      : undefined;
    if (code === 'HEADERS_TOO_LARGE') {
      const sink = new H2Sink(stream, false);
      const status = sink.error(errorDetails(this.#core, { code, message }, NOWHERE, true));
      this.#logLocal(view, startedAt, NOWHERE, status, code, undefined);
      return;
    }
    // Malformed: the session has reset the stream already; the log says why.
    this.#logLocal(view, startedAt, NOWHERE, statusOf(code), code, undefined);
  }

  #onRequest(stream: H2Stream, head: H2RequestHead): void {
    const core = this.#core;
    const startedAt = core.runtime.now();
    const rs = new RequestStream(stream);
    stream.handler = rs;
    const fields = joinCookies(head.fields);
    const authority = head.authority || (this.#tunnelAuthority ?? '');
    const view = new RawRequestView(head.method, authority, head.path, fields);
    const grpc = isGrpcContentType(view.header('content-type'));
    const sink = new H2Sink(stream, grpc);
    rs.sink = sink;
    const snapshot = core.snapshot;
    if (!snapshot) {
      this.#fail(sink, view, startedAt, {
        code: 'NO_CONFIG',
        message: 'this proxy has not received a routing table yet',
      });
      return;
    }
    if (head.method === 'CONNECT') {
      this.#fail(sink, view, startedAt, {
        code: 'CONNECT_UNSUPPORTED',
        message: 'CONNECT over HTTP/2 is not supported; use HTTP/1.1 CONNECT',
      });
      return;
    }
    if (authority === '') {
      this.#fail(sink, view, startedAt, {
        code: 'BAD_REQUEST',
        message:
          'the request has neither :authority nor a host field: send the authority of the service it is for',
      });
      return;
    }
    const plan = planRequest(core, snapshot, view, {
      authority,
      pathAndQuery: head.path,
    });
    switch (plan.kind) {
      case 'error':
        this.#fail(sink, view, startedAt, plan, errorMeta(plan));
        return;
      case 'respond':
        this.#respond(stream, plan.decision);
        this.#logLocal(view, startedAt, NOWHERE, plan.decision.status, null, undefined);
        return;
      case 'forward':
        break;
    }
    const policy = plan.decision?.policy ?? core.defaultPolicy;
    const ended = stream.remoteClosed;
    const framing: Framing = ended
      ? NO_BODY
      : head.contentLength !== undefined
        ? lengthFraming(head.contentLength)
        : CHUNKED;
    rs.exchange = new Exchange(
      exchangeInit(core, plan, {
        down: rs,
        sink,
        view,
        request: {
          method: head.method,
          authority: plan.target.authority,
          pathAndQuery: plan.target.pathAndQuery,
          headers: upstreamFields(
            core,
            fields,
            view.lowerNames,
            plan.ops,
            view.authority,
            this.#remoteAddress,
          ),
          framing,
          upgrade: undefined,
          teTrailers: view.header('te') === 'trailers',
        },
        upstreamProtocol: upstreamProtocol(plan, policy, 'HTTP/2', false),
        clientKeepAlive: true,
        startedAt,
        bytesIn: 0,
      }),
    );
  }

  #respond(stream: H2Stream, decision: Respond): void {
    const body = Buffer.from(decision.body, 'utf8');
    const fields = [':status', String(decision.status)];
    for (const [name, value] of decision.headers) fields.push(name.toLowerCase(), value);
    if (decision.reason === 'fault-abort') fields.push('x-lanes-fault', 'abort');
    fields.push('content-length', String(body.length));
    stream.sendHeaders(fields, body.length === 0);
    if (body.length > 0) {
      stream.write(body);
      stream.end();
    }
  }

  /** Answers a request stream with a mesh error, the way its client reads one, and logs it. */
  #fail(
    sink: H2Sink,
    view: RawRequestView,
    startedAt: number,
    error: { readonly code: ErrorCode; readonly message: string },
    meta: ForwardMeta = NOWHERE,
  ): void {
    const status = sink.error(errorDetails(this.#core, error, meta, true));
    this.#logLocal(view, startedAt, meta, status, error.code, sink.grpcStatus);
  }

  /** `view` is undefined for a request whose head could not be read. */
  #logLocal(
    view: RawRequestView | undefined,
    startedAt: number,
    meta: ForwardMeta,
    status: number,
    error: ErrorCode | null,
    grpcStatus: number | undefined,
  ): void {
    endLocalHop(this.#core, { view, protocol: 'HTTP/2', startedAt }, meta, {
      status,
      error,
      bytesIn: 0,
      grpcStatus,
    });
  }
}

/**
 * HTTP/2 clients may split Cookie into one field per crumb (RFC 9113 §8.2.3); an HTTP/1.1
 * upstream must get them as one field, joined with "; ".
 */
function joinCookies(fields: string[]): string[] {
  let first = -1;
  let count = 0;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] !== 'cookie') continue;
    if (first < 0) first = i;
    count++;
  }
  if (count < 2) return fields;
  const out: string[] = [];
  const crumbs: string[] = [];
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === 'cookie') crumbs.push(fields[i + 1]!);
    else out.push(fields[i]!, fields[i + 1]!);
  }
  out.push('cookie', crumbs.join('; '));
  return out;
}
