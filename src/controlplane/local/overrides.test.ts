import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { overrideKey, parseOverride, verifyOverride } from '../../core/carriers/override.ts';
import { build, endpoint, service, yaml } from '../../core/engine/test-fixtures.ts';
import { overrideTtlMs, signOverrideRequest } from './overrides.ts';
import { RequestError } from './request-error.ts';

const KEY = overrideKey(Buffer.alloc(32, 5));
const NOW = Date.UTC(2026, 5, 1, 12);
const { table } = build(
  yaml(
    service('mockb'),
    service('web'),
    `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: mock }
spec: { routeHeader: version, baseline: v1, services: [mockb] }`,
    `apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v1 }
spec: { group: mock, selector: { version: v1 } }`,
    `apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: dev-bob }
spec: { group: mock, selector: { version: dev-bob }, services: [mockb] }`,
  ),
  [endpoint('default/mockb', { version: 'v1' }), endpoint('default/mockb', { version: 'dev-bob' })],
);

function refused(fn: () => unknown, message: RegExp, issues: readonly string[] = []): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RequestError);
    assert.equal(e.status, 400);
    assert.match(e.message, message);
    assert.deepEqual(e.issues, issues);
    return true;
  });
}

describe('signing an override for lanes override sign', () => {
  test('the response names the header, the canonical pairs, the expiry and the key; it verifies', () => {
    const res = signOverrideRequest(table, KEY, { pairs: 'mockb=dev-bob', ttl: '30m' }, NOW);
    assert.equal(res.header, 'lanes-override');
    assert.equal(res.pairs, 'default/mockb=dev-bob');
    assert.equal(res.expires, new Date(NOW + 30 * 60_000).toISOString());
    assert.equal(res.kid, KEY.kid);
    assert.deepEqual(res.warnings, []);
    const parsed = parseOverride(res.value);
    assert.ok(parsed.ok);
    assert.equal(verifyOverride(parsed.override, [KEY], NOW + 29 * 60_000).ok, true);
    assert.equal(verifyOverride(parsed.override, [KEY], NOW + 30 * 60_000).ok, false);
  });

  test('the default life is one hour', () => {
    const res = signOverrideRequest(table, KEY, { pairs: 'mockb=dev-bob' }, NOW);
    assert.equal(res.expires, new Date(NOW + 3600_000).toISOString());
  });

  test('only services and lanes the mesh has; several problems are listed one per line', () => {
    refused(
      () => signOverrideRequest(table, KEY, { pairs: 'mockb=dev-eve' }, NOW),
      /^cannot sign default\/mockb=dev-eve: dev-eve is not a lane of default\/mockb's group LaneGroup\/mock \(its lanes: dev-bob, v1\)$/,
    );
    refused(
      () => signOverrideRequest(table, KEY, { pairs: 'web=v1, nope=v1' }, NOW),
      /the mesh has no such services or lanes/,
      [
        'default/nope is not a service of the mesh',
        'default/web is in no lane group, so there is no lane to choose for it',
      ],
    );
    refused(
      () => signOverrideRequest(table, KEY, { pairs: '10.0.0.1:80=v1' }, NOW),
      /never hosts, addresses or ports/,
    );
  });

  const ttls: readonly [string, number | RegExp][] = [
    ['1h', 3600_000],
    ['90s', 90_000],
    ['24h', 86_400_000],
    ['25h', /over 24h/],
    ['0', /not a positive duration such as 30m or 1h/],
    ['-5m', /not a positive duration/],
    ['soon', /not a positive duration/],
    ['500ms', /under a second: .*give at least 1s/],
  ];
  for (const [ttl, want] of ttls) {
    test(`ttl ${ttl}`, () => {
      if (typeof want === 'number') assert.equal(overrideTtlMs(ttl), want);
      else refused(() => overrideTtlMs(ttl), want);
    });
  }
});
