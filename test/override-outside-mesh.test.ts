/**
 * An override can never send a request to a host outside the mesh: whatever a client or an app
 * writes into `lanes-override` or Linkerd's `l5d-dtab` — an address, a host:port, a namer, a host
 * as a "service" — through a gateway that trusts its clients and through a sidecar, signed by the
 * mesh or not, the only upstreams that ever see a connection are the instances of the service the
 * request was for. Envoy's and Linkerd 2's destination headers (the open relays of
 * reference/progressive-delivery.md §4.2) are ignored too. Real proxies on real sockets; the
 * outside host is a listening server that counts what reaches it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { overrideKey, parseOverridePairs, signOverride } from '../src/core/carriers/override.ts';
import { fixture, request, table } from './support/proxy-fixture.ts';
import { type RecordingServer, startRecordingServer } from './support/recording-server.ts';

const KEY = overrideKey(Buffer.alloc(32, 3));

function signed(pairs: string): string {
  const p = parseOverridePairs(pairs);
  assert.ok('pairs' in p, JSON.stringify(p));
  return signOverride(p.pairs, KEY, Math.floor(Date.now() / 1000) + 600);
}

const MESH = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: gw
  namespace: default
  annotations: { lanes.dev/trust-client-lane: "true" }
spec:
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
---
apiVersion: v1
kind: Service
metadata: { name: b, namespace: default }
spec: { selector: { app: b }, ports: [{ port: 8000, name: http }] }
---
apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: g }
spec:
  routeHeader: x-lane
  baseline: base
  services: [b]
  ingress: [{ gateway: default/gw, destination: { host: b, port: 8000 } }]
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: base }
spec: { group: g, selector: { version: base } }
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: dev }
spec: { group: g, selector: { version: dev } }
`;

describe('an override never reaches a host outside the mesh', () => {
  let outside: RecordingServer;
  let base: RecordingServer;
  let dev: RecordingServer;
  const f = fixture();
  let gateway: number;
  let sidecar: number;

  before(async () => {
    outside = await startRecordingServer({ body: 'OUTSIDE' });
    base = await startRecordingServer({ body: 'b base' });
    dev = await startRecordingServer({ body: 'b dev' });
    const ep = (port: number, version: string) => ({
      service: 'default/b',
      cluster: 'default',
      address: '127.0.0.1',
      port,
      labels: { app: 'b', version },
      healthy: true,
    });
    f.store.publish(table(MESH, [ep(base.port, 'base'), ep(dev.port, 'dev')]), [KEY]);
    gateway = await f.gateway();
    sidecar = await f.outbound();
  });
  after(async () => {
    await f.close();
    await Promise.all([outside.close(), base.close(), dev.close()]);
  });

  const host = () => `127.0.0.1:${outside.port}`;
  /** What clients might write, each as headers; `host()` is the outside server. */
  const attempts: readonly [string, () => Record<string, string>][] = [
    ['a lane named like the address', () => ({ 'lanes-override': 'b=127.0.0.1' })],
    ['the same, signed by the mesh', () => ({ 'lanes-override': signed('b=127.0.0.1') })],
    ['a lane named like a host', () => ({ 'lanes-override': signed('b=localhost') })],
    ['host:port as the lane', () => ({ 'lanes-override': `b=${host()}` })],
    ['host:port as the service', () => ({ 'lanes-override': `${host()}=dev` })],
    ['a host as the service, signed', () => ({ 'lanes-override': signed('localhost=dev') })],
    ['a URL as the lane', () => ({ 'lanes-override': `b=http://${host()}/` })],
    ['an extra parameter', () => ({ 'lanes-override': `b=dev;host=${host()}` })],
    ['dtab to an address', () => ({ 'l5d-dtab': `/svc/b => /$/inet/127.0.0.1/${outside.port}` })],
    ['dtab from the address', () => ({ 'l5d-dtab': `/svc/${host()} => /lane/dev` })],
    ['dtab to another name', () => ({ 'l5d-dtab': `/svc/b => /svc/${host()}` })],
    ['dtab to a concrete name', () => ({ 'l5d-dtab': `/svc/b => /srv/${host()}` })],
    [
      'dtab in the context header',
      () => ({ 'l5d-ctx-dtab': `/svc/b => /$/inet/127.0.0.1/${outside.port}` }),
    ],
    ["Envoy's original-destination header", () => ({ 'x-envoy-original-dst-host': host() })],
    ["Linkerd 2's destination override", () => ({ 'l5d-dst-override': host() })],
  ];

  for (const [what, headers] of attempts) {
    test(`${what}: through a gateway that trusts its clients`, async () => {
      const answer = await request(gateway, { path: '/', headers: headers() });
      assert.ok(
        answer.status === 400 || answer.body === 'b base' || answer.body === 'b dev',
        `${answer.status} ${answer.body}`,
      );
      assert.equal(outside.requests.length, 0);
    });
    test(`${what}: through a sidecar`, async () => {
      const answer = await request(sidecar, {
        path: 'http://b:8000/',
        headers: { host: 'b:8000', ...headers() },
      });
      assert.ok(
        answer.body === 'b base' || answer.body === 'b dev',
        `${answer.status} ${answer.body}`,
      );
      assert.equal(outside.requests.length, 0);
    });
  }

  test('the mesh instances saw every request that was forwarded, and the outside host none', () => {
    assert.ok(base.requests.length + dev.requests.length > 0);
    assert.equal(outside.requests.length, 0);
  });
});
