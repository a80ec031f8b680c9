/**
 * /metrics end to end: real gateway and sidecar proxies on sockets, a real upstream, requests
 * sent, then a scrape parsed by a Prometheus text parser from npm (parse-prometheus-text-format),
 * and the counts compared with what was sent.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import parsePrometheus from 'parse-prometheus-text-format';
import { startMetricsServer } from '../src/controlplane/local/metrics.ts';
import { ConfigStore } from '../src/dataplane/config.ts';
import { createProxy, type ProxyServer } from '../src/dataplane/proxy.ts';
import { createSidecar, type Sidecar } from '../src/dataplane/sidecar.ts';
import { HopMetrics } from '../src/dataplane/telemetry/metrics.ts';
import { endpoint, listen, table } from './support/proxy-fixture.ts';

const YAML = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: ingress, namespace: istio-system }
spec:
  selector: { app: gw }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
---
apiVersion: v1
kind: Service
metadata: { name: shop, namespace: default }
spec: { selector: { app: shop }, ports: [{ port: 8000 }] }
---
apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: g }
spec:
  routeHeader: x-lane
  baseline: v1
  services: [shop]
  ingress: [{ gateway: istio-system/ingress, hosts: [shop.example], destination: { host: shop } }]
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v1 }
spec: { group: g, selector: { version: v1 } }
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v2 }
spec:
  group: g
  selector: { version: v2 }
  entry: [{ name: testers, match: { header: { name: x-tester, exact: "yes" } } }]
`;

type Parsed = ReturnType<typeof parsePrometheus>[number];

function sum(families: Parsed[], name: string, where: Record<string, string>): number {
  const family = families.find((f) => f.name === name);
  if (!family) return 0;
  return family.metrics
    .filter((m) => Object.entries(where).every(([k, v]) => m.labels?.[k] === v))
    .reduce((n, m) => n + Number(m.value), 0);
}

async function get(
  port: number,
  host: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(
        { host: '127.0.0.1', port, path, headers: { host, ...headers }, agent: false },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      )
      .on('error', reject);
  });
}

describe('GET /metrics', () => {
  const store = new ConfigStore();
  const metrics = new HopMetrics();
  let gateway: ProxyServer;
  let sidecar: Sidecar;
  let gatewayPort: number;
  let app: http.Server;
  let server: Awaited<ReturnType<typeof startMetricsServer>>;

  before(async () => {
    // The v2 app answers 500 on /fail; both lanes are one app here, told apart by the sidecar.
    app = http.createServer((req, res) => {
      res.writeHead(req.url?.startsWith('/fail') ? 500 : 200, { 'content-type': 'text/plain' });
      res.end('hello');
    });
    const appPort = await listen(app);
    sidecar = createSidecar({
      workload: {
        namespace: 'default',
        labels: { app: 'shop', version: 'v2' },
        name: 'default/shop-v2',
      },
      app: { host: '127.0.0.1', port: appPort },
      source: store,
      hopObservers: [metrics],
    });
    const inbound = await sidecar.inbound.listen();
    await sidecar.outbound.listen();
    gateway = createProxy({
      role: { kind: 'gateway', gateway: 'istio-system/ingress', port: 80 },
      source: store,
      hopObservers: [metrics],
    });
    gatewayPort = (await gateway.listen()).port;
    store.publish(
      table(YAML, [
        { ...endpoint('shop', appPort, { version: 'v1' }), workload: 'default/shop-v1' },
        { ...endpoint('shop', inbound.port, { version: 'v2' }), workload: 'default/shop-v2' },
      ]),
    );
    server = await startMetricsServer(() => metrics.families());
  });

  after(async () => {
    await server.close();
    await gateway.close(0);
    await sidecar.close(0);
    await new Promise((r) => app.close(r));
  });

  test('counts every request sent, by lane, status and mesh error code, and leaks no path or host', async () => {
    const sent = { v1ok: 5, v2ok: 4, v2fail: 3, noRoute: 2 };
    for (let i = 0; i < sent.v1ok; i++)
      assert.equal(await get(gatewayPort, 'shop.example', `/user/${i}`), 200);
    for (let i = 0; i < sent.v2ok; i++)
      assert.equal(
        await get(gatewayPort, 'shop.example', `/user/${i}`, { 'x-tester': 'yes' }),
        200,
      );
    for (let i = 0; i < sent.v2fail; i++)
      assert.equal(await get(gatewayPort, 'shop.example', '/fail', { 'x-tester': 'yes' }), 500);
    for (let i = 0; i < sent.noRoute; i++)
      assert.equal(await get(gatewayPort, `nowhere-${i}.example`, '/'), 404);

    const res = await fetch(server.url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    assert.doesNotMatch(text, /\/user\/|nowhere-|shop\.example/);
    const families = parsePrometheus(text);
    const gw = { reporter: 'source', source_workload: 'ingress' };
    assert.equal(
      sum(families, 'istio_requests_total', { ...gw, lane_served: 'v1', response_code: '200' }),
      sent.v1ok,
    );
    assert.equal(
      sum(families, 'istio_requests_total', {
        ...gw,
        lane: 'v2',
        lane_served: 'v2',
        response_code: '200',
        destination_workload: 'shop-v2',
      }),
      sent.v2ok,
    );
    assert.equal(
      sum(families, 'istio_requests_total', { ...gw, lane_served: 'v2', response_code: '500' }),
      sent.v2fail,
    );
    assert.equal(
      sum(families, 'istio_requests_total', {
        ...gw,
        response_code: '404',
        response_flags: 'NO_ROUTE',
        destination_service: 'unknown',
      }),
      sent.noRoute,
    );
    // The v2 sidecar's inbound side saw the v2 requests too, as the destination.
    assert.equal(
      sum(families, 'istio_requests_total', { reporter: 'destination', lane_served: 'v2' }),
      sent.v2ok + sent.v2fail,
    );
    const all = Object.values(sent).reduce((a, b) => a + b, 0);
    assert.equal(sum(families, 'istio_requests_total', gw), all);
    // Histograms: this parser folds labelled histograms into one, so their _count lines are read here.
    const counts = [
      ...text.matchAll(/^istio_request_duration_milliseconds_count\{([^}]*)\} (\d+)$/gm),
    ];
    const gatewayCount = counts
      .filter((m) => m[1]!.includes('reporter="source"'))
      .reduce((n, m) => n + Number(m[2]), 0);
    assert.equal(gatewayCount, all);
    assert.equal(
      families.find((f) => f.name === 'istio_request_duration_milliseconds')?.type,
      'HISTOGRAM',
    );
  });

  test('answers OpenMetrics when the scraper asks for it', async () => {
    const res = await fetch(server.url, {
      headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;q=0.5' },
    });
    assert.equal(
      res.headers.get('content-type'),
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    );
    const text = await res.text();
    assert.match(text, /^# TYPE istio_requests counter$/m);
    assert.ok(text.endsWith('# EOF\n'));
  });

  test('answers 404 elsewhere and 405 for other methods', async () => {
    assert.equal((await fetch(server.url.replace('/metrics', '/'))).status, 404);
    assert.equal((await fetch(server.url, { method: 'POST' })).status, 405);
  });
});
