/**
 * Keep-alive connections to upstream endpoints, per `address:port`. A connection carries one
 * exchange at a time (no pipelining: a failed pipelined request cannot be retried safely). Idle
 * connections are reused most-recent-first, so surplus ones age out by the idle timeout; when a
 * destination has `maxConnections` busy ones, new exchanges wait in a bounded queue
 * (`http1MaxPendingRequests`), like Envoy's circuit breaker. A connection older than
 * `maxConnectionDuration` takes no new exchange: it is closed when idle, or when its current
 * exchange ends (Envoy's max_connection_duration drains it the same way).
 */
import net from 'node:net';
import type { UpstreamPolicy } from '../../core/compiler/table.ts';
import { ResponseParser } from '../http1/response-parser.ts';
import type { ParseError, ParserLimits, ResponseEvents, ResponseHead } from '../http1/types.ts';
import type { ResetInfo } from '../http2/session.ts';

/** Where the upstream connection's parser sends its events: the exchange that owns it now. */
export interface ResponseHandler extends ResponseEvents {
  /** The socket closed or failed (after `finish()` was given a chance to end the body). */
  onClose(error: Error | undefined): void;
  /** HTTP/2 upstreams: the stream was reset (by the peer, or for a malformed response). */
  onStreamReset?(code: number, info: ResetInfo): void;
  /** Where the response goes: corked while a chunk is parsed, so head and body leave in one write. */
  readonly downstream: { cork(): void; uncork(): void };
}

export class UpstreamConnection implements ResponseEvents {
  readonly key: string;
  readonly socket: net.Socket;
  readonly parser: ResponseParser;
  /** Exchanges this connection has carried, including the current one. */
  requests = 0;
  handler: ResponseHandler | undefined;
  closed = false;
  /** When it last went idle in its pool (ms, monotonic); the pool's sweep closes stale ones. */
  idleSince = 0;
  idleTimeoutMs = Number.POSITIVE_INFINITY;
  /** When it was established (ms, monotonic), for `maxConnectionDuration`. */
  connectedAt = 0;
  maxDurationMs = Number.POSITIVE_INFINITY;
  #closeError: Error | undefined;

  constructor(key: string, socket: net.Socket, limits: Partial<ParserLimits> | undefined) {
    this.key = key;
    this.socket = socket;
    this.parser = new ResponseParser(this, limits);
    socket.on('data', (chunk: Buffer) => {
      const handler = this.handler;
      if (!handler) {
        // An idle connection that speaks unasked is broken (or a 408 on close); drop it.
        socket.destroy();
        return;
      }
      const down = handler.downstream;
      down.cork();
      this.parser.execute(chunk);
      down.uncork();
    });
    socket.on('error', (error) => {
      this.#closeError ??= error;
    });

    socket.on('close', () => {
      this.closed = true;
      if (!this.handler) return;
      // A close-delimited body ends here; finish() reports a truncated message as an error.
      if (!this.#closeError) this.parser.finish();
      // If that completed the exchange, it has released the connection and cleared the handler.
      this.handler?.onClose(this.#closeError);
    });
  }

  get reused(): boolean {
    return this.requests > 1;
  }

  onInformational(status: number, rawHeaders: string[]): void {
    this.handler?.onInformational(status, rawHeaders);
  }

  onHead(head: ResponseHead): void {
    this.handler?.onHead(head);
  }

  onBody(chunk: Buffer): void {
    this.handler?.onBody(chunk);
  }

  onEnd(trailers: string[] | undefined): void {
    this.handler?.onEnd(trailers);
  }

  onError(err: ParseError): void {
    this.handler?.onError(err);
  }
}

interface Waiter {
  /** Tries again; by then a slot is free, and an idle connection is preferred. */
  readonly retry: () => void;
  cancelled: boolean;
}

interface Destination {
  readonly idle: UpstreamConnection[];
  busy: number;
  connecting: number;
  readonly waiting: Waiter[];
}

/**
 * Why no connection could be lent. Either way no byte of the request left the proxy; `overflow`
 * is the proxy's own limit, not the endpoint's failure.
 */
export interface AcquireFailure {
  readonly kind: 'connect-failed' | 'overflow';
  readonly message: string;
}

export type AcquireCallback = (
  failure: AcquireFailure | undefined,
  connection: UpstreamConnection | undefined,
) => void;

export class UpstreamPool {
  readonly #destinations = new Map<string, Destination>();
  /** Every open connection, busy or idle, so shutting down closes them all. */
  readonly #all = new Set<UpstreamConnection>();
  readonly #now: () => number;
  /** The proxy's own head limits apply to what upstreams send too. */
  readonly #limits: Partial<ParserLimits> | undefined;
  #open = 0;

  constructor(now: () => number, limits?: Partial<ParserLimits>) {
    this.#now = now;
    this.#limits = limits;
  }

  stats(): { destinations: number; open: number; idle: number } {
    let idle = 0;
    for (const d of this.#destinations.values()) idle += d.idle.length;
    return { destinations: this.#destinations.size, open: this.#open, idle };
  }

  #destination(key: string): Destination {
    let d = this.#destinations.get(key);
    if (!d) {
      d = { idle: [], busy: 0, connecting: 0, waiting: [] };
      this.#destinations.set(key, d);
    }
    return d;
  }

  /**
   * Gets a connection to `host:port`, reusing an idle one when possible. Returns a function that
   * cancels the request (the connection, once made, is then kept idle).
   */
  acquire(
    host: string,
    port: number,
    policy: UpstreamPolicy,
    callback: AcquireCallback,
  ): () => void {
    const key = `${host}:${port}`;
    const d = this.#destination(key);
    while (d.idle.length > 0) {
      const conn = d.idle.pop()!;
      if (conn.closed || conn.socket.destroyed) continue;
      if (this.#tooOld(conn, this.#now())) {
        conn.socket.destroy();
        continue;
      }
      conn.requests++;
      d.busy++;
      callback(undefined, conn);
      return noop;
    }
    const limit = policy.maxConnections;
    if (limit !== undefined && d.busy + d.connecting >= limit) {
      const pendingLimit = policy.http1MaxPendingRequests ?? 2 ** 32 - 1;
      if (d.waiting.length >= pendingLimit) {
        callback(
          {
            kind: 'overflow',
            message: `${key} has ${limit} busy connections and ${d.waiting.length} waiting requests (DestinationRule connectionPool limits)`,
          },
          undefined,
        );
        return noop;
      }
      const waiter: Waiter = {
        retry: () => {
          if (!waiter.cancelled) this.acquire(host, port, policy, callback);
        },
        cancelled: false,
      };
      d.waiting.push(waiter);
      return () => {
        waiter.cancelled = true;
      };
    }
    return this.#connect(key, host, port, d, policy, callback);
  }

  #connect(
    key: string,
    host: string,
    port: number,
    d: Destination,
    policy: UpstreamPolicy,
    callback: AcquireCallback,
  ): () => void {
    d.connecting++;
    this.#open++;
    let done = false;
    let cancelled = false;
    const socket = net.connect({ host, port, noDelay: true });
    const conn = new UpstreamConnection(key, socket, this.#limits);
    this.#all.add(conn);
    const timer = setTimeout(() => {
      fail(`connect to ${key} timed out after ${policy.connectTimeoutMs} ms`);
      socket.destroy();
    }, policy.connectTimeoutMs);
    const fail = (message: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      d.connecting--;
      this.#next(d);
      if (!cancelled) callback({ kind: 'connect-failed', message }, undefined);
    };
    socket.once('connect', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      d.connecting--;
      conn.connectedAt = this.#now();
      conn.maxDurationMs = policy.maxConnectionDurationMs ?? Number.POSITIVE_INFINITY;
      if (cancelled) {
        this.#keepIdle(d, conn, policy);
        return;
      }
      conn.requests = 1;
      d.busy++;
      callback(undefined, conn);
    });
    socket.once('error', (error) => fail(error.message));
    socket.once('close', () => {
      this.#open--;
      this.#all.delete(conn);
      const i = d.idle.indexOf(conn);
      if (i >= 0) d.idle.splice(i, 1);
      fail(`connection to ${key} closed while connecting`);
    });
    return () => {
      cancelled = true;
    };
  }

  /**
   * Gives a connection back. `reusable`: the exchange completed cleanly on both sides and the
   * upstream allows keep-alive; otherwise the connection is closed.
   */
  release(conn: UpstreamConnection, reusable: boolean, policy: UpstreamPolicy): void {
    const d = this.#destination(conn.key);
    d.busy--;
    conn.handler = undefined;
    const limit = policy.maxRequestsPerConnection;
    if (
      !reusable ||
      conn.closed ||
      conn.socket.destroyed ||
      (limit !== undefined && limit > 0 && conn.requests >= limit) ||
      !conn.parser.idle ||
      this.#tooOld(conn, this.#now())
    ) {
      conn.socket.destroy();
    } else {
      this.#keepIdle(d, conn, policy);
    }
    this.#next(d);
  }

  #tooOld(conn: UpstreamConnection, now: number): boolean {
    return now - conn.connectedAt >= conn.maxDurationMs;
  }

  #keepIdle(d: Destination, conn: UpstreamConnection, policy: UpstreamPolicy): void {
    conn.idleSince = this.#now();
    conn.idleTimeoutMs = policy.idleTimeoutMs;
    d.idle.push(conn);
  }

  /**
   * Closes connections idle for longer than their policy's idle timeout, or older than its
   * maximum duration. Run once a second by the proxy: cheaper than arming a timer on every request.
   */
  sweep(): void {
    const now = this.#now();
    for (const d of this.#destinations.values()) {
      for (let i = d.idle.length - 1; i >= 0; i--) {
        const conn = d.idle[i]!;
        if (now - conn.idleSince >= conn.idleTimeoutMs || this.#tooOld(conn, now)) {
          d.idle.splice(i, 1);
          conn.socket.destroy();
        }
      }
    }
  }

  /** Closes every idle connection (their peer is known to be gone). */
  closeIdle(): void {
    for (const d of this.#destinations.values()) {
      for (const conn of d.idle.splice(0)) conn.socket.destroy();
    }
  }

  /** Lets the next waiting exchange in when a slot frees up. */
  #next(d: Destination): void {
    while (d.waiting.length > 0) {
      const waiter = d.waiting.shift()!;
      if (waiter.cancelled) continue;
      waiter.retry();
      return;
    }
  }

  /** Closes every connection (used when the proxy shuts down). */
  destroy(): void {
    for (const conn of this.#all) conn.socket.destroy();
    for (const d of this.#destinations.values()) d.idle.length = 0;
  }
}

function noop(): void {}
