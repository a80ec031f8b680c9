import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReleaseView } from '../../controlplane/local/protocol.ts';
import { renderRelease, renderReleaseTable } from './render.ts';

const VIEW: ReleaseView = {
  name: 'mock-v2',
  group: 'mock',
  lane: 'v2',
  phase: 'Progressing',
  step: 2,
  steps: [
    { weight: 5, pauseMs: 30_000 },
    { weight: 20, pauseMs: 30_000 },
    { weight: 50, pauseMs: 30_000 },
  ],
  weight: 20,
  stepElapsedMs: 14_000,
  stepPauseMs: 30_000,
  failures: 1,
  analysis: { intervalMs: 10_000, minRequests: 20, failureLimit: 2 },
  lastAnalysis: {
    verdict: 'pass',
    at: '2026-01-01T00:01:00.000Z',
    windowMs: 10_000,
    requests: 61,
    errors: 0,
    baselineRequests: 240,
    metrics: [
      { metric: 'successRate', value: 100, op: '>=', threshold: 99, verdict: 'pass' },
      {
        metric: 'latencyP99',
        value: undefined,
        op: '<=',
        threshold: 500,
        verdict: 'inconclusive',
        reason: 'no data',
      },
    ],
  },
  conditions: [],
  history: [
    {
      at: '2026-01-01T00:00:00.000Z',
      phase: 'Progressing',
      step: 0,
      weight: 5,
      reason: 'Started',
      message: 'step 1 of 3: 5 % of requests enter the lane (no verification gate)',
    },
  ],
};

describe('release views', () => {
  test('status: the step among all steps, the weight, every metric against its threshold, the history', () => {
    assert.equal(
      renderRelease(VIEW, Date.parse('2026-01-01T00:01:04.000Z')),
      `Release:  mock-v2 (group mock, lane v2)
Phase:    Progressing
Step:     2 of 3: 5% → [20%] → 50%; 14s of its 30s pause
Weight:   20% of ingress requests enter lane v2
Analysis: every 10s, at least 20 requests; 1 of 2 failures allowed before rollback
Last window: pass, 61 requests (0 5xx), baseline 240 over 10s, ended 2026-01-01T00:01:00.000Z (4s ago)
  METRIC        VALUE     THRESHOLD   VERDICT
  successRate   100       >= 99       pass
  latencyP99    no data   <= 500      inconclusive: no data
History:
  TIME                       PHASE         WEIGHT   REASON    MESSAGE
  2026-01-01T00:00:00.000Z   Progressing   5%       Started   step 1 of 3: 5 % of requests enter the lane (no verification gate)
`,
    );
  });

  test('a rolled-back release says where it stopped and why', () => {
    const text = renderRelease(
      {
        ...VIEW,
        phase: 'RolledBack',
        weight: 0,
        outcome: { reason: 'AnalysisFailed', message: 'analysis failed 2 times' },
      },
      undefined,
    );
    assert.match(text, /^Step: {5}stopped at step 2 of 3: 5% → \[20%\] → 50%$/m);
    assert.match(text, /^Outcome: {2}AnalysisFailed: analysis failed 2 times$/m);
  });

  test('the list: phase with why it is paused, step, weight, failures against the limit', () => {
    assert.equal(
      renderReleaseTable([{ ...VIEW, phase: 'Paused', pausedBy: 'inconclusive' }]),
      `NAME      GROUP   LANE   PHASE                   STEP   WEIGHT   FAILED   LAST ANALYSIS
mock-v2   mock    v2     Paused (inconclusive)   2/3    20%      1/2      pass
`,
    );
  });
});
