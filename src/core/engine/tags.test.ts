/**
 * Finding the lane tag (route header → custom header carriers → baggage → trace memory) and
 * making every carrier hold it on the way out of a sidecar.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { build, endpoint, forwarded, outbound, run, service, yaml } from './test-fixtures.ts';
import type { HeaderOp, Tag, TraceMemoryReader } from './types.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const TRACEPARENT = `00-${TRACE}-b7ad6b7169203331-01`;

const GROUP = `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: g }
spec:
  routeHeader: x-lane
  carriers:
    - { type: header, name: x-app-lane }
    - { type: header, name: x-old-lane }
    - { type: baggage, key: lane }
    - { type: baggage, key: lane2 }
    - { type: traceId, header: traceparent }
    - { type: traceId, header: x-request-id }
  services: [back]`;

const lane = (name: string) =>
  `apiVersion: lanes.dev/v1alpha1\nkind: Lane\nmetadata: { name: ${name} }\nspec: { group: g, selector: { v: ${name} } }`;

const { table } = build(
  yaml(service('back'), GROUP, lane('v1'), lane('v2'), lane('v3'), lane('v4')),
  [endpoint('default/back', { v: 'v1' }), endpoint('default/back')],
);

const memory = (entries: Record<string, string>): TraceMemoryReader => ({
  get: (key) => entries[key],
});

interface Case {
  readonly title: string;
  readonly headers: Record<string, string>;
  readonly memory?: Record<string, string>;
  readonly tag: Omit<Tag, 'routeHeader'> | undefined;
}

const cases: Case[] = [
  {
    title: 'the route header wins over every carrier',
    headers: { 'x-lane': 'v1', 'x-app-lane': 'v2', baggage: 'lane=v3', traceparent: TRACEPARENT },
    memory: { [`x-lane ${TRACE}`]: 'v4' },
    tag: { lane: 'v1', source: 'route-header', from: 'x-lane' },
  },
  {
    title: 'custom header carriers come next, in the order listed',
    headers: { 'x-old-lane': 'v3', 'x-app-lane': 'v2', baggage: 'lane=v4' },
    tag: { lane: 'v2', source: 'header', from: 'x-app-lane' },
  },
  {
    title: 'the second custom header is read when the first is missing',
    headers: { 'x-old-lane': 'v3', baggage: 'lane=v4' },
    tag: { lane: 'v3', source: 'header', from: 'x-old-lane' },
  },
  {
    title: 'then the baggage entries, in the order listed',
    headers: { baggage: 'lane2=v3,lane=v2', traceparent: TRACEPARENT },
    memory: { [`x-lane ${TRACE}`]: 'v4' },
    tag: { lane: 'v2', source: 'baggage', from: 'lane' },
  },
  {
    title: 'the second baggage key is read when the first is missing',
    headers: { baggage: 'user=alice,lane2=v3;prop=1' },
    tag: { lane: 'v3', source: 'baggage', from: 'lane2' },
  },
  {
    title: 'a percent-encoded baggage value is decoded',
    headers: { baggage: 'lane=v%32' },
    tag: { lane: 'v2', source: 'baggage', from: 'lane' },
  },
  {
    title: 'then the trace memory, keyed by the traceparent trace id',
    headers: { traceparent: TRACEPARENT },
    memory: { [`x-lane ${TRACE}`]: 'v4' },
    tag: { lane: 'v4', source: 'trace-memory', from: 'traceparent' },
  },
  {
    title: 'the trace memory is also keyed by x-request-id',
    headers: { 'x-request-id': 'req-123' },
    memory: { 'x-lane req-123': 'v3' },
    tag: { lane: 'v3', source: 'trace-memory', from: 'x-request-id' },
  },
  {
    title: 'a trace id the memory does not know gives no tag',
    headers: { traceparent: TRACEPARENT },
    memory: { 'x-lane ffffffffffffffffffffffffffffffff': 'v4' },
    tag: undefined,
  },
  {
    title: 'an invalid traceparent is not a key',
    headers: { traceparent: `00-${'0'.repeat(32)}-b7ad6b7169203331-01` },
    memory: { [`x-lane ${'0'.repeat(32)}`]: 'v4' },
    tag: undefined,
  },
  {
    title: 'blank values are skipped and values are trimmed',
    headers: { 'x-lane': '   ', 'x-app-lane': ' v2 ' },
    tag: { lane: 'v2', source: 'header', from: 'x-app-lane' },
  },
  {
    title: 'a baggage entry for another key is not a tag',
    headers: { baggage: 'lanes=v1,xlane=v2' },
    tag: undefined,
  },
  {
    title: 'any value is a tag, even one that names no lane',
    headers: { 'x-lane': 'not-a-lane' },
    tag: { lane: 'not-a-lane', source: 'route-header', from: 'x-lane' },
  },
];

describe('tag lookup order at a sidecar', () => {
  for (const c of cases) {
    test(c.title, () => {
      const ctx = c.memory ? { traceMemory: memory(c.memory) } : {};
      const d = forwarded(
        run(table, outbound(), { authority: 'back', headers: c.headers }, undefined, ctx),
      );
      assert.deepEqual(d.tags, c.tag ? [{ routeHeader: 'x-lane', ...c.tag }] : []);
    });
  }
});

describe('a sidecar restores the tag into every carrier', () => {
  const cases: [string, Record<string, string>, HeaderOp[]][] = [
    [
      'a tag from the route header is copied to the custom headers and baggage keys',
      { 'x-lane': 'v2' },
      [
        { op: 'set', name: 'x-app-lane', value: 'v2' },
        { op: 'set', name: 'x-old-lane', value: 'v2' },
        { op: 'set-baggage', key: 'lane', value: 'v2' },
        { op: 'set-baggage', key: 'lane2', value: 'v2' },
      ],
    ],
    [
      'a tag from baggage sets the route header and the carriers that differ',
      { baggage: 'lane=v3,lane2=v3', 'x-app-lane': 'v3' },
      [
        { op: 'set', name: 'x-lane', value: 'v3' },
        { op: 'set', name: 'x-old-lane', value: 'v3' },
      ],
    ],
    [
      'carriers that already hold the tag are left alone',
      { 'x-lane': 'v1', 'x-app-lane': 'v1', 'x-old-lane': 'v1', baggage: 'lane=v1,lane2=v1' },
      [],
    ],
    ['no tag, no operations (and no trace id is created at a sidecar)', {}, []],
  ];
  for (const [title, headers, ops] of cases) {
    test(title, () => {
      assert.deepEqual(
        forwarded(run(table, outbound(), { authority: 'back', headers })).requestOps,
        ops,
      );
    });
  }

  test('a tag from the trace memory is written back into the headers', () => {
    const d = forwarded(
      run(
        table,
        outbound(),
        { authority: 'back', headers: { traceparent: TRACEPARENT } },
        undefined,
        {
          traceMemory: memory({ [`x-lane ${TRACE}`]: 'v4' }),
        },
      ),
    );
    assert.deepEqual(
      d.requestOps.map((o) => ('name' in o ? o.name : o.op === 'set-baggage' ? o.key : o.op)),
      ['x-lane', 'x-app-lane', 'x-old-lane', 'lane', 'lane2'],
    );
  });
});

describe('route headers of several groups are separate tags', () => {
  const { table: two } = build(
    yaml(
      service('a'),
      service('b'),
      `apiVersion: lanes.dev/v1alpha1\nkind: LaneGroup\nmetadata: { name: one }\nspec: { routeHeader: x-lane, services: [a] }`,
      `apiVersion: lanes.dev/v1alpha1\nkind: LaneGroup\nmetadata: { name: two }\nspec: { routeHeader: version, services: [b] }`,
      `apiVersion: lanes.dev/v1alpha1\nkind: Lane\nmetadata: { name: dev }\nspec: { group: one, selector: { v: dev } }`,
      `apiVersion: lanes.dev/v1alpha1\nkind: Lane\nmetadata: { name: v2 }\nspec: { group: two, selector: { v: v2 } }`,
    ),
    [endpoint('default/a', { v: 'dev' }), endpoint('default/b', { v: 'v2' })],
  );

  test('each service uses the tag of its own group’s route header', () => {
    const headers = { 'x-lane': 'dev', version: 'v2' };
    const a = forwarded(run(two, outbound(), { authority: 'a', headers }));
    const b = forwarded(run(two, outbound(), { authority: 'b', headers }));
    assert.deepEqual(a.target, { kind: 'lane', group: 'LaneGroup/one', lane: 'dev' });
    assert.deepEqual(b.target, { kind: 'lane', group: 'LaneGroup/two', lane: 'v2' });
    assert.deepEqual(
      a.tags.map((t) => `${t.routeHeader}=${t.lane}`),
      ['version=v2', 'x-lane=dev'],
    );
  });
});
