/**
 * Real OpenTelemetry clients: the built-in mock service, instrumented with OpenTelemetry's Node
 * SDK (src/controlplane/local/otel/register.ts, as local mode injects it), in separate processes behind real
 * sidecars. The apps' own code forwards no header. The lane survives mocka → mockb → mockc, with
 * mockb only in the baseline, in baggage mode (the SDK forwards `baggage`) and in trace-id mode
 * (the SDK forwards only `traceparent`; each sidecar remembers trace id → lane) — and the same
 * with mocks that call with fetch() (through the sidecar by CONNECT) and with the gRPC mock
 * (grpc-js, h2c between the hops, the client a grpc-js call with metadata).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import { callMockOnce } from '../src/controlplane/local/mock/grpc.ts';
import { getBaggageValue } from '../src/core/carriers/baggage.ts';
import type { Endpoint } from '../src/core/compiler/table.ts';
import type { Workload } from '../src/core/engine/types.ts';
import { ConfigStore } from '../src/dataplane/config.ts';
import { createProxy, newTraceMemory, type ProxyServer } from '../src/dataplane/proxy.ts';
import { ProcessGroup, startMock } from './support/processes.ts';
import { table } from './support/proxy-fixture.ts';

type Flavour = 'http' | 'fetch' | 'grpc';

/** gRPC mocks serve a Service port named grpc: the sidecars speak h2c to them. */
const GRPC_SERVICES = ['mocka', 'mockb', 'mockc']
  .map(
    (name) => `---
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec: { selector: { app: ${name} }, ports: [{ port: 8000, name: grpc }] }
`,
  )
  .join('');

const GROUP = (carriers: string) => `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: edge, namespace: default }
spec:
  selector: { app: edge }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: edge, namespace: default }
spec:
  hosts: ["*"]
  gateways: [edge]
  http:
    - match: [{ headers: { x-canary: { exact: "yes" } } }]
      route: [{ destination: { host: mocka, subset: v2 }, headers: { request: { set: { version: v2 } } } }]
    - route: [{ destination: { host: mocka, subset: v1 }, headers: { request: { set: { version: v1 } } } }]
---
apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: mock }
spec:
  routeHeader: version
  carriers: ${carriers}
  baseline: v1
  services: [mocka, mockb, mockc]
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v1 }
spec: { group: mock, selector: { version: v1 } }
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v2 }
spec: { group: mock, selector: { version: v2 }, services: [mocka, mockc] }
`;

const INSTANCES = [
  { app: 'mocka', version: 'v1', upstream: 'http://mockb:8000/' },
  { app: 'mocka', version: 'v2', upstream: 'http://mockb:8000/' },
  { app: 'mockb', version: 'v1', upstream: 'http://mockc:8000/' },
  { app: 'mockc', version: 'v1', upstream: undefined },
  { app: 'mockc', version: 'v2', upstream: undefined },
];

interface Mesh {
  readonly gateway: number;
  /** What mockb's app received last (its inbound sidecar records it). */
  readonly seenByMockb: () => http.IncomingHttpHeaders | undefined;
  close(): Promise<void>;
}

/** Starts the five instances, each behind its own sidecar, and a gateway. */
async function startMesh(
  carriers: string,
  propagators: string,
  flavour: Flavour = 'http',
): Promise<Mesh> {
  const group = new ProcessGroup();
  const store = new ConfigStore();
  const proxies: ProxyServer[] = [];
  const endpoints: Endpoint[] = [];
  let mockbHeaders: http.IncomingHttpHeaders | undefined;
  const spies: http.Server[] = [];
  for (const inst of INSTANCES) {
    const workload: Workload = {
      namespace: 'default',
      labels: { app: inst.app, version: inst.version },
      name: `default/${inst.app}-${inst.version}`,
    };
    const traceMemory = newTraceMemory();
    const outbound = createProxy({
      role: { kind: 'outbound', workload },
      source: store,
      traceMemory,
    });
    proxies.push(outbound);
    const outPort = (await outbound.listen()).port;
    const upstream =
      flavour === 'grpc' ? inst.upstream?.replace(/^http:\/\/(.*)\/$/, 'grpc://$1') : inst.upstream;
    const mock = await startMock(group, {
      app: inst.app,
      version: inst.version,
      ...(upstream ? { upstreamUrl: upstream } : {}),
      instrumented: { OTEL_PROPAGATORS: propagators },
      env: {
        http_proxy: `http://127.0.0.1:${outPort}`,
        NODE_USE_ENV_PROXY: '1',
        ...(flavour === 'fetch' ? { client: 'fetch' } : {}),
        ...(flavour === 'grpc' ? { protocol: 'grpc' } : {}),
      },
    });
    let appPort = mock.port;
    if (inst.app === 'mockb' && flavour !== 'grpc') {
      // A transparent spy in front of mockb records what its app receives.
      const spy = http.createServer((req, res) => {
        mockbHeaders = req.headers;
        const up = http.request(
          {
            host: '127.0.0.1',
            port: mock.port,
            path: req.url,
            method: req.method,
            headers: req.headers,
          },
          (r) => {
            res.writeHead(r.statusCode ?? 502, r.headers);
            r.pipe(res);
          },
        );
        req.pipe(up);
      });
      await new Promise<void>((resolve) => spy.listen(0, '127.0.0.1', resolve));
      spies.push(spy);
      appPort = (spy.address() as { port: number }).port;
    }
    const inbound = createProxy({
      role: { kind: 'inbound', workload, app: { host: '127.0.0.1', port: appPort } },
      source: store,
      traceMemory,
    });
    proxies.push(inbound);
    const inPort = (await inbound.listen()).port;
    endpoints.push({
      service: `default/${inst.app}`,
      cluster: 'default',
      address: '127.0.0.1',
      port: inPort,
      labels: { app: inst.app, version: inst.version },
      healthy: true,
    });
  }
  store.publish(table(GROUP(carriers) + (flavour === 'grpc' ? GRPC_SERVICES : ''), endpoints));
  const gw = createProxy({
    role: { kind: 'gateway', gateway: 'default/edge', port: 80 },
    source: store,
  });
  proxies.push(gw);
  const gateway = (await gw.listen()).port;
  return {
    gateway,
    seenByMockb: () => mockbHeaders,
    async close() {
      await Promise.all(proxies.map((p) => p.close(200)));
      for (const s of spies) {
        s.close();
        s.closeAllConnections();
      }
      await group.stopAll();
    },
  };
}

function get(port: number, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(
        {
          host: '127.0.0.1',
          port,
          path: '/',
          headers: { host: 'shop.example', ...headers },
          agent: false,
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => {
            body += c;
          });
          res.on('end', () => resolve(body));
        },
      )
      .on('error', reject);
  });
}

/** A grpc-js call to the gRPC mock through the gateway, with `metadata`. */
function call(port: number, metadata: Record<string, string>): Promise<string> {
  return callMockOnce(`127.0.0.1:${port}`, 'hello', metadata);
}

function versions(answer: string): string[] {
  return [...answer.matchAll(/-> (\w+)\(version: ([\w-]+)/g)].map((m) => `${m[1]}@${m[2]}`);
}

describe('the lane survives real OpenTelemetry-instrumented apps', { timeout: 60_000 }, () => {
  const meshes: Mesh[] = [];
  after(async () => {
    await Promise.all(meshes.map((m) => m.close()));
  });

  it('baggage mode: v2 → baseline v1 → back into v2, other baggage entries kept', async () => {
    const mesh = await startMesh('[{ type: baggage }]', 'baggage,tracecontext');
    meshes.push(mesh);
    const baggage = 'user=alice;tier=gold;ttl=60,enc=%20x%2Cy,version=dev-alice';
    const canary = await get(mesh.gateway, { 'x-canary': 'yes', baggage });
    assert.deepEqual(versions(canary), ['mocka@v2', 'mockb@v1', 'mockc@v2'], canary);
    const seen = mesh.seenByMockb()!;
    const forwarded = typeof seen.baggage === 'string' ? seen.baggage : undefined;
    assert.equal(
      getBaggageValue(forwarded, 'version'),
      'v2',
      'the gateway replaced the client lane entry',
    );
    assert.equal(getBaggageValue(forwarded, 'user'), 'alice');
    assert.equal(
      getBaggageValue(forwarded, 'enc'),
      ' x,y',
      'a percent-encoded value arrives decoded the same',
    );
    assert.match(forwarded ?? '', /user=alice;tier=gold;ttl=60/, 'entry properties are kept');
    assert.deepEqual(versions(await get(mesh.gateway, { baggage })), [
      'mocka@v1',
      'mockb@v1',
      'mockc@v1',
    ]);
  });

  it('trace-id mode: the apps forward only traceparent, and the sidecars restore the lane', async () => {
    const mesh = await startMesh('[{ type: traceId, header: traceparent }]', 'tracecontext');
    meshes.push(mesh);
    const canary = await get(mesh.gateway, { 'x-canary': 'yes' });
    assert.deepEqual(versions(canary), ['mocka@v2', 'mockb@v1', 'mockc@v2'], canary);
    const seen = mesh.seenByMockb()!;
    assert.equal(seen.baggage, undefined, 'nothing but the trace travels');
    assert.match(String(seen.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$/);
    assert.deepEqual(versions(await get(mesh.gateway, {})), ['mocka@v1', 'mockb@v1', 'mockc@v1']);
    // Interleaved traces keep their own lanes.
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => get(mesh.gateway, i % 2 ? { 'x-canary': 'yes' } : {})),
    );
    for (const [i, a] of answers.entries()) {
      assert.deepEqual(
        versions(a),
        i % 2 ? ['mocka@v2', 'mockb@v1', 'mockc@v2'] : ['mocka@v1', 'mockb@v1', 'mockc@v1'],
      );
    }
  });

  it('fetch(): mocks that call their upstream with fetch() keep the lane (baggage, undici instrumentation)', async () => {
    const mesh = await startMesh('[{ type: baggage }]', 'baggage,tracecontext', 'fetch');
    meshes.push(mesh);
    const canary = await get(mesh.gateway, { 'x-canary': 'yes' });
    assert.deepEqual(versions(canary), ['mocka@v2', 'mockb@v1', 'mockc@v2'], canary);
    assert.deepEqual(versions(await get(mesh.gateway, {})), ['mocka@v1', 'mockb@v1', 'mockc@v1']);
  });

  it('gRPC: the gRPC mock keeps the lane over h2c hop by hop (baggage in metadata, grpc instrumentation)', async () => {
    const mesh = await startMesh('[{ type: baggage }]', 'baggage,tracecontext', 'grpc');
    meshes.push(mesh);
    const canary = await call(mesh.gateway, { 'x-canary': 'yes' });
    assert.deepEqual(versions(canary), ['mocka@v2', 'mockb@v1', 'mockc@v2'], canary);
    assert.deepEqual(versions(await call(mesh.gateway, {})), ['mocka@v1', 'mockb@v1', 'mockc@v1']);
  });
});
