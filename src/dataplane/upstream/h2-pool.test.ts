/**
 * The h2c pool against node:http2 (nghttp2) as the upstream, on real sockets: how many
 * connections the DestinationRule's HTTP/2 limits make it open, and that connections to
 * endpoints that left the table go away.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_POLICY } from '../../core/compiler/policy.ts';
import type { UpstreamPolicy } from '../../core/compiler/table.ts';
import { NO_BODY } from '../http1/framing.ts';
import type { ResponseHead } from '../http1/types.ts';
import { H2Leg, H2Pool } from './h2-pool.ts';
import type { UpstreamRequest } from './leg.ts';
import type { AcquireFailure, ResponseHandler } from './pool.ts';

const REQUEST: UpstreamRequest = {
  method: 'GET',
  authority: 'app',
  pathAndQuery: '/',
  headers: { lower: [], values: [], get: () => undefined, serialize: () => '' },
  framing: NO_BODY,
  upgrade: undefined,
  teTrailers: false,
};

/** Sends one request on a stream the pool lends; resolves with the status once the response ends. */
function send(pool: H2Pool, port: number, policy: UpstreamPolicy): Promise<number | string> {
  return new Promise((resolve) => {
    pool.acquire('127.0.0.1', port, policy, (failure: AcquireFailure | undefined, session) => {
      if (failure || !session) return resolve(failure?.message ?? 'no session');
      let status = 0;
      const handler: ResponseHandler = {
        downstream: { cork() {}, uncork() {} },
        onInformational() {},
        onHead(head: ResponseHead) {
          status = head.status;
        },
        onBody() {},
        onEnd() {
          resolve(status);
        },
        onError(err) {
          resolve(err.message);
        },
        onClose() {
          resolve('closed');
        },
        onStreamReset(_code, info) {
          resolve(info.message);
        },
      };
      new H2Leg(session).start(handler, REQUEST, [], true);
    });
  });
}

describe('H2Pool', () => {
  let server: http2.Http2Server;
  let port: number;
  /** Server sessions, one per connection the pool opened. */
  const sessions: http2.ServerHttp2Session[] = [];
  /** Streams held open until released, to make requests concurrent. */
  const held: http2.ServerHttp2Stream[] = [];
  let hold = false;

  before(async () => {
    server = http2.createServer();
    server.on('session', (s) => sessions.push(s));
    server.on('stream', (stream) => {
      stream.on('error', () => {});
      if (hold) held.push(stream);
      else stream.respond({ ':status': 200 }, { endStream: true });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => {
    for (const s of sessions) s.destroy();
    server.close();
  });

  const waitFor = async (what: () => boolean) => {
    for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 5));
  };

  it('opens a connection per stream once each has maxConcurrentStreams open, and shares one otherwise', async () => {
    for (const [maxConcurrentStreams, connections] of [
      [1, 3],
      [undefined, 1],
    ] as const) {
      const pool = new H2Pool(() => performance.now());
      const before = sessions.length;
      hold = true;
      const answers = [1, 2, 3].map(() =>
        send(pool, port, { ...DEFAULT_POLICY, maxConcurrentStreams }),
      );
      await waitFor(() => held.length === 3);
      hold = false;
      for (const s of held.splice(0)) s.respond({ ':status': 200 }, { endStream: true });
      assert.deepEqual(await Promise.all(answers), [200, 200, 200]);
      assert.equal(
        sessions.length - before,
        connections,
        `maxConcurrentStreams ${maxConcurrentStreams}`,
      );
      pool.destroy();
    }
  });

  it('gives a connection at most maxRequestsPerConnection streams, then opens another', async () => {
    const pool = new H2Pool(() => performance.now());
    const before = sessions.length;
    const policy = { ...DEFAULT_POLICY, maxRequestsPerConnection: 2 };
    for (let i = 0; i < 3; i++) assert.equal(await send(pool, port, policy), 200);
    assert.equal(sessions.length - before, 2);
    pool.destroy();
  });

  it('closes the connections to endpoints that left the table (retire), and keeps the others', async () => {
    const pool = new H2Pool(() => performance.now());
    assert.equal(await send(pool, port, DEFAULT_POLICY), 200);
    pool.retire(new Set([`127.0.0.1:${port}`]));
    assert.equal(pool.stats().open, 1, 'a live endpoint keeps its connection');
    const session = sessions.at(-1)!;
    pool.retire(new Set());
    assert.equal(pool.stats().open, 0);
    await waitFor(() => session.closed);
    assert.equal(session.closed, true, 'the upstream saw the connection close');
    pool.destroy();
  });
});
