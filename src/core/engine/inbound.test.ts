/**
 * A sidecar's inbound hop: deliver to the app, note the tag, and return trace id → lane entries
 * for trace-id carriers (the proxy records them; its outbound side reads them back).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  build,
  endpoint,
  forwarded,
  inbound,
  laneOf,
  outbound,
  run,
  service,
  yaml,
} from './test-fixtures.ts';
import type { Decision } from './types.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE}-00f067aa0ba902b7-01`;

const { table } = build(
  yaml(
    service('back'),
    service('other'),
    `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: g }
spec:
  routeHeader: x-lane
  carriers: [{ type: traceId, header: traceparent }, { type: traceId, header: x-request-id }]
  baseline: base
  services: [back]`,
    `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: plain }
spec: { routeHeader: version, services: [other] }`,
    `apiVersion: lanes.dev/v1alpha1\nkind: Lane\nmetadata: { name: base }\nspec: { group: g, selector: { v: base } }`,
    `apiVersion: lanes.dev/v1alpha1\nkind: Lane\nmetadata: { name: v2 }\nspec: { group: g, selector: { v: v2 } }`,
    `apiVersion: lanes.dev/v1alpha1\nkind: Lane\nmetadata: { name: o2 }\nspec: { group: plain, selector: { v: o2 } }`,
  ),
  [
    endpoint('default/back', { v: 'base' }),
    endpoint('default/back', { v: 'v2' }),
    endpoint('default/other'),
  ],
);

function local(d: Decision) {
  assert.equal(d.kind, 'local');
  return d as Extract<Decision, { kind: 'local' }>;
}

describe('inbound decisions', () => {
  const cases: [string, Record<string, string>, { traceKey: string; lane: string }[]][] = [
    [
      'a tagged request with a traceparent is remembered by its trace id',
      { 'x-lane': 'v2', traceparent: TRACEPARENT },
      [{ traceKey: `x-lane ${TRACE}`, lane: 'v2' }],
    ],
    [
      'every trace-id carrier present is remembered',
      { 'x-lane': 'v2', traceparent: TRACEPARENT, 'x-request-id': 'req-9' },
      [
        { traceKey: `x-lane ${TRACE}`, lane: 'v2' },
        { traceKey: 'x-lane req-9', lane: 'v2' },
      ],
    ],
    ['a tagged request without trace ids has nothing to remember', { 'x-lane': 'v2' }, []],
    [
      'an invalid traceparent is not remembered',
      { 'x-lane': 'v2', traceparent: '00-zz-yy-01' },
      [],
    ],
    ['an untagged request has nothing to remember', { traceparent: TRACEPARENT }, []],
    [
      'a tag of a group without trace-id carriers is noted but not remembered',
      { version: 'o2', traceparent: TRACEPARENT },
      [],
    ],
  ];
  for (const [title, headers, remember] of cases) {
    test(title, () => {
      const d = local(run(table, inbound(), { authority: 'back', headers }));
      assert.deepEqual(d.remember, remember);
    });
  }

  test('the tags the request arrived with are noted', () => {
    const d = local(
      run(table, inbound(), { authority: 'back', headers: { 'x-lane': 'v2', version: 'o2' } }),
    );
    assert.deepEqual(
      d.tags.map((t) => `${t.routeHeader}=${t.lane} (${t.source})`),
      ['version=o2 (route-header)', 'x-lane=v2 (route-header)'],
    );
  });

  test('the inbound side reads no trace memory', () => {
    const d = local(
      run(
        table,
        inbound(),
        { authority: 'back', headers: { traceparent: TRACEPARENT } },
        undefined,
        {
          traceMemory: { get: () => 'v2' },
        },
      ),
    );
    assert.deepEqual(d.tags, []);
  });

  test('what inbound remembers, outbound restores for a call in the same trace', () => {
    const memory = new Map<string, string>();
    const arrived = local(
      run(table, inbound(), {
        authority: 'back',
        headers: { 'x-lane': 'v2', traceparent: TRACEPARENT },
      }),
    );
    for (const r of arrived.remember) memory.set(r.traceKey, r.lane);
    // The app forwards only its trace context (a new span id, the same trace id).
    const call = { authority: 'back', headers: { traceparent: `00-${TRACE}-1111111111111111-01` } };
    const d = forwarded(
      run(table, outbound(), call, undefined, { traceMemory: { get: (k) => memory.get(k) } }),
    );
    assert.equal(laneOf(d), 'v2');
    assert.deepEqual(d.tags, [
      { routeHeader: 'x-lane', lane: 'v2', source: 'trace-memory', from: 'traceparent' },
    ]);
    assert.deepEqual(d.requestOps, [{ op: 'set', name: 'x-lane', value: 'v2' }]);
    const lost = forwarded(run(table, outbound(), call));
    assert.equal(laneOf(lost), 'base');
  });
});
