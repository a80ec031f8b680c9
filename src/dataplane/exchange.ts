/**
 * One request/response exchange between a downstream client and an upstream endpoint: endpoint
 * choice, the upstream request, body streaming both ways with backpressure, retries (what each
 * attempt's outcome allows is `classify`'s to say, in attempt.ts; a body is re-sent only while
 * every byte of it is still buffered; once a lane's candidates have all failed the request, the
 * retry takes the lane's fallback chain), route and per-try timeouts, outlier detection, and the
 * access-log line.
 *
 * It is protocol-neutral: the client's protocol is behind a ResponseSink (an HTTP/1.1 connection
 * or an HTTP/2 stream), the upstream's behind an UpstreamLeg (a pooled HTTP/1.1 connection or a
 * stream on a shared HTTP/2 connection), so every combination runs the same attempt loop.
 */
import type {
  RetryPolicy,
  RoutingTable,
  TableEndpoint,
  UpstreamPolicy,
} from '../core/compiler/table.ts';
import { applyHeaderOps } from '../core/engine/apply-ops.ts';
import { reroute } from '../core/engine/destination.ts';
import { ERROR_CODES, type ErrorCode, statusOf } from '../core/engine/errors.ts';
import type { Forward, HeaderOp } from '../core/engine/types.ts';
import {
  type AttemptOutcome,
  classify,
  DELIVERED_HEADER,
  type Delivery,
  ERROR_HEADER,
  type PeerError,
  peerErrorOf,
  type Verdict,
} from './attempt.ts';
import { GRPC_STATUS } from './grpc.ts';
import { endToEnd, newTraceId } from './headers.ts';
import { NO_BODY } from './http1/framing.ts';
import type { Framing, ParseError, ResponseHead } from './http1/types.ts';
import { errorName, H2_ERRORS } from './http2/frames.ts';
import type { ResetInfo } from './http2/session.ts';
import { Http1Sink, type ResponseSink } from './response-sink.ts';
import {
  type AccessLog,
  type AccessLogEntry,
  type HopOutcome,
  type HopRecord,
  hopEntry,
} from './telemetry/access-log.ts';
import type { HopEvents } from './telemetry/hop-events.ts';
import type { EndpointStates } from './upstream/balancer.ts';
import { pick } from './upstream/balancer.ts';
import { H2Leg, type H2Pool } from './upstream/h2-pool.ts';
import { Http1Leg, type UpstreamLeg, type UpstreamRequest } from './upstream/leg.ts';
import type { OutlierDetector } from './upstream/outlier.ts';
import type { ResponseHandler, UpstreamPool } from './upstream/pool.ts';
import type { RetryCircuit } from './upstream/retry-circuit.ts';

/** Bytes of request body kept so an attempt can be retried (Envoy keeps a similar buffer). */
export const REPLAY_LIMIT = 64 * 1024;

/** Shared runtime state of one proxy. */
export interface ProxyRuntime {
  readonly pool: UpstreamPool;
  readonly h2pool: H2Pool;
  readonly retries: RetryCircuit;
  readonly states: EndpointStates;
  readonly outlier: OutlierDetector;
  /** For events that are not a hop's end (an ejection). */
  readonly log: AccessLog | undefined;
  /** Where every hop ends: the access log and the metrics observe it. */
  readonly hops: HopEvents;
  readonly random: () => number;
  readonly now: () => number;
}

/** What the downstream connection (or HTTP/2 stream) offers an exchange. */
export interface Downstream {
  pauseReading(): void;
  resumeReading(): void;
  /** The exchange is over; `keepAlive`: the connection may carry the next request. */
  exchangeDone(keepAlive: boolean): void;
}

export type UpstreamTarget =
  /** Endpoints chosen by a decision; the balancer picks one per attempt. */
  | {
      readonly kind: 'endpoints';
      readonly service: string;
      readonly endpoints: readonly TableEndpoint[];
      readonly serviceSize: number;
      /**
       * The decision and the table it was made on: a retry with no untried candidate left
       * resolves the decision again (`reroute`), on the same snapshot as the rest of the request.
       */
      readonly decided?: { readonly table: RoutingTable; readonly decision: Forward };
    }
  /** A fixed address: the local app (inbound) or an external host (passthrough). */
  | { readonly kind: 'fixed'; readonly host: string; readonly port: number };

export interface ExchangeInit {
  readonly runtime: ProxyRuntime;
  readonly down: Downstream;
  readonly method: string;
  /** The request to forward, written by each attempt's leg in its protocol. */
  readonly request: UpstreamRequest;
  /** Where the response goes, in the client's protocol. */
  readonly sink: ResponseSink;
  /** What the upstream speaks: HTTP/1.1, or h2c (prior knowledge). */
  readonly upstreamProtocol: 'HTTP/1.1' | 'HTTP/2';
  /** A gRPC call: `grpc-status` in a response head can be retried on (Istio's gRPC retryOn). */
  readonly grpc: boolean;
  readonly clientKeepAlive: boolean;
  readonly upgrade: string | undefined;
  readonly target: UpstreamTarget;
  readonly policy: UpstreamPolicy;
  readonly retries: RetryPolicy;
  readonly timeoutMs: number | undefined;
  /** The client's own deadline (`grpc-timeout`), counted from the start of the request. */
  readonly deadlineMs?: number | undefined;
  readonly delayMs: number | undefined;
  readonly responseOps: readonly HeaderOp[];
  /** What the exchange logs about its request (request-plan.ts's hopRecord). */
  readonly log: HopRecord;
  /** Bytes of the request head as received (the log's bytesIn adds the body's). */
  readonly headBytes: number;
}

export class Exchange implements ResponseHandler {
  readonly #i: ExchangeInit;
  readonly downstream: ResponseSink;
  /** The hop as logged; a retry that took the fallback chain changes its lane. */
  #log: HopRecord;
  /** The candidates attempts pick from: the decision's, or a fallback lane's after a reroute. */
  #candidates: readonly TableEndpoint[];
  readonly #tried = new Set<string>();
  #attempt = 0;
  #staleRetryUsed = false;
  #endpoint: TableEndpoint | undefined;
  /** `address:port` of the last attempt's upstream, for the access log. */
  #upstream: string | null = null;
  /** The workload (`namespace/name`) of the last attempt's endpoint, for the metrics. */
  #workload: string | null = null;
  #leg: UpstreamLeg | undefined;
  #cancelAcquire: (() => void) | undefined;
  /** Body bytes kept for a retry; dropped (undefined) once they outgrow REPLAY_LIMIT. */
  #replay: Buffer[] | undefined = [];
  #replayBytes = 0;
  /** Body bytes received while no upstream connection is attached, in order; sent on connect. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #pausedForConnect = false;
  /** Some body bytes went to an earlier attempt: a retry must re-send the replay buffer. */
  #bodySent = false;
  #requestDone = false;
  #requestBytes = 0;
  #responseStarted = false;
  #responseFraming: Framing = NO_BODY;
  #responseBytes = 0;
  #status = 0;
  #finished = false;
  #routeTimer: NodeJS.Timeout | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #tryTimer: NodeJS.Timeout | undefined;
  /** What the last failed attempt met, for the access log's retry event. */
  #lastError: string | undefined;
  /** Some attempt may have reached the application (what `x-lanes-delivered` then says). */
  #mayHaveDelivered = false;
  /**
   * The verdict on the forwarded response's head, when it needed one (a success needs none):
   * what the outlier detector hears once the response is complete.
   */
  #responseVerdict: Verdict | undefined;
  /** Retries that took the fallback chain, for the access log. */
  #rerouted: string | undefined;
  /** The destination whose retry slot this exchange holds (connectionPool.http.maxRetries). */
  #retrySlot: string | undefined;
  /** A retry the verdict allowed was refused by the retry circuit, for the access log. */
  #retryRefused: string | undefined;
  #waitingForDrain = false;

  constructor(init: ExchangeInit) {
    this.#i = init;
    this.#log = init.log;
    this.#candidates = init.target.kind === 'endpoints' ? init.target.endpoints : [];
    this.downstream = init.sink;
    const deadline = init.deadlineMs;
    if (deadline !== undefined && deadline > 0)
      this.#deadlineTimer = setTimeout(() => this.#onRouteTimeout(deadline), deadline);
    if (init.delayMs !== undefined && init.delayMs > 0) {
      setTimeout(() => this.#startAttempt(), init.delayMs);
    } else {
      this.#startAttempt();
    }
  }

  // ------------------------------------------------------------------------------------------
  // Request body, fed by the downstream connection

  requestBody(chunk: Buffer): void {
    if (this.#finished) return;
    this.#requestBytes += chunk.length;
    if (this.#replay) {
      this.#replayBytes += chunk.length;
      if (this.#replayBytes > REPLAY_LIMIT) this.#replay = undefined;
      else this.#replay.push(chunk);
    }
    const leg = this.#leg;
    if (!leg) {
      // Not connected (yet, or between attempts): queue, and push back on the client beyond a
      // bound so a fast upload cannot fill memory while the connect takes its time.
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
      if (this.#pendingBytes > REPLAY_LIMIT && !this.#pausedForConnect) {
        this.#pausedForConnect = true;
        this.#i.down.pauseReading();
      }
      return;
    }
    this.#bodySent = true;
    if (!leg.write(chunk)) this.#awaitDrain(leg);
  }

  requestEnd(): void {
    if (this.#finished) return;
    this.#requestDone = true;
    this.#leg?.end();
    const timeout = this.#i.timeoutMs;
    // Envoy's route timeout runs from the end of the downstream request (route_components.proto).
    if (timeout !== undefined && timeout > 0 && !this.#routeTimer) {
      this.#routeTimer = setTimeout(() => this.#onRouteTimeout(timeout), timeout);
    }
  }

  /**
   * Stops the exchange and closes its upstream connection: the client went away
   * (`DOWNSTREAM_CLOSED`), or the rest of its request turned out malformed (`BAD_REQUEST`, whose
   * answer the caller writes). The upstream never gets a complete message it should not get.
   */
  abort(reason: 'DOWNSTREAM_CLOSED' | 'BAD_REQUEST' = 'DOWNSTREAM_CLOSED'): void {
    if (this.#finished) return;
    this.#cancelAcquire?.();
    this.#leg?.drop();
    this.#leg = undefined;
    this.#finish(statusOf(reason), reason, false, true);
  }

  /** Whether part of the response already went to the client (then only a reset can follow). */
  get responseStarted(): boolean {
    return this.#responseStarted;
  }

  #awaitDrain(leg: UpstreamLeg): void {
    if (this.#waitingForDrain) return;
    this.#waitingForDrain = true;
    this.#i.down.pauseReading();
    leg.onceDrain(() => {
      this.#waitingForDrain = false;
      this.#i.down.resumeReading();
    });
  }

  // ------------------------------------------------------------------------------------------
  // Attempts

  #pickEndpoint(): { host: string; port: number; endpoint: TableEndpoint | undefined } | undefined {
    const t = this.#i.target;
    if (t.kind === 'fixed') return { host: t.host, port: t.port, endpoint: undefined };
    if (this.#tried.size > 0 && t.decided && this.#candidates.every((e) => this.#tried.has(e.id)))
      this.#reroute(t.decided.table, t.decided.decision);
    const rt = this.#i.runtime;
    const ep = pick(
      this.#candidates,
      this.#i.policy,
      rt.states,
      rt.random,
      rt.now(),
      this.#tried.size > 0 ? this.#tried : undefined,
    );
    return ep ? { host: ep.address, port: ep.port, endpoint: ep } : undefined;
  }

  /**
   * Every candidate has failed this request: a lane's fallback chain may have others. Without
   * any, the balancer goes back to the candidates it has (Istio's behaviour: the same subset).
   */
  #reroute(table: RoutingTable, decision: Forward): void {
    const tried = this.#tried;
    const isEjected = this.#i.runtime.outlier.isEjected;
    const next = reroute(table, decision, (e) => tried.has(e.id) || isEjected(e));
    if (!next.ok) return;
    const lane = next.target.kind === 'lane' ? next.target.lane : null;
    const from = this.#log.lane;
    this.#candidates = next.endpoints;
    this.#log = { ...this.#log, lane, fallback: next.fallback };
    if (lane !== from)
      this.#rerouted = `${this.#rerouted ? `${this.#rerouted}, then ` : ''}to lane ${lane}`;
  }

  #startAttempt(): void {
    if (this.#finished) return;
    this.#attempt++;
    const choice = this.#pickEndpoint();
    if (!choice) {
      this.#fail(
        'NO_HEALTHY_ENDPOINTS',
        'every endpoint is ejected or already failed this request',
      );
      return;
    }
    const rt = this.#i.runtime;
    this.#endpoint = choice.endpoint;
    this.#upstream = `${choice.host}:${choice.port}`;
    this.#workload = choice.endpoint?.workload ?? null;
    if (choice.endpoint) {
      this.#tried.add(choice.endpoint.id);
      rt.states.begin(choice.endpoint);
    }
    const policy = this.#i.policy;
    if (this.#i.upstreamProtocol === 'HTTP/2') {
      this.#cancelAcquire = rt.h2pool.acquire(
        choice.host,
        choice.port,
        policy,
        (failure, session) => {
          this.#cancelAcquire = undefined;
          if (this.#finished) return;
          if (failure || !session)
            this.#attemptFailed(failure ?? { kind: 'connect-failed', message: 'connect failed' });
          else this.#send(new H2Leg(session));
        },
      );
      return;
    }
    this.#cancelAcquire = rt.pool.acquire(choice.host, choice.port, policy, (failure, conn) => {
      this.#cancelAcquire = undefined;
      if (this.#finished) {
        if (conn) rt.pool.release(conn, true, policy);
        return;
      }
      if (failure || !conn) {
        this.#attemptFailed(failure ?? { kind: 'connect-failed', message: 'connect failed' });
        return;
      }
      this.#send(new Http1Leg(conn, rt.pool, policy));
    });
  }

  #send(leg: UpstreamLeg): void {
    this.#leg = leg;
    // A retry re-sends everything (mayRetry checked that the replay buffer still has it all); a
    // first attempt sends what arrived while it connected.
    const body = this.#bodySent ? (this.#replay ?? []) : this.#pending;
    if (body.length > 0) this.#bodySent = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    const ok = leg.start(this, this.#i.request, body, this.#requestDone);
    if (!ok) this.#awaitDrain(leg);
    if (this.#pausedForConnect) {
      this.#pausedForConnect = false;
      this.#i.down.resumeReading();
    }
    const perTry = this.#i.retries.perTryTimeoutMs;
    if (perTry !== undefined && perTry > 0) {
      this.#tryTimer = setTimeout(() => this.#onTryTimeout(), perTry);
    }
  }

  /**
   * Whether another attempt may follow one the verdict allows: the budget, the body, and the
   * destination's bound on outstanding retries.
   */
  #mayRetry(): boolean {
    if (this.#attempt > this.#i.retries.attempts || this.#responseStarted) return false;
    // A body can be re-sent only while all of it is still buffered.
    if (this.#requestBytes > 0 && this.#replay === undefined) return false;
    if (this.#retrySlot !== undefined) return true;
    const t = this.#i.target;
    const destination = t.kind === 'endpoints' ? t.service : `${t.host}:${t.port}`;
    const max = this.#i.policy.maxRetries;
    if (!this.#i.runtime.retries.tryBegin(destination, max)) {
      this.#retryRefused = `not retried: ${max} retries to ${destination} outstanding (connectionPool.http.maxRetries)`;
      return false;
    }
    this.#retrySlot = destination;
    return true;
  }

  /** Tells the balancer and the outlier detector how the attempt on the current endpoint ended. */
  #recordOutcome(outcome: Verdict['outlier'], status: number | undefined): void {
    const ep = this.#endpoint;
    if (!ep) return;
    this.#endpoint = undefined;
    const rt = this.#i.runtime;
    rt.states.end(ep);
    const t = this.#i.target;
    if (t.kind !== 'endpoints' || outcome === undefined) return;
    const event = rt.outlier.record(
      t.service,
      ep,
      outcome,
      status,
      this.#i.policy.outlier,
      t.serviceSize,
    );
    if (event && rt.log) {
      rt.log.write({
        ...this.#baseEntry(),
        status: status ?? 0,
        error: null,
        event: `ejected ${event.endpoint} of ${event.service} for ${Math.round((event.untilMs - rt.now()) / 1000)} s (${event.reason}, ejection #${event.times})`,
      });
    }
  }

  /** Closes the current upstream connection (its state is unknown) and gives it back to the pool. */
  #dropConnection(): void {
    const leg = this.#leg;
    this.#leg = undefined;
    leg?.drop();
  }

  /** An attempt ended without a response to forward: retry it, or answer with its error. */
  #attemptFailed(outcome: Exclude<AttemptOutcome, { kind: 'response' }>, resetCode?: number): void {
    clearTimeout(this.#tryTimer);
    this.#dropConnection();
    const verdict = classify(outcome, this.#i.method, this.#i.retries);
    this.#noteDelivery(verdict.delivered);
    this.#recordOutcome(verdict.outlier, undefined);
    const code = verdict.code!;
    this.#lastError = `${code} (${outcome.message})`;
    if (this.#responseStarted) {
      // Part of the response is already with the client: the only honest signal left is a reset
      // (for gRPC over HTTP/2, trailers with a status, unless the upstream's own reset goes on).
      this.#i.sink.abort(code, resetCode);
      this.#finish(this.#status, code, false);
      return;
    }
    const replayable = this.#requestBytes === 0 || this.#replay !== undefined;
    if (verdict.freeRetry && !this.#staleRetryUsed && replayable) {
      // A kept-alive connection the upstream had already closed: not the endpoint's fault, and the
      // request never reached it, so try once more on a fresh connection without using a retry.
      this.#staleRetryUsed = true;
      this.#attempt--;
      this.#tried.clear();
      this.#startAttempt();
      return;
    }
    if (verdict.retry && this.#mayRetry()) {
      this.#retryAfterBackoff();
      return;
    }
    this.#fail(
      code,
      this.#retryRefused ? `${outcome.message}; ${this.#retryRefused}` : outcome.message,
    );
  }

  #noteDelivery(delivered: Delivery): void {
    if (delivered !== 'no') this.#mayHaveDelivered = true;
  }

  #retryAfterBackoff(): void {
    // Envoy: a random wait in [0, base × 2^(n-1)], capped at 10 × base.
    const base = this.#i.retries.backoffMs;
    const max = Math.min(base * 2 ** (this.#attempt - 1), base * 10);
    setTimeout(() => this.#startAttempt(), Math.floor(this.#i.runtime.random() * max));
  }

  #onTryTimeout(): void {
    if (this.#finished || this.#responseStarted) return;
    this.#attemptFailed({
      kind: 'timeout',
      message: `no response within the per-try timeout of ${this.#i.retries.perTryTimeoutMs} ms`,
    });
  }

  #onRouteTimeout(ms: number): void {
    if (this.#finished) return;
    this.#cancelAcquire?.();
    if (this.#leg) this.#mayHaveDelivered = true;
    this.#dropConnection();
    this.#recordOutcome('local-origin-failure', undefined);
    if (this.#responseStarted) {
      this.#i.sink.abort('UPSTREAM_TIMEOUT', undefined);
      this.#finish(this.#status, 'UPSTREAM_TIMEOUT', false);
      return;
    }
    const which = ms === this.#i.timeoutMs ? 'the route timeout' : 'the deadline (grpc-timeout)';
    this.#fail('UPSTREAM_TIMEOUT', `no complete response within ${which} of ${ms} ms`);
  }

  /** Answers the client with a mesh error. */
  #fail(code: ErrorCode, message: string): void {
    if (this.#finished) return;
    const keepAlive = this.#i.clientKeepAlive && this.#requestDone;
    const status = this.#i.sink.error({
      code,
      message: this.#attempt > 1 ? `${message} (after ${this.#attempt} attempts)` : message,
      service: this.#log.service,
      lane: this.#log.tag?.lane ?? null,
      fallback: this.#log.fallback,
      hop: this.#log.listener,
      keepAlive,
      delivered: this.#mayHaveDelivered ? 'unknown' : 'none',
    });
    this.#status = status;
    this.#finish(status, code, keepAlive);
  }

  // ------------------------------------------------------------------------------------------
  // Response, from the upstream connection's parser

  onInformational(): void {
    // The proxy already answered `Expect: 100-continue`; other 1xx responses are not forwarded.
  }

  onHead(head: ResponseHead): void {
    if (this.#finished) return;
    const status = head.status;
    const names = head.rawHeaders;
    const lower: string[] = new Array(names.length >> 1);
    for (let i = 0; i < lower.length; i++) lower[i] = names[i * 2]!.toLowerCase();
    clearTimeout(this.#tryTimer);
    // Success needs no verdict; anything from 400 on, or a gRPC status other than OK in the head,
    // may be retried or count against the endpoint.
    let peer: PeerError | undefined;
    this.#responseVerdict = undefined;
    // A gRPC mesh error of the endpoint's own sidecar is a trailers-only HTTP 200: it is judged by
    // the HTTP status its code stands for, so an instance that died is retried as over HTTP/1.1.
    // The app's own trailers-only answer is judged by its grpc-status (attempt.ts).
    const grpcTrailersOnly = this.#i.grpc && head.framing.kind === 'none';
    const judged = grpcTrailersOnly ? this.#grpcPeerStatus(status, names, lower) : status;
    const grpcStatus =
      grpcTrailersOnly && judged === status ? grpcStatusIn(names, lower) : undefined;
    if (judged >= 400 || (grpcStatus !== undefined && grpcStatus !== GRPC_STATUS.OK)) {
      peer = this.#peerError(judged, names, lower);
      const verdict = classify(
        { kind: 'response', status: judged, peer, grpcStatus },
        this.#i.method,
        this.#i.retries,
      );
      this.#noteDelivery(verdict.delivered);
      if (verdict.retry && this.#mayRetry()) {
        // Discard this response (close its connection: its body is unread) and try again.
        this.#dropConnection();
        this.#recordOutcome(verdict.outlier, verdict.outlierStatus);
        this.#lastError = `${this.#upstream} answered ${grpcStatus !== undefined ? `grpc-status ${grpcStatus}` : status}${peer ? ` ${peer.code}` : ''}`;
        this.#retryAfterBackoff();
        return;
      }
      this.#responseVerdict = verdict;
    } else {
      this.#mayHaveDelivered = true;
    }
    this.#status = status;
    this.#responseStarted = true;
    const headers = endToEnd(names, lower, false);
    // It speaks of one hop: an app cannot send it through, and on a peer's error this proxy says
    // what it knows itself (its own earlier attempts may have reached an app).
    headers.remove(DELIVERED_HEADER);
    if (peer) headers.set(DELIVERED_HEADER, this.#mayHaveDelivered ? 'unknown' : 'none');
    applyHeaderOps(headers, this.#i.responseOps, newTraceId);
    let framing: Framing = head.framing;
    if (framing.kind === 'none') {
      framing = NO_BODY;
      // HEAD and 304 responses say how long the body would be; pass that on unchanged.
      const length = lower.indexOf('content-length');
      if (length >= 0 && status !== 204 && (status < 100 || status >= 200)) {
        headers.push('content-length', 'content-length', names[length * 2 + 1]!);
      }
    }
    const upgraded = status === 101 && this.#i.upgrade !== undefined;
    // The sink frames the body for its client (HTTP/1.0 clients get close-delimited bodies).
    this.#responseFraming = this.#i.sink.head(
      status,
      head.reason,
      headers,
      framing,
      this.#keepAliveAfter(head),
      upgraded ? this.#i.upgrade : undefined,
    );
    if (upgraded) this.#tunnel();
  }

  #keepAliveAfter(head: ResponseHead): boolean {
    return (
      this.#i.clientKeepAlive &&
      this.#requestDone &&
      head.status !== 101 &&
      this.#i.upgrade === undefined
    );
  }

  onBody(chunk: Buffer): void {
    if (this.#finished) return;
    this.#responseBytes += chunk.length;
    const sink = this.#i.sink;
    const leg = this.#leg;
    if (!sink.body(chunk) && leg) {
      leg.pauseResponse();
      sink.onceDrain(() => leg.resumeResponse());
    }
  }

  onEnd(trailers: string[] | undefined): void {
    if (this.#finished) return;
    const leg = this.#leg!;
    const framing = this.#responseFraming;
    this.#leg = undefined;
    // The upstream connection can carry the next exchange only if this request was sent whole.
    leg.release(this.#requestDone);
    this.#i.sink.end(trailers);
    const verdict = this.#responseVerdict;
    if (verdict) this.#recordOutcome(verdict.outlier, verdict.outlierStatus);
    else this.#recordOutcome('success', this.#status);
    const keepAlive = this.#i.clientKeepAlive && this.#requestDone && framing.kind !== 'close';
    this.#finish(this.#status, null, keepAlive);
  }

  onError(err: ParseError): void {
    if (this.#finished) return;
    const leg = this.#leg;
    if (leg instanceof Http1Leg && leg.conn.closed) {
      // finish() found the message cut short by the upstream closing: a reset, not bad syntax.
      this.#attemptFailed({
        kind: 'reset',
        message: `upstream closed the connection in the middle of the response (${err.message})`,
        stale: false,
      });
      return;
    }
    this.#attemptFailed({
      kind: 'protocol',
      message: `upstream sent a response the proxy cannot forward: ${err.message}`,
    });
  }

  onClose(error: Error | undefined): void {
    const leg = this.#leg;
    if (this.#finished || !(leg instanceof Http1Leg)) return;
    const conn = leg.conn;
    this.#attemptFailed({
      kind: 'reset',
      message: `upstream closed the connection before a complete response${error ? ` (${error.message})` : ''}`,
      // Nothing came back on a connection that had carried earlier exchanges: it was closed
      // while idle, before this request could reach the app.
      stale: conn.reused && !this.#responseStarted && conn.parser.idle,
    });
  }

  /** The HTTP status of a peer sidecar's gRPC mesh error (its x-lanes-error), else `status`. */
  #grpcPeerStatus(status: number, names: readonly string[], lower: readonly string[]): number {
    const code = fieldOf(names, lower, ERROR_HEADER);
    if (code === undefined || this.#i.target.kind !== 'endpoints' || !(code in ERROR_CODES))
      return status;
    return statusOf(code as ErrorCode);
  }

  /**
   * The endpoint's own sidecar answered for its app (mesh endpoints only: a fixed target is an
   * app or an external host, whose headers mean nothing to the mesh).
   */
  #peerError(status: number, names: readonly string[], lower: readonly string[]) {
    if (status < 500 || this.#i.target.kind !== 'endpoints') return undefined;
    return peerErrorOf(
      fieldOf(names, lower, ERROR_HEADER),
      fieldOf(names, lower, DELIVERED_HEADER),
    );
  }

  /**
   * An HTTP/2 upstream reset the stream, refused it (REFUSED_STREAM, or GOAWAY before it was
   * processed: then no byte reached the app), or sent a malformed response on it.
   */
  onStreamReset(code: number, info: ResetInfo): void {
    if (this.#finished || !this.#leg) return;
    if (info.unprocessed) {
      this.#attemptFailed({ kind: 'refused', message: info.message });
      return;
    }
    if (info.by === 'local' && code === H2_ERRORS.PROTOCOL_ERROR) {
      this.#attemptFailed({
        kind: 'protocol',
        message: `upstream sent a response the proxy cannot forward: ${info.message}`,
      });
      return;
    }
    // Once the response has begun, the client gets the upstream's own reset code.
    this.#attemptFailed(
      {
        kind: 'reset',
        message: `upstream reset the stream (${errorName(code)})${info.by === 'connection' ? `: ${info.message}` : ''}`,
        stale: false,
      },
      info.by === 'peer' ? code : undefined,
    );
  }

  /** After a 101: the two connections carry raw bytes both ways until either side closes. */
  #tunnel(): void {
    const leg = this.#leg;
    const sink = this.#i.sink;
    if (!(leg instanceof Http1Leg) || !(sink instanceof Http1Sink)) return;
    this.#leg = undefined;
    const conn = leg.conn;
    conn.handler = undefined;
    const up = conn.socket;
    const down = sink.socket;
    const rest = conn.parser.takeRemainder();
    if (rest && rest.length > 0) down.write(rest);
    up.removeAllListeners('data');
    this.#finish(101, null, false, true);
    up.pipe(down);
    down.pipe(up);
    up.on('close', () => down.destroy());
    down.on('close', () => up.destroy());
    this.#recordOutcome('success', 101);
  }

  // ------------------------------------------------------------------------------------------

  #outcome(status: number, error: string | null, event?: string): HopOutcome {
    return {
      upstream: this.#upstream,
      status,
      bytesIn: this.#i.headBytes + this.#requestBytes,
      bytesOut: this.#responseBytes,
      error,
      attempts: this.#attempt,
      workload: this.#workload,
      ...(event !== undefined ? { event } : {}),
      ...(this.#i.sink.grpcStatus !== undefined ? { grpcStatus: this.#i.sink.grpcStatus } : {}),
    };
  }

  #baseEntry(): AccessLogEntry {
    return hopEntry(this.#log, this.#outcome(this.#status, null), this.#i.runtime.now());
  }

  /** `detached`: the downstream connection is taken care of by someone else (tunnel, abort). */
  #finish(status: number, error: ErrorCode | null, keepAlive: boolean, detached = false): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#routeTimer);
    clearTimeout(this.#deadlineTimer);
    clearTimeout(this.#tryTimer);
    if (this.#retrySlot !== undefined) this.#i.runtime.retries.end(this.#retrySlot);
    this.#status = status;
    // Give back any pause this exchange holds on the client's socket.
    if (this.#pausedForConnect || this.#waitingForDrain) {
      this.#pausedForConnect = false;
      this.#waitingForDrain = false;
      this.#i.down.resumeReading();
    }
    const retried =
      this.#lastError && this.#attempt > 1
        ? `retried after ${this.#lastError}${this.#rerouted ? `, ${this.#rerouted}` : ''}`
        : undefined;
    const event = this.#retryRefused ?? (error === null ? retried : undefined);
    this.#i.runtime.hops.end(this.#log, this.#outcome(status, error, event));
    if (!detached) this.#i.down.exchangeDone(keepAlive);
  }
}

/** The `grpc-status` a response head carries, as a number; undefined when it carries none. */
function grpcStatusIn(names: readonly string[], lower: readonly string[]): number | undefined {
  const value = fieldOf(names, lower, 'grpc-status');
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** The value of the first field named `name` (lower case). */
function fieldOf(
  names: readonly string[],
  lower: readonly string[],
  name: string,
): string | undefined {
  const i = lower.indexOf(name);
  return i < 0 ? undefined : names[i * 2 + 1];
}
