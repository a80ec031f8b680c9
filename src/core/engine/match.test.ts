/**
 * Istio HTTPMatchRequest semantics in decide(), at a sidecar and at a gateway
 * (istio-semantics.md §1.3), and the query and cookie parsers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCookies, parseQuery } from './match.ts';
import {
  atGateway,
  build,
  endpoint,
  gateway,
  outbound,
  type RequestInit,
  run,
  service,
  virtualService,
  yaml,
} from './test-fixtures.ts';
import type { Decision, Hop } from './types.ts';

/** `hit` when the rule matched, `NO_ROUTE` when nothing did, else what happened. */
function outcome(d: Decision): string {
  if (d.kind === 'forward') return d.service === 'default/hit' ? 'hit' : d.service;
  if (d.kind === 'error') return d.code;
  return d.kind;
}

/** One VirtualService for host mockb, bound to the mesh and to gateway gw: `rules` then nothing. */
function table(rules: readonly string[]) {
  return build(
    yaml(
      service('mockb', [8000, 9000]),
      service('hit'),
      service('other'),
      gateway('gw', [
        [80, ['*']],
        [8443, ['*']],
      ]),
      virtualService('vs', ['hosts: [mockb]', 'gateways: [mesh, gw]', 'http:', ...rules]),
    ),
    [endpoint('default/mockb'), endpoint('default/hit'), endpoint('default/other')],
  ).table;
}

const hit = (match: string) => [`- match: ${match}`, '  route: [{ destination: { host: hit } }]'];

type Req = Omit<RequestInit, 'authority'> & { readonly authority?: string };

interface Case {
  readonly title: string;
  readonly match: string;
  readonly yes: readonly Req[];
  readonly no: readonly Req[];
}

const h = (headers: Record<string, string>, extra: Req = {}): Req => ({ headers, ...extra });

const cases: Case[] = [
  {
    title: 'conditions in one match block are ANDed',
    match: '[{ headers: { x-a: { exact: "1" }, x-b: { exact: "2" } }, method: { exact: GET } }]',
    yes: [h({ 'x-a': '1', 'x-b': '2' })],
    no: [h({ 'x-a': '1' }), h({ 'x-b': '2' }), h({ 'x-a': '1', 'x-b': '2' }, { method: 'POST' })],
  },
  {
    title: 'match blocks are ORed',
    match: '[{ headers: { x-a: { exact: "1" } } }, { uri: { prefix: /b } }]',
    yes: [h({ 'x-a': '1' }), { path: '/b/c' }, h({ 'x-a': '1' }, { path: '/b' })],
    no: [h({ 'x-a': '2' }), { path: '/a' }],
  },
  {
    title: 'header names are case-insensitive and values case-sensitive',
    match: '[{ headers: { X-User: { exact: Alice } } }]',
    yes: [h({ 'x-user': 'Alice' }), h({ 'X-USER': 'Alice' })],
    no: [h({ 'x-user': 'alice' }), h({ 'x-user': 'ALICE' }), h({ 'x-user': 'Alice ' })],
  },
  {
    title: 'a header prefix match is case-sensitive',
    match: '[{ headers: { x-user: { prefix: Al } } }]',
    yes: [h({ 'x-user': 'Alice' }), h({ 'x-user': 'Al' })],
    no: [h({ 'x-user': 'alice' }), {}],
  },
  {
    title: 'a header regex matches the whole value',
    match: '[{ headers: { x-id: { regex: "[0-9]+" } } }]',
    yes: [h({ 'x-id': '123' })],
    no: [h({ 'x-id': 'a123' }), h({ 'x-id': '123a' }), h({ 'x-id': '' }), {}],
  },
  {
    title: 'a header regex can ignore case with (?i)',
    match: '[{ headers: { x-user: { regex: "(?i)alice" } } }]',
    yes: [h({ 'x-user': 'ALICE' }), h({ 'x-user': 'alice' })],
    no: [h({ 'x-user': 'alice2' })],
  },
  {
    title: 'an empty header match {} means the header is present, whatever its value',
    match: '[{ headers: { x-debug: {} } }]',
    yes: [h({ 'x-debug': '1' }), h({ 'x-debug': '' })],
    no: [{}, h({ 'x-other': '1' })],
  },
  {
    title: 'withoutHeaders with a value matches a missing header and any other value',
    match: '[{ withoutHeaders: { x-env: { exact: prod } } }]',
    yes: [{}, h({ 'x-env': 'dev' }), h({ 'x-env': 'PROD' }), h({ 'x-env': '' })],
    no: [h({ 'x-env': 'prod' })],
  },
  {
    title: 'withoutHeaders {} matches only when the header is absent',
    match: '[{ withoutHeaders: { x-env: {} } }]',
    yes: [{}, h({ 'x-other': 'x' })],
    no: [h({ 'x-env': 'dev' }), h({ 'x-env': '' })],
  },
  {
    title: 'withoutHeaders exact "" treats a missing header as empty, so it does not match',
    match: '[{ withoutHeaders: { x-env: { exact: "" } } }]',
    yes: [h({ 'x-env': 'dev' })],
    no: [{}, h({ 'x-env': '' })],
  },
  {
    title: 'queryParams exact: "" matches ?key and ?key=',
    match: '[{ queryParams: { debug: { exact: "" } } }]',
    yes: [{ path: '/?debug' }, { path: '/x?a=1&debug' }, { path: '/?debug=' }],
    no: [{ path: '/' }, { path: '/?debug=1' }, { path: '/?debugger' }],
  },
  {
    title: 'queryParams exact compares the raw value; the first of a repeated key counts',
    match: '[{ queryParams: { v: { exact: "a b" } } }, { queryParams: { w: { exact: "1" } } }]',
    yes: [{ path: '/?w=1&w=2' }],
    no: [{ path: '/?v=a%20b' }, { path: '/?w=2&w=1' }, { path: '/?W=1' }],
  },
  {
    title: 'queryParams prefix and regex (whole value)',
    match: '[{ queryParams: { p: { prefix: ab } } }, { queryParams: { n: { regex: "[0-9]+" } } }]',
    yes: [{ path: '/?p=abc' }, { path: '/?n=123' }],
    no: [{ path: '/?p=Abc' }, { path: '/?n=a123' }, { path: '/?n=123a' }, { path: '/?n' }],
  },
  {
    title: 'uri exact is case-sensitive and ignores the query string',
    match: '[{ uri: { exact: /Api } }]',
    yes: [{ path: '/Api' }, { path: '/Api?x=1' }],
    no: [{ path: '/api' }, { path: '/Api/' }, { path: '/Api/x' }],
  },
  {
    title: 'uri prefix is a raw string prefix',
    match: '[{ uri: { prefix: /foo } }]',
    yes: [{ path: '/foo' }, { path: '/foobar' }, { path: '/foo/bar' }],
    no: [{ path: '/Foo' }, { path: '/fo' }, { path: '/x/foo' }],
  },
  {
    title: 'uri regex matches the whole path',
    match: '[{ uri: { regex: "/api/v[0-9]+" } }]',
    yes: [{ path: '/api/v1' }, { path: '/api/v12?x' }],
    no: [{ path: '/api/v1/x' }, { path: '/x/api/v1' }, { path: '/API/v1' }],
  },
  {
    title: 'ignoreUriCase applies to an exact uri',
    match: '[{ uri: { exact: /Api }, ignoreUriCase: true }]',
    yes: [{ path: '/api' }, { path: '/API' }, { path: '/Api' }],
    no: [{ path: '/api/x' }],
  },
  {
    title: 'ignoreUriCase applies to a prefix uri',
    match: '[{ uri: { prefix: /Api }, ignoreUriCase: true }]',
    yes: [{ path: '/api/x' }, { path: '/APIS' }],
    no: [{ path: '/ap' }],
  },
  {
    title: 'ignoreUriCase does not apply to a regex uri',
    match: '[{ uri: { regex: "/api" }, ignoreUriCase: true }]',
    yes: [{ path: '/api' }],
    no: [{ path: '/API' }, { path: '/Api' }],
  },
  {
    title: 'method is matched case-sensitively',
    match: '[{ method: { exact: POST } }]',
    yes: [{ method: 'POST' }],
    no: [{ method: 'post' }, { method: 'GET' }],
  },
  {
    title: 'method prefix and regex',
    match: '[{ method: { prefix: P } }, { method: { regex: "DEL.*" } }]',
    yes: [{ method: 'PUT' }, { method: 'PATCH' }, { method: 'DELETE' }],
    no: [{ method: 'GET' }, { method: 'xDELETE' }],
  },
  {
    title: 'scheme is matched exactly',
    match: '[{ scheme: { exact: https } }]',
    yes: [{ scheme: 'https' }],
    no: [{ scheme: 'http' }],
  },
  {
    title: 'authority is matched on the Host header as sent',
    match: '[{ authority: { prefix: mockb } }]',
    yes: [{ authority: 'mockb' }, { authority: 'mockb:8000' }],
    no: [{ authority: 'MOCKB' }],
  },
  {
    title: 'authority exact includes the port when the client sends one',
    match: '[{ authority: { exact: mockb } }]',
    yes: [{ authority: 'mockb' }],
    no: [{ authority: 'mockb:8000' }],
  },
  {
    title: 'the keys uri, method, scheme and authority are ignored inside headers',
    match: '[{ headers: { method: { exact: NOPE }, x-a: { exact: "1" } } }]',
    yes: [h({ 'x-a': '1' })],
    no: [{}],
  },
];

const HOPS: [string, Hop][] = [
  ['a sidecar', outbound()],
  ['a gateway', atGateway('default/gw')],
];

describe('Istio match semantics', () => {
  for (const c of cases) {
    const t = table(hit(c.match));
    for (const [where, hop] of HOPS) {
      test(`${c.title} (at ${where})`, () => {
        for (const r of c.yes) {
          const d = run(t, hop, { authority: 'mockb', ...r });
          assert.equal(outcome(d), 'hit', `should match: ${JSON.stringify(r)}`);
        }
        for (const r of c.no) {
          const d = run(t, hop, { authority: 'mockb', ...r });
          assert.equal(outcome(d), 'NO_ROUTE', `should not match: ${JSON.stringify(r)}`);
        }
      });
    }
  }
});

describe('rule order and what happens when nothing matches', () => {
  const t = table([
    ...hit('[{ headers: { x-a: {} } }]'),
    '- match: [{ headers: { x-a: {} } }, { headers: { x-b: {} } }]',
    '  route: [{ destination: { host: other } }]',
  ]);
  for (const [where, hop] of HOPS) {
    test(`the first matching rule wins (at ${where})`, () => {
      assert.equal(
        outcome(run(t, hop, { authority: 'mockb', headers: { 'x-a': '1', 'x-b': '1' } })),
        'hit',
      );
      assert.equal(
        outcome(run(t, hop, { authority: 'mockb', headers: { 'x-b': '1' } })),
        'default/other',
      );
    });

    test(`a host with a VirtualService but no matching rule is 404 NO_ROUTE (at ${where})`, () => {
      const d = run(t, hop, 'mockb');
      assert.equal(d.kind, 'error');
      if (d.kind !== 'error') return;
      assert.equal(d.code, 'NO_ROUTE');
      assert.equal(d.status, 404);
      assert.match(d.message, /matches GET \/|matched GET \//);
    });
  }
});

describe('port, source and per-match gateway conditions', () => {
  const t = table([
    ...hit('[{ port: 9000 }]'),
    '- match: [{ sourceLabels: { app: tester } }]',
    '  route: [{ destination: { host: other } }]',
    '- match: [{ sourceNamespace: qa }]',
    '  route: [{ destination: { host: other, port: { number: 8000 } } }]',
    '- match: [{ port: 8443, gateways: [gw] }]',
    '  route: [{ destination: { host: other } }]',
  ]);

  test('a port match at a sidecar uses the port of the authority', () => {
    assert.equal(outcome(run(t, outbound(), 'mockb:9000')), 'hit');
    assert.equal(outcome(run(t, outbound(), 'mockb:8000')), 'NO_ROUTE');
  });

  test('a port match at a sidecar uses the first service port when the authority has none', () => {
    const t2 = table(hit('[{ port: 8000 }]'));
    assert.equal(outcome(run(t2, outbound(), 'mockb')), 'hit');
  });

  test('a port match at a gateway uses the listener port', () => {
    assert.equal(outcome(run(t, atGateway('default/gw', 80), 'mockb:9000')), 'NO_ROUTE');
    assert.equal(outcome(run(t, atGateway('default/gw', 8443), 'mockb')), 'default/other');
  });

  test('sourceLabels select the calling workload at a sidecar', () => {
    assert.equal(
      outcome(run(t, outbound('default', { app: 'tester', v: '1' }), 'mockb')),
      'default/other',
    );
    assert.equal(outcome(run(t, outbound('default', { app: 'web' }), 'mockb')), 'NO_ROUTE');
  });

  test('sourceLabels never match at a gateway', () => {
    const d = run(t, atGateway('default/gw'), { authority: 'mockb', headers: { app: 'tester' } });
    assert.equal(outcome(d), 'NO_ROUTE');
  });

  test('sourceNamespace selects callers of that namespace at a sidecar', () => {
    assert.equal(outcome(run(t, outbound('qa'), 'mockb.default')), 'default/other');
    assert.equal(outcome(run(t, outbound('default'), 'mockb.default')), 'NO_ROUTE');
  });

  test("a match block's own gateways override the VirtualService's (not at sidecars)", () => {
    assert.equal(outcome(run(t, outbound(), 'mockb:8443')), 'NO_ROUTE');
  });

  test('a block bound to mesh only does not apply at the gateway', () => {
    const t2 = table([
      '- match: [{ headers: { x-a: {} }, gateways: [mesh] }]',
      '  route: [{ destination: { host: hit } }]',
      '- route: [{ destination: { host: other } }]',
    ]);
    const r = { authority: 'mockb', headers: { 'x-a': '1' } };
    assert.equal(outcome(run(t2, outbound(), r)), 'hit');
    assert.equal(outcome(run(t2, atGateway('default/gw'), r)), 'default/other');
  });
});

describe('parseQuery()', () => {
  const cases: [string, [string, string][]][] = [
    ['', []],
    ['a=1', [['a', '1']]],
    ['a', [['a', '']]],
    ['a=', [['a', '']]],
    ['a=1&a=2', [['a', '1']]],
    [
      'a=1&&b=2&',
      [
        ['a', '1'],
        ['b', '2'],
      ],
    ],
    ['a=b=c', [['a', 'b=c']]],
    [
      'a=%20&b=+',
      [
        ['a', '%20'],
        ['b', '+'],
      ],
    ],
    ['=x', [['', 'x']]],
    [
      'A=1&a=2',
      [
        ['A', '1'],
        ['a', '2'],
      ],
    ],
  ];
  for (const [query, entries] of cases) {
    test(`${JSON.stringify(query)} → ${JSON.stringify(entries)}`, () => {
      assert.deepEqual([...parseQuery(query)], entries);
    });
  }
});

describe('parseCookies()', () => {
  const cases: [string | undefined, [string, string][]][] = [
    [undefined, []],
    ['', []],
    ['a=1', [['a', '1']]],
    [
      'a=1; b=2',
      [
        ['a', '1'],
        ['b', '2'],
      ],
    ],
    [
      'a=1;b=2',
      [
        ['a', '1'],
        ['b', '2'],
      ],
    ],
    [
      '  a = 1 ;  b=2  ',
      [
        ['a', '1'],
        ['b', '2'],
      ],
    ],
    ['a=1; a=2', [['a', '1']]],
    ['a="quoted value"', [['a', 'quoted value']]],
    ['a="', [['a', '"']]],
    ['a=b=c', [['a', 'b=c']]],
    ['a=', [['a', '']]],
    ['novalue; b=2', [['b', '2']]],
    ['=x; b=2', [['b', '2']]],
  ];
  for (const [header, entries] of cases) {
    test(`${JSON.stringify(header)} → ${JSON.stringify(entries)}`, () => {
      assert.deepEqual([...parseCookies(header)], entries);
    });
  }
});
