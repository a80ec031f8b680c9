import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { H2ResponseHead } from './fields.ts';
import {
  DATA,
  END_STREAM,
  FRAME_HEADER,
  frameHeader,
  H2_ERRORS,
  headersFrames,
  PREFACE,
  RST_STREAM,
  settingsFrame,
} from './frames.ts';
import { HpackEncoder } from './hpack.ts';
import { type H2Stream, Http2Session, type ResetInfo, type StreamHandler } from './session.ts';
import { type EchoServer, startEchoServer } from './test-helpers.ts';

/** node:http2 (nghttp2) as the peer: a client no one here wrote. */
function nodeRequest(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: string,
): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers);
    let data = '';
    let head: http2.IncomingHttpHeaders = {};
    req.setEncoding('latin1');
    req.on('response', (h) => {
      head = h;
    });
    req.on('data', (c: string) => {
      data += c;
    });
    req.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: data }));
    req.on('error', reject);
    req.end(body);
  });
}

/** Raw frames, for what a well-behaved client library refuses to send. */
async function rawExchange(port: number, frames: Buffer[]): Promise<Buffer> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const chunks: Buffer[] = [];
  socket.on('data', (c) => chunks.push(c));
  socket.write(Buffer.concat([PREFACE, settingsFrame([]), ...frames]));
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.destroy();
  return Buffer.concat(chunks);
}

/** The frames in a byte string, as [type, flags, stream, payload]. */
function framesOf(buf: Buffer): [number, number, number, Buffer][] {
  const out: [number, number, number, Buffer][] = [];
  for (let p = 0; p + FRAME_HEADER <= buf.length; ) {
    const length = buf.readUIntBE(p, 3);
    out.push([
      buf[p + 3]!,
      buf[p + 4]!,
      buf.readUInt32BE(p + 5),
      buf.subarray(p + 9, p + 9 + length),
    ]);
    p += FRAME_HEADER + length;
  }
  return out;
}

const REQUEST = [':method', 'POST', ':scheme', 'http', ':path', '/', ':authority', 'a'];

describe('Http2Session, server role', () => {
  let server: EchoServer;
  let client: http2.ClientHttp2Session;
  before(async () => {
    server = await startEchoServer();
    client = http2.connect(`http://127.0.0.1:${server.port}`);
  });
  after(async () => {
    client.close();
    await server.close();
  });

  test('answers node:http2 requests, with and without a body', async () => {
    const get = await nodeRequest(client, { ':path': '/a?b=1' });
    assert.equal(get.status, 200);
    assert.equal(get.headers['x-path'], '/a?b=1');
    assert.equal(get.body, 'ok\n');
    const post = await nodeRequest(client, { ':method': 'POST', ':path': '/p' }, 'payload');
    assert.equal(post.headers['x-method'], 'POST');
    assert.equal(post.body, 'payload');
  });

  test('carries 200 concurrent streams on one connection, each answered with its own body', async () => {
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        nodeRequest(client, { ':method': 'POST', ':path': `/s${i}` }, `body ${i}`),
      ),
    );
    assert.deepEqual(
      answers.map((a) => a.body),
      answers.map((_, i) => `body ${i}`),
    );
  });

  test('a 4 MiB answer to a reader that does not read stops at the flow-control window', async () => {
    const req = client.request({ ':path': `/big/${4 << 20}` });
    req.pause();
    await new Promise((resolve) => req.once('response', resolve));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [session] = server.sessions;
    // What the server socket holds is what nghttp2 has not read: at most its stream window.
    assert.ok(
      session!.socket.writableLength <= 70_000,
      `${session!.socket.writableLength} bytes buffered`,
    );
    let received = 0;
    req.on('data', (c: Buffer) => {
      received += c.length;
    });
    req.resume();
    await new Promise((resolve) => req.once('end', resolve));
    assert.equal(received, 4 << 20);
  });

  const encoder = () => new HpackEncoder();
  const malformed: [what: string, fields: string[], body?: Buffer, contentLength?: boolean][] = [
    ['transfer-encoding (h2 → h1 smuggling)', [...REQUEST, 'transfer-encoding', 'chunked']],
    ['connection', [...REQUEST, 'connection', 'keep-alive']],
    ['te other than trailers', [...REQUEST, 'te', 'gzip']],
    ['an upper-case field name', [...REQUEST, 'X-Lane', 'v2']],
    ['CR LF in a value (header injection)', [...REQUEST, 'x-a', 'a\r\nx-lane: v2']],
    [
      'a pseudo-header after a regular field',
      [...REQUEST.slice(0, 6), 'x-a', '1', ':authority', 'a'],
    ],
    ['two :path pseudo-headers', [...REQUEST, ':path', '/b']],
    ['an unknown pseudo-header', [...REQUEST, ':protocol', 'websocket']],
    ['no :scheme', [':method', 'GET', ':path', '/', ':authority', 'a']],
    ['host naming another authority', [...REQUEST, 'host', 'b']],
    [
      'a :path that is not origin-form',
      [':method', 'GET', ':scheme', 'http', ':path', 'x', ':authority', 'a'],
    ],
    ['more DATA than content-length says', [...REQUEST, 'content-length', '2'], Buffer.from('abc')],
    ['less DATA than content-length says', [...REQUEST, 'content-length', '5'], Buffer.from('abc')],
  ];
  for (const [what, fields, body] of malformed) {
    test(`a request with ${what} is reset with PROTOCOL_ERROR and never answered`, async () => {
      const frames = [headersFrames(1, encoder().encode(fields), body === undefined, 16384)];
      if (body) frames.push(frameHeader(body.length, DATA, END_STREAM, 1), body);
      const got = framesOf(await rawExchange(server.port, frames)).filter(([, , s]) => s === 1);
      assert.deepEqual(
        got.map(([type, , , p]) => [type, p.readUInt32BE(0)]),
        [[RST_STREAM, H2_ERRORS.PROTOCOL_ERROR]],
      );
    });
  }

  test('a header list over the limit gets 431 on its stream; the connection goes on', async () => {
    const small = await startEchoServer({ maxHeaderListSize: 200 });
    try {
      const c = http2.connect(`http://127.0.0.1:${small.port}`);
      const big = await nodeRequest(c, { ':path': '/', 'x-big': 'x'.repeat(300) });
      assert.equal(big.status, 431);
      assert.equal((await nodeRequest(c, { ':path': '/' })).status, 200);
      c.close();
    } finally {
      await small.close();
    }
  });
});

describe('Http2Session, client role', () => {
  let server: http2.Http2Server;
  let port: number;
  before(async () => {
    server = http2.createServer();
    server.on('stream', (stream, headers) => {
      stream.on('error', () => {});
      const path = headers[':path'];
      if (path === '/reset') {
        stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
        return;
      }
      let body = '';
      stream.setEncoding('latin1');
      stream.on('data', (c: string) => {
        body += c;
      });
      stream.on('end', () => {
        if (stream.destroyed) return;
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc' },
          { waitForTrailers: true },
        );
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(`echo ${body}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => server.close());

  async function connect(): Promise<Http2Session> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let ready!: () => void;
    const settled = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const session = new Http2Session({
      role: 'client',
      socket,
      now: () => performance.now(),
      events: { onSettings: () => ready(), onClose: () => {} },
    });
    await settled;
    return session;
  }

  interface Outcome {
    head?: H2ResponseHead;
    body: string;
    trailers?: string[];
    reset?: [number, ResetInfo];
  }

  function send(session: Http2Session, path: string, body: string): Promise<Outcome> {
    return new Promise((resolve) => {
      const out: Outcome = { body: '' };
      let stream: H2Stream;
      const handler: StreamHandler = {
        onResponse: (head) => {
          out.head = head;
        },
        onData: (c) => {
          out.body += c.toString('latin1');
          stream.consume(c.length);
        },
        onEnd: (trailers) => {
          out.trailers = trailers;
          resolve(out);
        },
        onReset: (code, info) => {
          out.reset = [code, info];
          resolve(out);
        },
        onDrain: () => {},
      };
      stream = session.request(
        [':method', 'POST', ':scheme', 'http', ':path', path, ':authority', 'x'],
        false,
        handler,
      );
      stream.write(Buffer.from(body));
      stream.end();
    });
  }

  test('a request gets node:http2’s response, body and trailers', async () => {
    const session = await connect();
    const out = await send(session, '/echo', 'hi');
    assert.equal(out.head?.status, 200);
    assert.equal(out.body, 'echo hi');
    assert.deepEqual(out.trailers, ['grpc-status', '0']);
    session.destroy();
  });

  test('a stream the server resets reports its code, the connection carries on', async () => {
    const session = await connect();
    const out = await send(session, '/reset', '');
    assert.equal(out.reset?.[0], H2_ERRORS.ENHANCE_YOUR_CALM);
    assert.equal(out.reset?.[1].by, 'peer');
    assert.equal((await send(session, '/echo', 'again')).body, 'echo again');
    session.destroy();
  });

  test('a 1 MiB upload respects the server’s windows and arrives whole', async () => {
    const session = await connect();
    const out = await send(session, '/echo', 'y'.repeat(1 << 20));
    assert.equal(out.body.length, 5 + (1 << 20));
    session.destroy();
  });

  test('after GOAWAY, streams above its last id are reported unprocessed', async () => {
    const session = await connect();
    const stream = new Promise<Outcome>((resolve) => {
      const out: Outcome = { body: '' };
      session.request([...REQUEST.slice(0, 4), ':path', '/slow', ':authority', 'x'], false, {
        onData: () => {},
        onEnd: () => resolve(out),
        onReset: (code, info) => {
          out.reset = [code, info];
          resolve(out);
        },
        onDrain: () => {},
      });
    });
    // Stream 1 is open; a GOAWAY naming stream 0 as the last processed refuses it.
    await new Promise((resolve) => setTimeout(resolve, 20));
    (session as unknown as { socket: net.Socket }).socket.emit(
      'data',
      Buffer.concat([frameHeader(8, 0x7, 0, 0), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0])]),
    );
    const out = await stream;
    assert.equal(out.reset?.[1].unprocessed, true);
    assert.equal(session.canOpenStream, false);
    session.destroy();
  });

  test('an HTTP/1.1 server that answers the preface is reported as not speaking h2c, not as a bad frame', async () => {
    const h1 = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    });
    await new Promise<void>((resolve) => h1.listen(0, '127.0.0.1', resolve));
    const socket = net.connect((h1.address() as net.AddressInfo).port, '127.0.0.1');
    const closed = new Promise<string | undefined>((resolve) => {
      new Http2Session({
        role: 'client',
        socket,
        now: () => performance.now(),
        events: { onClose: resolve },
      });
    });
    assert.match(
      String(await closed),
      /^PROTOCOL_ERROR: the peer answered in HTTP\/1\.x: it does not speak HTTP\/2 with prior knowledge/,
    );
    h1.close();
  });
});
