/**
 * npm run bench:dashboard [-- --json]
 *
 * The dashboard with 100 services × 20 lanes (2,000 lane-map cells, a traffic series for every
 * cell) in headless Chromium: how long until the first lane map is on screen after navigation
 * (the page's modules stripped and loaded, the event stream open, the snapshot rendered), and
 * what each update costs the page — traffic every second (every cell's rate changes), and a new
 * snapshot every third second (one instance's health flips, so a few cells change), the 50 recent
 * requests of six hops each every second — plus what
 * the daemon side spends per tick. The daemon side is the real Dashboard over a synthetic source
 * (no workloads run); the page is the real page.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { loadResources } from '../src/config/load/resources.ts';
import type {
  HopRow,
  RequestRow,
  ResourceRow,
} from '../src/controlplane/local/dashboard/client/protocol.ts';
import { Dashboard, type DashboardSource } from '../src/controlplane/local/dashboard/server.ts';
import { compile } from '../src/core/compiler/compile.ts';
import type { Endpoint, RoutingTable } from '../src/core/compiler/table.ts';
import type { HopSeriesSnapshot, MetricsSnapshot } from '../src/dataplane/telemetry/metrics.ts';
import { seededRandom } from '../src/util/seeded-random.ts';
import { browserMissing, launchBrowser } from '../test/support/browser.ts';

const SERVICES = 100;
const LANES = 20;
const RUN_MS = 12_000;
const json = process.argv.includes('--json');

const missing = browserMissing();
if (missing) {
  process.stdout.write(`bench:dashboard needs Chromium: ${missing}\n`);
  process.exit(0);
}

const random = seededRandom(3);
const svc = (i: number) => `svc-${String(i).padStart(3, '0')}`;
const lanes = ['base', ...Array.from({ length: LANES - 1 }, (_, l) => `lane-${l + 1}`)];
const members = lanes.map((lane) =>
  lane === 'base'
    ? Array.from({ length: SERVICES }, (_, i) => i)
    : [...new Set(Array.from({ length: 8 }, () => Math.floor(random() * SERVICES)))],
);
const docs: object[] = [
  {
    apiVersion: 'lanes.dev/v1alpha1',
    kind: 'LaneGroup',
    metadata: { name: 'bench' },
    spec: { routeHeader: 'x-lane', baseline: 'base', services: members[0]!.map(svc) },
  },
  ...Array.from({ length: SERVICES }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: svc(i), namespace: 'default' },
    spec: { selector: { app: svc(i) }, ports: [{ port: 8000, name: 'http' }] },
  })),
  ...lanes.map((lane, l) => ({
    apiVersion: 'lanes.dev/v1alpha1',
    kind: 'Lane',
    metadata: { name: lane },
    spec: {
      group: 'bench',
      selector: { version: lane },
      ...(lane === 'base' ? {} : { services: members[l]!.map(svc) }),
    },
  })),
];
const loaded = loadResources([
  { file: 'bench.yaml', text: docs.map((d) => JSON.stringify(d)).join('\n---\n') },
]);
if (!loaded.ok) throw new Error(loaded.issues.map((i) => i.message).join('\n'));

const endpoints: Endpoint[] = [];
lanes.forEach((lane, l) => {
  for (const s of members[l]!)
    endpoints.push({
      service: `default/${svc(s)}`,
      cluster: 'default',
      address: `10.${l}.${s}.1`,
      port: 8000,
      labels: { app: svc(s), version: lane },
      healthy: true,
    });
});

let version = 1;
let table: RoutingTable = compile(loaded.resources, endpoints).table;
const resources: ResourceRow[] = loaded.resources.map((r) => ({
  kind: r.kind,
  name: r.metadata.name,
  namespace: r.metadata.namespace,
  cluster: r.id.cluster,
  source: `bench.yaml:${r.origin.line}`,
  conditions: [
    { type: 'Accepted', status: 'True', reason: 'Accepted', message: '' },
    { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: '' },
  ],
}));

/** A series per (service, lane tag) at the gateway's first hop: counts grow every tick. */
const counts = new Map<string, number>();
function metrics(): MetricsSnapshot {
  const series: HopSeriesSnapshot[] = [];
  for (let s = 0; s < SERVICES; s++) {
    for (const lane of lanes) {
      const key = `${s}|${lane}`;
      const n = (counts.get(key) ?? 0) + Math.floor(random() * 20);
      counts.set(key, n);
      const h = { counts: [], sum: 0, count: n };
      series.push({
        labels: {
          reporter: 'source',
          source_workload: 'edge',
          source_workload_namespace: 'default',
          destination_service: `${svc(s)}.default.svc.cluster.local`,
          destination_service_name: svc(s),
          destination_service_namespace: 'default',
          destination_workload: svc(s),
          destination_workload_namespace: 'default',
          response_code: '200',
          response_flags: '-',
          lane,
          lane_served: lane,
          request_protocol: 'http',
        },
        service: `default/${svc(s)}`,
        requests: n,
        fallbacks: 0,
        durationMs: h,
        requestBytes: h,
        responseBytes: h,
      });
    }
  }
  return { buckets: [], series, droppedSeries: 0 };
}

/** 50 recent requests of six hops each; one more every tick. */
let requestCount = 0;
function requests(limit: number): RequestRow[] {
  requestCount++;
  return Array.from({ length: limit }, (_, i) => {
    const n = requestCount + i;
    const hops: HopRow[] = Array.from({ length: 6 }, (_, h) => ({
      hop: h === 0 ? 'gateway' : h % 2 === 1 ? 'inbound' : 'outbound',
      listener: h === 0 ? 'gateway default/edge:80' : `sidecar default/${svc(h)}`,
      service: `default/${svc(h)}`,
      lane: lanes[n % LANES]!,
      tag: lanes[n % LANES]!,
      fallback: [],
      upstream: `10.0.${h}.1:8000`,
      status: 200,
      error: null,
      durationUs: 1000 * (6 - h),
    }));
    return {
      traceId: n.toString(16).padStart(32, '0'),
      time: new Date(Date.now() - (limit - i) * 10).toISOString(),
      method: 'GET',
      authority: 'shop.example.com',
      path: `/item/${n}`,
      status: 200,
      durationUs: 6000,
      tag: lanes[n % LANES]!,
      hops,
    };
  });
}

const source: DashboardSource = {
  table: () => ({ version, table }),
  gateways: () => [],
  workloads: () => [],
  resources: () => resources,
  metrics,
  requests,
};
const dashboard = new Dashboard(source);
const server = http.createServer((req, res) => {
  if (!dashboard.handle(req, res, (server.address() as AddressInfo).port)) {
    res.writeHead(404);
    res.end();
  }
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// What the daemon spends per tick, measured apart from the page.
let t = performance.now();
const snapshotJson = JSON.stringify(dashboard.snapshot());
const snapshotMs = performance.now() - t;
t = performance.now();
dashboard.traffic();
const trafficJson = JSON.stringify(dashboard.traffic());
const trafficMs = performance.now() - t;

// A new table every third second: one instance of a lane goes unhealthy or comes back.
const flips = setInterval(() => {
  const i = Math.floor(random() * endpoints.length);
  endpoints[i] = { ...endpoints[i]!, healthy: !endpoints[i]!.healthy };
  table = compile(loaded.resources, endpoints).table;
  version++;
}, 3000);

const browser = await launchBrowser();
const page = await browser.context.newPage();
await page.goto(dashboard.loginUrl(base).url);
await page.waitForTimeout(RUN_MS);
const m = await page.evaluate(
  () =>
    (
      globalThis as unknown as {
        lanesDashboard: {
          firstMapMs: number;
          updateMs: number[];
          trafficMs: number[];
          requestsMs: number[];
          snapshots: number;
        };
      }
    ).lanesDashboard,
);
const cells = await page.locator('table.map td').count();
clearInterval(flips);
await browser.close();
dashboard.close();
server.close();

const stats = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { n: s.length, median: Number(at(0.5).toFixed(1)), p95: Number(at(0.95).toFixed(1)) };
};
const result = {
  services: SERVICES,
  lanes: LANES,
  cells,
  firstMapMs: Math.round(m.firstMapMs),
  firstSnapshotApplyMs: Number((m.updateMs[0] ?? 0).toFixed(1)),
  snapshotUpdateMs: stats(m.updateMs.slice(1)),
  trafficUpdateMs: stats(m.trafficMs),
  requestsUpdateMs: stats(m.requestsMs),
  daemon: {
    snapshotMs: Number(snapshotMs.toFixed(1)),
    snapshotKiB: Math.round(snapshotJson.length / 1024),
    trafficMs: Number(trafficMs.toFixed(1)),
    trafficKiB: Math.round(trafficJson.length / 1024),
  },
};
if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
else {
  console.log(`dashboard, ${SERVICES} services × ${LANES} lanes (${cells} lane-map cells):`);
  console.log(
    `  first lane map on screen ${result.firstMapMs} ms after navigation (applying the first snapshot: ${result.firstSnapshotApplyMs} ms)`,
  );
  console.log(
    `  snapshot update (a few cells change): median ${result.snapshotUpdateMs.median} ms, p95 ${result.snapshotUpdateMs.p95} ms over ${result.snapshotUpdateMs.n}`,
  );
  console.log(
    `  traffic update (every cell's rate): median ${result.trafficUpdateMs.median} ms, p95 ${result.trafficUpdateMs.p95} ms over ${result.trafficUpdateMs.n}`,
  );
  console.log(
    `  recent requests update (50 of 6 hops): median ${result.requestsUpdateMs.median} ms, p95 ${result.requestsUpdateMs.p95} ms over ${result.requestsUpdateMs.n}`,
  );
  console.log(
    `  daemon per tick: snapshot ${result.daemon.snapshotMs} ms (${result.daemon.snapshotKiB} KiB), traffic ${result.daemon.trafficMs} ms (${result.daemon.trafficKiB} KiB)`,
  );
}
