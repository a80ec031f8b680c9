import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadResources } from '../../load/resources.ts';
import { formatIssue } from '../../source/issues.ts';
import type { ReleaseSpec } from './release.ts';

function load(spec: string) {
  const text = `apiVersion: lanes.dev/v1alpha1\nkind: Release\nmetadata: {name: mock-v2}\nspec:\n${spec}`;
  const result = loadResources([{ file: 'r.yaml', text }]);
  return {
    spec: result.resources[0]?.spec as ReleaseSpec | undefined,
    errors: result.issues.filter((i) => i.severity === 'error').map(formatIssue),
  };
}

const MINIMAL = `  group: mock
  lane: v2
  workloads: [mocka-v2]
  steps: [{weight: 50}]
`;

describe('Release', () => {
  it('accepts the issue example with every field, in milliseconds', () => {
    const { spec, errors } = load(`  group: mock
  lane: v2
  workloads: [mocka-v2, team/mockc-v2]
  verify:
    match: {query: {name: group, exact: gray}}
    approval: manual
  steps: [{weight: 5, pause: 1m}, {weight: 20, pause: 2m}, {weight: 50, pause: 2m}]
  analysis:
    interval: 30s
    minRequests: 50
    successRate: {min: 99}
    latencyP99: {maxMs: 500}
    compareToBaseline: {maxErrorRateIncrease: 1}
    failureLimit: 2
  promote: baseline
  cleanup: {after: 2m}
  rollback: {deleteWorkloads: true}
`);
    assert.deepEqual(errors, []);
    assert.deepEqual(spec, {
      group: 'mock',
      lane: 'v2',
      workloads: [
        { namespace: 'default', name: 'mocka-v2' },
        { namespace: 'team', name: 'mockc-v2' },
      ],
      verify: {
        match: { kind: 'query', name: 'group', test: { op: 'exact', value: 'gray' } },
        approval: { kind: 'manual' },
      },
      steps: [
        { weight: 5, pauseMs: 60_000 },
        { weight: 20, pauseMs: 120_000 },
        { weight: 50, pauseMs: 120_000 },
      ],
      analysis: {
        intervalMs: 30_000,
        minRequests: 50,
        successRate: { min: 99 },
        latencyP99: { maxMs: 500 },
        compareToBaseline: { maxErrorRateIncrease: 1 },
        failureLimit: 2,
      },
      promote: 'baseline',
      cleanup: { afterMs: 120_000 },
      rollback: { deleteWorkloads: true },
    });
  });

  it('defaults: no gate, no analysis, promote to baseline, keep workloads on rollback', () => {
    const { spec, errors } = load(MINIMAL);
    assert.deepEqual(errors, []);
    assert.equal(spec?.verify, undefined);
    assert.equal(spec?.analysis, undefined);
    assert.equal(spec?.promote, 'baseline');
    assert.deepEqual(spec?.rollback, { deleteWorkloads: false });
    assert.deepEqual(spec?.steps, [{ weight: 50, pauseMs: 0 }]);
  });

  it('a verify gate with a duration opens by itself after it; analysis fields default', () => {
    const { spec, errors } = load(
      `${MINIMAL}  verify: {match: {header: {name: x-tester, present: true}}, approval: 90s}\n  analysis: {successRate: {min: 99.5}}\n`,
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(spec?.verify?.approval, { kind: 'after', ms: 90_000 });
    assert.deepEqual(spec?.analysis, {
      intervalMs: 30_000,
      minRequests: 50,
      successRate: { min: 99.5 },
      latencyP99: undefined,
      compareToBaseline: undefined,
      failureLimit: 2,
    });
  });

  const bad: [string, string, RegExp][] = [
    [
      'weights that do not increase',
      '  group: mock\n  lane: v2\n  workloads: [a]\n  steps:\n    - {weight: 20}\n    - {weight: 20}\n',
      /^r\.yaml:10:16: Release mock-v2: spec\.steps\[1\]\.weight: Invalid value: 20: weights must increase from step to step \(the step before has 20\)/,
    ],
    [
      'a weight above 100',
      '  group: mock\n  lane: v2\n  workloads: [a]\n  steps: [{weight: 120}]\n',
      /spec\.steps\[0\]\.weight: .*120/,
    ],
    ['no steps', '  group: mock\n  lane: v2\n  workloads: [a]\n  steps: []\n', /spec\.steps/],
    [
      'no workloads',
      '  group: mock\n  lane: v2\n  workloads: []\n  steps: [{weight: 5}]\n',
      /spec\.workloads/,
    ],
    [
      'a workload named twice',
      '  group: mock\n  lane: v2\n  workloads: [a, default/a]\n  steps: [{weight: 5}]\n',
      /spec\.workloads\[1\]: Duplicate value: "default\/a"/,
    ],
    [
      'an approval that is neither manual nor a duration',
      `${MINIMAL}  verify: {match: {header: {name: x, present: true}}, approval: later}\n`,
      /spec\.verify\.approval: Unsupported value: "later": approval is "manual"/,
    ],
    [
      'analysis without a metric',
      `${MINIMAL}  analysis: {interval: 10s}\n`,
      /spec\.analysis: Required value: analysis needs at least one of successRate, latencyP99, compareToBaseline/,
    ],
    [
      'minRequests 0 (no data would pass)',
      `${MINIMAL}  analysis: {minRequests: 0, successRate: {min: 99}}\n`,
      /spec\.analysis\.minRequests/,
    ],
    [
      'an interval under a second',
      `${MINIMAL}  analysis: {interval: 500ms, successRate: {min: 99}}\n`,
      /spec\.analysis\.interval: Invalid value: must be at least 1s/,
    ],
    ['an unknown field', `${MINIMAL}  canary: true\n`, /spec\.canary/],
    ['a promote mode that does not exist', `${MINIMAL}  promote: everything\n`, /spec\.promote/],
  ];
  for (const [what, text, error] of bad) {
    it(`rejects ${what}, naming the field`, () => {
      const { errors } = load(text);
      assert.ok(
        errors.some((e) => error.test(e)),
        `expected ${error} among:\n${errors.join('\n')}`,
      );
    });
  }
});
