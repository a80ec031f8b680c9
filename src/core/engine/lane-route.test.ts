/**
 * Lane routing at run time: the tag's lane, its fallback chain to the first lane with a healthy
 * (and not ejected) endpoint, baselines for no / unknown / disabled tags, strict groups. The tag
 * itself never changes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Endpoint } from '../compiler/table.ts';
import {
  atGateway,
  build,
  endpoint,
  failed,
  forwarded,
  gateway,
  laneOf,
  outbound,
  run,
  service,
  virtualService,
  yaml,
} from './test-fixtures.ts';
import type { DecideContext, Decision } from './types.ts';

const lane = (name: string, spec: string, group = 'g') =>
  `apiVersion: lanes.dev/v1alpha1\nkind: Lane\nmetadata: { name: ${name} }\nspec: { group: ${group}, selector: { v: ${name} }${spec ? `, ${spec}` : ''} }`;

const GROUP = `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: g }
spec:
  routeHeader: x-lane
  carriers: [{ type: baggage, key: lane }]
  baseline: base
  services: [front, { name: b, fallback: [base-b] }]
  ingress: [{ gateway: default/gw, hosts: [shop.example.com], destination: { host: front } }]`;

const DOCS = [
  service('front'),
  service('b'),
  gateway('gw'),
  GROUP,
  lane('base', ''),
  lane('base-b', 'services: [b]'),
  lane('l1', 'services: [front], fallback: [l2, l3]'),
  lane('l2', 'services: [front], fallback: [l4]'),
  lane('l3', 'services: [b], fallback: [l1]'),
  lane('l4', 'services: [b]'),
  lane('off', 'enabled: false'),
];

/** Endpoints of b: one per lane, `healthy` lists which are up. */
function backs(healthy: readonly string[]): Endpoint[] {
  return ['base', 'base-b', 'l3', 'l4', 'off', 'none'].map((v, i) =>
    endpoint('default/b', v === 'none' ? {} : { v }, {
      healthy: healthy.includes(v),
      address: `10.7.0.${i + 1}`,
    }),
  );
}

const FRONTS = ['base', 'l1', 'l2'].map((v) => endpoint('default/front', { v }));

const steps = (d: Decision) =>
  (d.kind === 'forward' || d.kind === 'error' ? d.fallback : []).map(
    (f) => `${f.lane}:${f.reason}`,
  );

interface Case {
  readonly title: string;
  readonly tag: string | undefined;
  readonly healthy: readonly string[];
  readonly ctx?: DecideContext;
  readonly lane: string;
  readonly fallback: readonly string[];
}

const ALL = ['base', 'base-b', 'l3', 'l4', 'off', 'none'];

const cases: Case[] = [
  {
    title: 'a lane that lacks the service walks its own fallbacks depth-first: l1 → l2 → l4',
    tag: 'l1',
    healthy: ALL,
    lane: 'l4',
    fallback: ['l1:lacks-service'],
  },
  {
    title: 'an unhealthy fallback lane is passed over: l4 → l3',
    tag: 'l1',
    healthy: ['base', 'base-b', 'l3'],
    lane: 'l3',
    fallback: ['l1:lacks-service', 'l4:no-healthy-endpoints'],
  },
  {
    title: 'after the own fallbacks come the service baselines, then the group baseline',
    tag: 'l1',
    healthy: ['base'],
    lane: 'base',
    fallback: [
      'l1:lacks-service',
      'l4:no-healthy-endpoints',
      'l3:no-healthy-endpoints',
      'base-b:no-healthy-endpoints',
    ],
  },
  {
    title: 'instances in no lane come last',
    tag: 'l1',
    healthy: ['none'],
    lane: '(no lane)',
    fallback: [
      'l1:lacks-service',
      'l4:no-healthy-endpoints',
      'l3:no-healthy-endpoints',
      'base-b:no-healthy-endpoints',
      'base:no-healthy-endpoints',
    ],
  },
  {
    title: 'a lane that has the service and a healthy endpoint is used without fallback',
    tag: 'l3',
    healthy: ALL,
    lane: 'l3',
    fallback: [],
  },
  {
    title: 'a cycle (l3 → l1 → l2 → l4) ends and falls through to the baselines',
    tag: 'l3',
    healthy: ['base-b'],
    lane: 'base-b',
    fallback: ['l3:no-healthy-endpoints', 'l4:no-healthy-endpoints'],
  },
  {
    title: 'no tag uses the service baselines',
    tag: undefined,
    healthy: ALL,
    lane: 'base-b',
    fallback: [],
  },
  {
    title: 'an unknown tag uses the baselines',
    tag: 'nobody',
    healthy: ALL,
    lane: 'base-b',
    fallback: ['nobody:unknown-lane'],
  },
  {
    title: 'a disabled lane (enabled: false) uses the baselines',
    tag: 'off',
    healthy: ALL,
    lane: 'base-b',
    fallback: ['off:disabled'],
  },
  {
    title: 'ejected endpoints count as unhealthy and trigger fallback',
    tag: 'l3',
    healthy: ALL,
    ctx: { isEjected: (e) => e.labels.v === 'l3' || e.labels.v === 'l4' },
    lane: 'base-b',
    fallback: ['l3:no-healthy-endpoints', 'l4:no-healthy-endpoints'],
  },
];

describe('permissive lane routing at a sidecar', () => {
  for (const c of cases) {
    test(c.title, () => {
      const { table } = build(yaml(...DOCS), [...FRONTS, ...backs(c.healthy)]);
      const headers: Record<string, string> = c.tag === undefined ? {} : { 'x-lane': c.tag };
      const d = run(table, outbound(), { authority: 'b', headers }, undefined, c.ctx ?? {});
      assert.equal(laneOf(d), c.lane, d.steps.join('\n'));
      assert.deepEqual(steps(d), c.fallback);
    });
  }

  test('with no healthy endpoint anywhere: 503 LANE_NO_ENDPOINTS naming every lane tried', () => {
    const { table } = build(yaml(...DOCS), [...FRONTS, ...backs([])]);
    const d = failed(run(table, outbound(), { authority: 'b', headers: { 'x-lane': 'l1' } }));
    assert.deepEqual(
      [d.code, d.status, d.service, d.lane],
      ['LANE_NO_ENDPOINTS', 503, 'default/b', 'l1'],
    );
    assert.equal(
      d.message,
      'no healthy endpoint of default/b in lane l1, lane l4, lane l3, lane base-b, lane base, instances in no lane (request tagged l1)',
    );
  });

  test('the tag is never changed by fallback: it is restored on the request as it came', () => {
    const { table } = build(yaml(...DOCS), [...FRONTS, ...backs(['base'])]);
    const d = forwarded(
      run(table, outbound(), { authority: 'b', headers: { baggage: 'lane=l1' } }),
    );
    assert.equal(laneOf(d), 'base');
    assert.deepEqual(d.tags, [
      { routeHeader: 'x-lane', lane: 'l1', source: 'baggage', from: 'lane' },
    ]);
    assert.deepEqual(d.requestOps, [{ op: 'set', name: 'x-lane', value: 'l1' }]);
  });

  test('the next hop that has the lane returns into it: v2 → (baseline) → v2', () => {
    const { table } = build(yaml(...DOCS), [...FRONTS, ...backs(ALL)]);
    const first = forwarded(
      run(table, outbound(), { authority: 'front', headers: { 'x-lane': 'l3' } }),
    );
    assert.equal(laneOf(first), 'l1');
    const second = forwarded(
      run(table, outbound(), { authority: 'b', headers: { 'x-lane': 'l3' } }),
    );
    assert.equal(laneOf(second), 'l3');
  });

  test('explain steps say which lanes were passed over and why', () => {
    const { table } = build(yaml(...DOCS), [...FRONTS, ...backs(['base'])]);
    const d = run(table, outbound(), { authority: 'b', headers: { 'x-lane': 'l1' } });
    const text = d.steps.join('\n');
    assert.match(text, /lane l1 does not contain default\/b/);
    assert.match(text, /lane l4 has no healthy endpoint \(1 unhealthy\)/);
    assert.match(text, /→ lane base, a baseline of default\/b \(1 healthy endpoint\)/);
  });

  test('explain steps name a lane’s own fallback as such', () => {
    const { table } = build(yaml(...DOCS), [...FRONTS, ...backs(['l4', 'base'])]);
    const d = run(table, outbound(), { authority: 'b', headers: { 'x-lane': 'l1' } });
    assert.match(d.steps.join('\n'), /→ lane l4, a fallback of lane l1 \(1 healthy endpoint\)/);
  });

  test('without explain no steps are recorded', () => {
    const { table } = build(yaml(...DOCS), [...FRONTS, ...backs(ALL)]);
    const d = run(table, outbound(), { authority: 'b', headers: { 'x-lane': 'l1' } }, undefined, {
      explain: false,
    });
    assert.deepEqual(d.steps, []);
  });
});

describe('a gateway route to a lane subset', () => {
  const vs = virtualService('edge', [
    'hosts: [edge.example.com]',
    'gateways: [gw]',
    'http:',
    '- route: [{ destination: { host: b, subset: l1 } }]',
  ]);

  test('falls back along the lane chain in a permissive group', () => {
    const { table } = build(yaml(...DOCS, vs), [...FRONTS, ...backs(ALL)]);
    const d = forwarded(run(table, atGateway('default/gw'), 'edge.example.com'));
    assert.equal(laneOf(d), 'l4');
    assert.deepEqual(steps(d), ['l1:lacks-service']);
  });

  test('uses the lane directly when it has the service', () => {
    const { table } = build(yaml(...DOCS, vs.replace('subset: l1', 'subset: l3')), [
      ...FRONTS,
      ...backs(ALL),
    ]);
    assert.equal(laneOf(run(table, atGateway('default/gw'), 'edge.example.com')), 'l3');
  });

  test('a disabled lane subset uses the baselines', () => {
    const { table } = build(yaml(...DOCS, vs.replace('subset: l1', 'subset: off')), [
      ...FRONTS,
      ...backs(ALL),
    ]);
    const d = run(table, atGateway('default/gw'), 'edge.example.com');
    assert.equal(laneOf(d), 'base-b');
    assert.deepEqual(steps(d), ['off:disabled']);
  });
});

describe('strict groups', () => {
  const STRICT = `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: s }
spec: { routeHeader: x-lane, mode: strict, baseline: base, services: [front, b] }`;
  const docs = [
    service('front'),
    service('b'),
    gateway('gw'),
    STRICT,
    lane('base', '', 's'),
    lane('dev', 'services: [front]', 's'),
    lane('full', '', 's'),
    virtualService('edge', [
      'hosts: [edge.example.com]',
      'gateways: [gw]',
      'http:',
      '- route: [{ destination: { host: b, subset: dev } }]',
    ]),
  ];
  const eps = [
    ...['base', 'dev', 'full'].map((v) => endpoint('default/front', { v })),
    endpoint('default/b', { v: 'base' }),
    endpoint('default/b', { v: 'full' }, { healthy: false }),
  ];
  const { table } = build(yaml(...docs), eps);

  test('a tag whose lane lacks the service fails with 503 LANE_STRICT_MISS', () => {
    const d = failed(run(table, outbound(), { authority: 'b', headers: { 'x-lane': 'dev' } }));
    assert.deepEqual([d.code, d.status, d.lane], ['LANE_STRICT_MISS', 503, 'dev']);
    assert.match(
      d.message,
      /lane dev of strict group LaneGroup\/s does not contain default\/b; strict lanes never fall back/,
    );
  });

  test('a tag whose lane has no healthy endpoint fails with LANE_STRICT_MISS, without fallback', () => {
    const d = failed(run(table, outbound(), { authority: 'b', headers: { 'x-lane': 'full' } }));
    assert.equal(d.code, 'LANE_STRICT_MISS');
    assert.deepEqual(steps(d), ['full:no-healthy-endpoints']);
    assert.match(d.message, /has no healthy endpoint of default\/b/);
  });

  test('no tag and an unknown tag use the baseline', () => {
    assert.equal(laneOf(run(table, outbound(), 'b')), 'base');
    assert.equal(
      laneOf(run(table, outbound(), { authority: 'b', headers: { 'x-lane': 'zzz' } })),
      'base',
    );
  });

  test('an untagged request from a workload in a strict lane stays in that lane (tag source caller)', () => {
    const d = forwarded(run(table, outbound('default', { app: 'front', v: 'dev' }), 'front'));
    assert.equal(laneOf(d), 'dev');
    assert.deepEqual(
      d.tags.map((t) => [t.lane, t.source]),
      [['dev', 'caller']],
    );
    assert.deepEqual(d.requestOps, [{ op: 'set', name: 'x-lane', value: 'dev' }]);
    const miss = failed(run(table, outbound('default', { app: 'front', v: 'dev' }), 'b'));
    assert.equal(miss.code, 'LANE_STRICT_MISS');
  });

  test('a tag on the request beats the caller’s lane', () => {
    const d = run(table, outbound('default', { v: 'dev' }), {
      authority: 'b',
      headers: { 'x-lane': 'base' },
    });
    assert.equal(laneOf(d), 'base');
  });

  test('a caller in no lane sends untagged requests to the baseline', () => {
    assert.equal(laneOf(run(table, outbound('default', { v: 'other' }), 'front')), 'base');
  });

  test('a gateway route to a strict lane subset that lacks the service is LANE_STRICT_MISS', () => {
    assert.equal(
      failed(run(table, atGateway('default/gw'), 'edge.example.com')).code,
      'LANE_STRICT_MISS',
    );
  });
});
