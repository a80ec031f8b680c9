import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadResources } from '../../config/load/resources.ts';
import type {
  ConditionView,
  ExplainResponse,
  InstanceView,
  ResourceView,
  StatusResponse,
} from '../../controlplane/local/protocol.ts';
import { resourceViews } from '../../controlplane/local/resource-views.ts';
import { compile } from '../../core/compiler/compile.ts';
import type { AccessLogEntry } from '../../dataplane/telemetry/access-log.ts';
import { resolveKind } from './kinds.ts';
import {
  renderData,
  renderDescribe,
  renderExplain,
  renderRequest,
  renderResourceTable,
  renderStatus,
  renderTable,
  resourceRef,
} from './render.ts';

const OK: readonly ConditionView[] = [
  { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'accepted' },
  {
    type: 'ResolvedRefs',
    status: 'True',
    reason: 'ResolvedRefs',
    message: 'all references resolved',
  },
];

function view(
  kind: string,
  apiVersion: string,
  name: string,
  namespace: string,
  cluster: string,
  manifest: unknown,
  extra: Partial<ResourceView> = {},
): ResourceView {
  return {
    apiVersion,
    kind,
    name,
    namespace,
    cluster,
    source: { file: 'mock.yaml', line: 1 },
    manifest,
    conditions: OK,
    notes: [],
    ...extra,
  };
}

function instance(index: number, status: InstanceView['status'], restarts = 0): InstanceView {
  return {
    index,
    status,
    pid: status === 'ready' ? 4100 + index : null,
    port: 41000 + index,
    endpoint: `127.0.0.1:${42000 + index}`,
    proxy: `127.0.0.1:${43000 + index}`,
    restarts,
    log: `/tmp/s/logs/default.mocka-v1.${index}.log`,
    lastExit: restarts > 0 ? 'exit code 1' : null,
  };
}

const table = (kind: string, items: ResourceView[]): string =>
  renderResourceTable(resolveKind(kind)!, items);

describe('get tables', () => {
  test('Deployment: READY, STATUS, RESTARTS from the instances', () => {
    const deploy = (
      name: string,
      cluster: string,
      replicas: number | undefined,
      inst: InstanceView[],
    ) =>
      view(
        'Deployment',
        'apps/v1',
        name,
        'default',
        cluster,
        { spec: { replicas } },
        { instances: inst },
      );
    assert.equal(
      table('deploy', [
        deploy('mocka-v1', 'default', 1, [instance(0, 'ready')]),
        deploy('mocka-dev-alice', 'dev', 2, [instance(0, 'ready', 2), instance(1, 'backoff', 3)]),
        deploy('mockc-v1', 'default', undefined, []),
        view(
          'Deployment',
          'apps/v1',
          'java-app',
          'shop',
          'default',
          { spec: {} },
          {
            instances: [],
            conditions: [
              { type: 'Accepted', status: 'False', reason: 'NoLocalRunner', message: 'image x' },
              OK[1]!,
            ],
          },
        ),
      ]),
      `NAME              NAMESPACE   CLUSTER   READY   STATUS          RESTARTS
mocka-v1          default     default   1/1     Ready           0
mocka-dev-alice   default     dev       1/2     Backoff         5
mockc-v1          default     default   0/1     Pending         0
java-app          shop        default   0/1     NoLocalRunner   0
`,
    );
  });

  test('Service and Gateway: ports', () => {
    assert.equal(
      table('svc', [
        view('Service', 'v1', 'mocka', 'default', 'default', {
          spec: {
            ports: [
              { port: 8000, name: 'http' },
              { port: 9000, protocol: 'UDP' },
            ],
          },
        }),
      ]),
      `NAME    NAMESPACE   CLUSTER   PORTS               ACCEPTED
mocka   default     default   8000/TCP,9000/UDP   True
`,
    );
    assert.equal(
      table('gw', [
        view(
          'Gateway',
          'networking.istio.io/v1beta1',
          'ingressgateway-dev',
          'istio-system',
          'dev',
          {
            spec: {
              servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }],
            },
          },
        ),
      ]),
      `NAME                 NAMESPACE      CLUSTER   PORTS     ACCEPTED
ingressgateway-dev   istio-system   dev       80/HTTP   True
`,
    );
  });

  test('VirtualService and DestinationRule: hosts, gateways, subsets, both conditions', () => {
    assert.equal(
      table('vs', [
        view(
          'VirtualService',
          'networking.istio.io/v1beta1',
          'swimlane-ingress-vs',
          'istio-system',
          '',
          {
            spec: { hosts: ['*'], gateways: ['istio-system/ingressgateway'] },
          },
        ),
        view(
          'VirtualService',
          'networking.istio.io/v1',
          'reviews',
          'default',
          '',
          { spec: { hosts: ['reviews', 'reviews.shop'] } },
          {
            conditions: [
              OK[0]!,
              {
                type: 'ResolvedRefs',
                status: 'False',
                reason: 'NoSuchSubset',
                message: 'subset v9',
              },
            ],
          },
        ),
      ]),
      `NAME                  NAMESPACE      HOSTS                  GATEWAYS                      ACCEPTED   RESOLVEDREFS
swimlane-ingress-vs   istio-system   *                      istio-system/ingressgateway   True       True
reviews               default        reviews,reviews.shop   <none>                        True       False (NoSuchSubset)
`,
    );
    assert.equal(
      table('dr', [
        view('DestinationRule', 'networking.istio.io/v1', 'reviews', 'default', '', {
          spec: { host: 'reviews', subsets: [{ name: 'v1' }, { name: 'v2' }] },
        }),
      ]),
      `NAME      NAMESPACE   HOST      SUBSETS   ACCEPTED   RESOLVEDREFS
reviews   default     reviews   v1,v2     True       True
`,
    );
  });

  // Views made the way the daemon makes them: the YAML compiled, then resourceViews.
  const LANES_YAML = `
apiVersion: istio.alibabacloud.com/v1
kind: ASMSwimLaneGroup
metadata: { name: mock }
spec:
  isPermissive: true
  permissiveModeConfiguration: { routeHeader: version, traceHeader: baggage }
  services: [{ name: mocka, namespace: default }, { name: mockc, namespace: default }]
---
apiVersion: istio.alibabacloud.com/v1
kind: ASMSwimLaneGroup
metadata: { name: strict }
spec:
  services: [{ name: pay, namespace: default }]
---
apiVersion: istio.alibabacloud.com/v1
kind: ASMSwimLane
metadata: { name: v2, labels: { swimlane-group: mock } }
spec:
  labelSelector: { version: v2 }
  services: [{ name: mocka, namespace: default }, { name: mockc, namespace: default }]
---
apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: shop }
spec: { routeHeader: x-lane, services: [frontend] }
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: dev-alice }
spec: { group: shop, selector: { version: dev-alice } }
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: off }
spec: { group: shop, enabled: false, selector: { version: off } }
`;
  const compiledViews = (kind: string) => {
    const loaded = loadResources([{ file: 'lanes.yaml', text: LANES_YAML }]);
    assert.ok(loaded.ok);
    const { table, statuses } = compile(loaded.resources, [
      { ...endpointOf('default/mocka', 'v2'), healthy: true },
      { ...endpointOf('default/mockc', 'v2'), healthy: false },
      { ...endpointOf('default/pay', 'v1'), port: 7003 },
      { ...endpointOf('default/frontend', 'v1'), port: 7004 },
    ]);
    return resourceViews(
      { resources: loaded.resources, statuses, table, instancesOf: () => undefined },
      { kind },
    );
  };
  const endpointOf = (service: string, version: string) => ({
    service,
    cluster: 'default',
    address: '127.0.0.1',
    port: version === 'v2' ? 7001 : 7002,
    labels: { app: service.slice(8), version },
    healthy: true,
  });

  test('lane groups of every kind: mode and route header as compiled (strict ASM groups use x-asm-prefer-tag)', () => {
    assert.equal(
      table('asmswimlanegroup', compiledViews('ASMSwimLaneGroup')),
      `NAME     MODE         ROUTEHEADER        SERVICES   LANES    ACCEPTED   RESOLVEDREFS
mock     permissive   version            2          v2       True       True
strict   strict       x-asm-prefer-tag   1          <none>   True       True
`,
    );
    assert.equal(
      table('lanegroup', compiledViews('LaneGroup')),
      `NAME     KIND               MODE         ROUTEHEADER        SERVICES   LANES           ACCEPTED   RESOLVEDREFS
mock     ASMSwimLaneGroup   permissive   version            2          v2              True       True
strict   ASMSwimLaneGroup   strict       x-asm-prefer-tag   1          <none>          True       True
shop     LaneGroup          permissive   x-lane             1          dev-alice,off   True       True
`,
    );
  });

  test('get lanes lists the lanes of every kind, with the kind that declared each', () => {
    assert.equal(
      table('lane', compiledViews('Lane')),
      `NAME        KIND          GROUP   SERVICES      STATUS     ACCEPTED   RESOLVEDREFS
v2          ASMSwimLane   mock    mocka,mockc   Enabled    True       True
dev-alice   Lane          shop    frontend      Enabled    True       True
off         Lane          shop    frontend      Disabled   True       True
`,
    );
  });

  test('describe lane shows what the compiler made of an ASM lane, with ready instances per service', () => {
    const v2 = compiledViews('Lane').find((v) => v.name === 'v2');
    assert.ok(v2);
    const text = renderDescribe(v2);
    assert.match(
      text,
      /\nLane:\n {2}group mock \(permissive, route header version\), enabled\n {2}selector: version=v2\n {2}fallback: <none>\n {2}SERVICE +READY\n {2}default\/mocka +1\/1\n {2}default\/mockc +0\/1\n/,
    );
  });

  test('other kinds: the generic columns, NAMESPACE only when namespaced', () => {
    assert.equal(
      table('mesh', [
        view('Mesh', 'lanes.dev/v1alpha1', 'default', '', '', {}, { conditions: [] }),
      ]),
      `NAME      ACCEPTED   RESOLVEDREFS
default   -          -
`,
    );
    assert.equal(
      table('instrumentation', [
        view('Instrumentation', 'opentelemetry.io/v1alpha1', 'otel', 'default', '', {}),
      ]),
      `NAME   NAMESPACE   ACCEPTED   RESOLVEDREFS
otel   default     True       True
`,
    );
  });
});

describe('status', () => {
  const status: StatusResponse = {
    gateways: [
      {
        name: 'ingressgateway',
        namespace: 'istio-system',
        cluster: 'default',
        url: 'http://127.0.0.1:40001',
      },
      {
        name: 'ingressgateway-dev',
        namespace: 'istio-system',
        cluster: 'dev',
        url: 'http://127.0.0.1:40002',
      },
    ],
    workloads: [
      {
        name: 'mocka-v1',
        namespace: 'default',
        cluster: 'default',
        replicas: 1,
        ready: 1,
        restarts: 0,
      },
      {
        name: 'mocka-dev-alice',
        namespace: 'default',
        cluster: 'dev',
        replicas: 2,
        ready: 1,
        restarts: 3,
      },
    ],
    lanes: [
      {
        name: 'v1',
        group: 'mock',
        services: ['default/mocka', 'default/mockb', 'default/mockc'],
        status: 'Ready',
      },
      { name: 'dev-alice', group: 'mock', services: ['default/mocka'], status: 'Ready' },
    ],
  };

  test('three sections, with the daemon on top', () => {
    assert.equal(
      renderStatus(status, {
        stateDir: '/home/dev/.lanes',
        info: { pid: 4242, api: 'http://127.0.0.1:39999', startedAt: '2026-01-02T03:04:05.000Z' },
      }),
      `Daemon: pid 4242, http://127.0.0.1:39999, started 2026-01-02T03:04:05.000Z, state /home/dev/.lanes

Gateways:
  NAME                 NAMESPACE      CLUSTER   URL
  ingressgateway       istio-system   default   http://127.0.0.1:40001
  ingressgateway-dev   istio-system   dev       http://127.0.0.1:40002

Workloads:
  NAME              NAMESPACE   CLUSTER   READY   RESTARTS
  mocka-v1          default     default   1/1     0
  mocka-dev-alice   default     dev       1/2     3

Lanes:
  NAME        GROUP   SERVICES                                    STATUS
  v1          mock    default/mocka,default/mockb,default/mockc   Ready
  dev-alice   mock    default/mocka                               Ready
`,
    );
  });

  test('a gateway whose remembered port another program took shows its new URL and says so', () => {
    const moved = renderStatus({
      gateways: [
        {
          name: 'shop-gateway',
          namespace: 'istio-system',
          cluster: 'default',
          url: 'http://127.0.0.1:42273',
          movedFrom: 37561,
        },
      ],
      workloads: [],
      lanes: [],
    });
    assert.match(
      moved,
      / {2}shop-gateway {3}istio-system {3}default {3}http:\/\/127\.0\.0\.1:42273 \(its port 37561 was taken by another program when the daemon started: update saved URLs\)\n/,
    );
  });

  test('empty sections say so', () => {
    assert.equal(
      renderStatus({ gateways: [], workloads: [], lanes: [] }),
      'Gateways:\n  <none>\n\nWorkloads:\n  <none>\n\nLanes:\n  <none>\n',
    );
  });

  test('json is exactly the StatusResponse; yaml the same data', () => {
    assert.deepEqual(JSON.parse(renderData('json', status)), status);
    assert.equal(
      renderData('yaml', { gateways: status.gateways.slice(0, 1), workloads: [], lanes: [] }),
      `gateways:
  - name: ingressgateway
    namespace: istio-system
    cluster: default
    url: http://127.0.0.1:40001
workloads: []
lanes: []
`,
    );
  });
});

describe('explain', () => {
  const res: ExplainResponse = {
    hops: [
      {
        hop: 'gateway istio-system/ingressgateway:80',
        request: 'GET / host 127.0.0.1:40001',
        outcome: '→ default/mocka lane v2 (127.0.0.1:41231)',
        steps: ['route 1 of istio-system/swimlane-ingress-vs: weight 20 of 100', 'set version: v2'],
      },
      {
        hop: 'sidecar outbound default/mocka-v2',
        request: 'GET / host mockb:8000 baggage version=v2',
        outcome: '→ default/mockb lane v1 (127.0.0.1:41300)',
        steps: ['tag v2 from baggage', 'lane v2 has no mockb: fallback v1'],
      },
    ],
    end: 'mockb-v1 has no upstream',
  };

  test('hop by hop: hop, request, outcome, indented steps, then why it ended', () => {
    assert.equal(
      renderExplain(res),
      `1. gateway istio-system/ingressgateway:80
   request: GET / host 127.0.0.1:40001
   outcome: → default/mocka lane v2 (127.0.0.1:41231)
     - route 1 of istio-system/swimlane-ingress-vs: weight 20 of 100
     - set version: v2

2. sidecar outbound default/mocka-v2
   request: GET / host mockb:8000 baggage version=v2
   outcome: → default/mockb lane v1 (127.0.0.1:41300)
     - tag v2 from baggage
     - lane v2 has no mockb: fallback v1

end: mockb-v1 has no upstream
`,
    );
  });

  test('a weighted choice: every branch with its share, the followed one marked', () => {
    const weighted: ExplainResponse = {
      hops: [
        {
          ...res.hops[0]!,
          branches: [
            { percent: 80, outcome: '→ default/mocka lane v1', name: 'v1', followed: false },
            { percent: 20, outcome: '→ default/mocka lane v2', name: 'v2', followed: true },
          ],
        },
      ],
      end: 'x',
    };
    assert.equal(
      renderExplain(weighted).split('\n').slice(0, 6).join('\n'),
      `1. gateway istio-system/ingressgateway:80
   request: GET / host 127.0.0.1:40001
   branches (the proxy draws one per request; --branch NAME follows another):
        80 %  → default/mocka lane v1
        20 %  → default/mocka lane v2   ← followed
   outcome: → default/mocka lane v2 (127.0.0.1:41231)`,
    );
  });

  test('json', () => {
    assert.equal(renderData('json', { hops: [], end: 'x' }), '{\n  "hops": [],\n  "end": "x"\n}\n');
  });
});

describe('describe', () => {
  test('fields, conditions, notes, instances, manifest', () => {
    const r = view(
      'Deployment',
      'apps/v1',
      'mocka-v1',
      'default',
      'default',
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'mocka-v1' },
        spec: { replicas: 1 },
      },
      {
        notes: [
          'mock.yaml:30:9: spec.template.spec.containers[0].imagePullPolicy: ignored in local mode',
        ],
        instances: [instance(0, 'ready')],
      },
    );
    assert.equal(
      renderDescribe(r),
      `Name:       mocka-v1
Namespace:  default
Cluster:    default
Kind:       Deployment (apps/v1)
Source:     mock.yaml:1
Conditions:
  TYPE           STATUS   REASON         MESSAGE
  Accepted       True     Accepted       accepted
  ResolvedRefs   True     ResolvedRefs   all references resolved
Notes:
  mock.yaml:30:9: spec.template.spec.containers[0].imagePullPolicy: ignored in local mode
Instances:
  INSTANCE   STATUS   PID    PORT    ENDPOINT          PROXY             RESTARTS   LAST EXIT   LOG
  0          ready    4100   41000   127.0.0.1:42000   127.0.0.1:43000   0          -           /tmp/s/logs/default.mocka-v1.0.log
Manifest:
  apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: mocka-v1
  spec:
    replicas: 1
`,
    );
  });

  test('a cluster-scoped, mesh-wide kind has neither namespace nor cluster', () => {
    const out = renderDescribe(
      view('Lane', 'lanes.dev/v1alpha1', 'v2', '', '', { spec: { group: 'shop' } }),
    );
    assert.match(out, /^Name: {7}v2\nKind: {7}Lane \(lanes\.dev\/v1alpha1\)\n/);
    assert.match(out, /\nNotes:\n {2}<none>\nManifest:\n/);
    assert.doesNotMatch(out, /Instances:/);
  });
});

describe('helpers', () => {
  test('renderTable pads every column but the last', () => {
    assert.equal(
      renderTable(
        ['A', 'LONGER'],
        [
          ['xyz', ''],
          ['', 'q'],
        ],
      ),
      'A     LONGER\nxyz\n      q\n',
    );
  });

  test('resourceRef: kubectl form from any of the daemon forms', () => {
    assert.equal(resourceRef('Deployment default/mocka-v1'), 'deployment.apps/mocka-v1');
    assert.equal(
      resourceRef('Deployment default/mocka-v1 (cluster dev)'),
      'deployment.apps/mocka-v1',
    );
    assert.equal(resourceRef('ASMSwimLane v1'), 'asmswimlane.istio.alibabacloud.com/v1');
    assert.equal(resourceRef('Service default/mocka'), 'service/mocka');
    assert.equal(resourceRef('apps/Deployment default/mocka-v1@dev'), 'deployment.apps/mocka-v1');
    assert.equal(resourceRef('/Service default/mocka'), 'service/mocka');
    assert.equal(resourceRef('lanes.dev/Lane v2'), 'lane.lanes.dev/v2');
    assert.equal(resourceRef('deployment.apps/mocka-v1'), 'deployment.apps/mocka-v1');
  });

  test('yaml keeps long lines whole', () => {
    const long = 'x'.repeat(150);
    assert.equal(renderData('yaml', { message: long }), `message: ${long}\n`);
  });
});

describe('requests', () => {
  const hop = (over: Partial<AccessLogEntry>): AccessLogEntry => ({
    time: '2026-01-01T09:07:29.976Z',
    hop: 'gateway',
    listener: 'gateway istio-system/ingressgateway:80',
    method: 'GET',
    authority: 'shop',
    path: '/',
    tag: 'v2',
    tagSource: 'route',
    service: 'default/mocka',
    lane: 'v2',
    subset: null,
    fallback: [],
    upstream: '127.0.0.1:41231',
    status: 200,
    bytesIn: 70,
    bytesOut: 120,
    durationUs: 12_300,
    error: null,
    attempts: 1,
    traceId: 'a'.repeat(32),
    ...over,
  });

  test('a request, then one line per hop: where it went, the instance, status, time and what happened', () => {
    assert.equal(
      renderRequest({
        traceId: 'a'.repeat(32),
        time: '2026-01-01T09:07:29.976Z',
        method: 'GET',
        authority: 'shop',
        path: '/',
        status: 200,
        durationUs: 12_300,
        tag: 'v2',
        hops: [
          hop({}),
          hop({
            hop: 'inbound',
            listener: 'sidecar inbound default/mocka-v2',
            service: null,
            lane: null,
            upstream: '127.0.0.1:39012',
            durationUs: 9_500,
          }),
          hop({
            hop: 'outbound',
            listener: 'sidecar outbound default/mocka-v2',
            service: 'default/mockb',
            lane: 'v1',
            fallback: ['v2:lacks-service'],
            upstream: '127.0.0.1:41300',
            durationUs: 4_000,
            attempts: 2,
            event: 'retried after UPSTREAM_RESET (closed), to lane v1',
          }),
        ],
      }),
      `09:07:29.976  GET shop/  200  12 ms  lane v2  trace ${'a'.repeat(32)}
  HOP                                      TO                                                       INSTANCE          STATUS   TIME     NOTE
  gateway istio-system/ingressgateway:80   → default/mocka lane v2                                  127.0.0.1:41231   200      12 ms
  sidecar inbound default/mocka-v2         → the app                                                127.0.0.1:39012   200      9.5 ms
  sidecar outbound default/mocka-v2        → default/mockb lane v1 (passed over v2:lacks-service)   127.0.0.1:41300   200      4.0 ms   2 attempts; retried after UPSTREAM_RESET (closed), to lane v1
`,
    );
  });
});
