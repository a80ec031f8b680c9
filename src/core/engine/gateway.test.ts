/**
 * A gateway hop: edge hygiene (or trusted client tags), tag stamping into every carrier, trace ids
 * for trace-id carriers, per-destination stamping of weighted splits, and 404s.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getBaggageValue } from '../carriers/baggage.ts';
import { applyHeaderOps, mapHeaders } from './apply-ops.ts';
import {
  atGateway,
  build,
  endpoint,
  failed,
  forwarded,
  gateway,
  laneOf,
  run,
  service,
  virtualService,
  yaml,
} from './test-fixtures.ts';
import type { Decision } from './types.ts';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const TRUST = { 'lanes.dev/trust-client-lane': 'true' };

const GROUP = `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: shop }
spec:
  routeHeader: x-lane
  carriers:
    - { type: header, name: x-app-lane }
    - { type: baggage, key: lane }
    - { type: traceId, header: traceparent }
    - { type: traceId, header: x-request-id }
  baseline: stable
  services: [front]
  ingress:
    - { gateway: default/gw, hosts: [shop.example.com], destination: { host: front } }
    - { gateway: default/trusted, hosts: [shop.example.com], destination: { host: front } }`;

const lane = (name: string, entry = '[]') =>
  `apiVersion: lanes.dev/v1alpha1\nkind: Lane\nmetadata: { name: ${name} }\nspec: { group: shop, selector: { version: ${name} }, entry: ${entry} }`;

const SPLIT = virtualService('split', [
  'hosts: [split.example.com]',
  'gateways: [gw]',
  'http:',
  '- headers: { request: { set: { x-route: r } } }',
  '  route:',
  '  - destination: { host: front, subset: stable }',
  '    weight: 80',
  '    headers: { request: { set: { x-lane: stable } } }',
  '  - destination: { host: front, subset: v2 }',
  '    weight: 20',
  '    headers: { request: { set: { x-lane: v2 } } }',
]);

const { table } = build(
  yaml(
    service('front'),
    gateway('gw'),
    gateway('trusted', [[80, ['*']]], 'default', TRUST),
    GROUP,
    lane('stable'),
    lane('v2', '[{ match: { header: { name: x-tester, present: true } } }]'),
    SPLIT,
  ),
  [endpoint('default/front', { version: 'stable' }), endpoint('default/front', { version: 'v2' })],
);

const GW = atGateway('default/gw');
const TRUSTED = atGateway('default/trusted');

/** The headers the gateway forwards (trace ids generated as `new`). */
function forwardedHeaders(d: Decision, sent: Record<string, string>): Record<string, string> {
  const map = new Map(Object.entries(sent));
  applyHeaderOps(mapHeaders(map), forwarded(d).requestOps, (h) => ({ [h]: 'new' }));
  return Object.fromEntries(map);
}

const shop = (headers: Record<string, string>) => ({ authority: 'shop.example.com', headers });

describe('edge hygiene at an untrusted gateway', () => {
  const cases: [string, Record<string, string>, Record<string, string>][] = [
    [
      'the route header a client sends is removed',
      { 'x-lane': 'v2', traceparent: TRACEPARENT, 'x-request-id': 'r1' },
      { traceparent: TRACEPARENT, 'x-request-id': 'r1' },
    ],
    [
      'a custom carrier header a client sends is removed',
      { 'x-app-lane': 'v2', traceparent: TRACEPARENT, 'x-request-id': 'r1' },
      { traceparent: TRACEPARENT, 'x-request-id': 'r1' },
    ],
    [
      'the lane baggage entry is removed and the other entries are kept',
      { baggage: 'user=alice;p=1,lane=v2,team=a', traceparent: TRACEPARENT, 'x-request-id': 'r1' },
      { baggage: 'user=alice;p=1,team=a', traceparent: TRACEPARENT, 'x-request-id': 'r1' },
    ],
    [
      'a baggage header with only the lane entry is dropped',
      { baggage: 'lane=v2', traceparent: TRACEPARENT, 'x-request-id': 'r1' },
      { traceparent: TRACEPARENT, 'x-request-id': 'r1' },
    ],
    [
      'other headers and other baggage are untouched',
      { 'x-user': 'bob', baggage: 'user=bob', traceparent: TRACEPARENT, 'x-request-id': 'r1' },
      { 'x-user': 'bob', baggage: 'user=bob', traceparent: TRACEPARENT, 'x-request-id': 'r1' },
    ],
  ];
  for (const [title, sent, want] of cases) {
    test(`${title}; the request goes to the baseline`, () => {
      const d = run(table, GW, shop(sent));
      assert.equal(laneOf(d), 'stable');
      assert.deepEqual(forwarded(d).tags, []);
      assert.deepEqual(forwardedHeaders(d, sent), want);
    });
  }

  test('explain says the client tag was removed', () => {
    const d = run(table, GW, shop({ 'x-lane': 'v2', baggage: 'lane=v2' }));
    assert.ok(
      d.steps.some((s) => s.startsWith('edge hygiene removed the client')),
      d.steps.join('\n'),
    );
  });

  test('an entry rule stamps its own lane over a removed client tag, keeping other baggage', () => {
    const sent = {
      'x-lane': 'dev',
      'x-tester': '1',
      baggage: 'lane=dev,user=alice',
      traceparent: TRACEPARENT,
    };
    const d = run(table, GW, shop(sent));
    assert.equal(laneOf(d), 'v2');
    const out = forwardedHeaders(d, sent);
    assert.equal(out['x-lane'], 'v2');
    assert.equal(out['x-app-lane'], 'v2');
    assert.equal(getBaggageValue(out.baggage, 'lane'), 'v2');
    assert.equal(getBaggageValue(out.baggage, 'user'), 'alice');
    assert.equal(out.traceparent, TRACEPARENT);
    assert.equal(out['x-request-id'], 'new');
  });
});

describe('trace ids at a gateway', () => {
  const cases: [string, Record<string, string>, string[]][] = [
    ['no trace headers: both are created', {}, ['traceparent', 'x-request-id']],
    ['a valid traceparent is kept', { traceparent: TRACEPARENT }, ['x-request-id']],
    [
      'an invalid traceparent is replaced',
      { traceparent: 'garbage', 'x-request-id': 'r1' },
      ['traceparent'],
    ],
    [
      'both present and valid: nothing is created',
      { traceparent: TRACEPARENT, 'x-request-id': 'r1' },
      [],
    ],
  ];
  for (const [title, sent, want] of cases) {
    test(`${title} (stamped request)`, () => {
      const d = forwarded(run(table, GW, shop({ ...sent, 'x-tester': '1' })));
      assert.deepEqual(
        d.requestOps
          .filter((o) => o.op === 'ensure-trace-id')
          .map((o) => ('header' in o ? o.header : '')),
        want,
      );
    });
    test(`${title} (baseline request without a tag)`, () => {
      const d = forwarded(run(table, GW, shop(sent)));
      assert.deepEqual(
        d.requestOps
          .filter((o) => o.op === 'ensure-trace-id')
          .map((o) => ('header' in o ? o.header : '')),
        want,
      );
    });
  }

  test('a sidecar never creates trace ids', () => {
    const d = forwarded(
      run(table, { kind: 'outbound', workload: { namespace: 'default', labels: {} } }, 'front'),
    );
    assert.ok(!d.requestOps.some((o) => o.op === 'ensure-trace-id'));
  });
});

describe('stamping the lane a route chose', () => {
  test('an entry rule stamps the route header, the custom header and the baggage entry', () => {
    const d = forwarded(
      run(table, GW, shop({ 'x-tester': '1', traceparent: TRACEPARENT, 'x-request-id': 'r' })),
    );
    assert.deepEqual(d.requestOps, [
      { op: 'set', name: 'x-lane', value: 'v2' },
      { op: 'set', name: 'x-app-lane', value: 'v2' },
      { op: 'set-baggage', key: 'lane', value: 'v2' },
    ]);
    assert.deepEqual(d.tags, [
      { routeHeader: 'x-lane', lane: 'v2', source: 'route', from: 'x-lane' },
    ]);
  });

  const split: [number, string][] = [
    [0.1, 'stable'],
    [0.79, 'stable'],
    [0.8, 'v2'],
    [0.95, 'v2'],
  ];
  for (const [draw, want] of split) {
    test(`a weighted split stamps the lane of the destination chosen (draw ${draw} → ${want})`, () => {
      const d = run(table, GW, { authority: 'split.example.com' }, () => draw);
      assert.deepEqual(forwarded(d).target, { kind: 'lane', group: 'LaneGroup/shop', lane: want });
      const out = forwardedHeaders(d, {});
      assert.deepEqual(
        [out['x-route'], out['x-lane'], out['x-app-lane'], getBaggageValue(out.baggage, 'lane')],
        ['r', want, want, want],
      );
      assert.deepEqual(
        forwarded(d).tags.map((t) => [t.lane, t.source]),
        [[want, 'route']],
      );
    });
  }
});

describe('a gateway that trusts client lane tags (lanes.dev/trust-client-lane: "true")', () => {
  test('the client route header is kept and used (source client)', () => {
    const d = forwarded(
      run(table, TRUSTED, shop({ 'x-lane': 'v2', traceparent: TRACEPARENT, 'x-request-id': 'r' })),
    );
    assert.equal(laneOf(d), 'v2');
    assert.deepEqual(d.tags, [
      { routeHeader: 'x-lane', lane: 'v2', source: 'client', from: 'x-lane' },
    ]);
    assert.ok(!d.requestOps.some((o) => o.op === 'remove' || o.op === 'remove-baggage'));
    assert.deepEqual(d.requestOps, [
      { op: 'set', name: 'x-app-lane', value: 'v2' },
      { op: 'set-baggage', key: 'lane', value: 'v2' },
    ]);
  });

  test('an entry rule still beats the client tag', () => {
    const d = forwarded(run(table, TRUSTED, shop({ 'x-lane': 'stable', 'x-tester': '1' })));
    assert.equal(laneOf(d), 'v2');
    assert.equal(d.tags[0]?.source, 'route');
  });

  const carriers: [string, Record<string, string>, string][] = [
    ['the client baggage entry', { baggage: 'lane=v2,user=a' }, 'lane'],
    ['the client custom carrier header', { 'x-app-lane': 'v2' }, 'x-app-lane'],
  ];
  for (const [what, headers, from] of carriers) {
    test(`${what} is used (source client)`, {}, () => {
      const d = forwarded(run(table, TRUSTED, shop(headers)));
      assert.deepEqual(d.tags, [{ routeHeader: 'x-lane', lane: 'v2', source: 'client', from }]);
      assert.equal(laneOf(d), 'v2');
      assert.equal(forwardedHeaders(d, headers)['x-lane'], 'v2');
    });
  }
});

describe('gateway 404s', () => {
  test('a host no VirtualService or ingress serves is 404 NO_ROUTE', () => {
    const d = failed(run(table, GW, 'unknown.example.com'));
    assert.deepEqual([d.code, d.status], ['NO_ROUTE', 404]);
    assert.equal(
      d.message,
      'no VirtualService for host "unknown.example.com" is bound to gateway default/gw',
    );
  });

  test('a port the gateway has no server for is 404 NO_ROUTE', () => {
    const d = failed(run(table, atGateway('default/gw', 8080), 'shop.example.com'));
    assert.deepEqual([d.code, d.status], ['NO_ROUTE', 404]);
    assert.match(d.message, /has no server on port 8080/);
  });

  test('a gateway that does not exist is 404 NO_ROUTE', () => {
    assert.equal(
      failed(run(table, atGateway('default/nope'), 'shop.example.com')).code,
      'NO_ROUTE',
    );
  });
});
