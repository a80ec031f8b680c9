/**
 * When an instance fails a request, on real sockets with real inbound sidecars in front of the
 * apps (endpoints as local mode has them): a request is sent again only if no byte of it can
 * have reached the app or its method is idempotent; a retry that finds no other instance in the
 * lane takes the lane's fallback chain; the pool's own limits never eject a healthy endpoint.
 */
import assert from 'node:assert/strict';
import http from 'node:http';

import { after, afterEach, describe, it } from 'node:test';
import { closedPort } from './support/net.ts';
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

/** An app that counts the requests it saw and answers each with `handler`. */
async function app(handler: Handler): Promise<{ port: number; calls: () => number }> {
  let calls = 0;
  const server = http.createServer((req, res) => {
    calls++;
    req.resume();
    req.on('end', () => handler(req, res));
  });
  servers.push(server);
  return { port: await listen(server), calls: () => calls };
}

const answer =
  (body: string): Handler =>
  (_req, res) =>
    res.end(body);
/** Dies with the request in hand: the connection is reset before any response byte. */
const dies: Handler = (req) => req.socket.destroy();

const LANES = `
apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: shop }
spec: { routeHeader: x-lane, baseline: v1, services: [app] }
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v1 }
spec: { group: shop, selector: { version: v1 } }
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v2 }
spec: { group: shop, selector: { version: v2 } }
`;

/**
 * Lane v2 has one instance (the app on `v2AppPort`, behind its inbound sidecar), the baseline v1
 * another; returns the fixture, the outbound sidecar of a client and v2's inbound sidecar.
 */
async function laneMesh(v2AppPort: number, v1AppPort: number) {
  const f = fixture();
  const v2 = await f.inbound(v2AppPort);
  const v1 = await f.inbound(v1AppPort);
  f.store.publish(
    table(LANES, [
      endpoint('app', v2.port, { version: 'v2' }),
      endpoint('app', v1.port, { version: 'v1' }),
    ]),
  );
  return { f, outbound: await f.outbound(), v2Sidecar: v2.proxy };
}

const inLaneV2 = (method: string, body?: string) => ({
  method,
  path: '/',
  headers: { host: 'app', 'x-lane': 'v2' },
  ...(body === undefined ? {} : { body }),
});

describe('retries when an instance fails', () => {
  afterEach(closeOpenFixtures);

  it('a GET whose lane instance dies with it is answered by the fallback lane, and the log says so', async () => {
    const v2 = await app(dies);
    const v1 = await app(answer('v1'));
    const { f, outbound } = await laneMesh(v2.port, v1.port);
    const res = await request(outbound, inLaneV2('GET'));
    assert.equal(res.status, 200);
    assert.equal(res.body, 'v1');
    assert.equal(v2.calls(), 1);
    const hop = f.lines().find((l) => l.hop === 'outbound');
    assert.equal(hop?.lane, 'v1');
    assert.equal(hop?.attempts, 2);
    assert.match(String(hop?.event), /^retried after .*UPSTREAM_RESET.*, to lane v1$/);
  });

  it('a POST whose lane instance dies with it is not sent again: 502, and maybe delivered', async () => {
    const v2 = await app(dies);
    const v1 = await app(answer('v1'));
    const { outbound } = await laneMesh(v2.port, v1.port);
    const res = await request(outbound, inLaneV2('POST', 'order=1'));
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-lanes-error'], 'UPSTREAM_RESET');
    assert.equal(res.headers['x-lanes-delivered'], 'unknown');
    assert.equal(v2.calls(), 1);
    assert.equal(v1.calls(), 0);
  });

  it('a POST whose lane instance is not listening goes to the fallback lane (nothing reached an app)', async () => {
    const v1 = await app(answer('v1'));
    const { f, outbound } = await laneMesh(await closedPort(), v1.port);
    const res = await request(outbound, inLaneV2('POST', 'order=1'));
    assert.equal(res.status, 200);
    assert.equal(res.body, 'v1');
    assert.equal(v1.calls(), 1);
    const inbound = f.lines().find((l) => l.hop === 'inbound' && l.status === 502);
    assert.equal(inbound?.error, 'UPSTREAM_CONNECT_FAILURE');
  });

  it('an inbound sidecar told its app is down answers at once, and the POST goes to the fallback lane', async () => {
    const v2 = await app(answer('v2'));
    const v1 = await app(answer('v1'));
    const { f, outbound, v2Sidecar } = await laneMesh(v2.port, v1.port);
    assert.equal((await request(outbound, inLaneV2('POST', 'a'))).body, 'v2');
    v2Sidecar.setAppDown('killed by SIGKILL after 1.0 s; the supervisor restarts it');
    const res = await request(outbound, inLaneV2('POST', 'b'));
    assert.equal(res.body, 'v1');
    assert.equal(v2.calls(), 1, 'the app, still listening here, got nothing more');
    const refused = f.lines().find((l) => l.hop === 'inbound' && l.status === 502);
    assert.equal(refused?.error, 'UPSTREAM_CONNECT_FAILURE');
    assert.equal(refused?.upstream, null);
    v2Sidecar.setAppDown(undefined);
    assert.equal((await request(outbound, inLaneV2('POST', 'c'))).body, 'v2');
  });

  it("an app cannot claim its request was not delivered: the sidecar drops the app's x-lanes-delivered", async () => {
    const v2 = await app((_req, res) => {
      res.writeHead(502, {
        'x-lanes-error': 'UPSTREAM_CONNECT_FAILURE',
        'x-lanes-delivered': 'none',
      });
      res.end('made up');
    });
    const v1 = await app(answer('v1'));
    const { outbound } = await laneMesh(v2.port, v1.port);
    const res = await request(outbound, inLaneV2('POST', 'order=1'));
    assert.equal(res.status, 502);
    assert.equal(res.body, 'made up');
    assert.equal(res.headers['x-lanes-delivered'], undefined);
    assert.equal(v1.calls(), 0);
  });

  it('a proxy error says nothing was delivered when no attempt forwarded anything', async () => {
    const f = fixture();
    f.store.publish(table(LANES, [endpoint('app', await closedPort(), { version: 'v1' })]));
    const res = await request(await f.outbound(), inLaneV2('POST', 'x'));
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-lanes-error'], 'UPSTREAM_CONNECT_FAILURE');
    assert.equal(res.headers['x-lanes-delivered'], 'none');
  });

  it('a strict lane never falls back on a retry: the GET fails in its lane', async () => {
    const v2 = await app(dies);
    const v1 = await app(answer('v1'));
    const strict = LANES.replace('spec: { routeHeader', 'spec: { mode: strict, routeHeader');
    const f = fixture();
    const v2In = await f.inbound(v2.port);
    const v1In = await f.inbound(v1.port);
    f.store.publish(
      table(strict, [
        endpoint('app', v2In.port, { version: 'v2' }),
        endpoint('app', v1In.port, { version: 'v1' }),
      ]),
    );
    const res = await request(await f.outbound(), inLaneV2('GET'));
    assert.equal(res.status, 502);
    assert.equal(v1.calls(), 0);
    assert.equal(v2.calls(), 3, 'Istio retries into the same subset: 1 + 2 default retries');
  });
});

describe('connectionPool limits with outlierDetection', () => {
  afterEach(closeOpenFixtures);

  it('an overflow answers 503 UPSTREAM_OVERFLOW and never ejects the healthy endpoint', async () => {
    const held: http.ServerResponse[] = [];
    const upstream = await app((_req, res) => held.push(res));
    const f = fixture();
    const rule = `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: app, namespace: default }
spec:
  host: app
  trafficPolicy:
    connectionPool: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1 } }
    outlierDetection: { consecutive5xxErrors: 1, consecutiveGatewayErrors: 1, maxEjectionPercent: 100 }
`;
    f.store.publish(
      table(GATEWAY_YAML('    - route: [{ destination: { host: app } }]') + rule, [
        endpoint('app', upstream.port),
      ]),
    );
    const gw = await f.gateway();
    const busy = request(gw, { path: '/busy' });
    const waiting = request(gw, { path: '/waiting' });
    for (let i = 0; i < 100 && held.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50)); // the second one reaches the proxy and waits
    for (let i = 0; i < 3; i++) {
      const over = await request(gw, { path: `/over${i}` });
      assert.equal(over.status, 503);
      assert.equal(over.headers['x-lanes-error'], 'UPSTREAM_OVERFLOW');
    }
    const release = setInterval(() => {
      for (const res of held.splice(0)) res.end('done');
    }, 5);
    assert.equal((await busy).status, 200);
    assert.equal((await waiting).status, 200);
    const after = await request(gw, { path: '/after' });
    clearInterval(release);
    assert.equal(after.status, 200, 'the endpoint is still in service');
    assert.ok(!f.lines().some((l) => String(l.event ?? '').startsWith('ejected')));
  });

  it('an endpoint that really fails is still ejected with the same policy', async () => {
    const bad = await app((_req, res) => {
      res.writeHead(503);
      res.end('down');
    });
    const f = fixture();
    const rule = `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: app, namespace: default }
spec:
  host: app
  trafficPolicy:
    connectionPool: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1 } }
    outlierDetection: { consecutiveGatewayErrors: 1, maxEjectionPercent: 100 }
`;
    f.store.publish(
      table(GATEWAY_YAML('    - route: [{ destination: { host: app } }]') + rule, [
        endpoint('app', bad.port),
      ]),
    );
    const gw = await f.gateway();
    assert.equal((await request(gw, { path: '/' })).status, 503);
    const next = await request(gw, { path: '/' });
    assert.equal(next.headers['x-lanes-error'], 'NO_HEALTHY_ENDPOINTS');
    assert.ok(f.lines().some((l) => String(l.event ?? '').startsWith('ejected')));
  });
});
