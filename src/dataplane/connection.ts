/**
 * One downstream connection: parses requests one at a time (pipelined ones wait in the parser),
 * asks the decision engine where each goes, and runs an exchange or answers itself. Slow
 * clients are bounded: the whole request head must arrive within the header timeout, and an idle
 * keep-alive connection is closed after the idle timeout.
 */
import type net from 'node:net';
import {
  newTraceparent,
  RANDOM_IDS,
  requestTraceId,
  traceStartFields,
} from '../core/carriers/trace-context.ts';
import { hostOnly, portOf } from '../core/compiler/hosts.ts';
import { applyHeaderOps } from '../core/engine/apply-ops.ts';
import { decide } from '../core/engine/decide.ts';
import type { ErrorCode } from '../core/engine/errors.ts';
import type { Decision, HeaderOp, Hop, OverrideInfo, Respond, Tag } from '../core/engine/types.ts';
import { reasonPhrase, writeError } from './error-response.ts';
import { type AccessLogContext, Exchange } from './exchange.ts';
import { endToEnd, HeaderList } from './headers.ts';
import { lengthFraming } from './http1/framing.ts';
import { RequestParser } from './http1/request-parser.ts';
import { requestHead, responseHead } from './http1/serialize.ts';
import { splitAbsoluteForm } from './http1/target.ts';
import type { ParseError, RequestEvents, RequestHead } from './http1/types.ts';
import type { ProxyCore } from './proxy.ts';
import { RawRequestView } from './request-view.ts';
import { overrideOf } from './telemetry/access-log.ts';

/** Ids a proxy creates for `ensure-trace-id` operations. */
export function newTraceId(header: string): Record<string, string> {
  return traceStartFields(header, RANDOM_IDS);
}

/** Shared by every request that has no response operations (no per-request array). */
const NO_OPS: readonly HeaderOp[] = Object.freeze([]);

const PARSE_CODES: Record<ParseError['code'], ErrorCode> = {
  BAD_REQUEST: 'BAD_REQUEST',
  HEADERS_TOO_LARGE: 'HEADERS_TOO_LARGE',
  URI_TOO_LONG: 'URI_TOO_LONG',
  NOT_IMPLEMENTED: 'NOT_IMPLEMENTED',
  VERSION_NOT_SUPPORTED: 'VERSION_NOT_SUPPORTED',
  BAD_RESPONSE: 'BAD_REQUEST',
};

interface Target {
  readonly authority: string;
  readonly pathAndQuery: string;
}

/**
 * Where a request goes: origin-form (and OPTIONS *) use Host, absolute-form (what an http_proxy
 * client sends) carries its own authority. The parser has checked the form already.
 */
function targetOf(head: RequestHead): Target | string {
  const t = head.target;
  if (t.charCodeAt(0) === 47 /* / */ || t === '*')
    return { authority: head.host ?? '', pathAndQuery: t };
  const abs = splitAbsoluteForm(t);
  if (abs === undefined)
    return `request target ${JSON.stringify(t.slice(0, 100))} is not origin-form or absolute-form`;
  if (abs.scheme === 'https')
    return 'https:// targets need TLS, which lanes does not originate yet; call the service with http://';
  return { authority: abs.authority, pathAndQuery: abs.pathAndQuery };
}

function applyRewrite(decision: Decision, target: Target): Target {
  if (decision.kind !== 'forward' || !decision.route?.rewrite) return target;
  const rw = decision.route.rewrite;
  const q = target.pathAndQuery.indexOf('?');
  let path = q < 0 ? target.pathAndQuery : target.pathAndQuery.slice(0, q);
  const query = q < 0 ? '' : target.pathAndQuery.slice(q);
  if (rw.uriRegex) {
    rw.uriRegex.regexp.lastIndex = 0;
    path = path.replace(rw.uriRegex.regexp, rw.uriRegex.replacement);
  } else if (rw.uri !== undefined) {
    // Istio replaces only the matched prefix when the route matched on a prefix (route.go).
    path =
      rw.matchedPrefix !== undefined && path.startsWith(rw.matchedPrefix)
        ? rw.uri + path.slice(rw.matchedPrefix.length)
        : rw.uri;
  }
  return { authority: rw.authority ?? target.authority, pathAndQuery: `${path}${query}` };
}

/** What the log says of a request sent to no service of the mesh (the local app, a passthrough). */
function outsideServices(tag: Tag | undefined, override: OverrideInfo | undefined) {
  return { service: null, lane: null, subset: null, fallback: [], tag, override } as const;
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
  /** The client ended its side (half-close): answer what it sent, then end ours. */
  #clientEnded = false;
  /** True while the parser is running our callbacks: resuming it then must wait. */
  #inParser = false;
  #resumePending = false;

  constructor(socket: net.Socket, core: ProxyCore) {
    this.socket = socket;
    this.#core = core;
    this.#parser = new RequestParser(this, core.limits);
    socket.setNoDelay(true);
    socket.setTimeout(core.limits.idleTimeoutMs, () => {
      // Idle between requests, or a stalled body: either way nothing is moving. A client that
      // never ends its side after we ended ours is not waited for twice.
      if (this.#parser.idle && !this.#exchange && !socket.writableEnded) socket.end();
      else socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.#detached) return;
      if (this.#parser.idle && !this.#exchange && this.#headStartedAt === undefined) {
        this.#headStartedAt = this.#core.runtime.now();
      }
      this.#runParser(chunk);
    });
    socket.on('end', () => this.#onClientEnd());
    socket.on('error', () => {});
    socket.on('close', () => {
      this.#closed = true;
      this.#exchange?.abort();
      this.#exchange = undefined;
      core.connectionClosed(this);
    });
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
    this.socket.setTimeout(0);
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
      code,
      message,
      service: null,
      lane: null,
      fallback: [],
      hop: this.#core.listenerName,
      keepAlive: false,
      delivered,
    });
    this.#logLocal(undefined, undefined, status, code, startedAt, undefined, null, []);
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
    const target = targetOf(head);
    const view =
      typeof target === 'string'
        ? new RawRequestView(head.method, '', head.target, head.rawHeaders)
        : new RawRequestView(head.method, target.authority, target.pathAndQuery, head.rawHeaders);
    if (!snapshot) {
      this.#respondError(
        head,
        'NO_CONFIG',
        'this proxy has not received a routing table yet',
        undefined,
        [],
        startedAt,
        view,
      );
      return;
    }
    if (head.method === 'CONNECT') {
      this.#respondError(
        head,
        'CONNECT_UNSUPPORTED',
        'CONNECT (tunnelling, e.g. https through http_proxy) is not supported yet; call services with http://',
        undefined,
        [],
        startedAt,
        view,
      );
      return;
    }
    if (typeof target === 'string') {
      this.#respondError(head, 'BAD_REQUEST', target, undefined, [], startedAt, view);
      return;
    }
    if (head.expect === 'other') {
      this.#respondError(
        head,
        'EXPECTATION_FAILED',
        'only Expect: 100-continue is supported',
        undefined,
        [],
        startedAt,
        view,
      );
      return;
    }
    const hop: Hop = core.hop;
    const decision = decide(snapshot.table, hop, view, core.runtime.random, core.decideContext);
    const tag = decision.kind === 'respond' ? undefined : decision.tags[0];

    switch (decision.kind) {
      case 'error':
        this.#respondError(
          head,
          decision.code,
          decision.message,
          decision.service,
          decision.fallback,
          startedAt,
          view,
          tag,
          decision.lane,
          decision.override,
        );
        return;
      case 'respond':
        this.#respond(head, decision, startedAt, view);
        return;
      case 'local': {
        for (const r of decision.remember) core.traceMemory?.set(r.traceKey, r.lane);
        if (core.appDown !== undefined) {
          this.#respondError(
            head,
            'UPSTREAM_CONNECT_FAILURE',
            `the app is not running: ${core.appDown}`,
            undefined,
            [],
            startedAt,
            view,
            tag,
          );
          return;
        }
        const app = core.app!;
        this.#forward(
          head,
          view,
          target,
          [],
          { kind: 'fixed', host: app.host, port: app.port },
          startedAt,
          outsideServices(tag, decision.override),
        );
        return;
      }
      case 'passthrough': {
        // The engine's own reading of the authority: the host it did not find is the one we dial.
        const host = hostOnly(target.authority).replace(/^\[|\]$/g, '');
        const port = portOf(target.authority) ?? 80;
        this.#forward(
          head,
          view,
          target,
          decision.requestOps,
          { kind: 'fixed', host, port },
          startedAt,
          outsideServices(tag, decision.override),
        );
        return;
      }
      case 'forward': {
        const table = snapshot.table;
        const svc = table.services[decision.service];
        this.#forward(
          head,
          view,
          applyRewrite(decision, target),
          decision.requestOps,
          {
            kind: 'endpoints',
            service: decision.service,
            endpoints: decision.endpoints,
            serviceSize: svc?.all.length ?? decision.endpoints.length,
            decided: { table, decision },
          },
          startedAt,
          {
            service: decision.service,
            lane: decision.target.kind === 'lane' ? decision.target.lane : null,
            subset: decision.target.kind === 'subset' ? decision.target.subset : null,
            fallback: decision.fallback,
            tag,
            override: decision.override,
          },
          decision,
        );
        return;
      }
    }
  }

  #forward(
    head: RequestHead,
    view: RawRequestView,
    target: Target,
    ops: Extract<Decision, { kind: 'forward' }>['requestOps'],
    upstream: ConstructorParameters<typeof Exchange>[0]['target'],
    startedAt: number,
    meta: {
      service: string | null;
      lane: string | null;
      subset: string | null;
      fallback: Extract<Decision, { kind: 'forward' }>['fallback'];
      tag: Tag | undefined;
      override: OverrideInfo | undefined;
    },
    decision?: Extract<Decision, { kind: 'forward' }>,
  ): void {
    const core = this.#core;
    const headers = endToEnd(head.rawHeaders, view.lowerNames, true);
    applyHeaderOps(headers, ops, newTraceId);
    if (core.hop.kind === 'gateway') {
      // SPEC §4.1: the de-facto X-Forwarded-* headers (RFC 7239 standardised them as `Forwarded`,
      // which proxies and apps read far less): who called, over what, for which host.
      const previous = headers.get('x-forwarded-for');
      const client = this.socket.remoteAddress ?? 'unknown';
      headers.set('x-forwarded-for', previous === undefined ? client : `${previous}, ${client}`);
      headers.set('x-forwarded-proto', 'http');
      headers.set('x-forwarded-host', view.authority);
      // A request with no trace context starts one here, as Envoy's gateways do with tracing on:
      // its hops can then be followed in the access log (`lanes requests`), as far as the apps
      // forward traceparent (OpenTelemetry's default propagators do).
      if (requestTraceId((name) => headers.get(name)) === undefined)
        headers.set('traceparent', newTraceparent());
    }
    const framing = head.framing;
    const upstreamHead = requestHead({
      method: head.method,
      target: target.pathAndQuery,
      host: target.authority,
      fields: headers.serialize(),
      framing,
      upgrade: head.upgrade,
    });
    if (head.expect === '100-continue' && framing.kind !== 'none') {
      // RFC 9110 §10.1.1: a proxy may answer 100 itself once it knows it will forward the body.
      this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    }
    const policy = decision?.policy ?? core.defaultPolicy;
    const log: AccessLogContext = {
      hop: core.hop.kind,
      listener: core.listenerName,
      method: head.method,
      authority: view.authority,
      path: view.path,
      tag: meta.tag,
      service: meta.service,
      lane: meta.lane,
      subset: meta.subset,
      fallback: meta.fallback,
      ...overrideOf(meta.override),
      startedAt,
      traceId: requestTraceId((name) => headers.get(name)),
      bytesIn: head.headBytes,
      newTraceId,
    };
    this.#exchange = new Exchange({
      runtime: core.runtime,
      down: this,
      method: head.method,
      upstreamHead,
      requestFraming: framing,
      downstreamMinor: head.minor,
      clientKeepAlive: head.keepAlive,
      upgrade: head.upgrade,
      target: upstream,
      policy,
      retries: decision?.route?.retries ?? core.defaultRetries,
      timeoutMs: decision?.route?.timeoutMs,
      delayMs: decision?.delayMs,
      responseOps: decision?.responseOps ?? NO_OPS,
      log,
    });
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
    this.#logLocal(head, view, decision.status, null, startedAt, undefined, null, []);
    this.#afterLocalAnswer(keepAlive);
  }

  #respondError(
    head: RequestHead,
    code: ErrorCode,
    message: string,
    service: string | undefined,
    fallback: Extract<Decision, { kind: 'error' }>['fallback'],
    startedAt: number,
    view: RawRequestView,
    tag?: Tag,
    lane?: string,
    override?: OverrideInfo,
  ): void {
    // With a body on its way, answering early and closing is simpler and safer than draining it.
    const keepAlive = head.keepAlive && head.framing.kind === 'none';
    const status = writeError(this.socket, {
      code,
      message,
      service,
      lane: lane ?? tag?.lane,
      fallback,
      hop: this.#core.listenerName,
      keepAlive,
      minor: head.minor,
    });
    this.#logLocal(
      head,
      view,
      status,
      code,
      startedAt,
      tag,
      service ?? null,
      fallback,
      lane ?? null,
      override,
    );
    this.#afterLocalAnswer(keepAlive);
  }

  /** After answering without forwarding. */
  #afterLocalAnswer(keepAlive: boolean): void {
    this.#finishResponse(keepAlive);
  }

  /** `head` and `view` are undefined for a request whose head could not be read. */
  #logLocal(
    head: RequestHead | undefined,
    view: RawRequestView | undefined,
    status: number,
    error: ErrorCode | null,
    startedAt: number,
    tag: Tag | undefined,
    service: string | null,
    fallback: Extract<Decision, { kind: 'error' }>['fallback'],
    lane: string | null = null,
    override?: OverrideInfo,
  ): void {
    const core = this.#core;
    core.runtime.hops.end(
      {
        hop: core.hop.kind,
        listener: core.listenerName,
        method: head?.method ?? '',
        authority: view?.authority ?? '',
        path: view?.path ?? '',
        tag,
        service,
        lane,
        subset: null,
        fallback,
        ...overrideOf(override),
        startedAt,
        traceId: view ? requestTraceId((name) => view.header(name)) : undefined,
      },
      {
        upstream: null,
        status,
        bytesIn: head?.headBytes ?? 0,
        bytesOut: 0,
        error,
        attempts: 0,
      },
    );
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
