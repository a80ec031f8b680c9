/**
 * A sidecar's outbound hop: host → service (short names in the caller's namespace), mesh
 * VirtualServices (visibility, precedence over lanes), unknown hosts and ports.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  build,
  endpoint,
  failed,
  forwarded,
  laneOf,
  outbound,
  responded,
  run,
  service,
  virtualService,
  yaml,
} from './test-fixtures.ts';
import type { Decision } from './types.ts';

function outcome(d: Decision): string {
  switch (d.kind) {
    case 'forward':
      return d.service;
    case 'error':
      return `${d.code} ${d.status}`;
    case 'respond':
      return `respond ${d.body}`;
    case 'passthrough':
      return `passthrough ${d.authority}`;
    default:
      return d.kind;
  }
}

const MESH_REGISTRY_ONLY = `apiVersion: lanes.dev/v1alpha1
kind: Mesh
metadata: { name: default }
spec:
  outboundTrafficPolicy: { mode: REGISTRY_ONLY }`;

const BASE = [
  service('mockb', [8000]),
  service('mockb', [8000], 'team'),
  service('multi', [80, 9000]),
];
const ENDPOINTS = [endpoint('default/mockb'), endpoint('team/mockb'), endpoint('default/multi')];

describe('the host names a service; short names resolve in the caller’s namespace', () => {
  const { table } = build(yaml(...BASE), ENDPOINTS);
  const cases: [string, string, string][] = [
    ['default', 'mockb', 'default/mockb'],
    ['default', 'mockb:8000', 'default/mockb'],
    ['default', 'mockb.default', 'default/mockb'],
    ['default', 'mockb.default:8000', 'default/mockb'],
    ['default', 'mockb.default.svc', 'default/mockb'],
    ['default', 'mockb.default.svc.cluster.local', 'default/mockb'],
    ['default', 'mockb.default.svc.cluster.local:8000', 'default/mockb'],
    ['default', 'MockB.Default.SVC.cluster.local.', 'default/mockb'],
    ['team', 'mockb', 'team/mockb'],
    ['team', 'mockb.default', 'default/mockb'],
    ['default', 'mockb.team.svc.cluster.local', 'team/mockb'],
    ['qa', 'mockb', 'passthrough mockb'],
    ['default', 'mockb.nope', 'passthrough mockb.nope'],
    ['default', 'mockb.default.svc.cluster', 'passthrough mockb.default.svc.cluster'],
    ['default', 'www.example.com', 'passthrough www.example.com'],
    ['default', 'www.example.com:443', 'passthrough www.example.com:443'],
  ];
  for (const [ns, authority, want] of cases) {
    test(`${authority} from namespace ${ns} → ${want}`, () => {
      assert.equal(outcome(run(table, outbound(ns), authority)), want);
    });
  }

  test('an empty host is a 400 BAD_REQUEST', () => {
    assert.equal(outcome(run(table, outbound(), '')), 'BAD_REQUEST 400');
  });
});

describe('unknown hosts and ports', () => {
  test('an unknown host passes through under ALLOW_ANY (the default)', () => {
    const { table } = build(yaml(...BASE), ENDPOINTS);
    const d = run(table, outbound(), 'api.example.com');
    assert.equal(d.kind, 'passthrough');
    assert.equal(d.kind === 'passthrough' && d.authority, 'api.example.com');
  });

  test('an unknown host is a 502 REGISTRY_ONLY error with Mesh outboundTrafficPolicy REGISTRY_ONLY', () => {
    const { table } = build(yaml(...BASE, MESH_REGISTRY_ONLY), ENDPOINTS);
    const d = failed(run(table, outbound(), 'api.example.com'));
    assert.deepEqual([d.code, d.status], ['REGISTRY_ONLY', 502]);
    assert.match(d.message, /api\.example\.com is not a service of the mesh/);
    assert.equal(outcome(run(table, outbound(), 'mockb')), 'default/mockb');
  });

  test('an unknown port of a known service is a 404 NO_ROUTE', () => {
    const { table } = build(yaml(...BASE), ENDPOINTS);
    assert.equal(outcome(run(table, outbound(), 'mockb:9999')), 'NO_ROUTE 404');
    assert.equal(outcome(run(table, outbound(), 'multi:9000')), 'default/multi');
    assert.equal(outcome(run(table, outbound(), 'multi:80')), 'default/multi');
  });

  test('the forward port is the request port, or the only service port', () => {
    const { table } = build(yaml(...BASE), ENDPOINTS);
    assert.equal(forwarded(run(table, outbound(), 'mockb')).port, 8000);
    assert.equal(forwarded(run(table, outbound(), 'multi')).port, undefined);
    assert.equal(forwarded(run(table, outbound(), 'multi:9000')).port, 9000);
  });

  test('a service whose endpoints are all unhealthy is a 503 NO_HEALTHY_ENDPOINTS', () => {
    const { table } = build(yaml(...BASE), [endpoint('default/mockb', {}, { healthy: false })]);
    assert.equal(outcome(run(table, outbound(), 'mockb')), 'NO_HEALTHY_ENDPOINTS 503');
  });

  test('ejected endpoints count as unhealthy', () => {
    const { table } = build(yaml(...BASE), [
      endpoint('default/mockb', {}, { address: '10.9.0.1' }),
      endpoint('default/mockb', {}, { address: '10.9.0.2' }),
    ]);
    const d = run(table, outbound(), 'mockb', undefined, {
      isEjected: (e) => e.address === '10.9.0.1',
    });
    assert.deepEqual(
      forwarded(d).endpoints.map((e) => e.address),
      ['10.9.0.2'],
    );
    const all = run(table, outbound(), 'mockb', undefined, { isEjected: () => true });
    assert.equal(outcome(all), 'NO_HEALTHY_ENDPOINTS 503');
  });
});

describe('mesh VirtualServices at sidecars', () => {
  const answer = (name: string, hosts: string, ns: string, exportTo?: string) =>
    virtualService(
      name,
      [
        `hosts: [${hosts}]`,
        ...(exportTo ? [`exportTo: ${exportTo}`] : []),
        'http:',
        `- directResponse: { status: 200, body: { string: ${name} } }`,
      ],
      ns,
    );

  test('a VirtualService exported to "." is used only by callers in its namespace', () => {
    const { table } = build(
      yaml(...BASE, answer('team-only', 'mockb.default', 'team', '["."]')),
      ENDPOINTS,
    );
    assert.equal(outcome(run(table, outbound('team'), 'mockb.default')), 'respond team-only');
    assert.equal(outcome(run(table, outbound('default'), 'mockb')), 'default/mockb');
  });

  test('a VirtualService exported to a namespace list is used by those namespaces only', () => {
    const { table } = build(
      yaml(...BASE, answer('listed', 'mockb', 'default', '[qa, team]')),
      ENDPOINTS,
    );
    assert.equal(outcome(run(table, outbound('qa'), 'mockb.default')), 'respond listed');
    assert.equal(outcome(run(table, outbound('team'), 'mockb.default')), 'respond listed');
    assert.equal(outcome(run(table, outbound('default'), 'mockb')), 'default/mockb');
  });

  test('of several VirtualServices for one host, the first by namespace/name wins', () => {
    const { table } = build(
      yaml(
        ...BASE,
        answer('b-second', 'mockb', 'default'),
        answer('a-first', 'mockb.default.svc.cluster.local', 'team'),
      ),
      ENDPOINTS,
    );
    assert.equal(outcome(run(table, outbound('default'), 'mockb')), 'respond b-second');
    const t2 = build(
      yaml(...BASE, answer('b-second', 'mockb', 'default'), answer('a-first', 'mockb', 'default')),
      ENDPOINTS,
    ).table;
    assert.equal(outcome(run(t2, outbound('default'), 'mockb')), 'respond a-first');
  });

  test('a VirtualService the caller cannot see gives way to the next visible one', () => {
    const { table } = build(
      yaml(
        ...BASE,
        answer('a-qa', 'mockb', 'default', '[qa]'),
        answer('b-all', 'mockb', 'default'),
      ),
      ENDPOINTS,
    );
    assert.equal(outcome(run(table, outbound('qa'), 'mockb.default')), 'respond a-qa');
    assert.equal(outcome(run(table, outbound('default'), 'mockb')), 'respond b-all');
  });

  test('a VirtualService short host resolves in its own namespace, not the caller’s', () => {
    const { table } = build(yaml(...BASE, answer('team-vs', 'mockb', 'team')), ENDPOINTS);
    assert.equal(outcome(run(table, outbound('default'), 'mockb.team')), 'respond team-vs');
    assert.equal(outcome(run(table, outbound('default'), 'mockb')), 'default/mockb');
  });

  test('VirtualServices for external hosts: exact first, then the longest wildcard', () => {
    const { table } = build(
      yaml(
        ...BASE,
        answer('exact', 'api.example.com', 'default'),
        answer('wide', '"*.example.com"', 'default'),
        answer('narrow', '"*.eu.example.com"', 'default'),
      ),
      ENDPOINTS,
    );
    assert.equal(outcome(run(table, outbound(), 'api.example.com')), 'respond exact');
    assert.equal(outcome(run(table, outbound(), 'web.example.com:443')), 'respond wide');
    assert.equal(outcome(run(table, outbound(), 'web.eu.example.com')), 'respond narrow');
    assert.equal(outcome(run(table, outbound(), 'example.com')), 'passthrough example.com');
  });

  test('a VirtualService destination that is not a service is a 503 NO_SUCH_SERVICE', () => {
    const { table } = build(
      yaml(
        ...BASE,
        virtualService('v', [
          'hosts: [mockb]',
          'http:',
          '- route: [{ destination: { host: ghost } }]',
        ]),
      ),
      ENDPOINTS,
    );
    assert.equal(outcome(run(table, outbound(), 'mockb')), 'NO_SUCH_SERVICE 503');
  });

  test('a VirtualService subset that does not resolve is a 503 NO_SUCH_SUBSET', () => {
    const { table } = build(
      yaml(
        ...BASE,
        virtualService('v', [
          'hosts: [mockb]',
          'http:',
          '- route: [{ destination: { host: mockb, subset: nope } }]',
        ]),
      ),
      ENDPOINTS,
    );
    assert.equal(outcome(run(table, outbound(), 'mockb')), 'NO_SUCH_SUBSET 503');
  });
});

describe('mesh VirtualServices take precedence over lane routing', () => {
  const GROUP = `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: shop }
spec:
  routeHeader: x-lane
  carriers: [{ type: baggage, key: lane }]
  baseline: stable
  services: [back]`;
  const lane = (name: string) =>
    `apiVersion: lanes.dev/v1alpha1\nkind: Lane\nmetadata: { name: ${name} }\nspec: { group: shop, selector: { version: ${name} } }`;
  const DR = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: back, namespace: default }
spec:
  host: back
  subsets: [{ name: pinned, labels: { version: pinned } }, { name: v2, labels: { version: stable } }]`;
  const eps = ['stable', 'v2', 'pinned'].map((v) => endpoint('default/back', { version: v }));
  const docs = [service('back'), GROUP, lane('stable'), lane('v2'), DR];

  test('a VirtualService for the host overrides the lane tag', () => {
    const { table } = build(
      yaml(
        ...docs,
        virtualService('pin', [
          'hosts: [back]',
          'http:',
          '- route: [{ destination: { host: back, subset: pinned } }]',
        ]),
      ),
      eps,
    );
    const d = forwarded(run(table, outbound(), { authority: 'back', headers: { 'x-lane': 'v2' } }));
    assert.deepEqual(d.target, { kind: 'subset', subset: 'pinned' });
    assert.deepEqual(
      d.tags.map((t) => t.lane),
      ['v2'],
    );
  });

  test('a VirtualService matches the route header restored from baggage', () => {
    const { table } = build(
      yaml(
        ...docs,
        virtualService('by-tag', [
          'hosts: [back]',
          'http:',
          '- match: [{ headers: { x-lane: { exact: v2 } } }]',
          '  route: [{ destination: { host: back, subset: pinned } }]',
          '- route: [{ destination: { host: back } }]',
        ]),
      ),
      eps,
    );
    const tagged = forwarded(
      run(table, outbound(), { authority: 'back', headers: { baggage: 'lane=v2' } }),
    );
    assert.deepEqual(tagged.target, { kind: 'subset', subset: 'pinned' });
    assert.deepEqual(tagged.requestOps, [{ op: 'set', name: 'x-lane', value: 'v2' }]);
    const untagged = forwarded(run(table, outbound(), 'back'));
    assert.equal(laneOf(untagged), 'stable');
  });

  test('a DestinationRule subset wins over a lane of the same name', () => {
    const { table } = build(
      yaml(
        ...docs,
        virtualService('v', [
          'hosts: [back]',
          'http:',
          '- route: [{ destination: { host: back, subset: v2 } }]',
        ]),
      ),
      eps,
    );
    const d = forwarded(run(table, outbound(), 'back'));
    assert.deepEqual(d.target, { kind: 'subset', subset: 'v2' });
    assert.deepEqual(
      d.endpoints.map((e) => e.labels.version),
      ['stable'],
    );
  });

  test('a VirtualService subset naming a lane routes into the lane', () => {
    const { table } = build(
      yaml(
        service('back'),
        GROUP,
        lane('stable'),
        lane('v2'),
        virtualService('v', [
          'hosts: [back]',
          'http:',
          '- route: [{ destination: { host: back, subset: v2 } }]',
        ]),
      ),
      eps,
    );
    const d = forwarded(run(table, outbound(), 'back'));
    assert.deepEqual(d.target, { kind: 'lane', group: 'LaneGroup/shop', lane: 'v2' });
  });

  test('a directResponse VirtualService answers before any lane routing', () => {
    const { table } = build(
      yaml(
        ...docs,
        virtualService('v', ['hosts: [back]', 'http:', '- directResponse: { status: 503 }']),
      ),
      eps,
    );
    assert.equal(
      responded(run(table, outbound(), { authority: 'back', headers: { 'x-lane': 'v2' } })).status,
      503,
    );
  });
});
