/**
 * A Release's state as compile() applies it: the lane it creates, the weight and the verification
 * match at the group's ingress, and the lane as the baseline after promotion — checked by what
 * decide() then does with requests.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MatchExpr } from '../../config/kinds/native/index.ts';
import {
  atGateway,
  conditionOf,
  endpoint,
  forwarded,
  gateway,
  load,
  outbound,
  run,
  service,
  yaml,
} from '../engine/test-fixtures.ts';
import { compile, type ReleaseRouting } from './compile.ts';

const TEXT = yaml(
  gateway('gw'),
  service('mocka'),
  service('mockb'),
  `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: mock }
spec:
  routeHeader: version
  services: [mocka, {name: mockb, fallback: [v1]}]
  baseline: v1
  ingress: [{ gateway: default/gw, destination: { host: mocka } }]`,
  `apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v1 }
spec: { group: mock, selector: { version: v1 } }`,
  `apiVersion: lanes.dev/v1alpha1
kind: Release
metadata: { name: mock-v2 }
spec: { group: mock, lane: v2, workloads: [mocka-v2], steps: [{weight: 20}] }`,
);
const RESOURCES = load(TEXT);
const RELEASE = RESOURCES.find((r) => r.kind === 'Release')!;
const ENDPOINTS = [
  endpoint('default/mocka', { version: 'v1' }),
  endpoint('default/mocka', { version: 'v2' }),
  endpoint('default/mockb', { version: 'v1' }),
];
const GRAY: MatchExpr = { kind: 'query', name: 'group', test: { op: 'exact', value: 'gray' } };

function routing(over: Partial<ReleaseRouting>): ReleaseRouting {
  return {
    resource: RELEASE,
    group: 'mock',
    lane: 'v2',
    template: { selector: { version: 'v2' }, services: [{ namespace: 'default', name: 'mocka' }] },
    weight: 0,
    verify: undefined,
    promoted: false,
    ...over,
  };
}

function tableWith(r: ReleaseRouting) {
  return compile(RESOURCES, ENDPOINTS, { releases: [r] });
}

const GW = atGateway('default/gw');
const versionOf = (d: ReturnType<typeof run>) =>
  forwarded(d)
    .endpoints.map((e) => e.labels.version)
    .join(',');

describe('releases in the lane model', () => {
  test('the release creates its lane from the template, owned (and reported) by the Release', () => {
    const { table, statuses } = tableWith(routing({}));
    assert.deepEqual({ ...table.lanes.v2?.selector }, { version: 'v2' });
    assert.deepEqual(table.lanes.v2?.services, ['default/mocka']);
    assert.equal(table.lanes.v2?.source.kind, 'Release');
    assert.equal(conditionOf(statuses, 'Release', 'mock-v2', 'ResolvedRefs').status, 'True');
  });

  test('weight 20 stamps the lane on a draw under 0.2 and leaves the rest to the baseline', () => {
    const { table } = tableWith(routing({ weight: 20 }));
    assert.equal(versionOf(run(table, GW, 'any.host', () => 0.19)), 'v2');
    assert.equal(versionOf(run(table, GW, 'any.host', () => 0.2)), 'v1');
    const stamped = forwarded(run(table, GW, 'any.host', () => 0.1)).requestOps;
    assert.ok(stamped.some((op) => op.op === 'set' && op.name === 'version' && op.value === 'v2'));
  });

  test('weight 0 sends nothing into the lane; the verification match still lets testers in', () => {
    const { table } = tableWith(routing({ weight: 0, verify: GRAY }));
    assert.equal(versionOf(run(table, GW, 'any.host', () => 0)), 'v1');
    assert.equal(versionOf(run(table, GW, { authority: 'h', path: '/?group=gray' })), 'v2');
  });

  test('a tagged request keeps the lane hop by hop and falls back where the lane lacks a service', () => {
    const { table } = tableWith(routing({ weight: 100 }));
    const tagged = { authority: 'mockb:8000', headers: { version: 'v2' } };
    assert.equal(versionOf(run(table, outbound(), tagged)), 'v1');
    assert.equal(versionOf(run(table, outbound(), { ...tagged, authority: 'mocka:8000' })), 'v2');
  });

  test('after promotion the lane is the first baseline of its services and only of those', () => {
    const { table } = tableWith(routing({ promoted: true }));
    assert.deepEqual(table.services['default/mocka']?.lanes?.baselineChain.slice(0, 2), [
      'v2',
      'v1',
    ]);
    assert.equal(table.services['default/mockb']?.lanes?.baselineChain[0], 'v1');
    assert.equal(versionOf(run(table, outbound(), 'mocka:8000')), 'v2');
    assert.equal(versionOf(run(table, GW, 'any.host', () => 0.99)), 'v2');
  });

  test('a release on an existing lane adds its rules to that lane and creates nothing', () => {
    const existing = yaml(
      TEXT,
      `apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v2 }
spec: { group: mock, selector: { version: v2 }, services: [mocka] }`,
    );
    const { table } = compile(load(existing), ENDPOINTS, { releases: [routing({ weight: 100 })] });
    assert.equal(table.lanes.v2?.source.kind, 'Lane');
    assert.equal(versionOf(run(table, GW, 'any.host', () => 0.5)), 'v2');
  });
});
