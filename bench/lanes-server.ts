/**
 * The lanes side of the data-plane benchmark, one process (pinned to one core by bench/proxy.ts):
 * a gateway in front of the upstream (and the same gateway without metrics), and the full chain
 * gateway → sidecar outbound → sidecar inbound → upstream; `/h2` goes to an h2c upstream (a
 * Service port named grpc), which h2load reaches through the same gateway with prior knowledge.
 * Prints the listener ports as one JSON line, then serves until SIGTERM.
 *
 *   NODE_COMPILE_CACHE=DIR node bench/lanes-server.ts <upstream port> <h2c upstream port> [access log file]
 *
 * Like the daemon, it runs with Node's compile cache in the environment, so that with a warm
 * cache Node never loads its TypeScript stripper (about 30 MB that would otherwise stay resident).
 */
import { flushCompileCache } from 'node:module';
import { loadResources } from '../src/config/load/resources.ts';
import { compile } from '../src/core/compiler/compile.ts';
import type { Endpoint } from '../src/core/compiler/table.ts';
import { ConfigStore } from '../src/dataplane/config.ts';
import { createProxy } from '../src/dataplane/proxy.ts';
import { AccessLog, fileSink } from '../src/dataplane/telemetry/access-log.ts';
import { HopMetrics } from '../src/dataplane/telemetry/metrics.ts';

const upstreamPort = Number(process.argv[2]);
const h2UpstreamPort = Number(process.argv[3]);
const logPath = process.argv[4];
const workload = {
  namespace: 'default',
  labels: { app: 'front', version: 'v1' },
  name: 'default/front-v1',
};

// `direct` is the upstream behind the gateway alone. The chain: the gateway sends `chain` to the
// outbound sidecar (an endpoint of `egress`), rewriting the authority to `backend`; the sidecar
// sends it to `backend`'s endpoint, the inbound sidecar, which hands it to the upstream.
const yaml = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: bench, namespace: default }
spec:
  selector: { app: bench }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: bench, namespace: default }
spec:
  hosts: ["*"]
  gateways: [bench]
  http:
    - match: [{ uri: { prefix: /h2 } }]
      route: [{ destination: { host: upstream2 } }]
    - match: [{ uri: { prefix: /chain } }]
      rewrite: { authority: backend }
      route: [{ destination: { host: egress, subset: v1 }, headers: { request: { set: { x-lane: v1 } } } }]
    - route: [{ destination: { host: upstream } }]
---
apiVersion: v1
kind: Service
metadata: { name: upstream2, namespace: default }
spec: { selector: { app: upstream2 }, ports: [{ port: 9000, name: grpc }] }
---
apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: bench }
spec:
  routeHeader: x-lane
  carriers: [{ type: baggage, key: lane }]
  baseline: v1
  services: [egress, backend]
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v1 }
spec: { group: bench, selector: { version: v1 } }
`;

const loaded = loadResources([{ file: 'bench.yaml', text: yaml }]);
if (!loaded.ok) throw new Error(loaded.issues.map((i) => i.message).join('\n'));

const store = new ConfigStore();
const log = logPath ? new AccessLog(fileSink(logPath)) : undefined;
const accessLog = log ? { accessLog: log } : {};
// Every proxy counts its hops as the daemon's do; one more gateway does not, to measure what the
// metrics cost on the request path (the two gateways are otherwise the same).
const metrics = { hopObservers: [new HopMetrics()] };
const gateway = createProxy({
  role: { kind: 'gateway', gateway: 'default/bench', port: 80 },
  source: store,
  ...accessLog,
  ...metrics,
});
const bareGateway = createProxy({
  role: { kind: 'gateway', gateway: 'default/bench', port: 80 },
  source: store,
  ...accessLog,
});
const outbound = createProxy({
  role: { kind: 'outbound', workload },
  source: store,
  ...accessLog,
  ...metrics,
});
const inbound = createProxy({
  role: { kind: 'inbound', workload, app: { host: '127.0.0.1', port: upstreamPort } },
  source: store,
  ...accessLog,
  ...metrics,
});
const [gw, bare, out, inb] = await Promise.all([
  gateway.listen(),
  bareGateway.listen(),
  outbound.listen(),
  inbound.listen(),
]);

const endpoint = (service: string, port: number): Endpoint => ({
  service: `default/${service}`,
  cluster: 'default',
  address: '127.0.0.1',
  port,
  labels: { app: service, version: 'v1' },
  healthy: true,
});
store.publish(
  compile(loaded.resources, [
    endpoint('upstream', upstreamPort),
    endpoint('upstream2', h2UpstreamPort),
    endpoint('egress', out.port),
    endpoint('backend', inb.port),
  ]).table,
);

// Written now rather than at exit, so the benchmark's warm-up run leaves a complete cache behind.
flushCompileCache();
process.stdout.write(
  `${JSON.stringify({ gateway: gw.port, bareGateway: bare.port, pid: process.pid })}\n`,
);
process.on('SIGTERM', async () => {
  await Promise.all([
    gateway.close(500),
    bareGateway.close(500),
    outbound.close(500),
    inbound.close(500),
  ]);
  await log?.close();
  process.exit(0);
});
