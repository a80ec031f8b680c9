/**
 * HTTP/2 (h2c, prior knowledge) connections to upstream endpoints, per `address:port`: many
 * streams share a connection. A request takes a stream on the least busy connection that has
 * room — under the peer's SETTINGS_MAX_CONCURRENT_STREAMS and the DestinationRule's
 * `maxConcurrentStreams` — and a new connection opens only when none has (up to `maxConnections`).
 * `http2MaxRequests` caps the streams open to a destination at once; past it a request overflows
 * (503 UPSTREAM_OVERFLOW), as Envoy's max_requests circuit breaker does. Requests that wait for a
 * connection are bounded by `http1MaxPendingRequests`, which Envoy applies to HTTP/2 as well.
 */

import { STATUS_CODES } from 'node:http';
import net from 'node:net';
import type { UpstreamPolicy } from '../../core/compiler/table.ts';
import { CHUNKED, lengthFraming, NO_BODY } from '../http1/framing.ts';
import type { H2ResponseHead } from '../http2/fields.ts';
import { H2_ERRORS } from '../http2/frames.ts';
import {
  type H2Stream,
  Http2Session,
  type ResetInfo,
  type StreamHandler,
} from '../http2/session.ts';
import type { UpstreamLeg, UpstreamRequest } from './leg.ts';
import type { AcquireFailure, ResponseHandler } from './pool.ts';

interface PooledSession {
  readonly session: Http2Session;
  /** Streams this connection has carried (maxRequestsPerConnection). */
  requests: number;
  idleSince: number;
  idleTimeoutMs: number;
  /** `maxRequestsPerConnection` of the policy that opened it. */
  readonly maxRequests: number | undefined;
  /** When it was established, and for how long it may take new streams (maxConnectionDuration). */
  readonly openedAt: number;
  readonly maxDurationMs: number;
}

interface Waiter {
  readonly policy: UpstreamPolicy;
  readonly callback: H2AcquireCallback;
  cancelled: boolean;
}

interface Destination {
  readonly key: string;
  readonly host: string;
  readonly port: number;
  readonly sessions: PooledSession[];
  connecting: number;
  readonly waiting: Waiter[];
}

export type H2AcquireCallback = (
  failure: AcquireFailure | undefined,
  session: PooledSession | undefined,
) => void;

export class H2Pool {
  readonly #destinations = new Map<string, Destination>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  stats(): { destinations: number; open: number; streams: number } {
    let open = 0;
    let streams = 0;
    for (const d of this.#destinations.values()) {
      open += d.sessions.length;
      for (const s of d.sessions) streams += s.session.activeStreams;
    }
    return { destinations: this.#destinations.size, open, streams };
  }

  #destination(host: string, port: number): Destination {
    const key = `${host}:${port}`;
    let d = this.#destinations.get(key);
    if (!d) {
      d = { key, host, port, sessions: [], connecting: 0, waiting: [] };
      this.#destinations.set(key, d);
    }
    return d;
  }

  /** Finds (or opens) a connection with room for one more stream; returns a cancel function. */
  acquire(
    host: string,
    port: number,
    policy: UpstreamPolicy,
    callback: H2AcquireCallback,
  ): () => void {
    const d = this.#destination(host, port);
    const limit = policy.http2MaxRequests;
    if (limit !== undefined && limit > 0 && this.#streams(d) >= limit) {
      callback(
        {
          kind: 'overflow',
          message: `${d.key} has ${limit} requests in flight (DestinationRule http2MaxRequests)`,
        },
        undefined,
      );
      return noop;
    }
    const free = this.#withRoom(d, policy);
    if (free) {
      free.requests++;
      callback(undefined, free);
      return noop;
    }
    const pendingLimit = policy.http1MaxPendingRequests ?? 2 ** 32 - 1;
    if (d.waiting.length >= pendingLimit) {
      callback(
        {
          kind: 'overflow',
          message: `${d.key} has no connection with room and ${d.waiting.length} waiting requests (DestinationRule connectionPool limits)`,
        },
        undefined,
      );
      return noop;
    }
    const waiter: Waiter = { policy, callback, cancelled: false };
    d.waiting.push(waiter);
    const maxConnections = policy.maxConnections ?? Number.POSITIVE_INFINITY;
    // One connection opens at a time per destination; it serves every waiter it has room for.
    if (d.connecting === 0 && d.sessions.length < maxConnections) this.#connect(d, policy);
    return () => {
      waiter.cancelled = true;
    };
  }

  #streams(d: Destination): number {
    let n = 0;
    for (const s of d.sessions) n += s.session.activeStreams;
    return n;
  }

  #withRoom(d: Destination, policy: UpstreamPolicy): PooledSession | undefined {
    const perConnection = policy.maxConcurrentStreams || Number.POSITIVE_INFINITY;
    const maxRequests = policy.maxRequestsPerConnection;
    let best: PooledSession | undefined;
    const now = this.#now();
    for (const s of d.sessions) {
      if (!s.session.canOpenStream || s.session.activeStreams >= perConnection) continue;
      if (now - s.openedAt >= s.maxDurationMs) continue;
      if (maxRequests !== undefined && maxRequests > 0 && s.requests >= maxRequests) continue;
      if (!best || s.session.activeStreams < best.session.activeStreams) best = s;
    }
    return best;
  }

  #connect(d: Destination, policy: UpstreamPolicy): void {
    d.connecting++;
    let settled = false;
    const socket = net.connect({ host: d.host, port: d.port, noDelay: true });
    const pooled: PooledSession = {
      session: undefined as unknown as Http2Session,
      requests: 0,
      idleSince: this.#now(),
      idleTimeoutMs: policy.idleTimeoutMs,
      maxRequests: policy.maxRequestsPerConnection,
      openedAt: this.#now(),
      maxDurationMs: policy.maxConnectionDurationMs ?? Number.POSITIVE_INFINITY,
    };
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      d.connecting--;
      // Requests waiting for this connection fail with it (each may retry elsewhere).
      const waiting = d.waiting.splice(0);
      for (const w of waiting)
        if (!w.cancelled) w.callback({ kind: 'connect-failed', message }, undefined);
    };
    const timer = setTimeout(() => {
      fail(`connect to ${d.key} timed out after ${policy.connectTimeoutMs} ms`);
      socket.destroy();
    }, policy.connectTimeoutMs);
    socket.once('error', (error) => fail(`connect to ${d.key} failed: ${error.message}`));
    socket.once('connect', () => {
      (pooled as { session: Http2Session }).session = new Http2Session({
        role: 'client',
        socket,
        now: this.#now,
        events: {
          onSettings: () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            d.connecting--;
            d.sessions.push(pooled);
            this.#serve(d);
          },
          onStreamClosed: () => {
            if (pooled.session.activeStreams === 0) pooled.idleSince = this.#now();
            this.#serve(d);
            this.#retireIfSpent(d, pooled);
          },
          onGoaway: () => this.#remove(d, pooled),
          onClose: (error) => {
            this.#remove(d, pooled);
            fail(
              `connection to ${d.key} closed before HTTP/2 SETTINGS${error ? ` (${error})` : ''}; ` +
                'the proxy speaks h2c to it because its Service port says HTTP/2 (port name or ' +
                'appProtocol http2, grpc, h2c), its DestinationRule sets h2UpgradePolicy: UPGRADE, ' +
                'or its client spoke HTTP/2 (useClientProtocol, a local app): correct whichever ' +
                'is wrong if the app speaks only HTTP/1.1',
            );
          },
        },
      });
    });
  }

  /** Gives waiting requests the room that opened up. */
  #serve(d: Destination): void {
    while (d.waiting.length > 0) {
      const w = d.waiting[0]!;
      if (w.cancelled) {
        d.waiting.shift();
        continue;
      }
      const free = this.#withRoom(d, w.policy);
      if (!free) {
        const maxConnections = w.policy.maxConnections ?? Number.POSITIVE_INFINITY;
        if (d.connecting === 0 && d.sessions.length < maxConnections) this.#connect(d, w.policy);
        return;
      }
      d.waiting.shift();
      free.requests++;
      w.callback(undefined, free);
    }
  }

  /** A connection that carried `maxRequestsPerConnection` streams goes away once they finish. */
  #retireIfSpent(d: Destination, pooled: PooledSession): void {
    const max = pooled.maxRequests;
    if (
      max !== undefined &&
      max > 0 &&
      pooled.requests >= max &&
      pooled.session.activeStreams === 0
    )
      this.#remove(d, pooled);
  }

  #remove(d: Destination, pooled: PooledSession): void {
    const i = d.sessions.indexOf(pooled);
    if (i >= 0) d.sessions.splice(i, 1);
    if (pooled.session && !pooled.session.closed) pooled.session.shutdown(30_000);
  }

  /** Closes connections with no stream for longer than their idle timeout (the proxy's sweep). */
  sweep(): void {
    const now = this.#now();
    for (const d of this.#destinations.values()) {
      for (const s of [...d.sessions]) {
        // Idle too long, or past maxConnectionDuration: GOAWAY, streams in flight finish.
        const idle = s.session.activeStreams === 0 && now - s.idleSince >= s.idleTimeoutMs;
        if (idle || now - s.openedAt >= s.maxDurationMs) this.#remove(d, s);
      }
    }
  }

  /**
   * Connections to endpoints that left the routing table close gracefully (GOAWAY): streams in
   * flight finish, new ones go to the endpoints that remain.
   */
  retire(live: ReadonlySet<string>): void {
    for (const [key, d] of this.#destinations) {
      if (live.has(key)) continue;
      for (const s of [...d.sessions]) this.#remove(d, s);
      if (d.waiting.length === 0 && d.connecting === 0) this.#destinations.delete(key);
    }
  }

  destroy(): void {
    for (const d of this.#destinations.values()) {
      for (const s of d.sessions) s.session.destroy();
      d.sessions.length = 0;
    }
  }
}

/** One request as a stream on a pooled HTTP/2 connection. */
export class H2Leg implements UpstreamLeg, StreamHandler {
  readonly #pooled: PooledSession;
  #stream: H2Stream | undefined;
  #handler: ResponseHandler | undefined;
  #paused = false;
  #unconsumed = 0;
  #drainWaiters: (() => void)[] = [];
  #done = false;

  constructor(pooled: PooledSession) {
    this.#pooled = pooled;
  }

  start(
    handler: ResponseHandler,
    request: UpstreamRequest,
    body: readonly Buffer[],
    ended: boolean,
  ): boolean {
    this.#handler = handler;
    const fields: string[] = [
      ':method',
      request.method,
      ':scheme',
      'http',
      ':authority',
      request.authority,
      ':path',
      request.pathAndQuery,
    ];
    const h = request.headers;
    for (let i = 0; i < h.lower.length; i++) {
      const name = h.lower[i]!;
      if (name !== '') fields.push(name, h.values[i]!);
    }
    if (request.framing.kind === 'length')
      fields.push('content-length', String(request.framing.length));
    if (request.teTrailers) fields.push('te', 'trailers');
    const endNow = ended && body.length === 0;
    const stream = this.#pooled.session.request(fields, endNow, this);
    this.#stream = stream;
    let ok = true;
    for (const chunk of body) ok = stream.write(chunk);
    if (ended && !endNow) stream.end();
    return ok;
  }

  write(chunk: Buffer): boolean {
    return this.#stream ? this.#stream.write(chunk) : true;
  }

  end(): void {
    this.#stream?.end();
  }

  onceDrain(callback: () => void): void {
    this.#drainWaiters.push(callback);
  }

  pauseResponse(): void {
    this.#paused = true;
  }

  resumeResponse(): void {
    this.#paused = false;
    if (this.#unconsumed > 0 && this.#stream) {
      this.#stream.consume(this.#unconsumed);
      this.#unconsumed = 0;
    }
  }

  release(_reusable: boolean): void {
    this.#done = true;
    this.#handler = undefined;
  }

  drop(): void {
    if (this.#done) return;
    this.#done = true;
    this.#handler = undefined;
    this.#stream?.reset(H2_ERRORS.CANCEL);
  }

  // StreamHandler: the upstream's response.

  onResponse(head: H2ResponseHead, endStream: boolean): void {
    const handler = this.#handler;
    if (!handler) return;
    handler.downstream.cork();
    handler.onHead({
      status: head.status,
      reason: STATUS_CODES[head.status] ?? 'Unknown',
      minor: 1,
      rawHeaders: head.fields,
      framing: endStream
        ? NO_BODY
        : head.contentLength !== undefined
          ? lengthFraming(head.contentLength)
          : CHUNKED,
      keepAlive: true,
      headBytes: 0,
    });
    handler.downstream.uncork();
  }

  onInformational(status: number, fields: string[]): void {
    this.#handler?.onInformational(status, fields);
  }

  onData(chunk: Buffer): void {
    this.#handler?.onBody(chunk);
    if (this.#paused) this.#unconsumed += chunk.length;
    else this.#stream?.consume(chunk.length);
  }

  onEnd(trailers: string[] | undefined): void {
    this.#handler?.onEnd(trailers);
  }

  onReset(code: number, info: ResetInfo): void {
    // drop() detaches the handler first, so the resets heard here are the peer's or a malformed
    // response's (reset by the session, `by: 'local'`).
    this.#handler?.onStreamReset?.(code, info);
  }

  onDrain(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }
}

function noop(): void {}
