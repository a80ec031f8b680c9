/**
 * HTTP/2 through a real gateway on 127.0.0.1: node:http2 (nghttp2) as client and as h2c
 * upstream, Node's HTTP/1.1 server as the other upstream. Protocol selection by Service port,
 * streams sharing one upstream connection, gRPC errors, deadlines and retries, resets both ways,
 * GOAWAY, the connection-pool limits, smuggling through the h2 → h1 downgrade, flow control.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  DATA,
  END_STREAM,
  frameHeader,
  headersFrames,
  PREFACE,
  settingsFrame,
} from '../src/dataplane/http2/frames.ts';
import { HpackEncoder } from '../src/dataplane/http2/hpack.ts';
import { endpoint, type Fixture, fixture, listen, table } from './support/proxy-fixture.ts';

const MESH = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  selector: { app: gw }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec: { selector: { app: web }, ports: [{ port: 8000, name: http }] }
---
apiVersion: v1
kind: Service
metadata: { name: rpc, namespace: default }
spec: { selector: { app: rpc }, ports: [{ port: 9000, name: grpc }] }
---
apiVersion: v1
kind: Service
metadata: { name: empty, namespace: default }
spec: { selector: { app: empty }, ports: [{ port: 9000, name: grpc }] }
---
apiVersion: v1
kind: Service
metadata: { name: peered, namespace: default }
spec: { selector: { app: peered }, ports: [{ port: 9000, name: grpc }] }
---
apiVersion: v1
kind: Service
metadata: { name: mislabelled, namespace: default }
spec: { selector: { app: mislabelled }, ports: [{ port: 9000, name: grpc }] }
---
apiVersion: v1
kind: Service
metadata: { name: limited, namespace: default }
spec: { selector: { app: limited }, ports: [{ port: 9000, name: grpc }] }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: limited, namespace: default }
spec:
  host: limited
  trafficPolicy: { connectionPool: { http: { http2MaxRequests: 3 } } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: vs, namespace: default }
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match: [{ uri: { prefix: /web } }]
    route: [{ destination: { host: web } }]
  - match: [{ uri: { prefix: /retry } }]
    route: [{ destination: { host: rpc } }]
    retries: { attempts: 2, retryOn: unavailable }
  - match: [{ uri: { prefix: /peered } }]
    route: [{ destination: { host: peered } }]
  - match: [{ uri: { prefix: /limited } }]
    route: [{ destination: { host: limited } }]
  - match: [{ uri: { prefix: /empty } }]
    route: [{ destination: { host: empty } }]
  - match: [{ uri: { prefix: /mislabelled } }]
    route: [{ destination: { host: mislabelled } }]
  - match: [{ uri: { prefix: /rpc } }]
    route: [{ destination: { host: rpc } }]
`;

interface Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: string;
  rstCode?: number;
}

function request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: string,
): Promise<Answer> {
  return new Promise((resolve) => {
    const req = session.request(headers);
    const out: Answer = { status: 0, headers: {}, trailers: {}, body: '' };
    req.setEncoding('latin1');
    req.on('response', (h) => {
      out.headers = h;
      out.status = Number(h[':status']);
    });
    req.on('trailers', (t) => {
      out.trailers = t;
    });
    req.on('data', (c: string) => {
      out.body += c;
    });
    req.on('close', () => {
      if (req.rstCode !== http2.constants.NGHTTP2_NO_ERROR) out.rstCode = req.rstCode;
      resolve(out);
    });
    req.on('error', () => {});
    req.end(body);
  });
}

describe('HTTP/2 through a gateway', () => {
  let f: Fixture;
  let gw: number;
  let client: http2.ClientHttp2Session;
  const h1Seen: { method: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const h1 = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      h1Seen.push({ method: req.method ?? '', headers: req.headers, body });
      if (req.url?.startsWith('/web/big/')) {
        const total = Number(req.url.slice('/web/big/'.length)) << 20;
        const block = Buffer.alloc(1 << 20, 97);
        let sent = 0;
        res.writeHead(200, { 'content-length': String(total) });
        const pump = () => {
          while (sent < total) {
            sent += block.length;
            if (!res.write(block)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
        return;
      }
      res.writeHead(200, { 'x-upstream': 'h1' });
      res.end(`h1:${body}`);
    });
  });
  const rpcSessions = new Set<http2.ServerHttp2Session>();
  const rpcCancelled: string[] = [];
  const retryCounts = new Map<string, number>();
  // A dead instance's sidecar, as it answers a gRPC call: trailers-only, nothing delivered.
  let deadHits = 0;
  const dead = http2.createServer();
  dead.on('stream', (stream) => {
    deadHits++;
    stream.respond(
      {
        ':status': 200,
        'content-type': 'application/grpc',
        'grpc-status': '14',
        'x-lanes-error': 'UPSTREAM_CONNECT_FAILURE',
        'x-lanes-delivered': 'none',
      },
      { endStream: true },
    );
  });
  const rpc = http2.createServer();
  rpc.on('session', (s) => rpcSessions.add(s));
  rpc.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const path = String(headers[':path']);
    stream.on('aborted', () => rpcCancelled.push(path));
    let body = '';
    stream.setEncoding('latin1');
    stream.on('data', (c: string) => {
      body += c;
    });
    const answer = () => {
      if (stream.destroyed || stream.closed) return;
      if (path.startsWith('/retry/')) {
        const n = (retryCounts.get(path) ?? 0) + 1;
        retryCounts.set(path, n);
        if (n === 1) {
          stream.respond(
            { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14' },
            { endStream: true },
          );
          return;
        }
      }
      if (path === '/rpc/reset') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
        stream.write('partial');
        // destroy() resets without ending the stream first (close() sends END_STREAM, then RST).
        setTimeout(() => stream.destroy(), 20);
        return;
      }
      stream.respond(
        {
          ':status': 200,
          'content-type': String(headers['content-type'] ?? 'text/plain'),
          'x-upstream': 'h2',
        },
        { waitForTrailers: true },
      );
      stream.on('wantTrailers', () =>
        stream.sendTrailers({ 'grpc-status': '0', 'x-te': String(headers.te) }),
      );
      stream.end(`h2:${body}`);
    };
    stream.on('end', () => {
      if (path.includes('/slow')) setTimeout(answer, 400);
      else if (path.includes('/brief')) setTimeout(answer, 100);
      else answer();
    });
  });

  before(async () => {
    const webPort = await listen(h1);
    const rpcPort = await listen(rpc);
    const deadPort = await listen(dead);
    f = fixture();
    f.store.publish(
      table(MESH, [
        endpoint('web', webPort),
        endpoint('mislabelled', webPort),
        endpoint('rpc', rpcPort),
        endpoint('limited', rpcPort),
        endpoint('peered', rpcPort),
        endpoint('peered', deadPort),
      ]),
    );
    gw = await f.gateway();
    client = http2.connect(`http://127.0.0.1:${gw}`);
  });
  after(async () => {
    client.close();
    await f.close();
    h1.close();
    h1.closeAllConnections();
    rpc.close();
    dead.close();
    for (const s of rpcSessions) s.destroy();
  });

  it('carries an h2c client to an HTTP/1.1 upstream and to an h2c upstream, chosen by the Service port', async () => {
    const web = await request(client, { ':method': 'POST', ':path': '/web/a', cookie: 'a=1' }, 'x');
    assert.equal(web.status, 200);
    assert.equal(web.headers['x-upstream'], 'h1');
    assert.equal(web.body, 'h1:x');
    assert.equal(h1Seen.at(-1)?.headers['x-forwarded-proto'], 'http');
    const grpc = await request(
      client,
      { ':method': 'POST', ':path': '/rpc/a', 'content-type': 'application/grpc', te: 'trailers' },
      'y',
    );
    assert.equal(grpc.headers['x-upstream'], 'h2');
    assert.equal(grpc.body, 'h2:y');
    assert.equal(grpc.trailers['grpc-status'], '0', 'trailers arrive');
    assert.equal(grpc.trailers['x-te'], 'trailers', 'te: trailers reaches a gRPC upstream');
    const entry = f.lines().find((l) => l.path === '/rpc/a');
    assert.equal(entry?.protocol, 'HTTP/2');
    assert.equal(entry?.grpcStatus, 0);
    assert.equal(entry?.service, 'default/rpc');
  });

  it('joins cookie crumbs into one Cookie field for an HTTP/1.1 upstream', async () => {
    await request(client, { ':path': '/web/c', cookie: ['a=1', 'b=2'] });
    assert.equal(h1Seen.at(-1)?.headers.cookie, 'a=1; b=2');
  });

  it('carries an HTTP/1.1 client to an h2c upstream; its trailers arrive in the chunked trailer section', async () => {
    const text = await new Promise<string>((resolve) => {
      const s = net.connect(gw, '127.0.0.1');
      let buf = '';
      s.on('data', (c: Buffer) => {
        buf += c.toString('latin1');
        if (buf.endsWith('\r\n\r\n') && buf.includes('grpc-status')) {
          s.destroy();
          resolve(buf);
        }
      });
      s.write('POST /rpc/h1 HTTP/1.1\r\nHost: x\r\nTE: trailers\r\nContent-Length: 2\r\n\r\nhi');
    });
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.match(text, /transfer-encoding: chunked/);
    assert.match(text, /h2:hi\r\n0\r\ngrpc-status: 0\r\n/);
  });

  it('shares one upstream HTTP/2 connection among 100 concurrent streams', async () => {
    rpcSessions.clear();
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        request(client, { ':method': 'POST', ':path': `/rpc/m${i}` }, String(i)),
      ),
    );
    assert.deepEqual(
      answers.map((a) => a.body),
      answers.map((_, i) => `h2:${i}`),
    );
    assert.ok(rpcSessions.size <= 1, `${rpcSessions.size} upstream connections`);
  });

  const grpcErrors: [path: string, grpcStatus: string, code: string][] = [
    ['/nowhere', '12', 'NO_ROUTE'],
    ['/empty/x', '14', 'NO_HEALTHY_ENDPOINTS'],
  ];
  for (const [path, grpcStatus, code] of grpcErrors) {
    it(`answers a gRPC call the mesh cannot route (${code}) trailers-only with grpc-status ${grpcStatus}`, async () => {
      const a = await request(client, {
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
      });
      assert.equal(a.status, 200);
      assert.equal(a.headers['grpc-status'], grpcStatus);
      assert.equal(a.headers['x-lanes-error'], code);
      assert.match(String(a.headers['grpc-message']), new RegExp(`^lanes: ${code}: `));
      assert.equal(a.body, '');
    });
  }

  it('logs a mesh error to an HTTP/2 client with what the hop did with its override, as for HTTP/1.1', async () => {
    const h2 = await request(client, {
      ':path': '/empty/h2',
      'lanes-override': 'default/empty=v1',
    });
    assert.equal(h2.headers['x-lanes-error'], 'NO_HEALTHY_ENDPOINTS');
    await new Promise<void>((resolve) => {
      const s = net.connect(gw, '127.0.0.1');
      s.on('data', () => {
        s.destroy();
        resolve();
      });
      s.write('GET /empty/h1 HTTP/1.1\r\nHost: x\r\nlanes-override: default/empty=v1\r\n\r\n');
    });
    const fields = (path: string) => {
      const e = f.lines().find((l) => l.path === path);
      return { error: e?.error, source: e?.overrideSource, rejected: e?.overrideRejected };
    };
    const expected = { error: 'NO_HEALTHY_ENDPOINTS', source: 'header', rejected: 'unsigned' };
    assert.deepEqual(fields('/empty/h1'), expected);
    assert.deepEqual(fields('/empty/h2'), expected);
  });

  it('tells a client whose upstream speaks only HTTP/1.1 behind a port named grpc what is wrong and what to change', async () => {
    const a = await request(client, { ':path': '/mislabelled/x' });
    assert.equal(a.status, 502);
    assert.equal(a.headers['x-lanes-error'], 'UPSTREAM_CONNECT_FAILURE');
    assert.match(a.body, /the peer answered in HTTP\/1\.x: it does not speak HTTP\/2/);
    assert.match(a.body, /its Service port says HTTP\/2 \(port name or appProtocol/);
  });

  it('answers a plain HTTP/2 request the mesh cannot route with the text body and x-lanes-error', async () => {
    const a = await request(client, { ':path': '/nowhere' });
    assert.equal(a.status, 404);
    assert.equal(a.headers['x-lanes-error'], 'NO_ROUTE');
    assert.match(a.body, /^lanes: NO_ROUTE: /);
  });

  it('honours grpc-timeout: a slower upstream gets DEADLINE_EXCEEDED for the client and a reset stream', async () => {
    rpcCancelled.length = 0;
    const a = await request(client, {
      ':method': 'POST',
      ':path': '/rpc/slow-deadline',
      'content-type': 'application/grpc',
      'grpc-timeout': '100m',
    });
    assert.equal(a.headers['grpc-status'], '4');
    assert.equal(a.headers['x-lanes-error'], 'UPSTREAM_TIMEOUT');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(rpcCancelled, ['/rpc/slow-deadline']);
  });

  it('retries a trailers-only UNAVAILABLE answer when retryOn says unavailable', async () => {
    const a = await request(
      client,
      { ':method': 'POST', ':path': '/retry/once', 'content-type': 'application/grpc' },
      'r',
    );
    assert.equal(a.body, 'h2:r');
    assert.equal(a.trailers['grpc-status'], '0');
    assert.equal(retryCounts.get('/retry/once'), 2);
  });

  it("re-sends a gRPC call (a POST) that a dead instance's sidecar answered with nothing delivered", async () => {
    for (let i = 0; i < 12; i++) {
      const a = await request(
        client,
        { ':method': 'POST', ':path': `/peered/${i}`, 'content-type': 'application/grpc' },
        'p',
      );
      assert.equal(a.body, 'h2:p');
      assert.equal(a.trailers['grpc-status'], '0');
    }
    assert.ok(deadHits > 0, 'some first attempts went to the dead instance');
  });

  it('propagates resets both ways: a client cancel resets the upstream stream, an upstream reset reaches the client with its code', async () => {
    rpcCancelled.length = 0;
    const req = client.request({ ':method': 'POST', ':path': '/rpc/slow-cancel' });
    req.on('error', () => {});
    req.end();
    await new Promise((r) => setTimeout(r, 100));
    req.close(http2.constants.NGHTTP2_CANCEL);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(rpcCancelled, ['/rpc/slow-cancel']);
    const a = await request(client, { ':method': 'POST', ':path': '/rpc/reset' });
    assert.equal(a.body, 'partial');
    // Node's destroy() resets with NO_ERROR, a truncation all the same: the client hears CANCEL.
    assert.equal(a.rstCode, http2.constants.NGHTTP2_CANCEL);
    const entry = f.lines().find((l) => l.path === '/rpc/reset');
    assert.equal(entry?.error, 'UPSTREAM_RESET');
  });

  it('a request whose DATA outgrows its content-length never reaches the HTTP/1.1 upstream whole', async () => {
    const before = h1Seen.length;
    const socket = net.connect(gw, '127.0.0.1');
    const fields = [
      ':method',
      'POST',
      ':scheme',
      'http',
      ':path',
      '/web/smuggle',
      ':authority',
      'x',
      'content-length',
      '3',
    ];
    const body = Buffer.from('abcGET /web/evil HTTP/1.1\r\nhost: x\r\n\r\n');
    socket.write(
      Buffer.concat([
        PREFACE,
        settingsFrame([]),
        headersFrames(1, new HpackEncoder().encode(fields), false, 16384),
        frameHeader(body.length, DATA, END_STREAM, 1),
        body,
      ]),
    );
    await new Promise((r) => setTimeout(r, 200));
    socket.destroy();
    assert.deepEqual(
      h1Seen.slice(before).map((s) => s.body),
      [],
      'the upstream saw neither the cut request nor a smuggled one',
    );
  });

  it('overflows past http2MaxRequests with UNAVAILABLE and UPSTREAM_OVERFLOW', async () => {
    const slow = Array.from({ length: 3 }, (_, i) =>
      request(client, {
        ':method': 'POST',
        ':path': `/limited/slow-${i}`,
        'content-type': 'application/grpc',
      }),
    );
    await new Promise((r) => setTimeout(r, 100));
    const over = await request(client, {
      ':method': 'POST',
      ':path': '/limited/over',
      'content-type': 'application/grpc',
    });
    assert.equal(over.headers['grpc-status'], '14');
    assert.equal(over.headers['x-lanes-error'], 'UPSTREAM_OVERFLOW');
    await Promise.all(slow);
  });

  it('keeps memory flat for a slow reader of a 1 GiB download over HTTP/2', async () => {
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    const c = http2.connect(`http://127.0.0.1:${gw}`);
    const req = c.request({ ':path': '/web/big/1024' });
    req.pause();
    await new Promise((r) => setTimeout(r, 500));
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    req.resume();
    await new Promise((resolve) => req.on('end', resolve));
    clearInterval(sampler);
    c.close();
    assert.equal(bytes, 1 << 30);
    assert.ok(
      peak - rssBefore < 150 * 1024 * 1024,
      `RSS grew by ${((peak - rssBefore) / 1048576).toFixed(0)} MiB`,
    );
  });

  it('sends GOAWAY when the gateway closes: a stream in flight finishes, then the connection closes', async () => {
    const c = http2.connect(`http://127.0.0.1:${gw}`);
    // Once its streams are done the gateway closes the connection; a late write may meet a reset.
    c.on('error', () => {});
    const goaway = new Promise((resolve) => c.once('goaway', resolve));
    const inFlight = request(c, { ':method': 'POST', ':path': '/rpc/brief-goaway' }, 'g');
    await new Promise((r) => setTimeout(r, 30));
    const closing = f.close();
    await goaway;
    const a = await inFlight;
    assert.equal(a.body, 'h2:g', 'the stream in flight finished');
    // Then the gateway closes the connection itself: the client opens nothing more on it.
    await new Promise((resolve) =>
      c.closed || c.destroyed ? resolve(undefined) : c.once('close', resolve),
    );
    await closing;
    c.destroy();
  });
});
