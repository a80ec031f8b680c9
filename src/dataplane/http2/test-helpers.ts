/**
 * Test servers on the HTTP/2 session alone (no proxy): an echo server that answers every request
 * with its head and body, for tests of the session and for h2spec runs against the framing layer.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { H2RequestHead } from './fields.ts';
import { type H2Stream, Http2Session, type SessionLimits } from './session.ts';

export interface EchoServer {
  readonly port: number;
  readonly sessions: Set<Http2Session>;
  close(): Promise<void>;
}

/** Answers 200 with `x-method`, `x-path` and the request body; `/big/N` answers N bytes. */
export async function startEchoServer(limits?: Partial<SessionLimits>): Promise<EchoServer> {
  const sessions = new Set<Http2Session>();
  const server = net.createServer((socket) => {
    const session: Http2Session = new Http2Session({
      role: 'server',
      socket,
      limits,
      now: () => performance.now(),
      events: {
        onRequest: (stream, head) => answer(stream, head),
        onBadRequest: (stream, code) => {
          if (code === 'HEADERS_TOO_LARGE') stream.sendHeaders([':status', '431'], true);
        },
        onClose: () => sessions.delete(session),
      },
    });
    sessions.add(session);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function answer(stream: H2Stream, head: H2RequestHead): void {
  const big = /^\/big\/(\d+)$/.exec(head.path);
  const chunks: Buffer[] = [];
  stream.handler = {
    onData(chunk) {
      chunks.push(chunk);
      stream.consume(chunk.length);
    },
    onEnd() {
      stream.sendHeaders([':status', '200', 'x-method', head.method, 'x-path', head.path], false);
      if (big) {
        sendBig(stream, Number(big[1]));
        return;
      }
      // An empty request gets a small body, so a window of 0 keeps the stream open (h2spec 5.1.2).
      if (chunks.length === 0) stream.write(Buffer.from('ok\n'));
      for (const c of chunks) stream.write(c);
      stream.end();
    },
    onReset() {},
    onDrain() {},
  };
}

function sendBig(stream: H2Stream, total: number): void {
  const block = Buffer.alloc(16_384, 0x61);
  let left = total;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, block.length);
      left -= n;
      if (!stream.write(block.subarray(0, n))) return;
    }
    stream.end();
  };
  stream.handler = { ...stream.handler!, onDrain: pump };
  pump();
}
