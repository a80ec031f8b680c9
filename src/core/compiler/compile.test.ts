/**
 * compile(): deterministic whatever the input order, deep-frozen output, null-prototype
 * dictionaries, and a source back-pointer on every compiled route.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Resource } from '../../config/resource/resource.ts';
import { seededRandom } from '../../util/seeded-random.ts';
import {
  assertAllResolved,
  atGateway,
  build,
  endpoint,
  forwarded,
  gateway,
  laneOf,
  load,
  outbound,
  run,
  service,
  virtualService,
  yaml,
} from '../engine/test-fixtures.ts';
import { compile } from './compile.ts';
import type { CompiledRoute, Endpoint, RoutingTable, VirtualHost } from './table.ts';

const RICH = yaml(
  service('front'),
  service('back', [8000, 9000]),
  service('db', [5432], 'data'),
  gateway('gw', [
    [80, ['*']],
    [8080, ['*.example.com', 'api.example.com']],
  ]),
  gateway('ingressgateway', [[80, ['*']]], 'istio-system'),
  `apiVersion: lanes.dev/v1alpha1
kind: Mesh
metadata: { name: default }
spec:
  outboundTrafficPolicy: { mode: REGISTRY_ONLY }`,
  `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: shop }
spec:
  routeHeader: x-lane
  carriers: [{ type: baggage, key: lane }, { type: traceId, header: traceparent }]
  baseline: stable
  services: [front, { name: back, fallback: [stable] }]
  ingress:
    - gateway: default/gw
      hosts: ["shop.example.com"]
      destination: { host: front, port: 8000 }`,
  `apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: stable }
spec: { group: shop, selector: { version: stable } }`,
  `apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v2 }
spec:
  group: shop
  selector: { version: v2 }
  services: [front]
  entry:
    - { name: testers, match: { header: { name: x-tester, present: true } } }
    - { name: canary, weight: 20 }`,
  `apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: dev }
spec:
  group: shop
  selector: { version: dev }
  services: [back]
  fallback: [v2]
  entry:
    - { name: devs, sticky: { percent: 30, header: x-user } }`,
  `apiVersion: istio.alibabacloud.com/v1
kind: ASMSwimLaneGroup
metadata: { name: data }
spec:
  ingress: { gateway: { name: ingressgateway, namespace: istio-system, type: ASM } }
  isPermissive: true
  permissiveModeConfiguration:
    routeHeader: version
    serviceLevelFallback: { data/db: base }
    traceHeader: baggage
  services: [{ name: db, namespace: data }]`,
  `apiVersion: istio.alibabacloud.com/v1
kind: ASMSwimLane
metadata: { name: base, labels: { swimlane-group: data } }
spec:
  labelSelector: { version: base }
  services: [{ name: db, namespace: data }]`,
  `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: back, namespace: default }
spec:
  host: back
  trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } }
  subsets:
    - { name: s1, labels: { version: stable } }
    - { name: s2, labels: { version: dev } }`,
  virtualService('back-routes', [
    'hosts: [back]',
    'http:',
    '- match: [{ headers: { x-debug: { exact: "1" } } }]',
    '  route: [{ destination: { host: back, subset: s2 } }]',
    '- route:',
    '  - { destination: { host: back, subset: s1 }, weight: 25 }',
    '  - { destination: { host: back, subset: s2 }, weight: 75 }',
  ]),
  virtualService('edge', [
    'hosts: ["*.example.com"]',
    'gateways: [gw]',
    'http:',
    '- match: [{ uri: { prefix: /api } }]',
    '  rewrite: { uri: /v1 }',
    '  route: [{ destination: { host: back, port: { number: 9000 } } }]',
    '- redirect: { uri: /home }',
  ]),
  virtualService('external', [
    'hosts: [www.example.org, "*.cdn.example.net"]',
    'http:',
    '- route: [{ destination: { host: front } }]',
  ]),
);

const ENDPOINTS: Endpoint[] = [
  endpoint('default/front', { version: 'stable' }, { address: '10.1.0.1' }),
  endpoint('default/front', { version: 'v2' }, { address: '10.1.0.2' }),
  endpoint('default/front', { version: 'stable' }, { address: '10.1.0.3', healthy: false }),
  endpoint('default/back', { version: 'stable' }, { address: '10.2.0.1' }),
  endpoint('default/back', { version: 'dev' }, { address: '10.2.0.2', cluster: 'dev' }),
  endpoint('default/back', { version: 'stable' }, { address: '10.2.0.1', cluster: 'dev' }),
  endpoint('data/db', { version: 'base' }, { address: '10.3.0.1', port: 5432 }),
  endpoint('data/db', { version: 'other' }, { address: '10.3.0.2', port: 5432 }),
];

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Every object reachable from a value, with the path that reaches it. */
function* objects(
  value: unknown,
  path = '$',
  seen = new Set<unknown>(),
): Generator<[string, object]> {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  yield [path, value];
  if (value instanceof RegExp) return;
  for (const key of Object.keys(value)) {
    yield* objects((value as Record<string, unknown>)[key], `${path}.${key}`, seen);
  }
}

function vhostsOf(table: RoutingTable): [string, VirtualHost][] {
  const out: [string, VirtualHost][] = [];
  for (const svc of Object.values(table.services))
    for (const v of svc.meshRoutes) out.push([`service ${svc.key}`, v]);
  for (const [host, list] of Object.entries(table.externalHosts))
    for (const v of list) out.push([`external ${host}`, v]);
  for (const w of table.externalWildcards)
    for (const v of w.vhosts) out.push([`external *${w.suffix}`, v]);
  for (const gw of Object.values(table.gateways)) {
    for (const server of Object.values(gw.servers)) {
      const where = `gateway ${gw.key}:${server.port}`;
      for (const v of Object.values(server.hosts.exact)) out.push([where, v]);
      for (const w of server.hosts.wildcards) out.push([where, w.vhost]);
      if (server.hosts.any) out.push([where, server.hosts.any]);
    }
  }
  return out;
}

function routesOf(table: RoutingTable): [string, CompiledRoute][] {
  return vhostsOf(table).flatMap(([where, v]) =>
    v.routes.map((r): [string, CompiledRoute] => [`${where} ${v.host} ${r.name}`, r]),
  );
}

describe('compile() is deterministic', () => {
  const resources = load(RICH);
  const reference = compile(resources, ENDPOINTS);

  test('the fixture compiles with every reference resolved', () => {
    assertAllResolved(reference.statuses);
    assert.ok(routesOf(reference.table).length >= 10);
  });

  for (const seed of [1, 2, 3, 4, 5, 6]) {
    test(`resources and endpoints shuffled with seed ${seed} compile to an equal table and statuses`, () => {
      const random = seededRandom(seed);
      const again = compile(shuffled(resources, random), shuffled(ENDPOINTS, random));
      assert.deepStrictEqual(again.table, reference.table);
      assert.deepStrictEqual(again.statuses, reference.statuses);
    });
  }

  test('reversed input compiles to an equal table and statuses', () => {
    const again = compile([...resources].reverse(), [...ENDPOINTS].reverse());
    assert.deepStrictEqual(again.table, reference.table);
    assert.deepStrictEqual(again.statuses, reference.statuses);
  });

  test('compiling twice from the same input gives equal, separate tables', () => {
    const again = compile(resources, ENDPOINTS);
    assert.notEqual(again.table, reference.table);
    assert.deepStrictEqual(again.table, reference.table);
  });

  test('endpoints are kept in address, port and cluster order', () => {
    const back = reference.table.services['default/back'];
    assert.ok(back);
    assert.deepEqual(
      back.all.map((e) => `${e.address}:${e.port}@${e.cluster}`),
      ['10.2.0.1:8000@default', '10.2.0.1:8000@dev', '10.2.0.2:8000@dev'],
    );
    assert.deepEqual(
      reference.table.services['default/front']?.healthy.map((e) => e.id),
      ['10.1.0.1:8000', '10.1.0.2:8000'],
    );
  });
});

describe('the compiled table and statuses are deep-frozen', () => {
  const { table, statuses } = compile(load(RICH), ENDPOINTS);

  test('every object reachable from the table is frozen', () => {
    const open = [...objects(table)].filter(([, o]) => !Object.isFrozen(o)).map(([p]) => p);
    assert.deepEqual(open, []);
  });

  test('every object reachable from the statuses is frozen', () => {
    const open = [...objects(statuses)].filter(([, o]) => !Object.isFrozen(o)).map(([p]) => p);
    assert.deepEqual(open, []);
  });

  const svc = () => table.services['default/front']!;
  const mutations: [string, () => void][] = [
    ['adding a service', () => Object.assign(table.services, { 'default/x': svc() })],
    [
      'replacing a service',
      () => {
        (table.services as Record<string, unknown>)['default/front'] = undefined;
      },
    ],
    ['pushing an endpoint', () => (svc().healthy as unknown[]).push(svc().healthy[0])],
    [
      'changing an endpoint label',
      () => {
        (svc().all[0]!.labels as Record<string, string>).version = 'hacked';
      },
    ],
    [
      'extending a fallback chain',
      () => (svc().lanes!.chains.stable as string[]).push('(no lane)'),
    ],
    [
      'adding a lane endpoint set',
      () => Object.assign(svc().lanes!.byLane, { x: { all: [], healthy: [] } }),
    ],
    [
      'adding a gateway server',
      () => Object.assign(table.gateways['default/gw']!.servers, { '1': {} }),
    ],
    [
      'adding an exact gateway host',
      () => Object.assign(table.gateways['default/gw']!.servers['80']!.hosts.exact, { h: {} }),
    ],
    ['adding a mesh route', () => (svc().meshRoutes as unknown[]).push({})],
    [
      "reordering a host's routes",
      () => (table.services['default/back']!.meshRoutes[0]!.routes as unknown[]).reverse(),
    ],
    [
      'changing a route weight',
      () => {
        const route = table.services['default/back']!.meshRoutes[0]!.routes[1]!;
        assert.equal(route.action.kind, 'route');
        (route.action.destinations[0] as { weight: number }).weight = 100;
      },
    ],
    [
      'changing the mesh policy',
      () => {
        (table.mesh as { outboundTrafficPolicy: string }).outboundTrafficPolicy = 'ALLOW_ANY';
      },
    ],
    ['removing an edge hygiene header', () => (table.edgeHygiene.headers as string[]).pop()],
    ['adding a status', () => (statuses as unknown[]).push({})],
    [
      'changing a condition',
      () => {
        (statuses[0]!.conditions[0] as { status: string }).status = 'False';
      },
    ],
    ['adding a status note', () => (statuses[0]!.notes as unknown[]).push({})],
  ];
  for (const [what, mutate] of mutations) {
    test(`${what} throws a TypeError`, () => assert.throws(mutate, TypeError));
  }

  test('a frozen global regex in a uriRegexRewrite can still be applied to a path', {}, () => {
    const t = build(
      yaml(
        service('mockb'),
        virtualService('v', [
          'hosts: [mockb]',
          'http:',
          '- rewrite: { uriRegexRewrite: { match: "^/v1/([a-z]+)/([0-9]+)$", rewrite: "/\\\\2/\\\\1" } }',
          '  route: [{ destination: { host: mockb } }]',
        ]),
      ),
      [endpoint('default/mockb')],
    ).table;
    const rw = forwarded(run(t, outbound(), 'mockb')).route?.rewrite?.uriRegex;
    assert.ok(rw);
    assert.equal('/v1/users/42'.replace(rw.regexp, rw.replacement), '/42/users');
  });
});

describe('compile() does not change its inputs', () => {
  test('endpoint label objects stay mutable', {}, () => {
    const ep = endpoint('default/front', { version: 'v1' });
    compile(load(service('front')), [ep]);
    assert.equal(Object.isFrozen(ep.labels), false);
  });

  test('resource specs stay mutable', {}, () => {
    const resources = load(
      yaml(
        `apiVersion: lanes.dev/v1alpha1
kind: Mesh
metadata: { name: default }
spec:
  outboundTrafficPolicy: { mode: REGISTRY_ONLY }`,
      ),
    );
    compile(resources, []);
    assert.equal(Object.isFrozen(resources[0]!.spec), false);
  });

  test('the input arrays are not reordered', () => {
    const resources = load(RICH);
    const before = resources.map((r: Resource) => r.metadata.name);
    const eps = [...ENDPOINTS].reverse();
    const epsBefore = eps.map((e) => e.address);
    compile(resources, eps);
    assert.deepEqual(
      resources.map((r) => r.metadata.name),
      before,
    );
    assert.deepEqual(
      eps.map((e) => e.address),
      epsBefore,
    );
  });
});

describe('dictionaries in the table have null prototypes', () => {
  const { table } = compile(load(RICH), ENDPOINTS);
  const front = table.services['default/front']!;
  const back = table.services['default/back']!;
  const gw = table.gateways['default/gw']!;
  const dicts: [string, object][] = [
    ['table.services', table.services],
    ['table.gateways', table.gateways],
    ['table.groups', table.groups],
    ['table.lanes', table.lanes],
    ['table.externalHosts', table.externalHosts],
    ['service.subsets', back.subsets],
    ['service.policyByPort', back.policyByPort],
    ['service.lanes.byLane', front.lanes!.byLane],
    ['service.lanes.chains', front.lanes!.chains],
    ['service.lanes.disabled', front.lanes!.disabled],
    ['gateway.servers', gw.servers],
    ['server.hosts.exact', gw.servers['8080']!.hosts.exact],
  ];
  for (const [name, dict] of dicts) {
    test(`${name} has a null prototype`, () => assert.equal(Object.getPrototypeOf(dict), null));
  }

  test('label dictionaries (lane selectors, subset labels, endpoint labels) have null prototypes', {}, () => {
    const labelDicts: [string, object][] = [
      ['lane.selector', table.lanes.v2!.selector],
      ['subset.labels', back.subsets.s1!.labels],
      ['endpoint.labels', front.all[0]!.labels],
    ];
    assert.deepEqual(
      labelDicts.filter(([, d]) => Object.getPrototypeOf(d) !== null).map(([n]) => n),
      [],
    );
  });

  test('inherited names are not entries', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      assert.equal(table.services[name], undefined);
      assert.equal(table.lanes[name], undefined);
      assert.equal(front.lanes!.chains[name], undefined);
      assert.equal(gw.servers['80']!.hosts.exact[name], undefined);
    }
  });
});

describe('user-chosen names that collide with Object.prototype work', () => {
  const text = yaml(
    service('constructor'),
    service('tostring'),
    gateway('gw'),
    `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: constructor }
spec:
  routeHeader: x-lane
  baseline: constructor
  services: [constructor]`,
    `apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: constructor }
spec: { group: constructor, selector: { version: base } }`,
    `apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: valueof }
spec: { group: constructor, selector: { version: valueof } }`,
    virtualService('c', [
      'hosts: ["*"]',
      'gateways: [gw]',
      'http:',
      '- route: [{ destination: { host: constructor } }]',
    ]),
  );
  const { table, statuses } = build(text, [
    endpoint('default/constructor', { version: 'base' }),
    endpoint('default/constructor', { version: 'valueof' }),
    endpoint('default/tostring'),
  ]);

  test('the group, its lanes and the service compile without problems', () => {
    assertAllResolved(statuses);
    assert.ok(table.services['default/constructor']);
    const laneName: string = 'constructor';
    assert.equal(table.lanes[laneName]?.enabled, true);
    assert.equal(table.lanes[laneName]?.name, 'constructor');
  });

  const cases: [string, Record<string, string>, string][] = [
    ['a tag naming the lane constructor', { 'x-lane': 'constructor' }, 'constructor'],
    ['a tag naming the lane valueof', { 'x-lane': 'valueof' }, 'valueof'],
    ['a tag __proto__ (no such lane)', { 'x-lane': '__proto__' }, 'constructor'],
    ['a tag toString (no such lane)', { 'x-lane': 'toString' }, 'constructor'],
    ['a tag hasOwnProperty (no such lane)', { 'x-lane': 'hasOwnProperty' }, 'constructor'],
  ];
  for (const [what, headers, lane] of cases) {
    test(`${what} routes the service constructor to lane ${lane}`, () => {
      assert.equal(laneOf(run(table, outbound(), { authority: 'constructor', headers })), lane);
    });
  }

  for (const host of ['__proto__', 'constructor', 'tostring', 'hasownproperty']) {
    test(`a gateway request for host ${host} reaches the catch-all VirtualService`, () => {
      assert.equal(
        forwarded(run(table, atGateway('default/gw'), host)).service,
        'default/constructor',
      );
    });
  }

  test('an outbound call to host __proto__ is passed through, not resolved to a prototype', () => {
    assert.equal(run(table, outbound(), '__proto__').kind, 'passthrough');
  });
});

describe('every compiled route points back to its source', () => {
  const resources = load(RICH);
  const { table } = compile(resources, ENDPOINTS);
  const routes = routesOf(table);

  test('the fixture has mesh, external, gateway and entry routes', () => {
    const kinds = new Set(routes.map(([, r]) => r.source.kind));
    assert.deepEqual([...kinds].sort(), ['LaneGroup', 'Lane', 'VirtualService'].sort());
  });

  for (const [where, route] of routes) {
    test(`${where} has kind, name and field path`, () => {
      assert.ok(route.source.kind.length > 0);
      assert.equal(typeof route.source.namespace, 'string');
      assert.ok(route.source.name.length > 0);
      assert.match(route.source.path ?? '', /^spec\.[a-zA-Z]+\[\d+\]/);
      // The resource it names was given to compile(), and the path is a field written in it.
      const from = resources.find(
        (r) =>
          r.kind === route.source.kind &&
          r.metadata.namespace === route.source.namespace &&
          r.metadata.name === route.source.name,
      );
      assert.ok(from, `${route.source.kind} ${route.source.namespace}/${route.source.name} exists`);
      const item = /^spec\.[a-zA-Z]+\[\d+\]/.exec(route.source.path ?? '')![0];
      assert.ok(Object.hasOwn(from.origin.positions, item), `${item} is written in it`);
      if (route.action.kind === 'route') {
        for (const d of route.action.destinations) {
          assert.equal(d.source.kind, route.source.kind);
          assert.ok((d.source.path ?? '').startsWith(route.source.path?.split('.match')[0] ?? '?'));
        }
      }
    });
  }

  test('a VirtualService route points at its match block', () => {
    const vhost = table.services['default/back']!.meshRoutes[0]!;
    assert.deepEqual(vhost.source, {
      kind: 'VirtualService',
      namespace: 'default',
      name: 'back-routes',
    });
    assert.deepEqual(
      vhost.routes.map((r) => r.source),
      [
        {
          kind: 'VirtualService',
          namespace: 'default',
          name: 'back-routes',
          path: 'spec.http[0].match[0]',
        },
        { kind: 'VirtualService', namespace: 'default', name: 'back-routes', path: 'spec.http[1]' },
      ],
    );
    const action = vhost.routes[1]!.action;
    assert.equal(action.kind, 'route');
    assert.deepEqual(
      action.destinations.map((d) => d.source.path),
      ['spec.http[1].route[0]', 'spec.http[1].route[1]'],
    );
  });

  test('a lane entry route points at the Lane rule', () => {
    const sources = routes.filter(([, r]) => r.source.kind === 'Lane').map(([, r]) => r.source);
    assert.deepEqual([...new Set(sources.map((s) => `${s.name} ${s.path}`))].sort(), [
      'dev spec.entry[0]',
      'v2 spec.entry[0]',
      'v2 spec.entry[1]',
    ]);
  });
});
