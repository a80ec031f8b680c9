import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { closedPort } from '../../../../test/support/net.ts';
import {
  ProcessGroup,
  type RunningMock,
  startMock,
  waitForExit,
} from '../../../../test/support/processes.ts';
import {
  headerNames,
  type RecordingServer,
  startRecordingServer,
} from '../../../../test/support/recording-server.ts';
import { createMockServer, MOCK_SERVER_PATH, readMockConfig } from './server.ts';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A GET with exactly these headers, on a fresh connection (no agent, no proxy). */
function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (s: string) => {
          body += s;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

describe('readMockConfig', () => {
  const base = { app: 'mocka', version: 'v1', PORT: '8000' };

  test('reads app, version, PORT and upstream_url; HTTP served, node:http as client by default', () => {
    assert.deepEqual(readMockConfig({ ...base, upstream_url: 'http://mockb:8000/' }), {
      app: 'mocka',
      version: 'v1',
      upstreamUrl: 'http://mockb:8000/',
      port: 8000,
      fault: { errorPercent: 0, errorStatus: 500, delayMs: 0 },
      protocol: 'http',
      client: 'http',
    });
    assert.deepEqual(
      readMockConfig({
        ...base,
        upstream_url: 'grpc://mockb:8000',
        protocol: 'grpc',
        client: 'fetch',
      }),
      {
        app: 'mocka',
        version: 'v1',
        upstreamUrl: 'grpc://mockb:8000',
        port: 8000,
        fault: { errorPercent: 0, errorStatus: 500, delayMs: 0 },
        protocol: 'grpc',
        client: 'fetch',
      },
    );
    assert.equal(
      (readMockConfig({ ...base, upstream_url: '' }) as { upstreamUrl: unknown }).upstreamUrl,
      undefined,
    );
  });

  test('says what is wrong with the environment', () => {
    for (const [env, message] of [
      [{ ...base, PORT: undefined }, 'env PORT must be a port number from 0 to 65535, got null'],
      [{ ...base, PORT: 'abc' }, 'env PORT must be a port number from 0 to 65535, got "abc"'],
      [{ ...base, PORT: '65536' }, 'env PORT must be a port number from 0 to 65535, got "65536"'],
      [{ ...base, PORT: '-1' }, 'env PORT must be a port number from 0 to 65535, got "-1"'],
      [{ ...base, PORT: '80.5' }, 'env PORT must be a port number from 0 to 65535, got "80.5"'],
      [{ ...base, app: '' }, 'env app is required: the service name the mock answers with'],
      [
        { ...base, version: undefined },
        'env version is required: the version the mock answers with',
      ],
      [
        { ...base, upstream_url: 'mockb:8000' },
        'env upstream_url must be an http:// or grpc:// URL, got "mockb:8000"',
      ],
      [{ ...base, protocol: 'h3' }, 'env protocol must be http or grpc, got "h3"'],
      [{ ...base, client: 'axios' }, 'env client must be http or fetch, got "axios"'],
      [
        { ...base, upstream_url: 'https://mockb/' },
        'env upstream_url must be an http:// or grpc:// URL, got "https://mockb/"',
      ],
      [
        { ...base, fault_error_percent: '120' },
        'env fault_error_percent must be a percentage from 0 to 100, got "120"',
      ],
      [
        { ...base, fault_error_percent: 'half' },
        'env fault_error_percent must be a percentage from 0 to 100, got "half"',
      ],
      [
        { ...base, fault_error_status: '404' },
        'env fault_error_status must be a 5xx status from 500 to 599, got "404"',
      ],
      [
        { ...base, fault_delay_ms: '-5' },
        'env fault_delay_ms must be milliseconds from 0 to 600000, got "-5"',
      ],
    ] as const) {
      assert.equal(readMockConfig(env), message);
    }
  });
});

describe('mock faults', () => {
  test('reads fault_error_percent, fault_error_status and fault_delay_ms', () => {
    const config = readMockConfig({
      app: 'mockc',
      version: 'v2',
      PORT: '0',
      fault_error_percent: '30',
      fault_error_status: '503',
      fault_delay_ms: '250',
    });
    assert.deepEqual((config as { fault: unknown }).fault, {
      errorPercent: 30,
      errorStatus: 503,
      delayMs: 250,
    });
  });

  test('answers the error status itself for that share of requests, and delays every answer', async () => {
    const draws = [0.1, 0.5, 0.29, 0.3];
    const server = createMockServer(
      {
        app: 'mockc',
        version: 'v2',
        upstreamUrl: undefined,
        port: 0,
        fault: { errorPercent: 30, errorStatus: 503, delayMs: 40 },
        protocol: 'http',
        client: 'http',
      },
      () => draws.shift() ?? 0.99,
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const started = performance.now();
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await get(`http://127.0.0.1:${port}/`)).status);
      assert.deepEqual(statuses, [503, 200, 503, 200]);
      assert.ok(performance.now() - started >= 4 * 40, 'each answer waited fault_delay_ms');
      const failed = await new Promise<string>((resolve) => {
        draws.push(0);
        http.get(`http://127.0.0.1:${port}/`, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => {
            body += c.toString();
          });
          res.on('end', () => resolve(body));
        });
      });
      assert.equal(
        failed,
        `-> mockc(version: v2, ip: 127.0.0.1:${port}) fault: injected error (fault_error_percent 30)`,
      );
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('mock service process', () => {
  const group = new ProcessGroup();
  let upstream: RecordingServer;
  let failing: RecordingServer;
  let mockc: RunningMock;
  let mocka: RunningMock;

  before(async () => {
    upstream = await startRecordingServer({ body: '-> upstream(version: v9, ip: 10.0.0.9)' });
    failing = await startRecordingServer({ status: 503, body: 'no healthy upstream' });
    [mockc, mocka] = await Promise.all([
      startMock(group, { app: 'mockc', version: 'v1' }),
      startMock(group, { app: 'mocka', version: 'v2', upstreamUrl: `${upstream.url}/from-a` }),
    ]);
  });
  after(async () => {
    await group.stopAll();
    await upstream?.close();
    await failing?.close();
  });

  test('answers with its name, version and address, and nothing else', async () => {
    const reply = await get(mockc.url);
    assert.equal(reply.status, 200);
    assert.equal(reply.body, `-> mockc(version: v1, ip: 127.0.0.1:${mockc.port})`);
    assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8');
    // Any path and method get the same answer.
    assert.equal((await get(`${mockc.url}some/path?q=1`)).body, reply.body);
  });

  test("calls upstream_url and appends the upstream's answer", async () => {
    const before = upstream.requests.length;
    const reply = await get(mocka.url);
    assert.equal(reply.status, 200);
    assert.equal(
      reply.body,
      `-> mocka(version: v2, ip: 127.0.0.1:${mocka.port})-> upstream(version: v9, ip: 10.0.0.9)`,
    );
    const seen = await upstream.request(before);
    assert.equal(seen.method, 'GET');
    assert.equal(seen.target, '/from-a');
  });

  test('forwards no request header by its own code', async () => {
    const before = upstream.requests.length;
    await get(mocka.url, {
      baggage: 'version=v2,user=alice',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      'x-request-id': 'abc',
      'x-lane': 'v2',
      version: 'v2',
    });
    const seen = await upstream.request(before);
    // Only what node:http itself adds.
    assert.deepEqual(headerNames(seen).sort(), ['connection', 'host']);
  });

  test("passes the upstream's status through with both answers", async () => {
    const m = await startMock(group, { app: 'mockb', version: 'v1', upstreamUrl: failing.url });
    const reply = await get(m.url);
    assert.equal(reply.status, 503);
    assert.equal(reply.body, `-> mockb(version: v1, ip: 127.0.0.1:${m.port})no healthy upstream`);
  });

  test('answers 502 naming the error when the upstream cannot be reached', async () => {
    const port = await closedPort();
    const m = await startMock(group, {
      app: 'mockb',
      version: 'v1',
      upstreamUrl: `http://127.0.0.1:${port}/`,
    });
    const reply = await get(m.url);
    assert.equal(reply.status, 502);
    assert.equal(
      reply.body,
      `-> mockb(version: v1, ip: 127.0.0.1:${m.port}) upstream error: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });

  test('with NODE_USE_ENV_PROXY=1 and http_proxy, calls its upstream through the proxy in absolute-form', async () => {
    const proxy = await startRecordingServer({ body: '-> via-proxy' });
    try {
      const m = await startMock(group, {
        app: 'mocka',
        version: 'v1',
        // Not resolvable: only the proxy can make sense of it, as with a sidecar.
        upstreamUrl: 'http://mockb:8000/path?x=1',
        env: { NODE_USE_ENV_PROXY: '1', http_proxy: proxy.url },
      });
      const reply = await get(m.url, { baggage: 'version=v2' });
      assert.equal(reply.body, `-> mocka(version: v1, ip: 127.0.0.1:${m.port})-> via-proxy`);
      const seen = await proxy.request(0);
      assert.equal(seen.target, 'http://mockb:8000/path?x=1');
      assert.equal(seen.headers.host, 'mockb:8000');
      // Node adds proxy-connection; still nothing copied from the incoming request.
      assert.deepEqual(headerNames(seen).sort(), ['connection', 'host', 'proxy-connection']);
    } finally {
      await proxy.close();
    }
  });

  test('exits 0 on SIGTERM', async () => {
    const m = await startMock(group, { app: 'mockd', version: 'v1' });
    await get(m.url); // leaves an idle keep-alive connection behind
    process.kill(m.pid, 'SIGTERM');
    const exit = await waitForExit(m, 5000);
    assert.deepEqual(exit, { code: 0, signal: null });
  });

  test('on SIGTERM, finishes the request in flight before it exits', async () => {
    const slow = await startRecordingServer({ body: '-> slow', delayMs: 300 });
    try {
      const m = await startMock(group, { app: 'mocke', version: 'v1', upstreamUrl: slow.url });
      const reply = get(m.url);
      await slow.request(0);
      process.kill(m.pid, 'SIGTERM');
      assert.equal((await reply).body, `-> mocke(version: v1, ip: 127.0.0.1:${m.port})-> slow`);
      assert.deepEqual(await waitForExit(m, 5000), { code: 0, signal: null });
    } finally {
      await slow.close();
    }
  });

  test('exits non-zero with one line on stderr when PORT is bad or taken', async () => {
    const bad = await group.start({
      name: 'mock with a bad PORT',
      args: [MOCK_SERVER_PATH],
      env: { app: 'mocka', version: 'v1', PORT: 'eighty' },
    });
    assert.deepEqual(await waitForExit(bad), { code: 2, signal: null });
    assert.equal(
      bad.stderr(),
      'mock: env PORT must be a port number from 0 to 65535, got "eighty"\n',
    );

    const taken = await group.start({
      name: 'mock on a taken PORT',
      args: [MOCK_SERVER_PATH],
      env: { app: 'mocka', version: 'v1', PORT: String(mockc.port) },
    });
    assert.deepEqual(await waitForExit(taken), { code: 1, signal: null });
    assert.equal(
      taken.stderr(),
      `mock: cannot listen on 127.0.0.1:${mockc.port}: another program is listening there (EADDRINUSE); give another PORT (lanes mock --port), or 0 for any free one\n`,
    );
  });
});
