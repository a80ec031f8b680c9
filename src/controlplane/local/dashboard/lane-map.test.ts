import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { build, endpoint, service, yaml } from '../../../core/engine/test-fixtures.ts';
import { laneMap, otherServices } from './lane-map.ts';

const lane = (name: string, rest: string, group = 'g') =>
  `apiVersion: lanes.dev/v1alpha1\nkind: Lane\nmetadata: { name: ${name} }\nspec: { group: ${group}, selector: { v: ${name} }${rest ? `, ${rest}` : ''} }`;

const group = (name: string, mode: string, services: string) => `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: ${name} }
spec: { mode: ${mode}, routeHeader: x-${name}, baseline: base-${name}, services: [${services}] }`;

const { table } = build(
  yaml(
    service('a'),
    service('b'),
    service('s'),
    service('plain'),
    group('g', 'permissive', 'a, b'),
    lane('base-g', ''),
    lane('dev', 'services: [b]'),
    lane('down', 'services: [a]'),
    lane('off', 'enabled: false'),
    group('h', 'strict', 's'),
    lane('base-h', '', 'h'),
    lane('x', 'services: []', 'h'),
  ),
  [
    endpoint('default/a', { v: 'base-g' }),
    endpoint('default/a', { v: 'down' }, { healthy: false }),
    endpoint('default/b', { v: 'base-g' }),
    endpoint('default/b', { v: 'base-g' }, { healthy: false }),
    endpoint('default/b', { v: 'dev' }),
    endpoint('default/s', { v: 'base-h' }),
    endpoint('default/plain'),
  ],
);

describe('the lane map', () => {
  const [g, h] = laneMap(table);
  test('groups by key, baselines first, disabled lanes with why', () => {
    assert.equal(g?.key, 'LaneGroup/g');
    assert.deepEqual(
      g?.lanes.map((l) => [l.name, l.baseline, l.disabled !== undefined]),
      [
        ['base-g', true, false],
        ['dev', false, false],
        ['down', false, false],
        ['off', false, true],
      ],
    );
  });

  test('each cell is where the proxies send that lane for that service', () => {
    const row = (svc: string) => g!.rows.find((r) => r.service === svc)!;
    assert.deepEqual(row('default/b').cells, [
      { kind: 'own', healthy: 1, total: 2 },
      { kind: 'own', healthy: 1, total: 1 },
      { kind: 'fallback', to: 'base-g', passed: ['down: lacks service'], healthy: 1 },
      { kind: 'fallback', to: 'base-g', passed: ['off: disabled'], healthy: 1 },
    ]);
    assert.deepEqual(row('default/a').cells[2], {
      kind: 'fallback',
      to: 'base-g',
      passed: ['down: no healthy endpoints'],
      healthy: 1,
    });
    assert.deepEqual(row('default/a').untagged, {
      kind: 'fallback',
      to: 'base-g',
      passed: [],
      healthy: 1,
    });
  });

  test('a strict lane without the service is the error the proxies answer with', () => {
    const cell = h!.rows[0]!.cells[h!.lanes.findIndex((l) => l.name === 'x')]!;
    assert.equal(cell.kind, 'fail');
    assert.equal(cell.kind === 'fail' && cell.code, 'LANE_STRICT_MISS');
  });

  test('services in no group are listed with their instances', () => {
    assert.deepEqual(otherServices(table), [{ service: 'default/plain', healthy: 1, total: 1 }]);
  });
});
