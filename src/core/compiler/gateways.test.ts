/**
 * Gateways: which VirtualServices attach to which server (hosts, `ns/` filters, exportTo), how the
 * routes of several VirtualServices merge for one host, and server ports.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  atGateway,
  build,
  endpoint,
  gateway,
  run,
  service,
  virtualService,
  yaml,
} from '../engine/test-fixtures.ts';
import type { Decision } from '../engine/types.ts';

const SERVICES = [service('a'), service('b'), service('c', [8000], 'team')];
const ENDPOINTS = [endpoint('default/a'), endpoint('default/b'), endpoint('team/c')];

/** Where a gateway decision goes: the service, or the error code. */
function outcome(d: Decision): string {
  if (d.kind === 'forward') return d.service;
  if (d.kind === 'error') return d.code;
  if (d.kind === 'respond') return `${d.status}`;
  return d.kind;
}

const vs = (
  name: string,
  hosts: readonly string[],
  dest: string,
  opts: { ns?: string; gateways?: string; exportTo?: string; match?: string } = {},
) =>
  virtualService(
    name,
    [
      `hosts: [${hosts.map((h) => JSON.stringify(h)).join(', ')}]`,
      `gateways: [${opts.gateways ?? 'default/gw'}]`,
      ...(opts.exportTo ? [`exportTo: ${opts.exportTo}`] : []),
      'http:',
      ...(opts.match ? [`- match: [${opts.match}]`, '  route:'] : ['- route:']),
      `  - destination: { host: ${dest} }`,
    ],
    opts.ns ?? 'default',
  );

interface Case {
  readonly title: string;
  readonly docs: readonly string[];
  readonly requests: readonly (readonly [authority: string, want: string, port?: number])[];
  readonly todo?: string;
}

const cases: Case[] = [
  {
    title: 'a VirtualService for *.example.com on a * server routes subdomains only',
    docs: [gateway('gw'), vs('v', ['*.example.com'], 'a')],
    requests: [
      ['dev.example.com', 'default/a'],
      ['a.b.example.com', 'default/a'],
      ['example.com', 'NO_ROUTE'],
      ['example.org', 'NO_ROUTE'],
    ],
  },
  {
    title: 'exact VirtualService hosts beat wildcard ones, the longest suffix first',
    docs: [
      gateway('gw'),
      vs('v1', ['*'], 'a'),
      vs('v2', ['*.example.com'], 'b'),
      vs('v3', ['api.example.com'], 'c.team'),
    ],
    requests: [
      ['api.example.com', 'team/c'],
      ['web.example.com', 'default/b'],
      ['example.org', 'default/a'],
    ],
  },
  {
    title: 'a VirtualService host outside the server hosts does not attach',
    docs: [
      gateway('gw', [[80, ['*.example.com']]]),
      vs('v1', ['api.example.com'], 'a'),
      vs('v2', ['api.example.org'], 'b'),
    ],
    requests: [
      ['api.example.com', 'default/a'],
      ['api.example.org', 'NO_ROUTE'],
    ],
  },
  {
    title: 'a server host team/* attaches VirtualServices of namespace team only',
    docs: [
      gateway('gw', [[80, ['team/*']]]),
      vs('v1', ['t.example.com'], 'c', { ns: 'team' }),
      vs('v2', ['d.example.com'], 'a'),
    ],
    requests: [
      ['t.example.com', 'team/c'],
      ['d.example.com', 'NO_ROUTE'],
    ],
  },
  {
    title: "a server host ./* attaches VirtualServices of the gateway's namespace only",
    docs: [
      gateway('gw', [[80, ['./*']]]),
      vs('v1', ['t.example.com'], 'c', { ns: 'team' }),
      vs('v2', ['d.example.com'], 'a'),
    ],
    requests: [
      ['t.example.com', 'NO_ROUTE'],
      ['d.example.com', 'default/a'],
    ],
  },
  {
    title: 'a server host */x.example.com attaches that host from any namespace',
    docs: [
      gateway('gw', [[80, ['*/x.example.com']]]),
      vs('v1', ['x.example.com'], 'c', { ns: 'team' }),
      vs('v2', ['y.example.com'], 'a'),
    ],
    requests: [
      ['x.example.com', 'team/c'],
      ['y.example.com', 'NO_ROUTE'],
    ],
  },
  {
    title:
      "a VirtualService exported only to its own namespace does not attach to another namespace's gateway",
    docs: [
      gateway('gw'),
      vs('v1', ['t.example.com'], 'c', { ns: 'team', exportTo: '["."]' }),
      vs('v2', ['u.example.com'], 'c', { ns: 'team', exportTo: '[default]' }),
    ],
    requests: [
      ['t.example.com', 'NO_ROUTE'],
      ['u.example.com', 'team/c'],
    ],
  },
  {
    title: "a gateway named without a namespace is in the VirtualService's namespace",
    docs: [
      gateway('gw', [[80, ['*']]], 'team'),
      gateway('gw'),
      vs('v1', ['t.example.com'], 'c', { ns: 'team', gateways: 'gw' }),
    ],
    requests: [['t.example.com', 'NO_ROUTE']],
  },
  {
    title: 'a VirtualService for host * on a *.example.com server routes only that server’s hosts',
    docs: [gateway('gw', [[80, ['*.example.com']]]), vs('v', ['*'], 'a')],
    requests: [
      ['dev.example.com', 'default/a'],
      ['other.org', 'NO_ROUTE'],
    ],
  },
  {
    title: 'a VirtualService for *.example.com on a foo.example.com server routes foo only',
    docs: [gateway('gw', [[80, ['foo.example.com']]]), vs('v', ['*.example.com'], 'a')],
    requests: [
      ['foo.example.com', 'default/a'],
      ['bar.example.com', 'NO_ROUTE'],
    ],
  },
  {
    title: 'two servers on one port with different hosts both route',
    docs: [
      gateway('gw', [
        [80, ['a.example.com']],
        [80, ['b.example.com']],
      ]),
      vs('v1', ['a.example.com'], 'a'),
      vs('v2', ['b.example.com'], 'b'),
    ],
    requests: [
      ['a.example.com', 'default/a'],
      ['b.example.com', 'default/b'],
    ],
  },
  {
    title: 'servers on two ports route their own hosts; an undeclared port has no route',
    docs: [
      gateway('gw', [
        [80, ['a.example.com']],
        [8080, ['b.example.com']],
      ]),
      vs('v1', ['a.example.com', 'b.example.com'], 'a'),
    ],
    requests: [
      ['a.example.com', 'default/a', 80],
      ['b.example.com', 'default/a', 8080],
      ['b.example.com', 'NO_ROUTE', 80],
      ['a.example.com', 'NO_ROUTE', 8080],
      ['a.example.com', 'NO_ROUTE', 9090],
    ],
  },
];

describe('VirtualServices attach to gateway servers', () => {
  for (const c of cases) {
    test(c.title, c.todo ? { todo: c.todo } : {}, () => {
      const { table } = build(yaml(...SERVICES, ...c.docs), ENDPOINTS);
      for (const [authority, want, port] of c.requests) {
        const d = run(table, atGateway('default/gw', port ?? 80), authority);
        assert.equal(outcome(d), want, `${authority} on port ${port ?? 80}`);
      }
    });
  }

  test("a short gateway name binds the gateway of the VirtualService's namespace", () => {
    const { table } = build(
      yaml(
        ...SERVICES,
        gateway('gw', [[80, ['*']]], 'team'),
        gateway('gw'),
        vs('v1', ['t.example.com'], 'c', { ns: 'team', gateways: 'gw' }),
      ),
      ENDPOINTS,
    );
    assert.equal(outcome(run(table, atGateway('team/gw'), 't.example.com')), 'team/c');
    assert.equal(outcome(run(table, atGateway('default/gw'), 't.example.com')), 'NO_ROUTE');
  });

  test('an unknown gateway has no route', () => {
    const { table } = build(yaml(...SERVICES, gateway('gw')), ENDPOINTS);
    const d = run(table, atGateway('default/nope'), 'a.example.com');
    assert.equal(outcome(d), 'NO_ROUTE');
  });
});

describe('several VirtualServices for one gateway host merge, catch-all routes last', () => {
  const catchAll = (name: string, dest: string) => vs(name, ['shop.example.com'], dest);
  const prefix = (name: string, dest: string, p: string) =>
    vs(name, ['shop.example.com'], dest, { match: `{ uri: { prefix: ${p} } }` });

  const merges: [string, readonly string[], readonly (readonly [string, string])[]][] = [
    [
      'a catch-all VirtualService sorted first still lets a later specific route match',
      [catchAll('a-all', 'a'), prefix('b-api', 'b', '/api')],
      [
        ['/api/x', 'default/b'],
        ['/web', 'default/a'],
      ],
    ],
    [
      'a specific VirtualService sorted first keeps its place',
      [prefix('a-api', 'b', '/api'), catchAll('b-all', 'a')],
      [
        ['/api/x', 'default/b'],
        ['/web', 'default/a'],
      ],
    ],
    [
      'a prefix / route counts as a catch-all',
      [prefix('a-slash', 'a', '/'), prefix('b-api', 'b', '/api')],
      [
        ['/api', 'default/b'],
        ['/', 'default/a'],
      ],
    ],
    [
      'two specific routes for the same path: the first VirtualService by namespace/name wins',
      [prefix('z-api', 'a', '/api'), prefix('m-api', 'b', '/api')],
      [['/api', 'default/b']],
    ],
  ];
  for (const [title, docs, requests] of merges) {
    test(title, () => {
      const { table } = build(yaml(...SERVICES, gateway('gw'), ...docs), ENDPOINTS);
      for (const [path, want] of requests) {
        const d = run(table, atGateway('default/gw'), { authority: 'shop.example.com', path });
        assert.equal(outcome(d), want, path);
      }
    });
  }

  test('within one VirtualService a catch-all rule before a specific rule wins (first match)', {}, () => {
    const { table } = build(
      yaml(
        ...SERVICES,
        gateway('gw'),
        virtualService('one', [
          'hosts: [shop.example.com]',
          'gateways: [gw]',
          'http:',
          '- route: [{ destination: { host: a } }]',
          '- match: [{ uri: { prefix: /api } }]',
          '  route: [{ destination: { host: b } }]',
        ]),
      ),
      ENDPOINTS,
    );
    const d = run(table, atGateway('default/gw'), { authority: 'shop.example.com', path: '/api' });
    assert.equal(outcome(d), 'default/a');
  });
});
