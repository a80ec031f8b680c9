/**
 * DestinationRule settings that shape upstream connections and retries, on real sockets:
 * `connectionPool.tcp.maxConnectionDuration`, `connectionPool.http.maxRetries` and
 * `outlierDetection.minHealthPercent` (each with Istio's meaning, checked against what a client
 * and an upstream server see).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, afterEach, describe, it } from 'node:test';
import {
  closeOpenFixtures,
  endpoint,
  fixture,
  GATEWAY_YAML,
  listen,
  request,
  table,
} from './support/proxy-fixture.ts';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const servers: http.Server[] = [];
after(() => {
  for (const s of servers) {
    s.close();
    s.closeAllConnections();
  }
});

/** An upstream that counts the requests and the TCP connections it got. */
async function app(handler: Handler) {
  let calls = 0;
  let connections = 0;
  const server = http.createServer((req, res) => {
    calls++;
    req.resume();
    req.on('end', () => handler(req, res));
  });
  server.on('connection', () => connections++);
  servers.push(server);
  return { port: await listen(server), calls: () => calls, connections: () => connections };
}

function rule(trafficPolicy: string): string {
  return `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: app, namespace: default }
spec:
  host: app
  trafficPolicy: ${trafficPolicy}
`;
}

const until = async (what: () => boolean) => {
  for (let i = 0; i < 500 && !what(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(what(), 'timed out waiting');
};

describe('DestinationRule connection and retry settings', () => {
  afterEach(closeOpenFixtures);

  it('maxConnectionDuration: a kept-alive connection older than it takes no new request', async () => {
    let now = 0;
    const upstream = await app((_req, res) => res.end('ok'));
    const f = fixture({ now: () => now });
    f.store.publish(
      table(
        GATEWAY_YAML('    - route: [{ destination: { host: app } }]') +
          rule('{ connectionPool: { tcp: { maxConnectionDuration: 10s } } }'),
        [endpoint('app', upstream.port)],
      ),
    );
    const gw = await f.gateway();
    await request(gw, { path: '/1' });
    now = 9_000;
    await request(gw, { path: '/2' });
    assert.equal(upstream.connections(), 1, 'younger than 10 s: reused');
    now = 10_000;
    await request(gw, { path: '/3' });
    assert.equal(upstream.connections(), 2, '10 s old: a new connection');
    await request(gw, { path: '/4' });
    assert.equal(upstream.connections(), 2, 'the new one is reused in turn');
  });

  it('without maxConnectionDuration a connection is reused however old', async () => {
    let now = 0;
    const upstream = await app((_req, res) => res.end('ok'));
    const f = fixture({ now: () => now });
    f.store.publish(
      table(GATEWAY_YAML('    - route: [{ destination: { host: app } }]'), [
        endpoint('app', upstream.port),
      ]),
    );
    const gw = await f.gateway();
    await request(gw, { path: '/1' });
    now = 3_000_000;
    await request(gw, { path: '/2' });
    assert.equal(upstream.connections(), 1);
  });

  it('maxRetries: a retry over the bound is not made, and the client gets the failure it met', async () => {
    const held: http.ServerResponse[] = [];
    const upstream = await app((_req, res) => held.push(res));
    const f = fixture();
    f.store.publish(
      table(
        GATEWAY_YAML(
          '    - retries: { attempts: 3, retryOn: 5xx }\n      route: [{ destination: { host: app } }]',
        ) + rule('{ connectionPool: { http: { maxRetries: 1 } } }'),
        [endpoint('app', upstream.port)],
      ),
    );
    const gw = await f.gateway();
    const first = request(gw, { path: '/a' });
    const second = request(gw, { path: '/b' });
    await until(() => held.length === 2);
    // Both fail at once: one of them takes the only retry slot, the other is answered as is.
    for (const res of held.splice(0)) {
      res.writeHead(503);
      res.end('busy');
    }
    await until(() => held.length === 1);
    const refused = await Promise.race([first, second]);
    assert.equal(refused.status, 503);
    assert.equal(refused.body, 'busy');
    held.splice(0)[0]!.end('second try');
    const answers = await Promise.all([first, second]);
    assert.deepEqual(answers.map((a) => a.body).sort(), ['busy', 'second try']);
    assert.equal(upstream.calls(), 3);
    assert.ok(
      f
        .lines()
        .some((l) =>
          /^not retried: 1 retries to default\/app outstanding \(connectionPool\.http\.maxRetries\)$/.test(
            String(l.event),
          ),
        ),
    );
  });

  it('maxRetries: 0 means no bound, as in Istio', async () => {
    const upstream = await app((_req, res) => {
      res.writeHead(503);
      res.end('busy');
    });
    const f = fixture();
    f.store.publish(
      table(
        GATEWAY_YAML(
          '    - retries: { attempts: 2, retryOn: 5xx }\n      route: [{ destination: { host: app } }]',
        ) + rule('{ connectionPool: { http: { maxRetries: 0 } } }'),
        [endpoint('app', upstream.port)],
      ),
    );
    await request(await f.gateway(), { path: '/' });
    assert.equal(upstream.calls(), 3);
  });

  for (const [minHealthPercent, ejects] of [
    [50, true],
    [60, false],
  ] as const) {
    it(`minHealthPercent ${minHealthPercent} with one of two endpoints ejected: ${ejects ? 'the ejection holds' : 'ejections are ignored and both serve'}`, async () => {
      const bad = await app((_req, res) => {
        res.writeHead(503);
        res.end('down');
      });
      const good = await app((_req, res) => res.end('up'));
      const f = fixture();
      f.store.publish(
        table(
          GATEWAY_YAML('    - route: [{ destination: { host: app } }]') +
            rule(
              `{ outlierDetection: { consecutiveGatewayErrors: 1, maxEjectionPercent: 100, baseEjectionTime: 5m, minHealthPercent: ${minHealthPercent} } }`,
            ),
          [endpoint('app', bad.port), endpoint('app', good.port)],
        ),
      );
      const gw = await f.gateway();
      for (let i = 0; i < 50 && bad.calls() === 0; i++) await request(gw, { path: '/' });
      assert.equal(bad.calls(), 1);
      assert.ok(f.lines().some((l) => String(l.event ?? '').startsWith('ejected')));
      for (let i = 0; i < 30; i++) await request(gw, { path: '/' });
      if (ejects) assert.equal(bad.calls(), 1, 'the ejected endpoint got nothing more');
      else assert.ok(bad.calls() > 1, 'the ejected endpoint is in use again');
    });
  }
});
