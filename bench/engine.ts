/**
 * npm run bench:engine [-- --json]
 *
 * Decisions per second for a small table (10 services × 5 lanes) and a large one (1,000 services
 * × 100 lanes, 10,000 endpoints), measured side by side in one run, with their ratio; and the
 * time `compile()` takes for the large table. The request mix is the same for both: sidecar
 * outbound calls tagged with random lanes (most lacking the service, so the fallback chain is
 * walked), tags in baggage, untagged calls, and gateway entry decisions.
 *
 * And `lanes render istio` of the large shape (analyze + render to Istio objects), timed the same
 * way and reported as a ratio to the compile time, in a fresh Node process so its peak RSS is the
 * render's alone (targets: under 2 s and 300 MB).
 *
 * Per-request overrides, on the large table: the same sidecar calls (tag in baggage) without an
 * override and with a signed one in baggage (an HMAC check per decision), side by side.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadResources } from '../src/config/load/resources.ts';
import { setBaggageValue } from '../src/core/carriers/baggage.ts';
import { OVERRIDE_BAGGAGE_KEY, overrideKey, signOverride } from '../src/core/carriers/override.ts';
import { analyze } from '../src/core/compiler/analyze.ts';
import { compile } from '../src/core/compiler/compile.ts';
import type { Endpoint, RoutingTable } from '../src/core/compiler/table.ts';
import { decide } from '../src/core/engine/decide.ts';
import type { DecideContext, Hop, RequestView } from '../src/core/engine/types.ts';
import { requestView } from '../src/core/engine/view.ts';
import { renderIstio } from '../src/core/render/istio/render.ts';
import { seededRandom } from '../src/util/seeded-random.ts';

interface Shape {
  readonly services: number;
  readonly lanes: number;
  readonly endpointsPerService: number;
  readonly servicesPerLane: number;
}

function build(shape: Shape) {
  const random = seededRandom(42);
  const svc = (i: number) => `svc-${i}`;
  const docs: object[] = [
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name: 'edge', namespace: 'default' },
      spec: {
        selector: { app: 'edge' },
        servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }],
      },
    },
    {
      apiVersion: 'lanes.dev/v1alpha1',
      kind: 'LaneGroup',
      metadata: { name: 'bench' },
      spec: {
        routeHeader: 'x-lane',
        carriers: [{ type: 'baggage', key: 'lane' }],
        baseline: 'base',
        services: Array.from({ length: shape.services }, (_, i) => svc(i)),
        ingress: [{ gateway: 'default/edge', destination: { host: svc(0) } }],
      },
    },
    {
      apiVersion: 'lanes.dev/v1alpha1',
      kind: 'Lane',
      metadata: { name: 'base' },
      spec: { group: 'bench', selector: { version: 'base' } },
    },
  ];
  const laneServices: number[][] = [];
  for (let l = 0; l < shape.lanes; l++) {
    const members = new Set<number>();
    while (members.size < Math.min(shape.servicesPerLane, shape.services))
      members.add(Math.floor(random() * shape.services));
    laneServices.push([...members].sort((a, b) => a - b));
    docs.push({
      apiVersion: 'lanes.dev/v1alpha1',
      kind: 'Lane',
      metadata: { name: `lane-${l}` },
      spec: {
        group: 'bench',
        selector: { version: `lane-${l}` },
        services: laneServices[l]!.map(svc),
        fallback: l > 0 ? [`lane-${l - 1}`] : [],
        entry: [{ match: { header: { name: 'x-user', exact: `user-${l}` } } }],
      },
    });
  }
  const text = docs.map((d) => JSON.stringify(d)).join('\n---\n');
  const loaded = loadResources([{ file: 'bench.yaml', text }]);
  if (!loaded.ok) throw new Error(loaded.issues.map((i) => i.message).join('\n'));

  const lanesOf: string[][] = Array.from({ length: shape.services }, () => []);
  laneServices.forEach((members, l) => {
    for (const s of members) lanesOf[s]!.push(`lane-${l}`);
  });
  const endpoints: Endpoint[] = [];
  for (let s = 0; s < shape.services; s++) {
    for (let e = 0; e < shape.endpointsPerService; e++) {
      const own = lanesOf[s]!;
      const version =
        e < shape.endpointsPerService / 2 || own.length === 0 ? 'base' : own[e % own.length]!;
      endpoints.push({
        service: `default/${svc(s)}`,
        cluster: 'default',
        address: `10.${s >> 8}.${s & 255}.${e + 1}`,
        port: 8000,
        labels: { app: svc(s), version },
        healthy: e % 7 !== 3,
      });
    }
  }
  return { resources: loaded.resources, endpoints };
}

function requests(shape: Shape, count: number): { hop: Hop; req: RequestView }[] {
  const random = seededRandom(7);
  const out: { hop: Hop; req: RequestView }[] = [];
  const caller: Hop = {
    kind: 'outbound',
    workload: { namespace: 'default', labels: { app: 'caller' } },
  };
  for (let i = 0; i < count; i++) {
    const s = Math.floor(random() * shape.services);
    const lane = `lane-${Math.floor(random() * shape.lanes)}`;
    const kind = i % 8;
    if (kind === 0) {
      out.push({
        hop: { kind: 'gateway', gateway: 'default/edge', port: 80 },
        req: requestView({
          authority: 'shop.example.com',
          headers: { 'x-user': `user-${Math.floor(random() * shape.lanes)}` },
        }),
      });
    } else if (kind === 1) {
      out.push({
        hop: caller,
        req: requestView({
          authority: `svc-${s}:8000`,
          headers: { baggage: `lane=${lane},user=u${i}` },
        }),
      });
    } else if (kind === 2) {
      out.push({
        hop: caller,
        req: requestView({ authority: `svc-${s}.default.svc.cluster.local:8000` }),
      });
    } else {
      out.push({
        hop: caller,
        req: requestView({ authority: `svc-${s}:8000`, headers: { 'x-lane': lane } }),
      });
    }
  }
  return out;
}

function decisionsPerSec(
  table: RoutingTable,
  pool: { hop: Hop; req: RequestView }[],
  ms: number,
  ctx?: DecideContext,
): number {
  const random = seededRandom(1);
  let n = 0;
  let sink = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 1000; i++) {
      const r = pool[(n + i) & (pool.length - 1)]!;
      const d = decide(table, r.hop, r.req, random, ctx);
      sink += d.kind.length;
    }
    n += 1000;
    now = performance.now();
  }
  if (sink === 0) throw new Error('unreachable');
  return (n * 1000) / (now - start);
}

const SMALL: Shape = { services: 10, lanes: 5, endpointsPerService: 4, servicesPerLane: 3 };
const LARGE: Shape = { services: 1000, lanes: 100, endpointsPerService: 10, servicesPerLane: 10 };

if (process.argv.includes('--render-child')) {
  // The render alone, in its own process: the peak RSS of building the resources, analysing and
  // rendering once (what one `lanes render istio` does), then the time of a warm second run.
  const shape = build(LARGE);
  const first = renderIstio(analyze(shape.resources, shape.endpoints));
  const singleRssMb = process.resourceUsage().maxRSS / 1024;
  const start = performance.now();
  const out = renderIstio(analyze(shape.resources, shape.endpoints));
  const renderMs = performance.now() - start;
  let routes = 0;
  for (const o of out.objects) {
    const http = (o.spec as { http?: unknown[] }).http;
    if (Array.isArray(http)) routes += http.length;
  }
  process.stdout.write(
    `${JSON.stringify({ renderMs, objects: first.objects.length, routes, maxRssMb: singleRssMb })}\n`,
  );
  process.exit(0);
}

function renderLarge(): { renderMs: number; objects: number; routes: number; maxRssMb: number } {
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--render-child'], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (child.status !== 0) throw new Error(`render child failed: ${child.stderr}`);
  return JSON.parse(child.stdout) as ReturnType<typeof renderLarge>;
}

const json = process.argv.includes('--json');
const small = build(SMALL);
const large = build(LARGE);
const smallTable = compile(small.resources, small.endpoints).table;
// Compile twice; report the second (the first also warms up the compiler's code).
compile(large.resources, large.endpoints);
const t0 = performance.now();
const largeTable = compile(large.resources, large.endpoints).table;
const compileLargeMs = performance.now() - t0;

const smallPool = requests(SMALL, 4096);
const largePool = requests(LARGE, 4096);
decisionsPerSec(smallTable, smallPool, 300);
decisionsPerSec(largeTable, largePool, 300);
// Alternate the two so that drift on a shared machine hits both alike; keep each one's best.
let smallRate = 0;
let largeRate = 0;
for (let round = 0; round < 3; round++) {
  smallRate = Math.max(smallRate, decisionsPerSec(smallTable, smallPool, 700));
  largeRate = Math.max(largeRate, decisionsPerSec(largeTable, largePool, 700));
}
const render = renderLarge();
/**
 * Sidecar calls with the tag in baggage; `override`: plus a signed override for the callee, one
 * of `distinct` values (4096: each value new to the proxy's memo of verified values; 16: a few
 * developers, as a proxy sees them).
 */
function overridePool(
  shape: Shape,
  override: boolean,
  distinct = 4096,
): { hop: Hop; req: RequestView }[] {
  const random = seededRandom(11);
  const caller: Hop = {
    kind: 'outbound',
    workload: { namespace: 'default', labels: { app: 'caller' } },
  };
  return Array.from({ length: 4096 }, (_, i) => {
    const s = Math.floor(random() * shape.services) % (override ? distinct : shape.services);
    const lane = `lane-${Math.floor(random() * shape.lanes)}`;
    let baggage = `lane=${lane},user=u${i}`;
    if (override) {
      const pairs = [
        { service: `default/svc-${s}`, lane: `lane-${Math.floor(random() * shape.lanes)}` },
      ];
      baggage = setBaggageValue(baggage, OVERRIDE_BAGGAGE_KEY, signOverride(pairs, KEY, EXP));
    }
    return { hop: caller, req: requestView({ authority: `svc-${s}:8000`, headers: { baggage } }) };
  });
}
const KEY = overrideKey(Buffer.alloc(32, 1));
const NOW = Date.UTC(2026, 0, 1);
const EXP = NOW / 1000 + 3600;
// As a proxy holds it: the keys, the wall clock, a memo of values verified before.
const withKeys = (): DecideContext => ({
  overrides: { keys: [KEY], now: () => NOW, verified: new Map() },
});
const plainPool = overridePool(LARGE, false);
const overriddenPool = overridePool(LARGE, true);
const repeatedPool = overridePool(LARGE, true, 16);
decisionsPerSec(largeTable, overriddenPool, 300, withKeys());
let plainRate = 0;
let overriddenRate = 0;
let repeatedRate = 0;
for (let round = 0; round < 3; round++) {
  plainRate = Math.max(plainRate, decisionsPerSec(largeTable, plainPool, 500, withKeys()));
  overriddenRate = Math.max(
    overriddenRate,
    decisionsPerSec(largeTable, overriddenPool, 500, withKeys()),
  );
  repeatedRate = Math.max(repeatedRate, decisionsPerSec(largeTable, repeatedPool, 500, withKeys()));
}

const result = {
  small: { decisionsPerSec: Math.round(smallRate) },
  large: { decisionsPerSec: Math.round(largeRate) },
  ratio: Number((smallRate / largeRate).toFixed(3)),
  compileLargeMs: Number(compileLargeMs.toFixed(1)),
  renderIstioLarge: {
    ms: Number(render.renderMs.toFixed(1)),
    toCompile: Number((render.renderMs / compileLargeMs).toFixed(2)),
    objects: render.objects,
    routes: render.routes,
    peakRssMb: Math.round(render.maxRssMb),
  },
  overrides: {
    withoutDecisionsPerSec: Math.round(plainRate),
    signedDecisionsPerSec: Math.round(overriddenRate),
    repeatedDecisionsPerSec: Math.round(repeatedRate),
    /** Microseconds a signed override new to the proxy adds to one decision (parse, HMAC, ops). */
    addedUs: Number((1e6 / overriddenRate - 1e6 / plainRate).toFixed(2)),
    /** The same for a value the proxy verified before (its memo). */
    addedRepeatedUs: Number((1e6 / repeatedRate - 1e6 / plainRate).toFixed(2)),
  },
};
if (json) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const row = (name: string, shape: Shape, rate: number) =>
    `${name.padEnd(6)} ${String(shape.services).padStart(5)} services × ${String(shape.lanes).padStart(3)} lanes, ${String(shape.services * shape.endpointsPerService).padStart(6)} endpoints: ${Math.round(rate).toLocaleString('en-US').padStart(10)} decisions/s`;
  console.log(row('small', SMALL, smallRate));
  console.log(row('large', LARGE, largeRate));
  console.log(`ratio (small/large): ${result.ratio} (target ≤ 1.5)`);
  console.log(`compile, large table: ${result.compileLargeMs} ms (target < 1000)`);
  const r = result.renderIstioLarge;
  console.log(
    `render istio, large: ${r.ms} ms = ${r.toCompile} × compile, ${r.objects} objects, ${r.routes} routes, peak RSS ${r.peakRssMb} MB (targets < 2000 ms, < 300 MB)`,
  );
  console.log(
    `overrides, large table, sidecar calls: ${result.overrides.withoutDecisionsPerSec.toLocaleString('en-US')} decisions/s without; with a signed override ${result.overrides.signedDecisionsPerSec.toLocaleString('en-US')} when each is new to the proxy (+${result.overrides.addedUs} µs), ${result.overrides.repeatedDecisionsPerSec.toLocaleString('en-US')} when seen before (+${result.overrides.addedRepeatedUs} µs)`,
  );
}
