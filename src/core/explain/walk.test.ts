import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { STORY_DIR, STORY_STEP_1 } from '../../../scripts/story.ts';
import type { DeploymentSpec } from '../../config/kinds/kube/index.ts';
import type { InstrumentationSpec } from '../../config/kinds/otel.ts';
import { loadResources, type SourceText } from '../../config/load/resources.ts';
import type { Resource } from '../../config/resource/resource.ts';
import { formatIssue } from '../../config/source/issues.ts';
import type { ExplainResponse } from '../../controlplane/local/protocol.ts';
import { compile } from '../compiler/compile.ts';
import { endpointsFor, type Instance } from '../compiler/endpoints.ts';
import type { Endpoint, RoutingTable, TableEndpoint } from '../compiler/table.ts';
import { type AppModel, explainWalk, type Start } from './walk.ts';

function example(name: string): SourceText {
  const file = join(STORY_DIR, name);
  return { file, text: readFileSync(file, 'utf8') };
}

const PROPAGATORS: Record<string, readonly string[]> = {
  tracecontext: ['traceparent', 'tracestate'],
  baggage: ['baggage'],
};

interface Mesh {
  readonly table: RoutingTable;
  readonly appOf: (endpoint: TableEndpoint) => AppModel | undefined;
}

interface MeshSpec {
  /** Story files for the default cluster. */
  readonly files?: readonly string[];
  /** Story files for cluster `dev`. */
  readonly dev?: readonly string[];
  readonly yaml?: string;
  /** Endpoints that no Deployment runs (`workload` names them in `apps`). */
  readonly endpoints?: readonly Endpoint[];
  /** App models by workload, instead of what the Deployment says. */
  readonly apps?: Readonly<Record<string, Omit<AppModel, 'workload'>>>;
}

function load(sources: readonly SourceText[], cluster?: string): readonly Resource[] {
  const loaded = loadResources(sources, cluster === undefined ? {} : { cluster });
  const errors = loaded.issues.filter((i) => i.severity === 'error');
  assert.deepEqual(errors.map(formatIssue), []);
  return loaded.resources;
}

/**
 * Compiles a mesh the way the daemon does: every Deployment instance gets an address (10.0.d.i,
 * port 8000), and the app behind an endpoint is modelled as the daemon models it — the mock
 * service calls its upstream_url and forwards what its Instrumentation's propagators forward; a
 * container with a command is opaque.
 */
function mesh(spec: MeshSpec): Mesh {
  const resources = [
    ...load((spec.files ?? []).map(example)),
    ...load((spec.dev ?? []).map(example), 'dev'),
    ...(spec.yaml === undefined ? [] : load([{ file: 'inline.yaml', text: spec.yaml }])),
  ];
  const deployments = resources.filter((r) => r.kind === 'Deployment') as Resource<
    string,
    DeploymentSpec
  >[];
  const instances: (Instance & { deployment: Resource<string, DeploymentSpec> })[] = [];
  deployments.forEach((d, n) => {
    for (let i = 0; i < d.spec.replicas; i++) {
      instances.push({
        workload: `${d.metadata.namespace}/${d.metadata.name}`,
        namespace: d.metadata.namespace,
        cluster: d.id.cluster,
        labels: d.spec.template.labels,
        address: `10.0.${n}.${i + 1}`,
        port: 8000,
        healthy: true,
        deployment: d,
      });
    }
  });
  const endpoints = [...endpointsFor(resources, instances), ...(spec.endpoints ?? [])];
  const { table } = compile(resources, endpoints);
  const appOf = (e: TableEndpoint): AppModel | undefined => {
    const inst = instances.find((i) => i.address === e.address && i.port === e.port);
    const name = inst?.workload ?? e.workload;
    const declared = name === undefined ? undefined : spec.apps?.[name];
    const workload = {
      namespace: inst?.namespace ?? e.service.split('/')[0]!,
      labels: e.labels,
      cluster: e.cluster,
      ...(name === undefined ? {} : { name }),
    };
    if (declared) return { workload, ...declared };
    if (!inst) return undefined;
    const d = inst.deployment;
    const container = d.spec.template.containers[0]!;
    if (container.command !== undefined)
      return {
        workload,
        upstream: undefined,
        propagate: [],
        opaque: `${name} runs its own command: where it calls next is up to its code`,
      };
    const url = container.env.find((v) => v.name === 'upstream_url')?.value;
    const instrumentation = resources.find(
      (r) => r.kind === 'Instrumentation' && r.metadata.namespace === d.metadata.namespace,
    );
    const propagate =
      d.spec.template.instrumentation.length === 0
        ? []
        : (
            (instrumentation?.spec as InstrumentationSpec | undefined)?.propagators ?? [
              'tracecontext',
              'baggage',
            ]
          ).flatMap((p) => PROPAGATORS[p] ?? []);
    return { workload, upstream: url ? new URL(url).host : undefined, propagate };
  };
  return { table, appOf };
}

const PROD = { kind: 'gateway', gateway: 'istio-system/ingressgateway', port: undefined } as const;
const DEV_GW = {
  kind: 'gateway',
  gateway: 'istio-system/ingressgateway-dev',
  port: undefined,
} as const;

function walk(
  m: Mesh,
  start: Start,
  headers: Record<string, string> = {},
  path = '/',
): ExplainResponse {
  return explainWalk(m.table, { start, path, headers, appOf: m.appOf });
}

/** A mock-service Deployment plus its Service, calling `upstream` when given. */
function mockService(name: string, upstream?: string, extra = ''): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  ports: [{port: 8000, name: http}]
  selector: {app: ${name}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - name: app
        image: asm-mock
${extra}        env:
        - {name: app, value: ${name}}
        - {name: upstream_url, value: "${upstream ? `http://${upstream}/` : ''}"}
---
`;
}

const GATEWAY = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: default}
spec:
  selector: {app: edge}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
`;
const EDGE = { kind: 'gateway', gateway: 'default/edge', port: undefined } as const;

/** A VirtualService on the edge gateway for `host`, sending everything to `to` with `more` route fields. */
function edgeRoute(host: string, to: string, more = ''): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: edge-${to}, namespace: default}
spec:
  gateways: [default/edge]
  hosts: ["${host}"]
  http:
  - route: [{destination: {host: ${to}}}]
${more}---
`;
}

describe('explainWalk through the asm-mock chain (story step 1)', () => {
  const m = mesh({ files: STORY_STEP_1 });
  const r = walk(m, PROD);

  test('three hops: the gateway, then the sidecars of mocka-v1 and mockb-v1', () => {
    assert.deepEqual(
      r.hops.map((h) => h.hop),
      [
        'gateway istio-system/ingressgateway:80',
        'sidecar outbound default/mocka-v1',
        'sidecar outbound default/mockb-v1',
      ],
    );
  });

  test('every hop stays in lane v1 and names the instance it chose', () => {
    assert.deepEqual(
      r.hops.map((h) => h.outcome),
      [
        '→ default/mocka lane v1 at 10.0.0.1:8000, the sidecar of default/mocka-v1',
        '→ default/mockb lane v1 at 10.0.1.1:8000, the sidecar of default/mockb-v1',
        '→ default/mockc lane v1 at 10.0.2.1:8000, the sidecar of default/mockc-v1',
      ],
    );
  });

  test('the gateway stamps the tag; the apps carry it on in baggage', () => {
    assert.ok(
      r.hops[0]!.steps.includes('tag version: v1 stamped by the route'),
      r.hops[0]!.steps.join('\n'),
    );
    assert.deepEqual(
      r.hops.map((h) => h.request),
      [
        'GET http://localhost/',
        'GET http://mockb:8000/ (baggage: version=v1)',
        'GET http://mockc:8000/ (baggage: version=v1)',
      ],
    );
    for (const h of r.hops.slice(1))
      assert.ok(
        h.steps.includes('tag version: v1 (from baggage entry version)'),
        h.steps.join('\n'),
      );
  });

  test('each hop but the last says which upstream the app calls and what it forwards', () => {
    assert.equal(
      r.hops[0]!.steps.at(-1),
      'the app default/mocka-v1 calls http://mockb:8000/ and forwards baggage',
    );
    assert.equal(
      r.hops[1]!.steps.at(-1),
      'the app default/mockb-v1 calls http://mockc:8000/ and forwards baggage',
    );
    assert.ok(!r.hops[2]!.steps.some((s) => s.startsWith('the app ')));
  });

  test('ends at mockc-v1, which calls nothing further', () => {
    assert.equal(r.end, 'default/mockc-v1 calls nothing further');
  });

  test('the Host header becomes the authority of the first hop', () => {
    assert.equal(
      walk(m, PROD, { Host: 'shop.example' }).hops[0]!.request,
      'GET http://shop.example/',
    );
  });

  test('a walk from a sidecar starts at its outbound side, with the tag the caller sent', () => {
    const from = walk(
      m,
      {
        kind: 'outbound',
        workload: {
          namespace: 'default',
          labels: { app: 'mockb', version: 'v1' },
          name: 'default/mockb-v1',
        },
        to: 'mockc:8000',
      },
      { baggage: 'version=v1' },
    );
    assert.deepEqual(
      from.hops.map((h) => `${h.hop} ${h.outcome}`),
      [
        'sidecar outbound default/mockb-v1 → default/mockc lane v1 at 10.0.2.1:8000, the sidecar of default/mockc-v1',
      ],
    );
    assert.equal(from.end, 'default/mockc-v1 calls nothing further');
  });
});

describe('explainWalk with a lane that lacks a service (story step 3, caros)', () => {
  const r = walk(
    mesh({ files: STORY_STEP_1, dev: ['dev-services.yaml', 'caros-dev.yaml'] }),
    DEV_GW,
    {
      'caros-dev': 'true',
    },
  );

  test('the tag dev-caros reaches every hop; mockb falls back to baseline v1, mockc is in the lane', () => {
    assert.deepEqual(
      r.hops.map((h) => h.outcome),
      [
        '→ default/mocka lane v1 at 10.0.0.1:8000, the sidecar of default/mocka-v1',
        '→ default/mockb lane v1 at 10.0.1.1:8000, the sidecar of default/mockb-v1, a fallback for lane dev-caros',
        '→ default/mockc lane dev-caros at 10.0.3.1:8000, the sidecar of default/mockc-dev-caros',
      ],
    );
    assert.ok(r.hops[0]!.steps.includes('tag version: dev-caros stamped by the route'));
    assert.equal(r.hops[2]!.request, 'GET http://mockc:8000/ (baggage: version=dev-caros)');
  });

  test('the fallback hop says why: the lane does not contain the service, so its baseline', () => {
    const steps = r.hops[1]!.steps;
    const lacks = steps.indexOf('default/mockb: lane dev-caros does not contain default/mockb');
    const chosen = steps.findIndex((s) => s.startsWith('default/mockb: → lane v1'));
    assert.ok(lacks >= 0 && chosen > lacks, steps.join('\n'));
  });

  test('ends at the caros instance of mockc', () => {
    assert.equal(r.end, 'default/mockc-dev-caros calls nothing further');
  });
});

describe('explainWalk where the app forwards no header', () => {
  test('the tag is lost after the first hop and the next service takes its baseline', () => {
    const m = mesh({
      files: STORY_STEP_1,
      apps: {
        'default/mocka-v1': { upstream: 'mockb:8000', propagate: [] },
      },
    });
    const r = walk(m, PROD);
    assert.equal(
      r.hops[0]!.steps.at(-1),
      'the app default/mocka-v1 calls http://mockb:8000/ and forwards no header',
    );
    assert.equal(r.hops[1]!.request, 'GET http://mockb:8000/');
    assert.ok(
      !r.hops[1]!.steps.some((s) => s.startsWith('tag version: v1')),
      r.hops[1]!.steps.join('\n'),
    );
  });
});

describe('explainWalk through a gRPC app', () => {
  test('the next hop is the app’s gRPC call: its method, its path, grpc:// in the note', () => {
    const m = mesh({
      files: STORY_STEP_1,
      apps: {
        'default/mocka-v1': {
          upstream: 'mockb:8000',
          upstreamPath: '/lanes.mock.Mock/Call',
          upstreamMethod: 'POST',
          upstreamProtocol: 'grpc',
          propagate: ['baggage'],
        },
      },
    });
    const r = walk(m, PROD);
    assert.equal(
      r.hops[0]!.steps.at(-1),
      'the app default/mocka-v1 calls grpc://mockb:8000/lanes.mock.Mock/Call and forwards baggage',
    );
    assert.equal(
      r.hops[1]!.request,
      'POST http://mockb:8000/lanes.mock.Mock/Call (baggage: version=v1)',
    );
  });
});

describe('explainWalk endings', () => {
  const cases: {
    title: string;
    spec: MeshSpec;
    start: Start;
    headers?: Record<string, string>;
    outcomes: RegExp[];
    end: string | RegExp;
  }[] = [
    {
      title: 'a host the gateway has no route for: NO_ROUTE at the first hop',
      spec: { yaml: GATEWAY + mockService('shop') + edgeRoute('shop.example', 'shop') },
      start: EDGE,
      headers: { host: 'other.example' },
      outcomes: [/^error NO_ROUTE \(404\): /],
      end: 'the request fails with NO_ROUTE',
    },
    {
      title:
        'a route to a subset that is neither a DestinationRule subset nor a lane: NO_SUCH_SUBSET',
      spec: {
        files: STORY_STEP_1,
        yaml: `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bad-subset, namespace: istio-system}
spec:
  gateways: [istio-system/ingressgateway]
  hosts: [bad.example]
  http:
  - route: [{destination: {host: mocka.default.svc.cluster.local, subset: v9}}]
`,
      },
      start: PROD,
      headers: { host: 'bad.example' },
      outcomes: [/^error NO_SUCH_SUBSET \(503\): .*v9/],
      end: 'the request fails with NO_SUCH_SUBSET',
    },
    {
      title: 'a service with no instance further down: the error ends the walk at that hop',
      spec: {
        yaml:
          GATEWAY +
          mockService('front', 'back:8000') +
          edgeRoute('*', 'front').replace(
            '---\n',
            '---\napiVersion: v1\nkind: Service\nmetadata: {name: back}\nspec:\n  ports: [{port: 8000}]\n  selector: {app: back}\n',
          ),
      },
      start: EDGE,
      outcomes: [
        /^→ default\/front any endpoint at 10\.0\.0\.1:8000, the sidecar of default\/front$/,
        /^error NO_HEALTHY_ENDPOINTS \(503\)/,
      ],
      end: 'the request fails with NO_HEALTHY_ENDPOINTS',
    },
    {
      title: 'an app that runs its own command: the walk cannot follow it',
      spec: {
        yaml:
          GATEWAY +
          mockService('web', undefined, '        command: [node, server.js]\n') +
          edgeRoute('*', 'web'),
      },
      start: EDGE,
      outcomes: [/^→ default\/web any endpoint at 10\.0\.0\.1:8000, the sidecar of default\/web$/],
      end: 'default/web runs its own command: where it calls next is up to its code',
    },
    {
      title: 'an app without an upstream: nothing further',
      spec: { yaml: GATEWAY + mockService('leaf') + edgeRoute('*', 'leaf') },
      start: EDGE,
      outcomes: [/^→ default\/leaf any endpoint/],
      end: 'default/leaf calls nothing further',
    },
    {
      title: 'an endpoint the daemon does not run: the walk stops there',
      spec: {
        yaml: GATEWAY + edgeRoute('*', 'ext'),
        endpoints: [
          {
            service: 'default/ext',
            cluster: 'default',
            address: '192.0.2.7',
            port: 9000,
            labels: {},
            healthy: true,
          },
        ],
      },
      start: EDGE,
      outcomes: [/^→ default\/ext any endpoint at 192\.0\.2\.7:9000$/],
      end: '192.0.2.7:9000 is not an instance the daemon runs; the walk stops here',
    },
    {
      title: 'an app that calls a host outside the mesh: passthrough, the request leaves the mesh',
      spec: { yaml: GATEWAY + mockService('web', 'example.com:80') + edgeRoute('*', 'web') },
      start: EDGE,
      outcomes: [
        /^→ default\/web any endpoint/,
        /^→ passes through to example\.com(:80)? \(not a service of the mesh\)$/,
      ],
      end: /^the request leaves the mesh for example\.com(:80)?; the walk stops here$/,
    },
    {
      title: 'a route that aborts: the proxy answers and nothing is forwarded',
      spec: {
        yaml:
          GATEWAY +
          mockService('web') +
          edgeRoute(
            '*',
            'web',
            '    fault: {abort: {httpStatus: 418, percentage: {value: 100}}}\n',
          ),
      },
      start: EDGE,
      outcomes: [/^answered by the proxy: 418 \(fault-abort\)$/],
      end: 'the proxy answers; nothing is forwarded',
    },
    {
      title: 'a gateway that does not exist: no hop at all',
      spec: { yaml: GATEWAY },
      start: { kind: 'gateway', gateway: 'default/nope', port: undefined },
      outcomes: [],
      end: 'there is no Gateway default/nope',
    },
  ];
  for (const c of cases) {
    test(c.title, () => {
      const r = walk(mesh(c.spec), c.start, c.headers);
      assert.equal(r.hops.length, c.outcomes.length, JSON.stringify(r, null, 1));
      for (const [i, h] of r.hops.entries()) assert.match(h.outcome, c.outcomes[i]!);
      if (typeof c.end === 'string') assert.equal(r.end, c.end);
      else assert.match(r.end, c.end);
    });
  }
});

describe('explainWalk loop guards', () => {
  test('apps that call each other in a circle: the walk stops where a call repeats', () => {
    const m = mesh({
      yaml:
        GATEWAY +
        mockService('ping', 'pong:8000') +
        mockService('pong', 'ping:8000') +
        edgeRoute('*', 'ping'),
    });
    const r = walk(m, EDGE);
    assert.deepEqual(
      r.hops.map((h) => h.hop),
      ['gateway default/edge:80', 'sidecar outbound default/ping', 'sidecar outbound default/pong'],
    );
    assert.equal(r.end, 'a loop: default/ping calls pong:8000 again');
  });

  test('a chain longer than 12 services stops after 12 hops', () => {
    let yaml = GATEWAY + edgeRoute('*', 's0');
    for (let i = 0; i < 15; i++)
      yaml += mockService(`s${i}`, i < 14 ? `s${i + 1}:8000` : undefined);
    const r = walk(mesh({ yaml }), EDGE);
    assert.equal(r.hops.length, 12);
    assert.match(r.hops[11]!.outcome, /^→ default\/s11 any endpoint/);
    assert.equal(r.end, 'stopped after 12 hops');
  });
});

describe('explainWalk with a trace-id carrier', () => {
  // The apps forward only x-request-id; each sidecar remembers trace id → lane on the way in.
  const yaml = `${GATEWAY}apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: {name: abc}
spec:
  routeHeader: x-lane
  carriers: [{type: traceId, header: x-request-id}]
  baseline: base
  services: [a, b, c]
  ingress: [{gateway: default/edge, destination: {host: a}}]
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: {name: base}
spec: {group: abc, selector: {version: base}}
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: {name: v2}
spec:
  group: abc
  selector: {version: v2}
  services: [a, c]
  entry: [{match: {header: {name: x-canary, exact: "yes"}}}]
`;
  const ep = (svc: string, version: string, n: number): Endpoint => ({
    service: `default/${svc}`,
    cluster: 'default',
    address: `10.9.${n}.1`,
    port: 8000,
    labels: { app: svc, version },
    healthy: true,
    workload: `default/${svc}-${version}`,
  });
  const m = mesh({
    yaml,
    endpoints: [
      ep('a', 'base', 0),
      ep('a', 'v2', 1),
      ep('b', 'base', 2),
      ep('c', 'base', 3),
      ep('c', 'v2', 4),
    ],
    apps: {
      'default/a-v2': { upstream: 'b:8000', propagate: ['x-request-id'] },
      'default/a-base': { upstream: 'b:8000', propagate: ['x-request-id'] },
      'default/b-base': { upstream: 'c:8000', propagate: ['x-request-id'] },
      'default/c-v2': { upstream: undefined, propagate: [] },
      'default/c-base': { upstream: undefined, propagate: [] },
    },
  });

  test('the lane survives hops whose requests carry only the trace id, through each sidecar memory', () => {
    const r = walk(m, EDGE, { 'x-canary': 'yes' });
    assert.deepEqual(
      r.hops.map((h) => h.outcome.replace(/ at .*/, '')),
      ['→ default/a lane v2', '→ default/b lane base', '→ default/c lane v2'],
    );
    for (const h of r.hops.slice(1)) {
      assert.doesNotMatch(h.request, /x-lane/);
      assert.match(h.request, /x-request-id: /);
      assert.ok(
        h.steps.some((s) => s.includes('trace')),
        h.steps.join('\n'),
      );
    }
    assert.equal(r.end, 'default/c-v2 calls nothing further');
  });

  test('without the canary header every hop is baseline', () => {
    const r = walk(m, EDGE);
    assert.deepEqual(
      r.hops.map((h) => h.outcome.replace(/ at .*/, '')),
      ['→ default/a lane base', '→ default/b lane base', '→ default/c lane base'],
    );
  });
});

describe('explainWalk where the proxy chooses at random', () => {
  const step4 = mesh({
    files: [
      ...STORY_STEP_1.filter((f) => f !== 'ingress-vs.yaml'),
      'mock-v2.yaml',
      'swimlane-v2.yaml',
      'ingress-vs-v2-20.yaml',
    ],
  });

  test('a weighted route lists every branch with its share and follows the largest', () => {
    const r = walk(step4, PROD);
    assert.deepEqual(r.hops[0]?.branches, [
      { percent: 80, outcome: '→ default/mocka lane v1', name: 'v1', followed: true },
      { percent: 20, outcome: '→ default/mocka lane v2', name: 'v2', followed: false },
    ]);
    assert.match(r.hops[0]!.outcome, /^→ default\/mocka lane v1 /);
    assert.equal(r.hops[1]?.branches, undefined, 'the next hops have no random choice');
  });

  test('the same request explained twice gives the same walk', () => {
    assert.deepEqual(walk(step4, PROD), walk(step4, PROD));
  });

  test('--branch follows the branch named, into its lane on every hop', () => {
    const r = explainWalk(step4.table, { start: PROD, appOf: step4.appOf, branch: 'v2' });
    assert.deepEqual(
      r.hops[0]?.branches?.map((b) => [b.name, b.followed]),
      [
        ['v1', false],
        ['v2', true],
      ],
    );
    assert.deepEqual(
      r.hops.map((h) => h.outcome.replace(/ at .*$/, '')),
      ['→ default/mocka lane v2', '→ default/mockb lane v1', '→ default/mockc lane v2'],
    );
  });

  test('a --branch name that no branch has follows the largest, and says so', () => {
    const r = explainWalk(step4.table, { start: PROD, appOf: step4.appOf, branch: 'v9' });
    assert.ok(r.hops[0]?.branches?.[0]?.followed);
    assert.ok(r.hops[0]?.steps.includes('no branch here is named v9; following the largest'));
  });

  test('a --branch on a path where no proxy chooses at random is not used, and the end says so', () => {
    const step5 = mesh({
      files: [
        ...STORY_STEP_1.filter((f) => f !== 'ingress-vs.yaml'),
        'mock-v2.yaml',
        'swimlane-v2.yaml',
        'ingress-vs-v2-100.yaml',
      ],
    });
    const r = explainWalk(step5.table, { start: PROD, appOf: step5.appOf, branch: 'v1' });
    assert.ok(r.hops.every((h) => h.branches === undefined));
    assert.equal(
      r.end,
      'default/mockc-v2 calls nothing further; --branch v1 was not used: no proxy on this path chooses at random',
    );
    assert.equal(walk(step5, PROD).end, 'default/mockc-v2 calls nothing further');
  });

  test('weighted entry rules: one band per rule and the rest, as shares of the requests', () => {
    const native = mesh({
      yaml: `${GATEWAY}${mockService('shop')}apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: {name: g}
spec:
  routeHeader: x-lane
  baseline: base
  services: [shop]
  ingress: [{gateway: default/edge, destination: {host: shop}}]
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: {name: base}
spec: {group: g, selector: {app: shop}}
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: {name: canary}
spec: {group: g, selector: {app: shop}, entry: [{name: ten, weight: 10}]}
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: {name: beta}
spec: {group: g, selector: {app: shop}, entry: [{name: twenty, weight: 25}]}
`,
    });
    const r = walk(native, EDGE);
    assert.deepEqual(
      r.hops[0]?.branches?.map((b) => [b.percent, b.name, b.followed]),
      [
        [65, 'base', true],
        [25, 'beta', false],
        [10, 'canary', false],
      ],
    );
  });

  test('a fault injected for a share of the requests is shown, and the walk follows the others', () => {
    const faulty = mesh({
      yaml: `${GATEWAY}${mockService('web')}${edgeRoute('*', 'web', '    fault: {abort: {httpStatus: 503, percentage: {value: 30}}}\n')}`,
    });
    const r = walk(faulty, EDGE);
    assert.match(r.hops[0]!.outcome, /^→ default\/web any endpoint/);
    assert.ok(
      r.hops[0]!.steps.includes(
        'fault injection: abort with 503 for 30 % of requests, not this one',
      ),
      r.hops[0]!.steps.join('\n'),
    );
  });

  test('the endpoint is the sidecar; where the app itself listens is said too', () => {
    const withApp = mesh({
      yaml: `${GATEWAY}${mockService('web')}${edgeRoute('*', 'web')}`,
      apps: {
        'default/web': { upstream: undefined, propagate: [], appAddress: '127.0.0.1:39012' },
      },
    });
    assert.equal(
      walk(withApp, EDGE).hops[0]?.outcome,
      '→ default/web any endpoint at 10.0.0.1:8000, the sidecar of default/web (the app itself listens on 127.0.0.1:39012)',
    );
  });
});
