/**
 * Per-request overrides at each hop: which are followed (signed by the mesh, unexpired; unsigned
 * only at a gateway that trusts its clients), what is removed, how each carrier brings them, and
 * that they win over the tag for the services they name only.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../../util/seeded-random.ts';
import { getBaggageValue } from '../carriers/baggage.ts';
import {
  OVERRIDE_HEADER,
  type OverrideKey,
  overrideKey,
  parseOverridePairs,
  signOverride,
} from '../carriers/override.ts';
import type { Endpoint, RoutingTable } from '../compiler/table.ts';
import { applyHeaderOps, mapHeaders } from './apply-ops.ts';
import { checkOverridePairs } from './override.ts';
import {
  atGateway,
  build,
  endpoint,
  failed,
  forwarded,
  gateway,
  inbound,
  laneOf,
  outbound,
  run,
  service,
  virtualService,
  yaml,
} from './test-fixtures.ts';
import type { DecideContext, HeaderOp, OverrideTrust } from './types.ts';

const NOW = Date.UTC(2026, 0, 1);
const KEY = overrideKey(Buffer.alloc(32, 1));
const FOREIGN = overrideKey(Buffer.alloc(32, 2));
const TRUST: OverrideTrust = { keys: [KEY], now: () => NOW };
const CTX: DecideContext = { overrides: TRUST };

function token(pairs: string, key: OverrideKey = KEY, ttlS = 3600): string {
  const p = parseOverridePairs(pairs);
  assert.ok('pairs' in p);
  return signOverride(p.pairs, key, NOW / 1000 + ttlS);
}

const lane = (name: string, services: string, group = 'g') =>
  `apiVersion: lanes.dev/v1alpha1\nkind: Lane\nmetadata: { name: ${name} }\nspec: { group: ${group}, selector: { v: ${name} }${services ? `, services: [${services}]` : ''} }`;

function meshYaml(opts: { mode?: 'strict'; carrier?: string; trust?: boolean } = {}) {
  return yaml(
    service('a'),
    service('b'),
    service('c'),
    service('plain'),
    gateway(
      'gw',
      [[80, ['*']]],
      'default',
      opts.trust ? { 'lanes.dev/trust-client-lane': 'true' } : {},
    ),
    `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: g }
spec:
  ${opts.mode ? `mode: ${opts.mode}` : ''}
  routeHeader: x-lane
  carriers: [${opts.carrier ?? '{ type: baggage, key: lane }'}]
  baseline: base
  services: [a, b, c]
  ingress: [{ gateway: default/gw, destination: { host: a } }]`,
    lane('base', ''),
    lane('dev-bob', 'b'),
    lane('v2', 'a, c'),
    lane('other', '', 'h'),
    `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: h }
spec: { routeHeader: x-lane, services: [plain2] }`,
    service('plain2'),
  );
}

function endpoints(unhealthy: readonly string[] = []): Endpoint[] {
  const out: Endpoint[] = [];
  const lanes: Record<string, readonly string[]> = {
    a: ['base', 'v2'],
    b: ['base', 'dev-bob'],
    c: ['base', 'v2'],
  };
  let i = 1;
  for (const [svc, vs] of Object.entries(lanes))
    for (const v of vs)
      out.push(
        endpoint(
          `default/${svc}`,
          { v },
          { address: `10.9.0.${i++}`, healthy: !unhealthy.includes(`${svc}@${v}`) },
        ),
      );
  out.push(endpoint('default/plain', {}, { address: '10.9.1.1' }));
  return out;
}

function table(
  opts: Parameters<typeof meshYaml>[0] = {},
  unhealthy: readonly string[] = [],
): RoutingTable {
  return build(meshYaml(opts), endpoints(unhealthy)).table;
}

/** The request as the next hop sees it: the decision's header operations applied. */
function after(headers: Record<string, string>, ops: readonly HeaderOp[]): Map<string, string> {
  const map = new Map(Object.entries(headers));
  applyHeaderOps(mapHeaders(map), ops, () => ({
    traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
  }));
  return map;
}

const fromA = () => outbound('default', { app: 'a', v: 'base' });

describe('an override the mesh signed is followed, for the services it names only', () => {
  const t = table();
  test('at a sidecar, b goes to dev-bob while the tag stays base; c follows the tag', () => {
    const headers = { 'x-lane': 'base', [OVERRIDE_HEADER]: token('default/b=dev-bob') };
    const toB = forwarded(run(t, fromA(), { authority: 'b:8000', headers }, undefined, CTX));
    assert.equal(laneOf(toB), 'dev-bob');
    assert.deepEqual(toB.override, {
      status: 'followed',
      pairs: 'default/b=dev-bob',
      source: 'header',
      applied: true,
    });
    assert.equal(toB.tags[0]?.lane, 'base');
    const toC = forwarded(run(t, fromA(), { authority: 'c:8000', headers }, undefined, CTX));
    assert.equal(laneOf(toC), 'base');
    assert.equal(toC.override?.status === 'followed' && toC.override.applied, false);
  });

  test('several pairs: each named service goes to its own lane', () => {
    const headers = { 'x-lane': 'base', [OVERRIDE_HEADER]: token('b=dev-bob, c=v2') };
    assert.equal(laneOf(run(t, fromA(), { authority: 'b', headers }, undefined, CTX)), 'dev-bob');
    assert.equal(laneOf(run(t, fromA(), { authority: 'c', headers }, undefined, CTX)), 'v2');
  });

  test('it wins over a lane the gateway route names, and is stamped canonically on every carrier', () => {
    const d = forwarded(
      run(
        t,
        atGateway('default/gw'),
        { authority: 'x', headers: { [OVERRIDE_HEADER]: ` ${token('a=v2')} ` } },
        undefined,
        CTX,
      ),
    );
    assert.equal(laneOf(d), 'v2');
    const next = after({ [OVERRIDE_HEADER]: ` ${token('a=v2')} ` }, d.requestOps);
    assert.equal(next.get(OVERRIDE_HEADER), token('a=v2'));
    assert.equal(getBaggageValue(next.get('baggage'), OVERRIDE_HEADER), token('a=v2'));
    assert.ok(
      d.responseOps.some(
        (o) =>
          o.op === 'set' && o.name === 'x-lanes-override' && o.value === 'followed default/a=v2',
      ),
    );
  });

  test('a DestinationRule subset a route names is not a lane: the override does not apply there', () => {
    const t2 = build(
      yaml(
        meshYaml(),
        virtualService('b-canary', [
          'hosts: [b]',
          'http:',
          '  - route: [{ destination: { host: b, subset: canary } }]',
        ]),
        `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: b, namespace: default }
spec: { host: b, subsets: [{ name: canary, labels: { v: dev-bob } }] }`,
      ),
      endpoints(),
    ).table;
    const headers = { [OVERRIDE_HEADER]: token('b=base') };
    const d = forwarded(run(t2, fromA(), { authority: 'b', headers }, undefined, CTX));
    assert.equal(laneOf(d), 'subset:canary');
    assert.match(
      d.steps.join('\n'),
      /the override's lane base does not apply: the route names DestinationRule subset canary/,
    );
    assert.equal(d.override?.status === 'followed' && d.override.applied, false);
  });

  test('a retired key in the trust still verifies', () => {
    const headers = { [OVERRIDE_HEADER]: token('b=dev-bob', FOREIGN) };
    const d = run(t, fromA(), { authority: 'b', headers }, undefined, {
      overrides: { keys: [KEY, FOREIGN], now: () => NOW },
    });
    assert.equal(laneOf(d), 'dev-bob');
  });
});

describe('an override that is not followed is removed and reported, never followed', () => {
  const t = table();
  const cases: readonly [string, string, string][] = [
    ['unsigned', 'default/b=dev-bob', 'unsigned'],
    ['expired', token('b=dev-bob', KEY, -1), 'expired'],
    ['signed with another key', token('b=dev-bob', FOREIGN), 'foreign-key'],
    ['tampered with', token('b=dev-bob').replace('dev-bob', 'v2'), 'bad-signature'],
    ['malformed', 'b=dev-bob;sig=x', 'malformed'],
  ];
  for (const [what, value, reason] of cases) {
    test(`${what}, at a gateway: removed from header and baggage, answered with x-lanes-override`, () => {
      const headers = {
        [OVERRIDE_HEADER]: value,
        baggage: `${OVERRIDE_HEADER}=${encodeURIComponent(value)},k=v`,
      };
      const d = forwarded(
        run(t, atGateway('default/gw'), { authority: 'x', headers }, undefined, CTX),
      );
      assert.equal(laneOf(d), 'base');
      assert.equal(d.override?.status === 'rejected' && d.override.reason, reason);
      const next = after(headers, d.requestOps);
      assert.equal(next.get(OVERRIDE_HEADER), undefined);
      assert.equal(getBaggageValue(next.get('baggage'), OVERRIDE_HEADER), undefined);
      assert.equal(getBaggageValue(next.get('baggage'), 'k'), 'v');
      assert.ok(d.responseOps.some((o) => o.op === 'set' && o.value === `rejected: ${reason}`));
      assert.match(
        d.steps.join('\n'),
        /override from header lanes-override removed and not followed/,
      );
    });
    test(`${what}, at a sidecar: removed from the app's call, the tag decides`, () => {
      const headers = { 'x-lane': 'base', [OVERRIDE_HEADER]: value };
      const d = forwarded(run(t, fromA(), { authority: 'b', headers }, undefined, CTX));
      assert.equal(laneOf(d), 'base');
      assert.equal(d.override?.status === 'rejected' && d.override.reason, reason);
      assert.equal(after(headers, d.requestOps).get(OVERRIDE_HEADER), undefined);
    });
  }

  test('a proxy without the mesh key follows no override', () => {
    const d = forwarded(
      run(t, fromA(), { authority: 'b', headers: { [OVERRIDE_HEADER]: token('b=dev-bob') } }),
    );
    assert.equal(laneOf(d), 'base');
    assert.equal(d.override?.status === 'rejected' && d.override.reason, 'foreign-key');
  });

  test("Linkerd's l5d-dtab at a gateway that does not trust its clients is removed", () => {
    const headers = { 'l5d-dtab': '/svc/b => /lane/dev-bob', 'l5d-ctx-dtab': '/svc/c => /lane/v2' };
    const d = forwarded(
      run(t, atGateway('default/gw'), { authority: 'x', headers }, undefined, CTX),
    );
    assert.equal(d.override?.status === 'rejected' && d.override.reason, 'unsigned');
    const next = after(headers, d.requestOps);
    assert.equal(next.get('l5d-dtab'), undefined);
    assert.equal(next.get('l5d-ctx-dtab'), undefined);
    assert.equal(next.get(OVERRIDE_HEADER), undefined);
  });

  test("Linkerd's l5d-dtab sent by an app through its sidecar is removed", () => {
    const headers = { 'l5d-dtab': '/svc/b => /lane/dev-bob' };
    const d = forwarded(run(t, fromA(), { authority: 'b', headers }, undefined, CTX));
    assert.equal(laneOf(d), 'base');
    assert.equal(after(headers, d.requestOps).get('l5d-dtab'), undefined);
  });

  test('requests with no override get no override field and no extra operations', () => {
    const d = forwarded(
      run(t, fromA(), { authority: 'b', headers: { 'x-lane': 'base' } }, undefined, CTX),
    );
    assert.equal(d.override, undefined);
    assert.equal(
      d.requestOps.some((o) => 'name' in o && o.name === OVERRIDE_HEADER),
      false,
    );
  });
});

describe('a gateway that trusts its clients takes unsigned overrides and Linkerd dtabs, and signs them', () => {
  const t = table({ trust: true });
  const gw = atGateway('default/gw');
  test('an unsigned lanes-override is checked, signed by the gateway, and verified downstream', () => {
    const d = forwarded(
      run(t, gw, { authority: 'x', headers: { [OVERRIDE_HEADER]: 'b=dev-bob' } }, undefined, CTX),
    );
    const signed = after({}, d.requestOps).get(OVERRIDE_HEADER);
    assert.match(signed ?? '', /^default\/b=dev-bob;exp=\d+;kid=[0-9a-f]{8};sig=/);
    const next = forwarded(
      run(
        table(),
        fromA(),
        { authority: 'b', headers: { [OVERRIDE_HEADER]: signed! } },
        undefined,
        CTX,
      ),
    );
    assert.equal(laneOf(next), 'dev-bob');
  });

  test('l5d-dtab /svc/NAME => /lane/LANE becomes a signed lanes-override; later entries win; ctx first', () => {
    const headers = {
      'l5d-ctx-dtab': '/svc/b => /lane/base',
      'l5d-dtab': '/svc/b => /lane/dev-bob; /svc/c => /lane/v2',
    };
    const d = forwarded(run(t, gw, { authority: 'x', headers }, undefined, CTX));
    assert.deepEqual(d.override, {
      status: 'followed',
      pairs: 'default/b=dev-bob,default/c=v2',
      source: 'l5d-dtab',
      applied: false,
    });
    const next = after(headers, d.requestOps);
    assert.equal(next.get('l5d-dtab'), undefined);
    assert.match(next.get(OVERRIDE_HEADER) ?? '', /^default\/b=dev-bob,default\/c=v2;exp=/);
  });

  const invalid: readonly [string, Record<string, string>, RegExp][] = [
    [
      'a dtab rule lanes does not support',
      { 'l5d-dtab': '/svc/b => /$/inet/10.0.0.1/80' },
      /names an address/,
    ],
    ['a malformed override', { [OVERRIDE_HEADER]: 'b' }, /lanes-override: "b" is not SERVICE=LANE/],
    [
      'a service the mesh does not have',
      { [OVERRIDE_HEADER]: 'nope=v2' },
      /default\/nope is not a service of the mesh/,
    ],
    [
      'a service in no lane group',
      { [OVERRIDE_HEADER]: 'plain=v2' },
      /default\/plain is in no lane group/,
    ],
    [
      'a lane of another group',
      { [OVERRIDE_HEADER]: 'b=other' },
      /other is not a lane of default\/b's group LaneGroup\/g \(its lanes: base, dev-bob, v2\)/,
    ],
  ];
  for (const [what, headers, message] of invalid) {
    test(`${what} is answered 400 OVERRIDE_INVALID, saying what`, () => {
      const d = failed(run(t, gw, { authority: 'x', headers }, undefined, CTX));
      assert.equal(d.code, 'OVERRIDE_INVALID');
      assert.equal(d.status, 400);
      assert.match(d.message, message);
    });
  }

  test('a signed override that expired is still rejected, not re-signed', () => {
    const d = forwarded(
      run(
        t,
        gw,
        { authority: 'x', headers: { [OVERRIDE_HEADER]: token('b=dev-bob', KEY, -5) } },
        undefined,
        CTX,
      ),
    );
    assert.equal(d.override?.status === 'rejected' && d.override.reason, 'expired');
  });
});

describe('the override travels like the lane tag', () => {
  test('baggage only: an app that forwards baggage brings it to the next sidecar, which restores the header', () => {
    const t = table();
    const baggage = `lane=base,${OVERRIDE_HEADER}=${encodeURIComponent(token('b=dev-bob'))}`;
    const d = forwarded(run(t, fromA(), { authority: 'b', headers: { baggage } }, undefined, CTX));
    assert.equal(laneOf(d), 'dev-bob');
    assert.equal(d.override?.status === 'followed' && d.override.source, 'baggage');
    assert.equal(after({ baggage }, d.requestOps).get(OVERRIDE_HEADER), token('b=dev-bob'));
  });

  test('trace-id memory: the inbound side remembers, the outbound side restores from traceparent alone', () => {
    const t = table({ carrier: '{ type: traceId, header: traceparent }' });
    const tp = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`;
    const arriving = { 'x-lane': 'base', traceparent: tp, [OVERRIDE_HEADER]: token('b=dev-bob') };
    const local = run(
      t,
      inbound('default', { app: 'a', v: 'base' }),
      { authority: 'a', headers: arriving },
      undefined,
      CTX,
    );
    assert.equal(local.kind, 'local');
    const memory = new Map<string, string>();
    for (const r of local.kind === 'local' ? local.remember : []) memory.set(r.traceKey, r.lane);
    assert.equal(memory.size, 2, 'the tag and the override');
    const call = { traceparent: `00-${'1'.repeat(32)}-${'3'.repeat(16)}-01` };
    const d = forwarded(
      run(t, fromA(), { authority: 'b', headers: call }, undefined, {
        ...CTX,
        traceMemory: memory,
      }),
    );
    assert.equal(laneOf(d), 'dev-bob');
    assert.equal(d.override?.status === 'followed' && d.override.source, 'trace-memory');
    assert.equal(after(call, d.requestOps).get(OVERRIDE_HEADER), token('b=dev-bob'));
  });

  test('the memory is checked again: an entry that expired since is not followed', () => {
    const t = table({ carrier: '{ type: traceId, header: traceparent }' });
    const memory = new Map([[`${OVERRIDE_HEADER} ${'1'.repeat(32)}`, token('b=dev-bob', KEY, 10)]]);
    const later: DecideContext = {
      traceMemory: memory,
      overrides: { keys: [KEY], now: () => NOW + 11_000 },
    };
    const call = { traceparent: `00-${'1'.repeat(32)}-${'3'.repeat(16)}-01` };
    const d = forwarded(run(t, fromA(), { authority: 'b', headers: call }, undefined, later));
    assert.equal(laneOf(d), 'base');
    assert.equal(d.override?.status === 'rejected' && d.override.reason, 'expired');
  });
});

describe('a lane the override names that cannot serve: permissive falls back, strict fails clearly', () => {
  test('permissive: the lane lacks the service → its baselines, with the step', () => {
    const d = forwarded(
      run(
        table(),
        fromA(),
        { authority: 'c', headers: { [OVERRIDE_HEADER]: token('c=dev-bob') } },
        undefined,
        CTX,
      ),
    );
    assert.equal(laneOf(d), 'base');
    assert.deepEqual(d.fallback, [{ lane: 'dev-bob', reason: 'lacks-service' }]);
  });

  test('permissive: no healthy instance in the lane → its baselines', () => {
    const t = table({}, ['b@dev-bob']);
    const d = forwarded(
      run(
        t,
        fromA(),
        { authority: 'b', headers: { [OVERRIDE_HEADER]: token('b=dev-bob') } },
        undefined,
        CTX,
      ),
    );
    assert.equal(laneOf(d), 'base');
    assert.deepEqual(d.fallback, [{ lane: 'dev-bob', reason: 'no-healthy-endpoints' }]);
  });

  const strict: readonly [string, string, string, readonly string[], RegExp, string][] = [
    [
      'lacks the service',
      'c',
      'c=dev-bob',
      [],
      /names lane dev-bob for default\/c, which does not contain default\/c; strict lanes never fall back/,
      'lacks-service',
    ],
    [
      'has no healthy instance',
      'b',
      'b=dev-bob',
      ['b@dev-bob'],
      /names lane dev-bob for default\/b, which has no healthy endpoint of default\/b/,
      'no-healthy-endpoints',
    ],
    [
      'is no lane (any more)',
      'b',
      'b=gone',
      [],
      /names lane gone for default\/b, which is not a lane of strict group LaneGroup\/g/,
      'unknown-lane',
    ],
  ];
  for (const [what, host, pairs, unhealthy, message, reason] of strict) {
    test(`strict: the lane ${what} → 503 OVERRIDE_STRICT_MISS, never another lane`, () => {
      const t = table({ mode: 'strict' }, unhealthy);
      const headers = { 'x-lane': 'base', [OVERRIDE_HEADER]: token(pairs) };
      const d = failed(run(t, fromA(), { authority: host, headers }, undefined, CTX));
      assert.equal(d.code, 'OVERRIDE_STRICT_MISS');
      assert.equal(d.status, 503);
      assert.match(d.message, message);
      assert.deepEqual(
        d.fallback.map((f) => f.reason),
        [reason],
      );
      assert.equal(d.override?.status === 'followed' && d.override.applied, true);
    });
  }

  test('strict: the lane the override names serves → that lane', () => {
    const d = forwarded(
      run(
        table({ mode: 'strict' }),
        fromA(),
        { authority: 'b', headers: { 'x-lane': 'base', [OVERRIDE_HEADER]: token('b=dev-bob') } },
        undefined,
        CTX,
      ),
    );
    assert.equal(laneOf(d), 'dev-bob');
  });
});

describe('checkOverridePairs (lanes override sign)', () => {
  const t = table();
  test('errors for what cannot be used, warnings for what will fall back', () => {
    const p = parseOverridePairs('b=dev-bob, c=dev-bob, a=other, nope=v2');
    assert.ok('pairs' in p);
    const { errors, warnings } = checkOverridePairs(t, p.pairs);
    assert.deepEqual(errors, [
      "other is not a lane of default/a's group LaneGroup/g (its lanes: base, dev-bob, v2)",
      'default/nope is not a service of the mesh',
    ]);
    assert.deepEqual(warnings, [
      'lane dev-bob does not contain default/c: requests fall back to its baselines',
    ]);
  });
});

describe('whatever an override names, a decision only ever picks instances of the service asked for', () => {
  test('500 seeded random overrides (signed and not, valid names and hostile ones) at a gateway and a sidecar', () => {
    const random = seededRandom(12);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const services = ['a', 'b', 'c', 'plain', 'plain2', 'nope', 'localhost', 'evil.ns'];
    const lanes = [
      'base',
      'dev-bob',
      'v2',
      'other',
      '10.0.0.1',
      'localhost',
      'example.com',
      'gone',
    ];
    const tables = [table(), table({ mode: 'strict' }), table({ trust: true })];
    for (let i = 0; i < 500; i++) {
      const t = pick(tables);
      const n = 1 + Math.floor(random() * 3);
      const text = [...new Set(Array.from({ length: n }, () => pick(services)))]
        .map((s) => `${s}=${pick(lanes)}`)
        .join(',');
      const value = random() < 0.5 ? token(text) : text;
      const host = pick(['a', 'b', 'c', 'plain']);
      for (const [hop, authority] of [
        [atGateway('default/gw'), 'x'],
        [fromA(), host],
      ] as const) {
        const d = run(t, hop, { authority, headers: { [OVERRIDE_HEADER]: value } }, undefined, CTX);
        if (d.kind !== 'forward') continue;
        const svc = t.services[d.service];
        assert.ok(svc, d.service);
        if (hop.kind === 'outbound') assert.equal(d.service, `default/${host}`);
        for (const e of d.endpoints) assert.ok(svc.all.includes(e), `${value}: ${e.id}`);
      }
    }
  });
});

describe("a proxy's memo of verified values", () => {
  const t = table();
  test('a value verified once is remembered; an entry that has expired since is not followed', () => {
    let now = NOW;
    const verified = new Map();
    const ctx: DecideContext = { overrides: { keys: [KEY], now: () => now, verified } };
    const value = token('b=dev-bob', KEY, 60);
    const headers = { [OVERRIDE_HEADER]: value };
    assert.equal(laneOf(run(t, fromA(), { authority: 'b', headers }, undefined, ctx)), 'dev-bob');
    assert.equal(verified.size, 1);
    assert.equal(laneOf(run(t, fromA(), { authority: 'b', headers }, undefined, ctx)), 'dev-bob');
    now += 61_000;
    const d = forwarded(run(t, fromA(), { authority: 'b', headers }, undefined, ctx));
    assert.equal(laneOf(d), 'base');
    assert.equal(d.override?.status === 'rejected' && d.override.reason, 'expired');
  });

  test('values that fail are not remembered, and the memo stays bounded', () => {
    const verified = new Map();
    const ctx: DecideContext = { overrides: { keys: [KEY], now: () => NOW, verified } };
    run(
      t,
      fromA(),
      { authority: 'b', headers: { [OVERRIDE_HEADER]: token('b=dev-bob', FOREIGN) } },
      undefined,
      ctx,
    );
    assert.equal(verified.size, 0);
    for (let i = 0; i < 1100; i++) {
      const headers = { [OVERRIDE_HEADER]: token('b=dev-bob', KEY, 60 + i) };
      run(t, fromA(), { authority: 'b', headers }, undefined, ctx);
    }
    assert.ok(verified.size > 0 && verified.size <= 1024, `${verified.size}`);
  });
});
