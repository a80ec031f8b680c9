/**
 * Lane resolution: per service, the endpoints of every lane and the fallback chain of every lane
 * (lane → its own fallbacks depth-first → service baselines → group baseline → `(no lane)`).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertAllResolved, build, endpoint, service, yaml } from '../engine/test-fixtures.ts';
import { UNLANED } from './table.ts';

const lane = (name: string, spec: string) =>
  `apiVersion: lanes.dev/v1alpha1\nkind: Lane\nmetadata: { name: ${name} }\nspec: { group: g, ${spec} }`;

const GROUP = `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: g }
spec:
  routeHeader: x-lane
  carriers: [{ type: header, name: x-app-lane }, { type: baggage, key: lane }]
  baseline: base
  services: [a, { name: b, fallback: [base-b] }, c]`;

const TEXT = yaml(
  service('a'),
  service('b'),
  service('c'),
  GROUP,
  lane('base', 'selector: { v: base }'),
  lane('base-b', 'selector: { v: base-b }, services: [b]'),
  lane('l1', 'selector: { v: l1 }, services: [a], fallback: [l2, l3]'),
  lane('l2', 'selector: { v: l2 }, services: [c], fallback: [l4]'),
  lane('l3', 'selector: { v: l3 }, services: [b], fallback: [l1]'),
  lane('l4', 'selector: { v: l4 }, services: [b]'),
  lane('l5', 'selector: { v: l5 }, fallback: [off, l4]'),
  lane('off', 'selector: { v: off }, enabled: false, services: [a, b, c]'),
);

const ENDPOINTS = [
  endpoint('default/a', { v: 'base' }),
  endpoint('default/a', { v: 'l1' }),
  endpoint('default/a', { v: 'off' }),
  endpoint('default/a', { v: 'unknown' }),
  endpoint('default/a', {}),
  endpoint('default/b', { v: 'base' }),
  endpoint('default/b', { v: 'base-b' }, { healthy: false }),
  endpoint('default/b', { v: 'l3' }),
  endpoint('default/c', { v: 'l2' }),
];

const { table, statuses } = build(TEXT, ENDPOINTS);
const lanesOf = (svc: string) => {
  const l = table.services[`default/${svc}`]?.lanes;
  assert.ok(l, `default/${svc} has lane data`);
  return l;
};

describe('fallback chains', () => {
  test('the fixture compiles without problems', () => {
    assertAllResolved(statuses);
  });

  const cases: [string, string, readonly string[]][] = [
    ['a', 'l1', ['l1', 'base', UNLANED]],
    ['b', 'l1', ['l4', 'l3', 'base-b', 'base', UNLANED]],
    ['c', 'l1', ['l2', 'base', UNLANED]],
    ['b', 'l2', ['l4', 'base-b', 'base', UNLANED]],
    ['a', 'l3', ['l1', 'base', UNLANED]],
    ['b', 'l3', ['l3', 'l4', 'base-b', 'base', UNLANED]],
    ['c', 'l3', ['l2', 'base', UNLANED]],
    ['b', 'l5', ['l5', 'l4', 'base-b', 'base', UNLANED]],
    ['a', 'base', ['base', UNLANED]],
    ['b', 'base-b', ['base-b', 'base', UNLANED]],
    ['a', 'base-b', ['base', UNLANED]],
  ];
  for (const [svc, laneName, chain] of cases) {
    test(`${svc} in lane ${laneName}: ${chain.join(' → ')}`, () => {
      assert.deepEqual(lanesOf(svc).chains[laneName], chain);
    });
  }

  test('own fallbacks expand depth-first: l1 → l2 → l4 comes before l1 → l3', () => {
    const chain = lanesOf('b').chains.l1 ?? [];
    assert.ok(chain.indexOf('l4') < chain.indexOf('l3'));
  });

  test('a cycle (l1 → l3 → l1) ends: every lane appears once', () => {
    for (const svc of ['a', 'b', 'c']) {
      for (const [name, chain] of Object.entries(lanesOf(svc).chains)) {
        assert.equal(new Set(chain).size, chain.length, `${svc}/${name}: ${chain.join(',')}`);
        assert.equal(chain.at(-1), UNLANED);
      }
    }
  });

  test('baseline chains: service baselines, then the group baseline, then (no lane)', () => {
    assert.deepEqual(lanesOf('a').baselineChain, ['base', UNLANED]);
    assert.deepEqual(lanesOf('b').baselineChain, ['base-b', 'base', UNLANED]);
    assert.deepEqual(lanesOf('c').baselineChain, ['base', UNLANED]);
  });

  test('a disabled lane has no chain, is skipped in other chains, and says why', () => {
    for (const svc of ['a', 'b', 'c']) {
      assert.equal(lanesOf(svc).chains.off, undefined);
      assert.deepEqual(
        { ...lanesOf(svc).disabled },
        {
          off: 'it is disabled (spec.enabled: false)',
        },
      );
      for (const chain of Object.values(lanesOf(svc).chains)) assert.ok(!chain.includes('off'));
    }
    assert.equal(table.lanes.off?.enabled, false);
  });

  test('chains with the same lanes are one shared array', () => {
    assert.equal(lanesOf('a').chains.l1, lanesOf('a').chains.l3);
  });
});

describe('endpoints per lane', () => {
  const ids = (svc: string, laneName: string, which: 'all' | 'healthy' = 'all') =>
    (lanesOf(svc).byLane[laneName]?.[which] ?? []).map((e) => e.labels.v ?? '-');

  test('a lane has the endpoints its selector picks, for the services it contains', () => {
    assert.deepEqual(ids('a', 'l1'), ['l1']);
    assert.deepEqual(ids('b', 'l3'), ['l3']);
    assert.equal(lanesOf('a').byLane.l3, undefined, 'l3 does not contain a');
    assert.equal(lanesOf('b').byLane.l1, undefined, 'l1 does not contain b');
  });

  test('(no lane) holds the instances no lane selects, including disabled lanes', () => {
    assert.deepEqual(ids('a', UNLANED).sort(), ['-', 'unknown']);
    assert.deepEqual(ids('b', UNLANED), []);
  });

  test('unhealthy endpoints are in all but not in healthy', () => {
    assert.deepEqual(ids('b', 'base-b'), ['base-b']);
    assert.deepEqual(ids('b', 'base-b', 'healthy'), []);
  });
});

describe('strict groups', () => {
  const strict = build(
    yaml(
      service('a'),
      service('b'),
      `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: g }
spec: { routeHeader: x-lane, mode: strict, baseline: base, services: [a, b] }`,
      lane('base', 'selector: { v: base }'),
      lane('dev', 'selector: { v: dev }, services: [a], fallback: [base]'),
    ),
    [],
  ).table;

  test('a strict lane chain is the lane alone, or empty when it lacks the service', () => {
    assert.deepEqual(strict.services['default/a']?.lanes?.chains.dev, ['dev']);
    assert.deepEqual(strict.services['default/b']?.lanes?.chains.dev, []);
    assert.deepEqual(strict.services['default/b']?.lanes?.baselineChain, ['base', UNLANED]);
    assert.equal(strict.services['default/b']?.lanes?.mode, 'strict');
  });

  test('the tag context lists the strict lanes by selector (for untagged callers)', () => {
    assert.deepEqual(
      strict.tagContexts.map((c) => ({
        header: c.routeHeader,
        callerLanes: c.callerLanes.map((l) => `${l.lane}:${JSON.stringify(l.selector)}`),
      })),
      [{ header: 'x-lane', callerLanes: ['base:{"v":"base"}', 'dev:{"v":"dev"}'] }],
    );
  });
});

describe('tag contexts and edge hygiene', () => {
  test('groups sharing a route header share one context with merged carriers', () => {
    const t = build(
      yaml(
        service('a'),
        service('b'),
        service('c'),
        `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: one }
spec:
  routeHeader: x-lane
  carriers: [{ type: baggage, key: lane }, { type: traceId, header: x-request-id }]
  services: [a]`,
        `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: two }
spec:
  routeHeader: x-lane
  carriers: [{ type: header, name: x-app-lane }, { type: baggage, key: lane }, { type: traceId, header: traceparent }]
  services: [b]`,
        `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: three }
spec: { routeHeader: version, services: [c] }`,
      ),
      [],
    ).table;
    assert.deepEqual(
      t.tagContexts.map((c) => [c.routeHeader, c.headers, c.baggageKeys, c.traceHeaders, c.groups]),
      [
        ['version', [], [], [], ['LaneGroup/three']],
        [
          'x-lane',
          ['x-app-lane'],
          ['lane'],
          ['x-request-id', 'traceparent'],
          ['LaneGroup/one', 'LaneGroup/two'],
        ],
      ],
    );
    assert.deepEqual(t.edgeHygiene, {
      headers: ['version', 'x-app-lane', 'x-lane'],
      baggageKeys: ['lane'],
    });
  });

  test('edge hygiene lists the fixture group route header, custom carrier and baggage key', () => {
    assert.deepEqual(table.edgeHygiene, {
      headers: ['x-app-lane', 'x-lane'],
      baggageKeys: ['lane'],
    });
  });
});
