/**
 * Lane entry rules at gateways: plain conditions, then sticky percentages, then weights; weighted
 * rules share one draw in disjoint bands; sticky rules hash `<lane>/<key>`; a native ingress ends
 * with a default route to the baseline.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../../util/seeded-random.ts';
import { stickyBucket } from '../engine/hash.ts';
import {
  assertAllResolved,
  atGateway,
  build,
  conditionOf,
  endpoint,
  forwarded,
  gateway,
  laneOf,
  run,
  service,
  virtualService,
  yaml,
} from '../engine/test-fixtures.ts';

const GW = atGateway('default/gw');

const group = (extra: readonly string[] = []) =>
  [
    'apiVersion: lanes.dev/v1alpha1',
    'kind: LaneGroup',
    'metadata: { name: shop }',
    'spec:',
    '  routeHeader: x-lane',
    '  carriers: [{ type: baggage, key: lane }]',
    '  baseline: stable',
    '  services: [front, other]',
    '  ingress:',
    '    - gateway: default/gw',
    '      hosts: [shop.example.com]',
    '      destination: { host: front, port: 8000 }',
    ...extra,
  ].join('\n');

const lane = (name: string, entry: string) =>
  [
    'apiVersion: lanes.dev/v1alpha1',
    'kind: Lane',
    `metadata: { name: ${name} }`,
    `spec: { group: shop, selector: { version: ${name} }, entry: ${entry} }`,
  ].join('\n');

const BASE = [service('front'), service('other'), gateway('gw'), group(), lane('stable', '[]')];

const endpointsFor = (lanes: readonly string[]) =>
  ['stable', ...lanes].flatMap((v) => [
    endpoint('default/front', { version: v }),
    endpoint('default/other', { version: v }),
  ]);

const shop = (headers: Record<string, string> = {}, path = '/') => ({
  authority: 'shop.example.com',
  path,
  headers,
});

describe('weighted entry rules share one draw in disjoint bands', () => {
  const { table, statuses } = build(
    yaml(...BASE, lane('a-twenty', '[{ weight: 20 }]'), lane('b-ten', '[{ weight: 10 }]')),
    endpointsFor(['a-twenty', 'b-ten']),
  );

  test('two lanes with 20 and 10 compile without a status problem', () => {
    assertAllResolved(statuses);
  });

  const cases: [number, string][] = [
    [0, 'a-twenty'],
    [0.1999, 'a-twenty'],
    [0.2, 'b-ten'],
    [0.2999, 'b-ten'],
    [0.3, 'stable'],
    [0.9999, 'stable'],
  ];
  for (const [draw, want] of cases) {
    test(`a draw of ${draw} enters ${want}`, () => {
      assert.equal(laneOf(run(table, GW, shop(), () => draw)), want);
    });
  }

  test('10,000 requests split 20 % / 10 % / 70 %', () => {
    const random = seededRandom(7);
    const counts = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const lane = laneOf(run(table, GW, shop(), random));
      counts.set(lane, (counts.get(lane) ?? 0) + 1);
    }
    const share = (l: string) => ((counts.get(l) ?? 0) * 100) / 10_000;
    assert.ok(Math.abs(share('a-twenty') - 20) < 1.5, `a-twenty ${share('a-twenty')} %`);
    assert.ok(Math.abs(share('b-ten') - 10) < 1.5, `b-ten ${share('b-ten')} %`);
    assert.ok(Math.abs(share('stable') - 70) < 1.5, `stable ${share('stable')} %`);
  });

  test('the chosen lane is stamped into the route header and the baggage entry', () => {
    const d = forwarded(run(table, GW, shop(), () => 0.25));
    assert.deepEqual(d.requestOps, [
      { op: 'set', name: 'x-lane', value: 'b-ten' },
      { op: 'set-baggage', key: 'lane', value: 'b-ten' },
    ]);
    assert.deepEqual(d.tags, [
      { routeHeader: 'x-lane', lane: 'b-ten', source: 'route', from: 'x-lane' },
    ]);
  });

  test('the default ingress route sends the rest to the baseline without stamping a tag', () => {
    const d = forwarded(run(table, GW, shop(), () => 0.5));
    assert.equal(laneOf(d), 'stable');
    assert.deepEqual(d.tags, []);
    assert.deepEqual(d.requestOps, []);
    assert.equal(d.route?.name, 'shop/ingress');
  });

  test('weight 0 never enters its lane', () => {
    const t = build(yaml(...BASE, lane('zero', '[{ weight: 0 }]')), endpointsFor(['zero'])).table;
    for (const draw of [0, 0.001, 0.5])
      assert.equal(laneOf(run(t, GW, shop(), () => draw)), 'stable');
  });
});

describe('sticky entry rules', () => {
  const { table } = build(
    yaml(
      ...BASE,
      lane('s1', '[{ sticky: { percent: 30, header: x-user } }]'),
      lane('s2', '[{ sticky: { percent: 30, header: x-user } }]'),
      lane('sc', '[{ sticky: { percent: 50, cookie: uid } }]'),
    ),
    endpointsFor(['s1', 's2', 'sc']),
  );
  const users = Array.from({ length: 400 }, (_, i) => `user-${i}`);

  test('the same key always gets the same answer, whatever the random draw', () => {
    for (const user of users) {
      const a = laneOf(run(table, GW, shop({ 'x-user': user }), () => 0.01));
      const b = laneOf(run(table, GW, shop({ 'x-user': user }), () => 0.99));
      assert.equal(a, b, user);
    }
  });

  test('a key enters s1 when hash("s1/<key>") % 100 < 30, else s2 when hash("s2/<key>") % 100 < 30', () => {
    for (const user of users) {
      const want =
        stickyBucket('s1', user) < 30 ? 's1' : stickyBucket('s2', user) < 30 ? 's2' : 'stable';
      assert.equal(laneOf(run(table, GW, shop({ 'x-user': user }))), want, user);
    }
  });

  test('lanes are salted: s1 and s2 take different keys, about 30 % each', () => {
    const inS1 = users.filter((u) => stickyBucket('s1', u) < 30);
    const inS2 = users.filter((u) => stickyBucket('s2', u) < 30);
    assert.notDeepEqual(inS1, inS2);
    for (const set of [inS1, inS2]) {
      assert.ok(Math.abs((set.length * 100) / users.length - 30) < 7, `${set.length} of 400`);
    }
  });

  test('a cookie key works like a header key', () => {
    for (const user of users.slice(0, 100)) {
      const want = stickyBucket('sc', user) < 50 ? 'sc' : 'stable';
      assert.equal(laneOf(run(table, GW, shop({ cookie: `a=1; uid=${user}` }))), want, user);
    }
  });

  const absent: [string, Record<string, string>][] = [
    ['no key header', {}],
    ['an empty key header', { 'x-user': '' }],
    ['an empty cookie', { cookie: 'uid=' }],
    ['another cookie only', { cookie: 'session=abc' }],
  ];
  for (const [what, headers] of absent) {
    test(`a request with ${what} never enters a sticky lane`, () => {
      for (const draw of [0, 0.5, 0.99]) {
        assert.equal(laneOf(run(table, GW, shop(headers), () => draw)), 'stable');
      }
    });
  }
});

describe('entry rule order: plain conditions, then sticky, then weights, then VirtualServices', () => {
  const { table } = build(
    yaml(
      ...BASE,
      lane('a-weight', '[{ weight: 100 }]'),
      lane('m-sticky', '[{ sticky: { percent: 100, header: x-user } }]'),
      lane('z-plain', '[{ match: { header: { name: x-z, present: true } } }]'),
      virtualService('api', [
        'hosts: [shop.example.com]',
        'gateways: [gw]',
        'http:',
        '- match: [{ uri: { prefix: /api } }]',
        '  route: [{ destination: { host: other } }]',
      ]),
    ),
    endpointsFor(['a-weight', 'm-sticky', 'z-plain']),
  );

  const cases: [string, Record<string, string>, string][] = [
    [
      'a plain condition beats a sticky rule and a weight',
      { 'x-z': '1', 'x-user': 'u' },
      'z-plain',
    ],
    ['a sticky rule beats a weight', { 'x-user': 'u' }, 'm-sticky'],
    ['a weight takes the rest', {}, 'a-weight'],
  ];
  for (const [title, headers, want] of cases) {
    test(title, () => assert.equal(laneOf(run(table, GW, shop(headers, '/api/x'))), want));
  }

  test('the lane entry routes come before VirtualService routes, the baseline route last', () => {
    const vhost = table.gateways['default/gw']!.servers['80']!.hosts.exact['shop.example.com']!;
    assert.deepEqual(
      vhost.routes.map((r) => r.name),
      ['z-plain/rule-0', 'm-sticky/rule-0', 'a-weight/rule-0', 'default/api/0', 'shop/ingress'],
    );
  });

  test('a VirtualService route takes requests no entry rule took, before the baseline route', () => {
    const t = build(
      yaml(
        ...BASE,
        lane('z-plain', '[{ match: { header: { name: x-z, present: true } } }]'),
        virtualService('api', [
          'hosts: [shop.example.com]',
          'gateways: [gw]',
          'http:',
          '- match: [{ uri: { prefix: /api } }]',
          '  route: [{ destination: { host: other } }]',
        ]),
      ),
      endpointsFor(['z-plain']),
    ).table;
    assert.equal(forwarded(run(t, GW, shop({}, '/api/x'))).service, 'default/other');
    assert.equal(forwarded(run(t, GW, shop({}, '/web'))).service, 'default/front');
    assert.equal(laneOf(run(t, GW, shop({ 'x-z': '1' }, '/api/x'))), 'z-plain');
  });
});

describe('entry rules apply at the group ingress hosts only', () => {
  const { table } = build(
    yaml(...BASE, lane('v2', '[{ match: { header: { name: x-tester, present: true } } }]')),
    endpointsFor(['v2']),
  );

  test('another host of the gateway has no route (404 NO_ROUTE)', () => {
    const d = run(table, GW, { authority: 'other.example.com', headers: { 'x-tester': '1' } });
    assert.equal(d.kind, 'error');
    assert.equal(d.kind === 'error' && d.code, 'NO_ROUTE');
    assert.equal(d.kind === 'error' && d.status, 404);
  });

  test('the ingress host is matched case-insensitively and with a port', () => {
    const d = run(table, GW, { authority: 'SHOP.example.com:80', headers: { 'x-tester': '1' } });
    assert.equal(laneOf(d), 'v2');
  });
});

describe('a native entry rule that applies at no gateway is reported on its lane', () => {
  const noIngress = group().split('\n  ingress:')[0]!;
  const cases: { title: string; docs: readonly string[]; message: RegExp; outcome: string }[] = [
    {
      title: 'a group without ingress',
      docs: [service('front'), service('other'), gateway('gw'), noIngress, lane('stable', '[]')],
      message:
        /entry rule rule-0 applies at no gateway: LaneGroup shop has no spec\.ingress; add one naming the gateway/,
      outcome: 'NO_ROUTE',
    },
    {
      title: 'a rule naming a gateway that is not an ingress of the group',
      docs: BASE,
      message:
        /entry rule rule-0 applies at no gateway: it names default\/other-gw, and the ingresses of LaneGroup shop are default\/gw; name one of those/,
      outcome: 'lane stable',
    },
  ];
  for (const c of cases) {
    test(`${c.title}: ResolvedRefs False (NoIngress), and no route`, () => {
      const entry =
        c.docs === BASE
          ? '[{ gateways: [default/other-gw], weight: 100 }]'
          : '[{ gateways: [default/gw], destination: { host: front }, weight: 100 }]';
      const { table, statuses } = build(yaml(...c.docs, lane('v2', entry)), endpointsFor(['v2']));
      const condition = conditionOf(statuses, 'Lane', 'v2', 'ResolvedRefs');
      assert.equal(condition.status, 'False');
      assert.equal(condition.reason, 'NoIngress');
      assert.match(condition.message, c.message);
      const d = run(table, GW, shop());
      assert.equal(d.kind === 'error' ? d.code : `lane ${laneOf(d)}`, c.outcome);
    });
  }
});
