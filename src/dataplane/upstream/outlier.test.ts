import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { OutlierPolicy } from '../../core/compiler/table.ts';
import { tableEndpoint } from '../../core/engine/test-fixtures.ts';
import { type EjectionEvent, type Outcome, OutlierDetector } from './outlier.ts';

/** Istio's defaults (src/core/compiler/policy.ts), except that any share of the pool may be ejected. */
function policy(overrides: Partial<OutlierPolicy> = {}): OutlierPolicy {
  return {
    consecutive5xxErrors: 5,
    consecutiveGatewayErrors: 0,
    consecutiveLocalOriginFailures: 5,
    splitExternalLocalOriginErrors: false,
    intervalMs: 10_000,
    baseEjectionTimeMs: 30_000,
    maxEjectionPercent: 100,
    minHealthPercent: 0,
    ...overrides,
  };
}

/** Shorthands for a result: a status code, or a local-origin failure. */
type Step = number | 'local';

function outcomeOf(step: Step): { outcome: Outcome; status: number | undefined } {
  if (step === 'local') return { outcome: 'local-origin-failure', status: undefined };
  if (step === 502 || step === 503 || step === 504)
    return { outcome: 'gateway-error', status: step };
  return { outcome: step >= 500 ? 'http-5xx' : 'success', status: step };
}

function detector(opts?: { alwaysEjectOneHost?: boolean }) {
  const clock = { t: 1_000 };
  const det = new OutlierDetector(() => clock.t, opts);
  /** Records the steps for one endpoint; the index of each step that ejected and its reason. */
  const run = (
    steps: readonly Step[],
    /** null: the destination has no outlierDetection (a default argument cannot be undefined). */
    p: OutlierPolicy | null = policy(),
    ep = tableEndpoint(1),
    pool = { key: 'default/reviews', size: 1 },
  ) => {
    const events: { at: number; event: EjectionEvent }[] = [];
    steps.forEach((step, at) => {
      const { outcome, status } = outcomeOf(step);
      const event = det.record(pool.key, ep, outcome, status, p ?? undefined, pool.size);
      if (event) events.push({ at, event });
    });
    return events;
  };
  return { det, clock, run };
}

const times = (n: number, step: Step): Step[] => Array.from({ length: n }, () => step);

describe('OutlierDetector', () => {
  describe('which results eject', () => {
    const cases: {
      title: string;
      policy: OutlierPolicy | null;
      steps: Step[];
      /** Index of the step that ejects, and why; undefined: nothing is ejected. */
      ejects?: { at: number; reason: EjectionEvent['reason'] };
    }[] = [
      {
        title: 'without a policy nothing is ever ejected',
        policy: null,
        steps: times(100, 500),
      },
      {
        title: 'the 5th consecutive 5xx ejects (the default threshold)',
        policy: policy(),
        steps: times(5, 500),
        ejects: { at: 4, reason: 'consecutive-5xx' },
      },
      {
        title: 'four consecutive 5xx do not eject',
        policy: policy(),
        steps: times(4, 500),
      },
      {
        title: 'consecutive5xxErrors 0 disables 5xx ejection',
        policy: policy({ consecutive5xxErrors: 0 }),
        steps: times(50, 500),
      },
      {
        title: 'a success resets the 5xx count',
        policy: policy(),
        steps: [...times(4, 500), 200, ...times(4, 500), 404, ...times(5, 500)],
        ejects: { at: 14, reason: 'consecutive-5xx' },
      },
      {
        title: 'gateway errors are off by default (Istio consecutiveGatewayErrors unset)',
        policy: policy({ consecutive5xxErrors: 0 }),
        steps: times(50, 503),
      },
      {
        title: 'consecutive 502, 503 and 504 eject at the gateway threshold',
        policy: policy({ consecutive5xxErrors: 0, consecutiveGatewayErrors: 3 }),
        steps: [502, 503, 504],
        ejects: { at: 2, reason: 'consecutive-gateway-errors' },
      },
      {
        title: 'a 5xx that is not a gateway error resets the gateway count',
        policy: policy({ consecutive5xxErrors: 0, consecutiveGatewayErrors: 3 }),
        steps: [502, 502, 500, 502, 502, 502],
        ejects: { at: 5, reason: 'consecutive-gateway-errors' },
      },
      {
        title: 'gateway errors also count as 5xx',
        policy: policy({ consecutive5xxErrors: 3, consecutiveGatewayErrors: 10 }),
        steps: [503, 500, 504],
        ejects: { at: 2, reason: 'consecutive-5xx' },
      },
      {
        title: 'the gateway count is checked first when both reach their threshold together',
        policy: policy({ consecutive5xxErrors: 3, consecutiveGatewayErrors: 3 }),
        steps: [503, 503, 503],
        ejects: { at: 2, reason: 'consecutive-gateway-errors' },
      },
      {
        title: 'not split: local-origin failures count as 5xx',
        policy: policy({ consecutive5xxErrors: 3 }),
        steps: ['local', 500, 'local'],
        ejects: { at: 2, reason: 'consecutive-5xx' },
      },
      {
        title: 'not split: local-origin failures count as gateway errors',
        policy: policy({ consecutive5xxErrors: 0, consecutiveGatewayErrors: 2 }),
        steps: ['local', 'local'],
        ejects: { at: 1, reason: 'consecutive-gateway-errors' },
      },
      {
        title: 'not split: consecutiveLocalOriginFailures has no effect of its own',
        policy: policy({ consecutive5xxErrors: 0, consecutiveLocalOriginFailures: 1 }),
        steps: times(10, 'local'),
      },
      {
        title: 'split: local-origin failures eject at their own threshold',
        policy: policy({ splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 3 }),
        steps: ['local', 'local', 'local'],
        ejects: { at: 2, reason: 'consecutive-local-origin-failures' },
      },
      {
        title: 'split: local-origin failures do not count as 5xx',
        policy: policy({
          splitExternalLocalOriginErrors: true,
          consecutive5xxErrors: 2,
          consecutiveLocalOriginFailures: 0,
        }),
        steps: [500, 'local', 'local', 'local', 500],
        ejects: { at: 4, reason: 'consecutive-5xx' },
      },
      {
        title: 'split: any response, even a 5xx, resets the local-origin count',
        policy: policy({
          splitExternalLocalOriginErrors: true,
          consecutive5xxErrors: 0,
          consecutiveLocalOriginFailures: 3,
        }),
        steps: ['local', 'local', 500, 'local', 'local', 'local'],
        ejects: { at: 5, reason: 'consecutive-local-origin-failures' },
      },
      {
        title: 'split: consecutiveLocalOriginFailures 0 disables local-origin ejection',
        policy: policy({
          splitExternalLocalOriginErrors: true,
          consecutiveLocalOriginFailures: 0,
        }),
        steps: times(50, 'local'),
      },
    ];
    for (const c of cases) {
      test(c.title, () => {
        const { run } = detector();
        const events = run(c.steps, c.policy);
        assert.deepEqual(
          events.map((e) => ({ at: e.at, reason: e.event.reason })),
          c.ejects ? [c.ejects] : [],
        );
      });
    }
  });

  test('an ejection event names the endpoint, the pool, the end time and the count', () => {
    const { run } = detector();
    const [first] = run(times(5, 500));
    assert.deepEqual(first?.event, {
      endpoint: '10.0.0.1:8000',
      service: 'default/reviews',
      reason: 'consecutive-5xx',
      untilMs: 1_000 + 30_000,
      times: 1,
    });
  });

  describe('ejection and return', () => {
    test('an endpoint is ejected until its time is up, then back in service', () => {
      const { det, clock, run } = detector();
      run(times(5, 500));
      const ep = tableEndpoint(1);
      clock.t = 1_000 + 29_999;
      assert.equal(det.isEjected(ep.id), true);
      assert.equal(det.ejected().length, 1);
      clock.t = 1_000 + 30_000;
      assert.equal(det.isEjected(ep.id), false);
      assert.deepEqual(det.ejected(), []);
    });

    test('results while ejected are ignored, and the counters start over on return', () => {
      const { clock, run } = detector();
      run(times(5, 500));
      assert.deepEqual(run(times(20, 500)), []);
      clock.t += 30_000;
      const events = run(times(5, 500));
      assert.deepEqual(
        events.map((e) => e.at),
        [4],
      );
    });

    test('ejection lasts baseEjectionTime × the number of ejections in a row', () => {
      const { clock, run } = detector();
      const durations: number[] = [];
      for (let i = 0; i < 4; i++) {
        const [e] = run(times(5, 500));
        assert.ok(e);
        durations.push(e.event.untilMs - clock.t);
        assert.equal(e.event.times, i + 1);
        clock.t = e.event.untilMs; // back, and failing again at once
      }
      assert.deepEqual(durations, [30_000, 60_000, 90_000, 120_000]);
    });

    test('the multiplier drops by one per interval spent back in service', () => {
      const { clock, run } = detector();
      const p = policy({ intervalMs: 10_000 });
      let [e] = run(times(5, 500), p);
      clock.t = e!.event.untilMs;
      [e] = run(times(5, 500), p); // 60 s
      clock.t = e!.event.untilMs + 10_000; // one interval back in service: multiplier 2 → 1
      [e] = run(times(5, 500), p);
      assert.equal(e!.event.untilMs - clock.t, 60_000);
      assert.equal(e!.event.times, 3);
      clock.t = e!.event.untilMs + 50_000; // long healthy: multiplier back to 0
      [e] = run(times(5, 500), p);
      assert.equal(e!.event.untilMs - clock.t, 30_000);
    });

    test('ejection time stops growing at 300 s (Envoy max_ejection_time default)', () => {
      const { clock, run } = detector();
      const durations: number[] = [];
      for (let i = 0; i < 13; i++) {
        const [e] = run(times(5, 500));
        durations.push((e!.event.untilMs - clock.t) / 1000);
        clock.t = e!.event.untilMs;
      }
      assert.deepEqual(durations, [30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 300, 300, 300]);
    });

    test('a base ejection time above 300 s is the cap itself', () => {
      const { clock, run } = detector();
      const p = policy({ baseEjectionTimeMs: 400_000 });
      let [e] = run(times(5, 500), p);
      assert.equal(e!.event.untilMs - clock.t, 400_000);
      clock.t = e!.event.untilMs;
      [e] = run(times(5, 500), p);
      assert.equal(e!.event.untilMs - clock.t, 400_000);
    });
  });

  describe('maxEjectionPercent', () => {
    /** Fails every endpoint of a pool of `size` 5 times; how many end up ejected. */
    function ejectAll(size: number, maxEjectionPercent: number, alwaysEjectOneHost = false) {
      const { det, run } = detector({ alwaysEjectOneHost });
      const p = policy({ maxEjectionPercent });
      for (let i = 0; i < size; i++) {
        run(times(5, 500), p, tableEndpoint(i), { key: 'default/reviews', size });
      }
      return { ejected: det.ejected().length, stats: det.stats() };
    }

    const cases = [
      { title: '10% of 5 endpoints ejects none (no free first ejection)', size: 5, pct: 10, n: 0 },
      { title: '10% of 9 endpoints ejects none', size: 9, pct: 10, n: 0 },
      { title: '10% of 10 endpoints ejects one', size: 10, pct: 10, n: 1 },
      { title: '10% of 25 endpoints ejects two', size: 25, pct: 10, n: 2 },
      { title: '50% of 4 endpoints ejects two', size: 4, pct: 50, n: 2 },
      {
        title: '50% of 3 endpoints ejects one (counting the one to eject)',
        size: 3,
        pct: 50,
        n: 1,
      },
      { title: '100% ejects all', size: 3, pct: 100, n: 3 },
      { title: '0% ejects none', size: 3, pct: 0, n: 0 },
    ];
    for (const c of cases) {
      test(c.title, () => {
        const { ejected, stats } = ejectAll(c.size, c.pct);
        assert.equal(ejected, c.n);
        assert.equal(stats.overflows, c.size - c.n);
      });
    }

    test('when both counters fire on a full pool, both count an overflow and start over', () => {
      const { det, run } = detector();
      const p = policy({
        consecutive5xxErrors: 3,
        consecutiveGatewayErrors: 3,
        maxEjectionPercent: 0,
      });
      run(times(3, 503), p);
      assert.equal(det.stats().overflows, 2);
      run(times(2, 503), p);
      assert.equal(det.stats().overflows, 2);
    });

    test('alwaysEjectOneHost ejects one endpoint of a pool the percentage would protect', () => {
      assert.equal(ejectAll(3, 10, true).ejected, 1);
      assert.equal(ejectAll(3, 0, true).ejected, 1);
    });

    test('an endpoint back in service frees its place for another', () => {
      const { det, clock, run } = detector();
      const p = policy({ maxEjectionPercent: 50 });
      const pool = { key: 'default/reviews', size: 2 };
      run(times(5, 500), p, tableEndpoint(0), pool);
      assert.deepEqual(run(times(5, 500), p, tableEndpoint(1), pool), []);
      clock.t += 30_000;
      assert.equal(run(times(5, 500), p, tableEndpoint(1), pool).length, 1);
      assert.deepEqual(
        det.ejected().map((e) => e.endpoint.id),
        ['10.0.0.1:8000'],
      );
    });

    test('pools are bounded separately', () => {
      const { det, run } = detector();
      const p = policy({ maxEjectionPercent: 50 });
      run(times(5, 500), p, tableEndpoint(0), { key: 'default/a', size: 2 });
      run(times(5, 500), p, tableEndpoint(1), { key: 'default/b', size: 2 });
      assert.equal(det.ejected().length, 2);
    });
  });

  describe('isEjected', () => {
    test('takes an id or an endpoint, and works unbound', () => {
      const { det, run } = detector();
      run(times(5, 500));
      const { isEjected } = det;
      assert.deepEqual(
        [isEjected('10.0.0.1:8000'), isEjected(tableEndpoint(1)), isEjected(tableEndpoint(2))],
        [true, true, false],
      );
    });

    test('reads no clock while nothing is ejected', () => {
      let reads = 0;
      const det = new OutlierDetector(() => {
        reads++;
        return 0;
      });
      for (let i = 0; i < 1000; i++) det.isEjected('10.0.0.1:8000');
      assert.equal(reads, 0);
    });
  });

  test('forget drops endpoints that left the routing table, ejected ones included', () => {
    const { det, run } = detector();
    run(times(5, 500), policy(), tableEndpoint(1));
    run(times(3, 500), policy(), tableEndpoint(2));
    assert.equal(det.forget(new Set(['10.0.0.2:8000'])), 1);
    assert.equal(det.isEjected('10.0.0.1:8000'), false);
    assert.equal(det.stats().tracked, 1);
  });

  test('an endpoint never ejected is not kept once it succeeds', () => {
    const { det, run } = detector();
    run([500, 500, 200]);
    assert.equal(det.stats().tracked, 0);
  });

  test('stats count ejections and overflows', () => {
    const { det, run } = detector();
    const p = policy({ maxEjectionPercent: 50 });
    const pool = { key: 'default/reviews', size: 2 };
    run(times(5, 500), p, tableEndpoint(0), pool);
    run(times(5, 500), p, tableEndpoint(1), pool);
    assert.deepEqual(det.stats(), { ejected: 1, ejectionsTotal: 1, overflows: 1, tracked: 2 });
  });
});
