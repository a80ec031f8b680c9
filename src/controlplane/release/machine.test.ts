/**
 * The release state machine on a fake clock: one tick per observed second, analyses answered
 * from synthetic traffic, so every timing below is exact.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReleaseSpec } from '../../config/kinds/native/index.ts';
import { ENVOY_BUCKETS } from '../../dataplane/telemetry/metrics.ts';
import { analyze, type Traffic } from './analysis.ts';
import { advance, type Effect, initialState, type Phase, type ReleaseState } from './machine.ts';

const T0 = Date.UTC(2026, 0, 1);

function spec(over: Partial<ReleaseSpec> = {}): ReleaseSpec {
  return {
    group: 'mock',
    lane: 'v2',
    workloads: [
      { namespace: 'default', name: 'mocka-v2' },
      { namespace: 'default', name: 'mockc-v2' },
    ],
    verify: undefined,
    steps: [
      { weight: 5, pauseMs: 20_000 },
      { weight: 20, pauseMs: 20_000 },
      { weight: 50, pauseMs: 20_000 },
    ],
    analysis: {
      intervalMs: 10_000,
      minRequests: 20,
      successRate: { min: 99 },
      latencyP99: undefined,
      compareToBaseline: undefined,
      failureLimit: 2,
    },
    promote: 'baseline',
    cleanup: { afterMs: 5_000 },
    rollback: { deleteWorkloads: false },
    ...over,
  };
}

function traffic(n: number, errors: number): Traffic {
  const counts = new Array<number>(ENVOY_BUCKETS.length + 1).fill(0);
  counts[3] = n;
  return { requests: n, errors, durationCounts: counts };
}

/** Drives a release: `traffic(t)` says what each window holds; records effects and phases by time. */
class Sim {
  state: ReleaseState;
  t = 0;
  readonly effects: { t: number; effect: Effect }[] = [];
  readonly spec: ReleaseSpec;
  readonly windowTraffic: (t: number) => Traffic;
  constructor(spec: ReleaseSpec, windowTraffic: (t: number) => Traffic) {
    this.spec = spec;
    this.windowTraffic = windowTraffic;
    this.state = initialState(spec, 'g1', T0);
  }
  #apply(effects: readonly Effect[]): void {
    for (const effect of effects) {
      this.effects.push({ t: this.t, effect });
      if (effect.kind === 'analyze') {
        const r = analyze(
          this.spec.analysis!,
          this.windowTraffic(this.t),
          traffic(0, 0),
          ENVOY_BUCKETS,
          {
            at: T0 + this.t,
            ms: effect.windowMs,
          },
        );
        this.#step({ type: 'analysis', result: r });
      } else if (effect.kind === 'plan-promotion') {
        this.#step({
          type: 'promotion-plan',
          services: [{ service: 'default/mocka', from: 'v1' }],
          cleanup: ['default/mocka-v1'],
          now: T0 + this.t,
        });
      } else if (effect.kind === 'delete-workloads' && this.state.phase === 'Promoting') {
        this.#step({ type: 'cleaned-up', now: T0 + this.t });
      }
    }
  }
  #step(e: Parameters<typeof advance>[2]): void {
    const next = advance(this.state, this.spec, e);
    this.state = next.state;
    this.#apply(next.effects);
  }
  command(c: 'approve' | 'pause' | 'resume' | 'promote' | 'abort'): string | undefined {
    const next = advance(this.state, this.spec, { type: 'command', command: c, now: T0 + this.t });
    this.state = next.state;
    this.#apply(next.effects);
    return next.refused;
  }
  /** Runs `seconds` ticks of one second each. */
  run(seconds: number): this {
    for (let i = 0; i < seconds; i++) {
      this.t += 1000;
      this.#step({ type: 'tick', elapsedMs: 1000, now: T0 + this.t });
    }
    return this;
  }
  /** Runs until the phase is `phase`; returns the observed ms it took. */
  until(phase: Phase, limitSeconds = 600): number {
    const start = this.t;
    for (let i = 0; i < limitSeconds && this.state.phase !== phase; i++) this.run(1);
    assert.equal(this.state.phase, phase, this.state.history.map((h) => h.message).join('\n'));
    return this.t - start;
  }
  weights(): number[] {
    return this.state.history.map((h) => h.weight);
  }
}

const healthy = () => traffic(100, 0);
const faulty = () => traffic(100, 30);

describe('release machine', () => {
  test('a healthy release walks 5 → 20 → 50 %, each step its pause long, then promotes and cleans up', () => {
    const sim = new Sim(spec(), healthy);
    assert.equal(sim.state.phase, 'Progressing');
    assert.equal(sim.state.weight, 5);
    sim.until('Promoting');
    assert.equal(sim.t, 60_000, 'three steps of 20 s, each ending at its second passing window');
    sim.until('Succeeded');
    assert.equal(sim.t, 65_000, 'cleanup 5 s after promotion');
    assert.deepEqual(sim.state.promotion?.cleanup, ['default/mocka-v1']);
    assert.deepEqual(
      sim.state.history.map((h) => [h.reason, h.weight]),
      [
        ['Started', 5],
        ['StepPassed', 20],
        ['StepPassed', 50],
        ['Promoted', 100],
        ['CleanedUp', 100],
      ],
    );
    const deletes = sim.effects.filter((e) => e.effect.kind === 'delete-workloads');
    assert.equal(deletes.length, 1);
  });

  test('without cleanup, promotion is the end: nothing is deleted', () => {
    const sim = new Sim(spec({ cleanup: undefined }), healthy);
    sim.until('Succeeded');
    assert.equal(sim.t, 60_000);
    assert.ok(!sim.effects.some((e) => e.effect.kind === 'delete-workloads'));
    assert.match(
      sim.state.history.at(-1)!.message,
      /no cleanup configured: the old baseline's workloads \(default\/mocka-v1\) stay/,
    );
  });

  test('a faulty version rolls back at interval × failureLimit, weight 0 at once, workloads kept', () => {
    const sim = new Sim(spec(), faulty);
    const took = sim.until('RolledBack');
    assert.equal(took, 20_000);
    assert.equal(sim.state.weight, 0);
    assert.equal(sim.state.failures, 2);
    assert.equal(sim.state.outcome?.reason, 'AnalysisFailed');
    assert.match(
      sim.state.outcome!.message,
      /analysis failed 2 times \(failureLimit 2\): successRate 70 \(must be >= 99\) over the 10 s window ending 2026-01-01T00:00:20\.000Z/,
    );
    assert.ok(!sim.effects.some((e) => e.effect.kind === 'delete-workloads'));
    assert.equal(sim.effects.at(-1)?.effect.kind, 'publish');
  });

  test('rollback with deleteWorkloads deletes the gray workloads', () => {
    const sim = new Sim(spec({ rollback: { deleteWorkloads: true } }), faulty);
    sim.until('RolledBack');
    assert.deepEqual(sim.effects.at(-1)?.effect, {
      kind: 'delete-workloads',
      workloads: ['default/mocka-v2', 'default/mockc-v2'],
    });
  });

  test('one failed window below the limit is counted and the release goes on', () => {
    let n = 0;
    const sim = new Sim(spec(), () => (++n === 1 ? faulty() : healthy()));
    sim.until('Promoting');
    assert.equal(sim.state.failures, 1);
    assert.ok(sim.state.history.some((h) => h.reason === 'AnalysisFailed'));
  });

  test('too little traffic never passes: the step ends in Paused, and goes on when a window passes', () => {
    let quiet = true;
    const sim = new Sim(spec(), () => (quiet ? traffic(5, 0) : healthy()));
    sim.run(20);
    assert.equal(sim.state.phase, 'Paused');
    assert.equal(sim.state.paused?.cause, 'inconclusive');
    assert.equal(sim.state.weight, 5);
    assert.match(
      sim.state.history.at(-1)!.message,
      /5 requests served by the lane in the window, fewer than minRequests 20/,
    );
    sim.run(30);
    assert.equal(sim.state.phase, 'Paused', 'still no data: still waiting, no silent pass');
    quiet = false;
    sim.run(10);
    assert.equal(sim.state.phase, 'Progressing');
    assert.equal(sim.state.weight, 20);
  });

  test('a manual pause stops the step clock but not the analysis, which can still roll back', () => {
    let bad = false;
    const sim = new Sim(spec(), () => (bad ? faulty() : healthy()));
    sim.run(5);
    assert.equal(sim.command('pause'), undefined);
    sim.run(60);
    assert.equal(sim.state.phase, 'Paused');
    assert.equal(sim.state.stepElapsedMs, 5_000);
    assert.equal(sim.command('resume'), undefined);
    sim.run(14);
    assert.equal(sim.state.weight, 5, '5 + 14 s: still in the first 20 s step');
    bad = true;
    sim.command('pause');
    sim.until('RolledBack');
  });

  test('a verification gate lets nothing in by weight until approved', () => {
    const gated = spec({
      verify: {
        match: { kind: 'query', name: 'group', test: { op: 'exact', value: 'gray' } },
        approval: { kind: 'manual' },
      },
    });
    const sim = new Sim(gated, healthy);
    sim.run(120);
    assert.equal(sim.state.phase, 'Verifying');
    assert.equal(sim.state.weight, 0);
    assert.equal(sim.command('approve'), undefined);
    assert.equal(sim.state.phase, 'Progressing');
    assert.equal(sim.state.weight, 5);
  });

  test('a verification gate with a duration opens by itself', () => {
    const gated = spec({
      verify: {
        match: { kind: 'query', name: 'group', test: { op: 'exact', value: 'gray' } },
        approval: { kind: 'after', ms: 30_000 },
      },
    });
    const sim = new Sim(gated, healthy);
    sim.until('Progressing');
    assert.equal(sim.t, 30_000);
    assert.equal(sim.state.history.at(-1)?.reason, 'ApprovalTimeElapsed');
  });

  test('promote: manual waits after the last step for approve', () => {
    const sim = new Sim(spec({ promote: 'manual' }), healthy);
    sim.run(60);
    assert.equal(sim.state.phase, 'Paused');
    assert.equal(sim.state.paused?.cause, 'promotion');
    assert.match(sim.command('resume')!, /waits for promotion/);
    assert.equal(sim.command('approve'), undefined);
    sim.until('Succeeded');
  });

  test('promote by hand skips the steps left; abort rolls back; finished releases refuse both', () => {
    const promoted = new Sim(spec(), healthy).run(3);
    promoted.command('promote');
    assert.equal(promoted.state.phase, 'Promoting');
    assert.equal(promoted.state.history.at(-1)?.reason, 'PromotedByHand');
    promoted.until('Succeeded');
    assert.equal(
      promoted.command('abort'),
      'cannot abort a release that is Succeeded; it has finished and its lane is the baseline of its services: release the next change with a new Release; to delete this one, first write the promotion into your resources (lanes delete says what to apply)',
    );

    const aborted = new Sim(spec(), healthy).run(3);
    aborted.command('abort');
    assert.equal(aborted.state.phase, 'RolledBack');
    assert.equal(aborted.state.outcome?.reason, 'Aborted');
    assert.match(aborted.command('promote')!, /cannot promote a release that is RolledBack/);
    assert.match(aborted.command('approve')!, /nothing to approve/);
    for (const c of ['pause', 'resume', 'promote', 'approve'] as const)
      assert.match(
        aborted.command(c)!,
        /; it has finished: to run it again, change its spec and apply it/,
        c,
      );
  });

  test('aborting during promotion before the cleanup returns the baseline; after it, it is too late', () => {
    const early = new Sim(spec({ cleanup: { afterMs: 30_000 } }), healthy);
    early.until('Promoting');
    early.run(10);
    assert.equal(early.command('abort'), undefined);
    assert.equal(early.state.phase, 'RolledBack');
    assert.equal(early.state.promotion, undefined);
  });

  test('broken references fail an active release and take its weight to 0', () => {
    const sim = new Sim(spec(), healthy).run(25);
    const next = advance(sim.state, sim.spec, {
      type: 'broken',
      message: 'lane group mock was deleted',
      now: T0,
    });
    assert.equal(next.state.phase, 'Failed');
    assert.equal(next.state.weight, 0);
    assert.deepEqual(next.effects, [{ kind: 'publish' }]);
  });

  test('a state saved mid-step and restored resumes that step with the time already spent, replaying nothing', () => {
    const sim = new Sim(spec(), healthy);
    sim.run(33);
    assert.equal(sim.state.weight, 20);
    assert.equal(sim.state.stepElapsedMs, 13_000);
    // kill -9: the state went to disk as JSON; the partial analysis window is lost with the counters.
    const restored: ReleaseState = { ...JSON.parse(JSON.stringify(sim.state)), windowElapsedMs: 0 };
    const resumed = new Sim(spec(), healthy);
    resumed.state = restored;
    const historyBefore = restored.history.length;
    resumed.run(1);
    assert.equal(resumed.state.weight, 20, 'no step replayed');
    resumed.until('Promoting');
    // 7 s left of step 2 (its second window ends 10 s after the restart), then 20 s of step 3.
    assert.equal(resumed.t, 30_000);
    assert.deepEqual(
      resumed.state.history.slice(historyBefore).map((h) => [h.reason, h.weight]),
      [
        ['StepPassed', 50],
        ['Promoted', 100],
      ],
    );
  });
});
