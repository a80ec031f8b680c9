/**
 * Where an exchange writes its response: the downstream protocol's side of the seam. The exchange
 * decides what to send (status, end-to-end fields, body, trailers, a mesh error); a sink decides
 * how the client's protocol carries it — an HTTP/1.1 connection (`Http1Sink`, here) or an
 * HTTP/2 stream (`H2Sink`, in h2-downstream.ts).
 */
import type net from 'node:net';
import type { ErrorCode } from '../core/engine/errors.ts';
import { type ErrorDetails, writeError } from './error-response.ts';
import type { HeaderList } from './headers.ts';
import { CHUNKED, CLOSE_DELIMITED } from './http1/framing.ts';
import { lastChunk, responseHead, writeChunk } from './http1/serialize.ts';
import type { Framing } from './http1/types.ts';

export interface ResponseSink {
  readonly protocol: 'HTTP/1.1' | 'HTTP/2';
  /** For gRPC calls: the status the client got, for the access log. */
  readonly grpcStatus?: number | undefined;
  /**
   * Writes the response head. `framing` is how the upstream framed the body; the sink returns how
   * it frames it for its client (HTTP/1.0 clients get close-delimited bodies instead of chunked).
   */
  head(
    status: number,
    reason: string,
    headers: HeaderList,
    framing: Framing,
    keepAlive: boolean,
    upgrade: string | undefined,
  ): Framing;
  /** A body chunk; false when the client pushes back (then wait for `onceDrain`). */
  body(chunk: Buffer): boolean;
  onceDrain(callback: () => void): void;
  /** The response is complete, with trailers when the upstream sent some. */
  end(trailers: readonly string[] | undefined): void;
  /**
   * The response cannot be completed: the client must see it cut short, never complete. `code`
   * says why; `resetCode` is the HTTP/2 error code an upstream reset the stream with, if it did.
   */
  abort(code: ErrorCode, resetCode: number | undefined): void;
  /** Writes a mesh error the way this client reads one; returns the status for the log. */
  error(details: ErrorDetails): number;
  /** While an upstream chunk is parsed: head and body leave in one write. */
  cork(): void;
  uncork(): void;
}

/** An HTTP/1.x client connection. */
export class Http1Sink implements ResponseSink {
  readonly protocol = 'HTTP/1.1';
  readonly socket: net.Socket;
  readonly #minor: 0 | 1;
  #framing: Framing = CLOSE_DELIMITED;

  constructor(socket: net.Socket, minor: 0 | 1) {
    this.socket = socket;
    this.#minor = minor;
  }

  head(
    status: number,
    reason: string,
    headers: HeaderList,
    framing: Framing,
    keepAlive: boolean,
    upgrade: string | undefined,
  ): Framing {
    let out = framing;
    // HTTP/1.0 clients cannot read chunked bodies: end those by closing.
    if (framing.kind === 'chunked' || framing.kind === 'close')
      out = this.#minor === 1 ? CHUNKED : CLOSE_DELIMITED;
    this.#framing = out;
    this.socket.write(
      responseHead({
        status,
        reason,
        fields: headers.serialize(),
        framing: out,
        keepAlive: keepAlive && out.kind !== 'close',
        minor: this.#minor,
        upgrade,
      }),
      'latin1',
    );
    return out;
  }

  body(chunk: Buffer): boolean {
    return this.#framing.kind === 'chunked'
      ? writeChunk(this.socket, chunk)
      : this.socket.write(chunk);
  }

  onceDrain(callback: () => void): void {
    this.socket.once('drain', callback);
  }

  end(trailers: readonly string[] | undefined): void {
    if (this.#framing.kind === 'chunked') this.socket.write(lastChunk(trailers), 'latin1');
    else if (this.#framing.kind === 'close') this.socket.end();
  }

  abort(): void {
    this.socket.destroy();
  }

  error(details: ErrorDetails): number {
    return writeError(this.socket, { ...details, minor: this.#minor });
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }
}
