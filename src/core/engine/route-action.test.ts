/**
 * Executing a matched route: weighted destinations, header operations, redirects, direct
 * responses, rewrites (handed to the proxy), timeouts, retries and fault injection.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../../util/seeded-random.ts';
import { applyHeaderOps, mapHeaders } from './apply-ops.ts';
import {
  atGateway,
  build,
  endpoint,
  forwarded,
  gateway,
  laneOf,
  outbound,
  type RequestInit,
  responded,
  run,
  service,
  virtualService,
  yaml,
} from './test-fixtures.ts';
import type { Decision, Hop } from './types.ts';

const DR = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: mockb, namespace: default }
spec:
  host: mockb
  subsets:
    - { name: s1, labels: { version: s1 } }
    - { name: s2, labels: { version: s2 } }
    - { name: s3, labels: { version: s3 } }
    - { name: s4, labels: { version: s4 } }`;

/** A table whose only VirtualService (host mockb, mesh and gateway gw) has these rules. */
function table(rules: readonly string[]) {
  return build(
    yaml(
      service('mockb', [8000, 9000]),
      gateway('gw', [
        [80, ['*']],
        [8443, ['*']],
      ]),
      DR,
      virtualService('vs', ['hosts: [mockb]', 'gateways: [mesh, gw]', 'http:', ...rules]),
    ),
    ['s1', 's2', 's3', 's4'].map((v) => endpoint('default/mockb', { version: v })),
  ).table;
}

const SIDE = outbound();
const GW = atGateway('default/gw');

describe('weighted destinations', () => {
  const split = (weights: readonly number[]) =>
    table([
      '- route:',
      ...weights.flatMap((w, i) => [
        `  - destination: { host: mockb, subset: s${i + 1} }`,
        `    weight: ${w}`,
      ]),
    ]);

  test('weights 1:3 are relative: a draw below 1/4 picks the first, else the second', () => {
    const t = split([1, 3]);
    const cases: [number, string][] = [
      [0, 'subset:s1'],
      [0.2499, 'subset:s1'],
      [0.25, 'subset:s2'],
      [0.9999, 'subset:s2'],
    ];
    for (const [draw, want] of cases)
      assert.equal(laneOf(run(t, SIDE, 'mockb', () => draw)), want, `${draw}`);
  });

  test('weights 1:3 give about 25 % / 75 % of 10,000 requests', () => {
    const t = split([1, 3]);
    const random = seededRandom(3);
    let first = 0;
    for (let i = 0; i < 10_000; i++)
      if (laneOf(run(t, SIDE, 'mockb', random)) === 'subset:s1') first++;
    assert.ok(Math.abs(first / 100 - 25) < 1.5, `${first / 100} %`);
  });

  test('a destination with weight 0 is never chosen', () => {
    const t = split([0, 50, 0, 50]);
    for (let i = 0; i < 100; i++) {
      const got = laneOf(run(t, SIDE, 'mockb', () => i / 100));
      assert.ok(got === 'subset:s2' || got === 'subset:s4', `${i / 100} → ${got}`);
    }
  });

  for (const w of [0, 10, 100]) {
    test(`a single destination with weight ${w} gets all traffic`, () => {
      const t = split([w]);
      for (const draw of [0, 0.5, 0.99])
        assert.equal(laneOf(run(t, SIDE, 'mockb', () => draw)), 'subset:s1');
    });
  }

  test('weights are applied the same way at a gateway', () => {
    const t = split([3, 1]);
    assert.equal(laneOf(run(t, GW, 'mockb', () => 0.7)), 'subset:s1');
    assert.equal(laneOf(run(t, GW, 'mockb', () => 0.8)), 'subset:s2');
  });
});

/** The request headers after the decision's operations. */
function headersAfter(d: Decision, initial: Record<string, string> = {}): Record<string, string> {
  const f = forwarded(d);
  const map = new Map(Object.entries(initial));
  applyHeaderOps(mapHeaders(map), f.requestOps, () => ({}));
  return Object.fromEntries(map);
}

function responseAfter(d: Decision, initial: Record<string, string> = {}): Record<string, string> {
  const map = new Map(Object.entries(initial));
  applyHeaderOps(mapHeaders(map), forwarded(d).responseOps, () => ({}));
  return Object.fromEntries(map);
}

describe('header operations: route level, then destination level', () => {
  const cases: {
    title: string;
    route: string;
    dest: string;
    sent: Record<string, string>;
    want: Record<string, string>;
  }[] = [
    {
      title: 'a destination-level set overrides a route-level add',
      route: '{ request: { add: { x-a: route } } }',
      dest: '{ request: { set: { x-a: dest } } }',
      sent: { 'x-a': 'client' },
      want: { 'x-a': 'dest' },
    },
    {
      title: 'a destination-level add appends to a route-level set',
      route: '{ request: { set: { x-a: route } } }',
      dest: '{ request: { add: { x-a: dest } } }',
      sent: { 'x-a': 'client' },
      want: { 'x-a': 'route, dest' },
    },
    {
      title: 'a route-level add appends to the client value',
      route: '{ request: { add: { x-a: route } } }',
      dest: '{}',
      sent: { 'x-a': 'client' },
      want: { 'x-a': 'client, route' },
    },
    {
      title: 'a destination-level set overrides a route-level set',
      route: '{ request: { set: { x-a: route } } }',
      dest: '{ request: { set: { x-a: dest } } }',
      sent: {},
      want: { 'x-a': 'dest' },
    },
    {
      title: 'remove drops a client header at either level',
      route: '{ request: { remove: [x-a] } }',
      dest: '{ request: { remove: [x-b] } }',
      sent: { 'x-a': '1', 'x-b': '2', 'x-c': '3' },
      want: { 'x-c': '3' },
    },
    {
      title: 'removals come before writes, so a set of a removed header stays',
      route: '{ request: { set: { x-a: route } } }',
      dest: '{ request: { remove: [x-a] } }',
      sent: { 'x-a': 'client' },
      want: { 'x-a': 'route' },
    },
    {
      title: 'header names are lower-cased',
      route: '{ request: { set: { X-Route: "1" } } }',
      dest: '{ request: { add: { X-Dest: "2" } } }',
      sent: {},
      want: { 'x-route': '1', 'x-dest': '2' },
    },
  ];
  for (const c of cases) {
    for (const [where, hop] of [
      ['sidecar', SIDE],
      ['gateway', GW],
    ] as const) {
      test(`${c.title} (${where})`, () => {
        const t = table([
          `- headers: ${c.route}`,
          '  route:',
          '  - destination: { host: mockb }',
          `    headers: ${c.dest}`,
        ]);
        const d = run(t, hop as Hop, { authority: 'mockb', headers: c.sent });
        assert.deepEqual(headersAfter(d, c.sent), c.want);
      });
    }
  }

  test('response operations: route then destination, kept apart from request operations', () => {
    const t = table([
      '- headers: { response: { set: { x-r: route }, add: { x-both: route } } }',
      '  route:',
      '  - destination: { host: mockb }',
      '    headers: { response: { set: { x-both: dest }, remove: [server] } }',
    ]);
    const d = run(t, SIDE, 'mockb');
    assert.deepEqual(forwarded(d).requestOps, []);
    assert.deepEqual(responseAfter(d, { server: 'app', 'x-both': 'app' }), {
      'x-r': 'route',
      'x-both': 'dest',
    });
  });

  test('each weighted destination applies its own headers', () => {
    const t = table([
      '- headers: { request: { set: { x-route: r } } }',
      '  route:',
      '  - destination: { host: mockb, subset: s1 }',
      '    weight: 50',
      '    headers: { request: { set: { x-dest: one } } }',
      '  - destination: { host: mockb, subset: s2 }',
      '    weight: 50',
      '    headers: { request: { set: { x-dest: two } } }',
    ]);
    assert.deepEqual(headersAfter(run(t, SIDE, 'mockb', () => 0.1)), {
      'x-route': 'r',
      'x-dest': 'one',
    });
    assert.deepEqual(headersAfter(run(t, SIDE, 'mockb', () => 0.9)), {
      'x-route': 'r',
      'x-dest': 'two',
    });
  });
});

describe('redirects', () => {
  const redirect = (spec: string, match = '') =>
    table([...(match ? [`- match: [${match}]`, `  redirect: ${spec}`] : [`- redirect: ${spec}`])]);
  const location = (d: Decision) => {
    const r = responded(d);
    assert.equal(r.reason, 'redirect');
    return { status: r.status, location: r.headers.find(([k]) => k === 'location')?.[1] };
  };

  const cases: {
    title: string;
    spec: string;
    match?: string;
    req: Omit<RequestInit, 'authority'> & { authority?: string };
    hop?: Hop;
    status?: number;
    want: string;
    todo?: string;
  }[] = [
    {
      title: 'the default code is 301 and uri replaces the path, keeping the query',
      spec: '{ uri: /new }',
      req: { path: '/old/x?q=1' },
      want: 'http://mockb/new?q=1',
    },
    {
      title: 'redirectCode sets the status',
      spec: '{ uri: /new, redirectCode: 308 }',
      req: { path: '/old' },
      status: 308,
      want: 'http://mockb/new',
    },
    {
      title: 'prefixRewrite replaces the matched prefix',
      spec: '{ prefixRewrite: /v2 }',
      match: '{ uri: { prefix: /v1 } }',
      req: { path: '/v1/users/7' },
      want: 'http://mockb/v2/users/7',
    },
    {
      title: 'authority replaces the host and drops the request port',
      spec: '{ authority: example.com }',
      req: { authority: 'mockb:9000', path: '/x' },
      want: 'http://example.com/x',
    },
    {
      title: 'scheme https on a request without a port',
      spec: '{ scheme: https }',
      req: { path: '/x' },
      want: 'https://mockb/x',
    },
    {
      title: 'the request port is kept when only the path changes',
      spec: '{ uri: /new }',
      req: { authority: 'mockb:9000', path: '/x' },
      want: 'http://mockb:9000/new',
    },
    {
      title: 'port 80 is left out for http',
      spec: '{ uri: /new }',
      req: { authority: 'mockb:80', path: '/x' },
      want: 'http://mockb/new',
    },
    {
      title: 'an explicit port is added',
      spec: '{ port: 8080 }',
      req: { path: '/x' },
      want: 'http://mockb:8080/x',
    },
    {
      title: 'an explicit port 443 is left out for https',
      spec: '{ scheme: https, port: 443 }',
      req: { path: '/x' },
      want: 'https://mockb/x',
    },
    {
      title: 'derivePort FROM_PROTOCOL_DEFAULT leaves the default port out',
      spec: '{ scheme: https, derivePort: FROM_PROTOCOL_DEFAULT }',
      req: { authority: 'mockb:9000', path: '/x' },
      want: 'https://mockb/x',
    },
    {
      title: 'derivePort FROM_REQUEST_PORT at a gateway uses the listener port',
      spec: '{ authority: example.com, derivePort: FROM_REQUEST_PORT }',
      req: { path: '/x' },
      hop: atGateway('default/gw', 8443),
      want: 'http://example.com:8443/x',
    },
    {
      title: 'derivePort FROM_REQUEST_PORT at a sidecar uses the port of the request',
      spec: '{ authority: example.com, derivePort: FROM_REQUEST_PORT }',
      req: { authority: 'mockb:9000', path: '/x' },
      want: 'http://example.com:9000/x',
    },
    {
      title: 'an http → https redirect of a request sent to :80 leaves the port out',
      spec: '{ scheme: https }',
      req: { authority: 'mockb:80', path: '/x' },
      want: 'https://mockb/x',
    },
  ];
  for (const c of cases) {
    test(c.title, c.todo ? { todo: c.todo } : {}, () => {
      const t = redirect(c.spec, c.match);
      const d = run(t, c.hop ?? SIDE, { authority: 'mockb', ...c.req });
      assert.deepEqual(location(d), { status: c.status ?? 301, location: c.want });
    });
  }

  test('a redirect also works at a gateway', () => {
    const d = run(redirect('{ uri: /new }'), GW, { authority: 'mockb', path: '/x' });
    assert.deepEqual(location(d), { status: 301, location: 'http://mockb/new' });
  });

  test('prefixRewrite uses the prefix of the block that matched', () => {
    const t = redirect(
      '{ prefixRewrite: /n }',
      '{ uri: { prefix: /a } }, { uri: { prefix: /bb } }',
    );
    assert.equal(
      location(run(t, SIDE, { authority: 'mockb', path: '/a/1' })).location,
      'http://mockb/n/1',
    );
    assert.equal(
      location(run(t, SIDE, { authority: 'mockb', path: '/bb/1' })).location,
      'http://mockb/n/1',
    );
  });
});

describe('direct responses', () => {
  const cases: [string, string, number, string][] = [
    [
      'a string body',
      '{ status: 418, body: { string: "short and stout" } }',
      418,
      'short and stout',
    ],
    ['a bytes body (base64)', '{ status: 200, body: { bytes: aGVsbG8= } }', 200, 'hello'],
    ['no body', '{ status: 204 }', 204, ''],
  ];
  for (const [what, spec, status, body] of cases) {
    test(`a direct response with ${what}`, () => {
      for (const hop of [SIDE, GW]) {
        const r = responded(run(table([`- directResponse: ${spec}`]), hop, 'mockb'));
        assert.deepEqual([r.status, r.body, r.reason], [status, body, 'direct-response']);
      }
    });
  }

  test("the route's response header changes apply to a direct response and a redirect, as Envoy's do", () => {
    const headers =
      '  headers: { response: { set: { x-lanes-error: LANE_STRICT_MISS }, add: { x-a: "1" }, remove: [x-b] } }';
    const direct = responded(
      run(table(['- directResponse: { status: 503 }', headers]), SIDE, 'mockb'),
    );
    assert.deepEqual(direct.headers, [
      ['x-lanes-error', 'LANE_STRICT_MISS'],
      ['x-a', '1'],
    ]);
    const moved = responded(run(table(['- redirect: { uri: /n }', headers]), SIDE, 'mockb'));
    assert.deepEqual(moved.headers, [
      ['location', 'http://mockb/n'],
      ['x-lanes-error', 'LANE_STRICT_MISS'],
      ['x-a', '1'],
    ]);
  });
});

describe('rewrites are returned in the decision for the proxy', () => {
  const rewriteOf = (rules: readonly string[], r: Omit<RequestInit, 'authority'> = {}) =>
    forwarded(run(table(rules), SIDE, { authority: 'mockb', ...r })).route?.rewrite;
  const routeTo = '  route: [{ destination: { host: mockb } }]';

  test('rewrite.uri with a prefix match replaces the matched prefix', () => {
    const rw = rewriteOf(
      ['- match: [{ uri: { prefix: /api/v1 } }]', '  rewrite: { uri: /v2 }', routeTo],
      {
        path: '/api/v1/users',
      },
    );
    assert.equal(rw?.uri, '/v2');
    assert.equal(rw?.matchedPrefix, '/api/v1');
  });

  test('rewrite.uri with an exact match or no match replaces the whole path', () => {
    const exact = rewriteOf(
      ['- match: [{ uri: { exact: /a } }]', '  rewrite: { uri: /b }', routeTo],
      {
        path: '/a',
      },
    );
    assert.deepEqual([exact?.uri, exact?.matchedPrefix], ['/b', undefined]);
    const none = rewriteOf(['- rewrite: { uri: /b }', routeTo]);
    assert.deepEqual([none?.uri, none?.matchedPrefix], ['/b', undefined]);
  });

  test('each match block keeps its own matched prefix', () => {
    const rules = [
      '- match: [{ uri: { prefix: /one } }, { uri: { prefix: /second } }]',
      '  rewrite: { uri: /x }',
      routeTo,
    ];
    assert.equal(rewriteOf(rules, { path: '/one/a' })?.matchedPrefix, '/one');
    assert.equal(rewriteOf(rules, { path: '/second/a' })?.matchedPrefix, '/second');
  });

  test('uriRegexRewrite substitutes capture groups (\\1 → $1)', () => {
    const rw = rewriteOf([
      '- rewrite: { uriRegexRewrite: { match: "^/v1/([a-z]+)/([0-9]+)$", rewrite: "/\\\\2/\\\\1" } }',
      routeTo,
    ]);
    assert.ok(rw?.uriRegex);
    assert.equal(rw.uriRegex.replacement, '/$2/$1');
    // A copy of the (frozen) RegExp, so the substitution itself can be checked here.
    const re = new RegExp(rw.uriRegex.regexp.source, rw.uriRegex.regexp.flags);
    assert.equal('/v1/users/42'.replace(re, rw.uriRegex.replacement), '/42/users');
  });

  test('uriRegexRewrite replaces every match', () => {
    const rw = rewriteOf([
      '- rewrite: { uriRegexRewrite: { match: "/+", rewrite: "/" } }',
      routeTo,
    ]);
    assert.ok(rw?.uriRegex);
    const re = new RegExp(rw.uriRegex.regexp.source, rw.uriRegex.regexp.flags);
    assert.equal('//a///b'.replace(re, rw.uriRegex.replacement), '/a/b');
  });

  test('rewrite.authority is returned', () => {
    assert.equal(
      rewriteOf(['- rewrite: { authority: other.example.com }', routeTo])?.authority,
      'other.example.com',
    );
  });

  test('a route without rewrite returns none', () => {
    assert.equal(rewriteOf([routeTo.replace('  route', '- route')]), undefined);
  });
});

describe('timeouts and retries', () => {
  const info = (rules: readonly string[]) => forwarded(run(table(rules), SIDE, 'mockb')).route;
  const routeTo = '  route: [{ destination: { host: mockb } }]';

  test('the timeout is off (undefined) unless set', () => {
    assert.equal(info(['- route: [{ destination: { host: mockb } }]'])?.timeoutMs, undefined);
    assert.equal(info(['- timeout: 2.5s', routeTo])?.timeoutMs, 2500);
  });

  test("Istio's default retries: 2 attempts on connect-failure, refused-stream, unavailable, cancelled, retriable-status-codes", () => {
    assert.deepEqual(info(['- route: [{ destination: { host: mockb } }]'])?.retries, {
      attempts: 2,
      perTryTimeoutMs: undefined,
      retryOn: [
        'connect-failure',
        'refused-stream',
        'unavailable',
        'cancelled',
        'retriable-status-codes',
      ],
      retriableStatusCodes: [],
      backoffMs: 25,
      defaulted: true,
    });
  });

  test('explicit retries with numeric codes add retriable-status-codes once', () => {
    assert.deepEqual(
      info([
        '- retries: { attempts: 3, perTryTimeout: 2s, retryOn: "gateway-error,503,reset,504" }',
        routeTo,
      ])?.retries,
      {
        attempts: 3,
        perTryTimeoutMs: 2000,
        retryOn: ['gateway-error', 'reset', 'retriable-status-codes'],
        retriableStatusCodes: [503, 504],
        backoffMs: 25,
        defaulted: false,
      },
    );
    const r = info([
      '- retries: { attempts: 1, retryOn: "retriable-status-codes,409" }',
      routeTo,
    ])?.retries;
    assert.deepEqual(r?.retryOn, ['retriable-status-codes']);
    assert.deepEqual(r?.retriableStatusCodes, [409]);
  });

  test('explicit retries without retryOn keep the default conditions', () => {
    const r = info(['- retries: { attempts: 5 }', routeTo])?.retries;
    assert.equal(r?.attempts, 5);
    assert.equal(r?.defaulted, false);
    assert.deepEqual(r?.retryOn, [
      'connect-failure',
      'refused-stream',
      'unavailable',
      'cancelled',
      'retriable-status-codes',
    ]);
  });

  test('attempts: 0 disables retries', () => {
    assert.equal(info(['- retries: { attempts: 0 }', routeTo])?.retries.attempts, 0);
  });
});

describe('fault injection', () => {
  const routeTo = '  route: [{ destination: { host: mockb } }]';
  const cases: {
    title: string;
    fault: string;
    draw: number;
    want: 'abort' | 'delay' | 'pass';
  }[] = [
    {
      title: 'abort at 100 % always aborts',
      fault: '{ abort: { httpStatus: 503, percentage: { value: 100 } } }',
      draw: 0.9999,
      want: 'abort',
    },
    {
      title: 'abort at 50 % aborts a draw below one half',
      fault: '{ abort: { httpStatus: 503, percentage: { value: 50 } } }',
      draw: 0.4999,
      want: 'abort',
    },
    {
      title: 'abort at 50 % passes a draw of one half',
      fault: '{ abort: { httpStatus: 503, percentage: { value: 50 } } }',
      draw: 0.5,
      want: 'pass',
    },
    {
      title: 'abort without a percentage never aborts',
      fault: '{ abort: { httpStatus: 503 } }',
      draw: 0,
      want: 'pass',
    },
    {
      title: 'delay at 100 % always delays',
      fault: '{ delay: { fixedDelay: 1.5s, percentage: { value: 100 } } }',
      draw: 0.9999,
      want: 'delay',
    },
    {
      title: 'delay at 0.5 % delays a draw of 0.004',
      fault: '{ delay: { fixedDelay: 1.5s, percentage: { value: 0.5 } } }',
      draw: 0.004,
      want: 'delay',
    },
    {
      title: 'delay without a percentage never delays',
      fault: '{ delay: { fixedDelay: 1.5s } }',
      draw: 0,
      want: 'pass',
    },
  ];
  for (const c of cases) {
    test(c.title, () => {
      const d = run(table([`- fault: ${c.fault}`, routeTo]), SIDE, 'mockb', () => c.draw);
      if (c.want === 'abort') {
        const r = responded(d);
        assert.deepEqual([r.status, r.reason], [503, 'fault-abort']);
      } else {
        assert.equal(forwarded(d).delayMs, c.want === 'delay' ? 1500 : undefined);
      }
    });
  }

  test('an abort with its own status answers with that status, at a gateway too', () => {
    const t = table([
      '- fault: { abort: { httpStatus: 429, percentage: { value: 100 } } }',
      routeTo,
    ]);
    assert.equal(responded(run(t, GW, 'mockb')).status, 429);
  });
});
