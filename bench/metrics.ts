/**
 * npm run bench:metrics — the cost of counting one hop, in nanoseconds: lanes' registry
 * (src/dataplane/telemetry/metrics.ts) against prom-client, the usual Node client, recording the
 * same four families with the same twelve labels. prom-client is not a dependency of lanes: the
 * comparison runs when it can be imported (`npm install --no-save prom-client`), else it is
 * skipped with a note.
 *
 * The hops cycle through 24 label sets (3 services × 2 lanes × 4 status codes), as a gateway's do.
 */
import { loadResources } from '../src/config/load/resources.ts';
import { compile } from '../src/core/compiler/compile.ts';
import type { HopOutcome, HopRecord } from '../src/dataplane/telemetry/access-log.ts';
import type { HopEnd, HopProxy } from '../src/dataplane/telemetry/hop-events.ts';
import { ENVOY_BUCKETS, HopMetrics } from '../src/dataplane/telemetry/metrics.ts';

const N = 2_000_000;
const yaml = `
apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: g }
spec: { routeHeader: x-lane, services: [a, b, c] }
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
const table = compile(loadResources([{ file: 'b.yaml', text: yaml }]).resources, []).table;
const proxy: HopProxy = {
  hop: { kind: 'gateway', gateway: 'istio-system/ingressgateway', port: 80 },
  listenerName: 'bench',
  snapshot: { table },
};
const events: HopEnd[] = [];
for (const service of ['a', 'b', 'c'])
  for (const lane of ['v1', 'v2'])
    for (const status of [200, 201, 404, 503]) {
      const record: HopRecord = {
        hop: 'gateway',
        listener: 'bench',
        method: 'GET',
        authority: service,
        path: '/',
        tag: { routeHeader: 'x-lane', lane, source: 'route', from: 'x-lane' },
        service: `default/${service}`,
        lane,
        subset: null,
        fallback: [],
        startedAt: 0,
      };
      const outcome: HopOutcome = {
        upstream: '127.0.0.1:1',
        status,
        bytesIn: 300,
        bytesOut: 1024,
        error: status === 503 ? 'LANE_NO_ENDPOINTS' : null,
        attempts: 1,
        workload: `default/${service}-${lane}`,
      };
      events.push({ proxy, record, outcome, endedAt: 0.7 });
    }

function time(label: string, fn: (e: HopEnd) => void): number {
  for (let i = 0; i < 200_000; i++) fn(events[i % events.length]!);
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn(events[i % events.length]!);
  const ns = Number(process.hrtime.bigint() - start) / N;
  process.stdout.write(`${label.padEnd(40)} ${ns.toFixed(0)} ns per hop\n`);
  return ns;
}

const lanes = new HopMetrics();
const ours = time('lanes HopMetrics', (e) => lanes.hopEnded(e));

/** The part of prom-client's API used here (it is not a dependency, so no types come with it). */
interface PromClient {
  Registry: new () => unknown;
  Counter: new (o: object) => { inc(labels: Record<string, string>): void };
  Histogram: new (o: object) => { observe(labels: Record<string, string>, v: number): void };
}
let promClient: PromClient | undefined;
try {
  const name = 'prom-client';
  promClient = (await import(name)) as PromClient;
} catch {
  process.stdout.write(
    'prom-client is not installed: `npm install --no-save prom-client` to compare\n',
  );
}
if (promClient) {
  const { Counter, Histogram, Registry } = promClient;
  const registers = [new Registry()];
  const labelNames = [
    'reporter',
    'source_workload',
    'source_workload_namespace',
    'destination_service',
    'destination_service_name',
    'destination_service_namespace',
    'destination_workload',
    'destination_workload_namespace',
    'response_code',
    'response_flags',
    'lane',
    'lane_served',
  ];
  const buckets = [...ENVOY_BUCKETS];
  const requests = new Counter({ name: 'istio_requests_total', help: 'r', labelNames, registers });
  const duration = new Histogram({ name: 'd', help: 'd', labelNames, buckets, registers });
  const reqBytes = new Histogram({ name: 'q', help: 'q', labelNames, buckets, registers });
  const resBytes = new Histogram({ name: 's', help: 's', labelNames, buckets, registers });
  const theirs = time('prom-client (same labels, 4 families)', (e) => {
    const r = e.record;
    const o = e.outcome;
    const service = r.service!.slice(8);
    const labels = {
      reporter: 'source',
      source_workload: 'ingressgateway',
      source_workload_namespace: 'istio-system',
      destination_service: `${service}.default.svc.cluster.local`,
      destination_service_name: service,
      destination_service_namespace: 'default',
      destination_workload: o.workload!.slice(8),
      destination_workload_namespace: 'default',
      response_code: String(o.status),
      response_flags: o.error ?? '-',
      lane: table.lanes[r.tag!.lane] ? r.tag!.lane : '(unknown)',
      lane_served: r.lane!,
    };
    requests.inc(labels);
    duration.observe(labels, e.endedAt - r.startedAt);
    reqBytes.observe(labels, o.bytesIn);
    resBytes.observe(labels, o.bytesOut);
  });
  process.stdout.write(`prom-client costs ${(theirs / ours).toFixed(1)}× as much per hop\n`);
}
