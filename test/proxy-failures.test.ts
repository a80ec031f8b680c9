/**
 * What the proxies do when upstreams misbehave, on real sockets: the error codes of SPEC §4.4,
 * retries with Istio's semantics (a body is never re-sent unless all of it is still buffered),
 * outlier ejection and the lane fallback it triggers — all visible in the access log — and
 * config swaps under load that lose no request.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, afterEach, describe, it } from 'node:test';
import {
  closeOpenFixtures,
  endpoint,
  fixture,
  GATEWAY_YAML,
  listen,
  raw,
  request,
  table,
} from './support/proxy-fixture.ts';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function upstream(handler: Handler): Promise<{ port: number; server: http.Server }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => handler(req, res));
  });
  return { port: await listen(server), server };
}

const servers: (http.Server | net.Server)[] = [];
after(() => {
  for (const s of servers) {
    s.close();
    if (s instanceof http.Server) s.closeAllConnections();
  }
});

async function app(handler: Handler): Promise<number> {
  const u = await upstream(handler);
  servers.push(u.server);
  return u.port;
}

const ROUTE = '    - route: [{ destination: { host: app } }]';

describe('proxy failures', () => {
  afterEach(closeOpenFixtures);

  it('a request over the connectionPool limits gets 503 UPSTREAM_OVERFLOW naming the limits', async () => {
    const held: http.ServerResponse[] = [];
    const port = await app((_req, res) => held.push(res));
    const f = fixture();
    const pool = `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: app, namespace: default }
spec:
  host: app
  trafficPolicy:
    connectionPool: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1 } }
`;
    f.store.publish(table(GATEWAY_YAML(ROUTE) + pool, [endpoint('app', port)]));
    const gw = await f.gateway();
    // One request holds the only connection, one waits for it; the third has no room.
    const first = request(gw, { path: '/1' });
    const second = request(gw, { path: '/2' });
    for (let i = 0; i < 100 && held.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50)); // the other one reaches the proxy and waits
    const third = await request(gw, { path: '/3' });
    assert.equal(third.status, 503);
    assert.equal(third.headers['x-lanes-error'], 'UPSTREAM_OVERFLOW');
    assert.match(
      third.body,
      /1 busy connections and 1 waiting requests \(DestinationRule connectionPool limits\)/,
    );
    // Released one at a time, the waiting request gets the connection after the other.
    const release = setInterval(() => {
      for (const res of held.splice(0)) res.end('done');
    }, 10);
    const answers = await Promise.all([first, second]);
    clearInterval(release);
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200],
    );
    await f.close();
  });

  const badAnswers: { title: string; answer: string; message: RegExp }[] = [
    {
      title: 'an upstream that does not speak HTTP',
      answer: 'HELLO THERE\r\n\r\n',
      message:
        /^lanes: UPSTREAM_PROTOCOL_ERROR: upstream sent a response the proxy cannot forward: /,
    },
    {
      title: "an upstream whose response head is over the proxy's limit",
      answer: `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(5000)}\r\ncontent-length: 0\r\n\r\n`,
      message: /UPSTREAM_PROTOCOL_ERROR: upstream sent a response the proxy cannot forward: .*4096/,
    },
  ];
  for (const c of badAnswers) {
    it(`${c.title} gives 502 UPSTREAM_PROTOCOL_ERROR saying why`, async () => {
      const server = net.createServer((socket) => socket.once('data', () => socket.end(c.answer)));
      servers.push(server);
      const port = await listen(server);
      const f = fixture();
      f.store.publish(table(GATEWAY_YAML(ROUTE), [endpoint('app', port)]));
      const res = await request(await f.gateway({ maxHeadBytes: 4096 }), { path: '/' });
      assert.equal(res.status, 502);
      assert.equal(res.headers['x-lanes-error'], 'UPSTREAM_PROTOCOL_ERROR');
      assert.match(res.body, c.message);
      await f.close();
    });
  }

  const refusals: {
    title: string;
    publish: boolean;
    bytes: string;
    status: number;
    code: string;
  }[] = [
    {
      title: 'a proxy that has no routing table yet',
      publish: false,
      bytes: 'GET / HTTP/1.1\r\nHost: shop\r\n\r\n',
      status: 503,
      code: 'NO_CONFIG',
    },
    {
      title: 'an expectation other than 100-continue',
      publish: true,
      bytes: 'GET / HTTP/1.1\r\nHost: shop\r\nExpect: tea\r\n\r\n',
      status: 417,
      code: 'EXPECTATION_FAILED',
    },
  ];
  for (const c of refusals) {
    it(`${c.title}: ${c.status} ${c.code}, and the upstream is never called`, async () => {
      let called = false;
      const port = await app((_req, res) => {
        called = true;
        res.end('no');
      });
      const f = fixture();
      if (c.publish) f.store.publish(table(GATEWAY_YAML(ROUTE), [endpoint('app', port)]));
      const res = await raw(await f.gateway(), c.bytes);
      assert.match(res.text, new RegExp(`^HTTP/1\\.1 ${c.status} `));
      assert.match(res.text, new RegExp(`\r\nx-lanes-error: ${c.code}\r\n`));
      assert.equal(called, false);
      await f.close();
    });
  }

  const unreadable: { title: string; bytes: string; status: number; code: string }[] = [
    {
      title: 'a malformed head (two Content-Length fields)',
      bytes: 'POST / HTTP/1.1\r\nHost: shop\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx',
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      title: 'a head that never completes',
      bytes: 'GET / HTTP/1.1\r\nHost: shop\r\n',
      status: 408,
      code: 'REQUEST_TIMEOUT',
    },
  ];
  for (const c of unreadable) {
    it(`${c.title} is answered ${c.status} ${c.code} and logged`, async () => {
      const f = fixture();
      f.store.publish(table(GATEWAY_YAML(ROUTE), [endpoint('app', 1)]));
      const res = await raw(await f.gateway({ headersTimeoutMs: 200 }), c.bytes, 2500);
      assert.match(res.text, new RegExp(`^HTTP/1\\.1 ${c.status} `));
      const line = f.lines().find((l) => l.error === c.code);
      assert.equal(line?.status, c.status, JSON.stringify(f.lines()));
      assert.equal(line?.hop, 'gateway');
      await f.close();
    });
  }

  const localAnswers: { title: string; route: string; statusLine: string }[] = [
    {
      title: 'a directResponse',
      route: '    - directResponse: { status: 503, body: { string: down } }',
      statusLine: 'HTTP/1.1 503 Service Unavailable',
    },
    {
      title: 'a redirect',
      route: '    - redirect: { uri: /new }',
      statusLine: 'HTTP/1.1 301 Moved Permanently',
    },
    {
      title: 'a fault abort',
      route:
        '    - fault: { abort: { httpStatus: 500, percentage: { value: 100 } } }\n      route: [{ destination: { host: app } }]',
      statusLine: 'HTTP/1.1 500 Internal Server Error',
    },
  ];
  for (const c of localAnswers) {
    it(`${c.title} answered by the proxy has the reason phrase of its status`, async () => {
      const f = fixture();
      f.store.publish(table(GATEWAY_YAML(c.route), [endpoint('app', 1)]));
      const res = await raw(
        await f.gateway(),
        'GET / HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n',
      );
      assert.equal(res.text.split('\r\n')[0], c.statusLine);
      await f.close();
    });
  }

  it('an upstream that closes before answering gives 502 UPSTREAM_RESET naming the service', async () => {
    const server = net.createServer((socket) => socket.once('data', () => socket.destroy()));
    servers.push(server);
    const port = await listen(server);
    const f = fixture();
    f.store.publish(table(GATEWAY_YAML(ROUTE), [endpoint('app', port)]));
    const res = await request(await f.gateway(), { path: '/' });
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-lanes-error'], 'UPSTREAM_RESET');
    assert.match(
      res.body,
      /^lanes: UPSTREAM_RESET: upstream closed the connection before a complete response/,
    );
    assert.match(res.body, /service: default\/app/);
    // Named once, as the proxy names itself (not "gateway gateway …").
    assert.match(res.body, /\nhop: gateway default\/gw:80\n$/);
    const line = f.lines().find((l) => l.error === 'UPSTREAM_RESET');
    assert.equal(line?.status, 502);
    await f.close();
  });

  it('an upstream killed in the middle of its body resets the client connection and logs UPSTREAM_RESET', async () => {
    const server = net.createServer((socket) =>
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial');
        setTimeout(() => socket.destroy(), 20);
      }),
    );
    servers.push(server);
    const port = await listen(server);
    const f = fixture();
    f.store.publish(table(GATEWAY_YAML(ROUTE), [endpoint('app', port)]));
    const res = await raw(await f.gateway(), 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', 1000);
    assert.match(res.text, /^HTTP\/1\.1 200 OK/);
    assert.equal(res.closed, true, 'the truncated response ends with a closed connection');
    assert.ok(f.lines().some((l) => l.error === 'UPSTREAM_RESET' && l.status === 200));
    await f.close();
  });

  it('a client that goes away before the answer is logged as DOWNSTREAM_CLOSED with 499, and the upstream request is dropped', async () => {
    const held: http.ServerResponse[] = [];
    let upstreamClosed = false;
    const port = await app((req, res) => {
      held.push(res);
      req.socket.once('close', () => {
        upstreamClosed = true;
      });
    });
    const f = fixture();
    f.store.publish(table(GATEWAY_YAML(ROUTE), [endpoint('app', port)]));
    const client = net.connect(await f.gateway(), '127.0.0.1');
    client.write('GET /gone HTTP/1.1\r\nHost: a\r\n\r\n');
    for (let i = 0; i < 100 && held.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    // A reset, not a FIN: a client that only ends its side still gets its answer (half-close).
    client.resetAndDestroy();
    for (let i = 0; i < 100 && !upstreamClosed; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(upstreamClosed, 'the upstream connection of the abandoned request is closed');
    const line = f.lines().find((l) => l.path === '/gone');
    assert.equal(line?.error, 'DOWNSTREAM_CLOSED');
    assert.equal(line?.status, 499);
    await f.close();
  });

  it('a refused connection is retried twice (Istio default) and then gives 502 UPSTREAM_CONNECT_FAILURE', async () => {
    const closed = net.createServer();
    const port = await listen(closed);
    closed.close();
    const f = fixture();
    f.store.publish(table(GATEWAY_YAML(ROUTE), [endpoint('app', port)]));
    const res = await request(await f.gateway(), { path: '/' });
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-lanes-error'], 'UPSTREAM_CONNECT_FAILURE');
    const line = f.lines().find((l) => l.error === 'UPSTREAM_CONNECT_FAILURE');
    assert.equal(line?.attempts, 3);
    await f.close();
  });

  it('a service without endpoints gives 503 NO_HEALTHY_ENDPOINTS', async () => {
    const f = fixture();
    f.store.publish(table(GATEWAY_YAML(ROUTE), [endpoint('app', 1, {}, false)]));
    const res = await request(await f.gateway(), { path: '/' });
    assert.equal(res.status, 503);
    assert.equal(res.headers['x-lanes-error'], 'NO_HEALTHY_ENDPOINTS');
    await f.close();
  });

  it('a route timeout gives 504 UPSTREAM_TIMEOUT', async () => {
    const port = await app((_req, res) => setTimeout(() => res.end('late'), 1500));
    const f = fixture();
    f.store.publish(
      table(GATEWAY_YAML('    - timeout: 200ms\n      route: [{ destination: { host: app } }]'), [
        endpoint('app', port),
      ]),
    );
    const started = Date.now();
    const res = await request(await f.gateway(), { path: '/' });
    assert.equal(res.status, 504);
    assert.equal(res.headers['x-lanes-error'], 'UPSTREAM_TIMEOUT');
    assert.ok(Date.now() - started < 1200);
    await f.close();
  });

  it('retries a 503 on another endpoint when retryOn allows it, and logs the retry', async () => {
    const bad = await app((_req, res) => {
      res.writeHead(503);
      res.end('busy');
    });
    const good = await app((_req, res) => res.end('fine'));
    const f = fixture();
    const routes =
      '    - retries: { attempts: 2, retryOn: 5xx }\n      route: [{ destination: { host: app } }]';
    f.store.publish(table(GATEWAY_YAML(routes), [endpoint('app', bad), endpoint('app', good)]));
    const gw = await f.gateway();
    for (let i = 0; i < 10; i++) {
      const res = await request(gw, { path: `/${i}` });
      assert.equal(res.status, 200, `request ${i}`);
      assert.equal(res.body, 'fine');
    }
    assert.ok(
      f
        .lines()
        .some(
          (l) =>
            l.attempts === 2 && typeof l.event === 'string' && l.event.startsWith('retried after'),
        ),
    );
    await f.close();
  });

  it('never re-sends a body it no longer holds (a 200 KiB upload), nor a POST the app answered', async () => {
    let calls = 0;
    const port = await app((_req, res) => {
      calls++;
      res.writeHead(503);
      res.end('busy');
    });
    const f = fixture();
    const routes =
      '    - retries: { attempts: 3, retryOn: 5xx }\n      route: [{ destination: { host: app } }]';
    f.store.publish(table(GATEWAY_YAML(routes), [endpoint('app', port)]));
    const gw = await f.gateway();
    const res = await request(gw, { method: 'PUT', path: '/', body: Buffer.alloc(200 * 1024, 1) });
    assert.equal(res.status, 503);
    assert.equal(res.headers['x-lanes-error'], undefined, 'the upstream 503 is passed on as is');
    assert.equal(calls, 1);
    const small = await request(gw, { method: 'PUT', path: '/', body: 'small' });
    assert.equal(small.status, 503);
    assert.equal(calls, 5, 'a small body is kept, so it is retried three times');
    const post = await request(gw, { method: 'POST', path: '/', body: 'small' });
    assert.equal(post.status, 503);
    assert.equal(calls, 6, 'a POST the app answered is never sent again, whatever retryOn says');
    await f.close();
  });

  it('ejects an endpoint after consecutive 5xx (outlier detection) and logs the ejection', async () => {
    let badCalls = 0;
    const bad = await app((_req, res) => {
      badCalls++;
      res.writeHead(500);
      res.end('broken');
    });
    const good = await app((_req, res) => res.end('fine'));
    const f = fixture();
    const yaml = `${GATEWAY_YAML('    - retries: { attempts: 0 }\n      route: [{ destination: { host: app } }]')}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: app, namespace: default }
spec:
  host: app
  trafficPolicy:
    loadBalancer: { simple: ROUND_ROBIN }
    outlierDetection: { consecutive5xxErrors: 2, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 100 }
`;
    f.store.publish(table(yaml, [endpoint('app', bad), endpoint('app', good)]));
    const gw = await f.gateway();
    for (let i = 0; i < 20; i++) await request(gw, { path: `/${i}` });
    assert.equal(badCalls, 2, 'two 5xx, then the endpoint is ejected');
    const ejection = f
      .lines()
      .find((l) => typeof l.event === 'string' && l.event.startsWith('ejected'));
    assert.match(
      String(ejection?.event),
      new RegExp(`ejected 127\\.0\\.0\\.1:${bad} of default/app for 30 s \\(consecutive-5xx`),
    );
    await f.close();
  });

  it('an ejected lane endpoint sends the lane to its fallback in a permissive group', async () => {
    const v2 = await app((_req, res) => {
      res.writeHead(500);
      res.end('v2 broken');
    });
    const v1 = await app((_req, res) => res.end('v1'));
    const f = fixture();
    const yaml = `${GATEWAY_YAML('    - retries: { attempts: 0 }\n      route: [{ destination: { host: app, subset: v2 }, headers: { request: { set: { x-lane: v2 } } } }]')}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: app, namespace: default }
spec:
  host: app
  trafficPolicy:
    outlierDetection: { consecutive5xxErrors: 1, baseEjectionTime: 30s, maxEjectionPercent: 100 }
---
apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: g }
spec: { routeHeader: x-lane, baseline: v1, services: [app] }
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v1 }
spec: { group: g, selector: { version: v1 } }
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v2 }
spec: { group: g, selector: { version: v2 } }
`;
    f.store.publish(
      table(yaml, [endpoint('app', v2, { version: 'v2' }), endpoint('app', v1, { version: 'v1' })]),
    );
    const gw = await f.gateway();
    assert.equal((await request(gw, { path: '/' })).body, 'v2 broken');
    assert.equal(
      (await request(gw, { path: '/' })).body,
      'v1',
      'the ejected lane endpoint makes the request fall back',
    );
    const fallback = f
      .lines()
      .find(
        (l) =>
          Array.isArray(l.fallback) && (l.fallback as string[]).includes('v2:no-healthy-endpoints'),
      );
    assert.equal(fallback?.lane, 'v1');
    assert.equal(fallback?.tag, 'v2');
    await f.close();
  });

  it('loses no request while the routing table is swapped 100 times under load, uploads included', async () => {
    const a = await app((req, res) =>
      res.end(`a ${req.headers['content-length'] ?? req.headers['transfer-encoding']}`),
    );
    const b = await app((req, res) =>
      res.end(`b ${req.headers['content-length'] ?? req.headers['transfer-encoding']}`),
    );
    const f = fixture();
    const tables = [
      table(GATEWAY_YAML(ROUTE), [endpoint('app', a)]),
      table(GATEWAY_YAML(ROUTE), [endpoint('app', b)]),
      table(GATEWAY_YAML(ROUTE), [endpoint('app', a), endpoint('app', b)]),
    ];
    f.store.publish(tables[0]!);
    const gw = await f.gateway();
    let swaps = 0;
    let stop = false;
    const swapper = (async () => {
      while (swaps < 100) {
        await new Promise((r) => setTimeout(r, 5));
        f.store.publish(tables[swaps % tables.length]!);
        swaps++;
      }
      stop = true;
    })();
    const failures: string[] = [];
    let done = 0;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const upload = i % 3 === 0;
        const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = http.request(
            {
              host: '127.0.0.1',
              port: gw,
              method: upload ? 'POST' : 'GET',
              path: `/${w}/${i}`,
              agent: false,
            },
            (r) => {
              let body = '';
              r.on('data', (c: Buffer) => {
                body += c;
              });
              r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
            },
          );
          req.on('error', reject);
          if (upload) {
            // A streamed (chunked) upload, written in pieces over time.
            let n = 0;
            const tick = () => {
              if (n++ < 5) {
                req.write(Buffer.alloc(16 * 1024, 120));
                setTimeout(tick, 2);
              } else req.end();
            };
            tick();
          } else req.end();
        }).catch((error: Error) => ({ status: 0, body: error.message }));
        done++;
        if (res.status !== 200 || !/^[ab] /.test(res.body))
          failures.push(`${res.status} ${res.body}`);
      }
    };
    await Promise.all([swapper, ...Array.from({ length: 8 }, (_, w) => worker(w))]);
    assert.equal(swaps, 100);
    assert.deepEqual(failures, [], `${failures.length} of ${done} requests failed`);
    assert.ok(done > 100, `${done} requests`);
    await f.close();
  });
});
