/**
 * The upstream side of one attempt, per protocol: an HTTP/1.1 connection lent by the keep-alive
 * pool (`Http1Leg`, here) or a stream on a shared HTTP/2 connection (`H2Leg`, h2-pool.ts). The
 * exchange speaks to both the same way; both report the response through its ResponseHandler.
 */

import type { UpstreamPolicy } from '../../core/compiler/table.ts';
import { LAST_CHUNK, requestHead, writeChunk } from '../http1/serialize.ts';
import type { Framing } from '../http1/types.ts';
import type { ResponseHandler, UpstreamConnection, UpstreamPool } from './pool.ts';

/**
 * The end-to-end fields of a request (headers.ts's HeaderList): parallel lower-case names and
 * values, '' for a removed entry, and the HTTP/1.1 field lines.
 */
export interface FieldList {
  readonly lower: readonly string[];
  readonly values: readonly string[];
  /** A field's value by lower-case name (repeated ones joined), or undefined. */
  get(lower: string): string | undefined;
  serialize(): string;
}

/** A request as the proxy forwards it, before any protocol writes it. */
export interface UpstreamRequest {
  readonly method: string;
  readonly authority: string;
  readonly pathAndQuery: string;
  /** End-to-end fields after the decision's operations (no Host, no hop-by-hop fields). */
  readonly headers: FieldList;
  /** How an HTTP/1.1 upstream gets the body. */
  readonly framing: Framing;
  readonly upgrade: string | undefined;
  /** The client asked for trailers (`te: trailers`, which gRPC requires): an h2 upstream gets it. */
  readonly teTrailers: boolean;
  /** The HTTP/1.1 head, written once however many attempts it takes. */
  h1Head?: string;
}

export interface UpstreamLeg {
  /** Sends the head and the body bytes at hand, and the end of the body when `ended`. */
  start(
    handler: ResponseHandler,
    request: UpstreamRequest,
    body: readonly Buffer[],
    ended: boolean,
  ): boolean;
  write(chunk: Buffer): boolean;
  end(): void;
  onceDrain(callback: () => void): void;
  /** The client pushes back on the response: stop reading it. */
  pauseResponse(): void;
  resumeResponse(): void;
  /** The response arrived whole: the connection may carry another request if `reusable`. */
  release(reusable: boolean): void;
  /** Abandons the attempt: the upstream must not see a complete request. */
  drop(): void;
}

export class Http1Leg implements UpstreamLeg {
  readonly conn: UpstreamConnection;
  readonly #pool: UpstreamPool;
  readonly #policy: UpstreamPolicy;
  #chunked = false;
  #done = false;
  #paused = false;

  constructor(conn: UpstreamConnection, pool: UpstreamPool, policy: UpstreamPolicy) {
    this.conn = conn;
    this.#pool = pool;
    this.#policy = policy;
  }

  start(
    handler: ResponseHandler,
    request: UpstreamRequest,
    body: readonly Buffer[],
    ended: boolean,
  ): boolean {
    const conn = this.conn;
    conn.handler = handler;
    conn.parser.expect(request.method);
    this.#chunked = request.framing.kind === 'chunked';
    request.h1Head ??= requestHead({
      method: request.method,
      target: request.pathAndQuery,
      host: request.authority,
      fields: request.headers.serialize(),
      framing: request.framing,
      upgrade: request.upgrade,
    });
    const socket = conn.socket;
    socket.cork();
    let ok = socket.write(request.h1Head, 'latin1');
    for (const chunk of body) ok = this.write(chunk);
    if (ended && this.#chunked) ok = socket.write(LAST_CHUNK, 'latin1');
    socket.uncork();
    return ok;
  }

  write(chunk: Buffer): boolean {
    return this.#chunked ? writeChunk(this.conn.socket, chunk) : this.conn.socket.write(chunk);
  }

  end(): void {
    if (this.#chunked) this.conn.socket.write(LAST_CHUNK, 'latin1');
  }

  onceDrain(callback: () => void): void {
    this.conn.socket.once('drain', callback);
  }

  pauseResponse(): void {
    this.#paused = true;
    this.conn.socket.pause();
  }

  resumeResponse(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.conn.socket.resume();
  }

  release(reusable: boolean): void {
    if (this.#done) return;
    this.#done = true;
    // The response is whole: a pause for a slow client must not follow the connection into the
    // pool, where the next exchange would wait on it forever.
    this.resumeResponse();
    // release() detaches the handler and closes a connection that is not reusable.
    this.#pool.release(this.conn, reusable && this.conn.parser.idle, this.#policy);
  }

  drop(): void {
    this.release(false);
  }
}
