/**
 * Route plans: runs of header-exact routes become one lookup, and first-match results stay those
 * of a plain scan.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../../util/seeded-random.ts';
import { firstMatch, MatchInput, matches } from '../engine/match.ts';
import {
  build,
  endpoint,
  gateway,
  req,
  service,
  virtualService,
  yaml,
} from '../engine/test-fixtures.ts';
import type { VirtualHost } from './table.ts';

const VALUES = ['a', 'b', 'c', 'd', 'e', 'A', '', 'constructor', '__proto__', 'toString'];

const exactRoute = (header: string, value: string, dest: string) => [
  `- match: [{ headers: { ${header}: { exact: ${JSON.stringify(value)} } } }]`,
  `  route: [{ destination: { host: ${dest} } }]`,
];

/** Routes: a run of 6 on x-lane (with a repeated value), a mixed route, a run of 3, a run of 5. */
const HTTP = [
  ...exactRoute('x-lane', 'a', 's1'),
  ...exactRoute('x-lane', 'b', 's2'),
  ...exactRoute('x-lane', 'a', 's3'),
  ...exactRoute('x-lane', 'constructor', 's4'),
  ...exactRoute('x-lane', '', 's5'),
  ...exactRoute('x-lane', '__proto__', 's6'),
  '- match: [{ headers: { x-lane: { exact: c }, x-user: { exact: a } } }]',
  '  route: [{ destination: { host: s7 } }]',
  ...exactRoute('x-user', 'a', 's8'),
  ...exactRoute('x-user', 'b', 's9'),
  ...exactRoute('x-user', 'c', 's10'),
  ...exactRoute('x-lane', 'c', 's11'),
  ...exactRoute('x-lane', 'd', 's12'),
  ...exactRoute('x-lane', 'e', 's13'),
  ...exactRoute('x-lane', 'c', 's14'),
  ...exactRoute('x-lane', 'toString', 's15'),
  '- match: [{ withoutHeaders: { x-user: { exact: e } } }]',
  '  route: [{ destination: { host: s16 } }]',
];

const services = Array.from({ length: 16 }, (_, i) => service(`s${i + 1}`));
const { table } = build(
  yaml(
    ...services,
    virtualService('mesh', ['hosts: [s1]', 'http:', ...HTTP]),
    gateway('gw'),
    virtualService('edge', ['hosts: ["*"]', 'gateways: [gw]', 'http:', ...HTTP]),
  ),
  Array.from({ length: 16 }, (_, i) => endpoint(`default/s${i + 1}`)),
);

const meshHost = table.services['default/s1']!.meshRoutes[0]!;
const gatewayHost = table.gateways['default/gw']!.servers['80']!.hosts.any!;

function scan(vhost: VirtualHost, input: MatchInput) {
  return vhost.routes.find((r) => matches(r.match, input));
}

describe('planRoutes()', () => {
  test('runs of at least 4 header-exact routes on one header become lookups', () => {
    assert.deepEqual(
      meshHost.plan.map((s) => (s.kind === 'route' ? 'route' : `by-header ${s.header}`)),
      ['by-header x-lane', 'route', 'route', 'route', 'route', 'by-header x-lane', 'route'],
    );
  });

  test('a lookup keeps the first route of a repeated value', () => {
    const step = meshHost.plan[0]!;
    assert.equal(step.kind, 'by-header');
    if (step.kind !== 'by-header') return;
    assert.equal(step.routes.a?.name, 'default/mesh/0');
    assert.equal(Object.getPrototypeOf(step.routes), null);
    assert.deepEqual(Object.keys(step.routes).sort(), ['', '__proto__', 'a', 'b', 'constructor']);
  });

  test('every route appears in the plan, in order', () => {
    const names: string[] = [];
    for (const s of meshHost.plan) {
      if (s.kind === 'route') names.push(s.route.name);
      else for (const r of Object.values(s.routes)) if (!names.includes(r.name)) names.push(r.name);
    }
    for (const r of meshHost.routes) {
      const first = meshHost.routes.find(
        (x) => JSON.stringify(x.match) === JSON.stringify(r.match),
      );
      // A shadowed duplicate (same header value later in a run) may be left out of a lookup.
      if (first === r) assert.ok(names.includes(r.name), r.name);
    }
  });

  for (const [where, vhost] of [
    ['a mesh VirtualService', meshHost],
    ['a gateway host', gatewayHost],
  ] as const) {
    test(`the plan of ${where} gives the plain scan's first match on 3,000 random requests`, () => {
      const random = seededRandom(42);
      const pick = () => VALUES[Math.floor(random() * VALUES.length)]!;
      let indexedHits = 0;
      for (let i = 0; i < 3000; i++) {
        const headers: Record<string, string> = {};
        if (random() < 0.8) headers['x-lane'] = pick();
        if (random() < 0.6) headers['x-user'] = pick();
        const input = new MatchInput(req({ authority: 's1', headers }), 80, undefined, random);
        const planned = firstMatch(vhost, input);
        const scanned = scan(vhost, input);
        assert.equal(planned?.name, scanned?.name, JSON.stringify(headers));
        if (planned && /\/([0-5]|1[0-4])$/.test(planned.name)) indexedHits++;
      }
      assert.ok(indexedHits > 500, `the lookups answered ${indexedHits} requests`);
    });
  }

  test('header values are compared exactly (case-sensitive, no trimming)', () => {
    const cases: [Record<string, string>, string | undefined][] = [
      [{ 'x-lane': 'a' }, 'default/mesh/0'],
      [{ 'x-lane': 'A' }, 'default/mesh/15'],
      [{ 'x-lane': ' a' }, 'default/mesh/15'],
      [{ 'x-lane': '' }, 'default/mesh/4'],
      [{ 'x-lane': '__proto__' }, 'default/mesh/5'],
      [{ 'x-lane': 'toString' }, 'default/mesh/14'],
      [{ 'x-lane': 'hasOwnProperty', 'x-user': 'e' }, undefined],
    ];
    for (const [headers, want] of cases) {
      const input = new MatchInput(req({ authority: 's1', headers }), 80, undefined, () => 0.5);
      assert.equal(firstMatch(meshHost, input)?.name, want, JSON.stringify(headers));
    }
  });
});
