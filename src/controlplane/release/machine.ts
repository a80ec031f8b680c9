/**
 * The life of a release as a pure state machine: `advance(state, spec, event)` → the next state
 * and what the driver must do (publish the routing, measure a window, delete workloads). No clock:
 * time comes in events, as observed milliseconds (`tick.elapsedMs`: time the daemon ran, so a
 * daemon that was down loses no pause time already spent and counts none it did not watch) and
 * wall-clock stamps for the history.
 *
 *   Verifying ──approve / approval time──► Progressing(step 0) ──pass after pause──► step 1 … ─► Promoting ─► Succeeded
 *       │                                      │  ▲                                    (baseline switched;  (old baseline's
 *       │                                      │  └── resume ── Paused (manual, inconclusive, waiting for approval)  workloads deleted
 *       └──────────── abort / failureLimit failed analyses ──────────────► RolledBack                           after cleanup.after)
 *
 * A step lasts at least its pause and ends at the first passing analysis after that; an
 * inconclusive analysis at that point pauses the release (it goes on by itself at the next pass,
 * or by hand). Analyses run every interval while Progressing or Paused, so a paused release still
 * rolls back on bad numbers. Failed analyses count over the whole release (Flagger's threshold):
 * at `failureLimit` the release rolls back, so the time from a bad version going live to rollback
 * is about interval × failureLimit.
 */
import type { ReleaseSpec } from '../../config/kinds/native/index.ts';
import { assertNever } from '../../util/assert-never.ts';
import { type AnalysisResult, describeMetric } from './analysis.ts';

/** Every phase, in the order a release goes through them. */
export const PHASES = [
  'Verifying',
  'Progressing',
  'Paused',
  'Promoting',
  'Succeeded',
  'RolledBack',
  'Failed',
] as const;

export type Phase = (typeof PHASES)[number];

export const ACTIVE_PHASES: ReadonlySet<Phase> = new Set([
  'Verifying',
  'Progressing',
  'Paused',
  'Promoting',
]);

/** Why a transition happened: typed, so a script can switch on it. */
export type TransitionReason =
  | 'Started'
  | 'Approved'
  | 'ApprovalTimeElapsed'
  | 'StepPassed'
  | 'Inconclusive'
  | 'Paused'
  | 'Resumed'
  | 'AwaitingPromotion'
  | 'Promoted'
  | 'PromotedByHand'
  | 'CleanedUp'
  | 'AnalysisFailed'
  | 'Aborted'
  | 'ReferencesBroken';

export interface Transition {
  /** Wall-clock ms. */
  readonly at: number;
  readonly phase: Phase;
  readonly step: number;
  readonly weight: number;
  readonly reason: TransitionReason;
  readonly message: string;
}

export type PauseCause = 'manual' | 'inconclusive' | 'promotion';

export interface Promotion {
  readonly at: number;
  /** Per service, the lane that was its first baseline before. */
  readonly services: readonly { readonly service: string; readonly from: string | undefined }[];
  /** Deployments (`namespace/name`) of the old baseline that cleanup deletes. */
  readonly cleanup: readonly string[];
  /** Observed ms since promotion, towards `cleanup.after`. */
  readonly elapsedMs: number;
  /** The deletion was asked for (a restarted daemon asks again: deleting is idempotent). */
  readonly cleanupStarted: boolean;
}

export interface ReleaseState {
  /** A hash of the spec this state was started for. */
  readonly generation: string;
  readonly phase: Phase;
  /** Index of the current step; -1 while verifying. */
  readonly step: number;
  readonly weight: number;
  /** Observed ms in the current step (or verification gate). */
  readonly stepElapsedMs: number;
  /** Observed ms since the current analysis window began. */
  readonly windowElapsedMs: number;
  readonly failures: number;
  /** While Paused: why, and the phase `resume` returns to. */
  readonly paused: { readonly cause: PauseCause; readonly resumeTo: Phase } | undefined;
  readonly lastAnalysis: AnalysisResult | undefined;
  readonly promotion: Promotion | undefined;
  /** Why it rolled back or failed. */
  readonly outcome: { readonly reason: TransitionReason; readonly message: string } | undefined;
  readonly history: readonly Transition[];
}

export type ReleaseEvent =
  | { readonly type: 'tick'; readonly elapsedMs: number; readonly now: number }
  | { readonly type: 'analysis'; readonly result: AnalysisResult }
  | {
      readonly type: 'command';
      readonly command: ReleaseCommand;
      readonly now: number;
    }
  | {
      /** Promotion facts the driver computed from the table and resources at the switch. */
      readonly type: 'promotion-plan';
      readonly services: Promotion['services'];
      readonly cleanup: readonly string[];
      readonly now: number;
    }
  | { readonly type: 'cleaned-up'; readonly now: number }
  | { readonly type: 'broken'; readonly message: string; readonly now: number };

/** What `lanes release COMMAND NAME` may ask of a release. */
export const RELEASE_COMMANDS = ['approve', 'pause', 'resume', 'promote', 'abort'] as const;

export type ReleaseCommand = (typeof RELEASE_COMMANDS)[number];

export type Effect =
  /** The routing changed (weight, gate, baseline): recompile and publish. */
  | { readonly kind: 'publish' }
  /** Measure the window that just ended and send an `analysis` event. */
  | { readonly kind: 'analyze'; readonly windowMs: number }
  /** Switch the baseline: compute the promotion plan and send `promotion-plan`. */
  | { readonly kind: 'plan-promotion' }
  /** Delete these Deployments (after a drain), then send `cleaned-up`. */
  | { readonly kind: 'delete-workloads'; readonly workloads: readonly string[] };

export interface Advance {
  readonly state: ReleaseState;
  readonly effects: readonly Effect[];
  /** A command that does not apply in this phase: the message says why (the state is unchanged). */
  readonly refused?: string;
}

const HISTORY_LIMIT = 100;

export function initialState(spec: ReleaseSpec, generation: string, now: number): ReleaseState {
  const base: ReleaseState = {
    generation,
    phase: 'Verifying',
    step: -1,
    weight: 0,
    stepElapsedMs: 0,
    windowElapsedMs: 0,
    failures: 0,
    paused: undefined,
    lastAnalysis: undefined,
    promotion: undefined,
    outcome: undefined,
    history: [],
  };
  if (spec.verify) {
    const gate =
      spec.verify.approval.kind === 'manual'
        ? 'waiting for lanes release approve'
        : `opening after ${spec.verify.approval.ms / 1000} s`;
    return record(
      base,
      now,
      'Started',
      `verification: only matching requests enter the lane, ${gate}`,
    );
  }
  return enterStep(base, spec, 0, now, 'Started', 'no verification gate');
}

function record(
  s: ReleaseState,
  now: number,
  reason: TransitionReason,
  message: string,
): ReleaseState {
  const entry: Transition = {
    at: now,
    phase: s.phase,
    step: s.step,
    weight: s.weight,
    reason,
    message,
  };
  return { ...s, history: [...s.history, entry].slice(-HISTORY_LIMIT) };
}

function enterStep(
  s: ReleaseState,
  spec: ReleaseSpec,
  step: number,
  now: number,
  reason: TransitionReason,
  why: string,
): ReleaseState {
  const weight = spec.steps[step]!.weight;
  return record(
    {
      ...s,
      phase: 'Progressing',
      step,
      weight,
      stepElapsedMs: 0,
      windowElapsedMs: 0,
      paused: undefined,
    },
    now,
    reason,
    `step ${step + 1} of ${spec.steps.length}: ${weight} % of requests enter the lane (${why})`,
  );
}

function finishSteps(s: ReleaseState, spec: ReleaseSpec, now: number, why: string): Advance {
  if (spec.promote === 'manual') {
    return {
      state: record(
        { ...s, phase: 'Paused', paused: { cause: 'promotion', resumeTo: 'Progressing' } },
        now,
        'AwaitingPromotion',
        `${why}; every step passed, waiting for lanes release approve (promote: manual)`,
      ),
      effects: [],
    };
  }
  return startPromotion(s, now, 'Promoted', `${why}; every step passed`);
}

function startPromotion(
  s: ReleaseState,
  now: number,
  reason: TransitionReason,
  why: string,
): Advance {
  return {
    state: record(
      { ...s, phase: 'Promoting', weight: 100, paused: undefined, windowElapsedMs: 0 },
      now,
      reason,
      `${why}: the lane becomes the baseline of its services`,
    ),
    effects: [{ kind: 'plan-promotion' }, { kind: 'publish' }],
  };
}

function rollBack(
  s: ReleaseState,
  spec: ReleaseSpec,
  now: number,
  phase: 'RolledBack' | 'Failed',
  reason: TransitionReason,
  message: string,
): Advance {
  const state = record(
    {
      ...s,
      phase,
      weight: 0,
      paused: undefined,
      promotion: undefined,
      outcome: { reason, message },
    },
    now,
    reason,
    `${message}; no more requests enter the lane, those in flight finish${spec.rollback.deleteWorkloads ? '; its workloads are deleted' : '; its workloads stay for inspection'}`,
  );
  const effects: Effect[] = [{ kind: 'publish' }];
  if (spec.rollback.deleteWorkloads)
    effects.push({
      kind: 'delete-workloads',
      workloads: spec.workloads.map((w) => `${w.namespace}/${w.name}`),
    });
  return { state, effects };
}

const refuse = (s: ReleaseState, why: string): Advance => ({ state: s, effects: [], refused: why });

export function advance(s: ReleaseState, spec: ReleaseSpec, e: ReleaseEvent): Advance {
  switch (e.type) {
    case 'tick':
      return onTick(s, spec, e.elapsedMs, e.now);
    case 'analysis':
      return onAnalysis(s, spec, e.result);
    case 'command':
      return onCommand(s, spec, e.command, e.now);
    case 'promotion-plan': {
      if (s.phase !== 'Promoting') return { state: s, effects: [] };
      const promoted: ReleaseState = {
        ...s,
        promotion: {
          at: e.now,
          services: e.services,
          cleanup: spec.cleanup ? e.cleanup : [],
          elapsedMs: 0,
          cleanupStarted: false,
        },
      };
      if (spec.cleanup) return { state: promoted, effects: [] };
      return {
        state: record(
          { ...promoted, phase: 'Succeeded' },
          e.now,
          'Promoted',
          `no cleanup configured: the old baseline's workloads (${e.cleanup.join(', ') || 'none'}) stay`,
        ),
        effects: [],
      };
    }
    case 'cleaned-up':
      if (s.phase !== 'Promoting') return { state: s, effects: [] };
      return {
        state: record(
          { ...s, phase: 'Succeeded' },
          e.now,
          'CleanedUp',
          `the old baseline's workloads (${s.promotion?.cleanup.join(', ') || 'none'}) were drained and deleted`,
        ),
        effects: [],
      };
    case 'broken':
      if (!ACTIVE_PHASES.has(s.phase) || s.phase === 'Promoting') return { state: s, effects: [] };
      return rollBack(s, spec, e.now, 'Failed', 'ReferencesBroken', e.message);
    default:
      return assertNever(e);
  }
}

function onTick(s: ReleaseState, spec: ReleaseSpec, dt: number, now: number): Advance {
  switch (s.phase) {
    case 'Verifying': {
      const state = { ...s, stepElapsedMs: s.stepElapsedMs + dt };
      const approval = spec.verify?.approval;
      if (approval?.kind === 'after' && state.stepElapsedMs >= approval.ms)
        return {
          state: enterStep(state, spec, 0, now, 'ApprovalTimeElapsed', 'verification time passed'),
          effects: [{ kind: 'publish' }],
        };
      return { state, effects: [] };
    }
    case 'Progressing':
    case 'Paused': {
      const running = s.phase === 'Progressing' || s.paused?.cause === 'inconclusive';
      const state = {
        ...s,
        stepElapsedMs: running ? s.stepElapsedMs + dt : s.stepElapsedMs,
        windowElapsedMs: s.windowElapsedMs + dt,
      };
      if (spec.analysis) {
        if (state.windowElapsedMs >= spec.analysis.intervalMs)
          return {
            state: { ...state, windowElapsedMs: 0 },
            effects: [{ kind: 'analyze', windowMs: state.windowElapsedMs }],
          };
        return { state, effects: [] };
      }
      // Without analysis a step is its pause, nothing more.
      if (state.phase === 'Progressing' && state.stepElapsedMs >= spec.steps[state.step]!.pauseMs)
        return nextStep(state, spec, now, 'pause over (no analysis configured)');
      return { state, effects: [] };
    }
    case 'Promoting': {
      const p = s.promotion;
      if (!p || p.cleanupStarted) return { state: s, effects: [] };
      const elapsedMs = p.elapsedMs + dt;
      const due = elapsedMs >= (spec.cleanup?.afterMs ?? 0);
      return {
        state: { ...s, promotion: { ...p, elapsedMs, cleanupStarted: due } },
        effects: due ? [{ kind: 'delete-workloads', workloads: p.cleanup }] : [],
      };
    }
    case 'Succeeded':
    case 'RolledBack':
    case 'Failed':
      return { state: s, effects: [] };
    default:
      return assertNever(s.phase);
  }
}

function nextStep(s: ReleaseState, spec: ReleaseSpec, now: number, why: string): Advance {
  if (s.step + 1 < spec.steps.length)
    return {
      state: enterStep(s, spec, s.step + 1, now, 'StepPassed', `step ${s.step + 1}: ${why}`),
      effects: [{ kind: 'publish' }],
    };
  return finishSteps(s, spec, now, `step ${s.step + 1}: ${why}`);
}

function onAnalysis(s: ReleaseState, spec: ReleaseSpec, r: AnalysisResult): Advance {
  if (s.phase !== 'Progressing' && s.phase !== 'Paused') return { state: s, effects: [] };
  const limit = spec.analysis?.failureLimit ?? 1;
  const state: ReleaseState = { ...s, lastAnalysis: r };
  const window = `${Math.round(r.windowMs / 100) / 10} s window ending ${new Date(r.at).toISOString()}`;
  switch (r.verdict) {
    case 'fail': {
      const failures = s.failures + 1;
      const failed = r.metrics
        .filter((m) => m.verdict === 'fail')
        .map(describeMetric)
        .join(', ');
      const counted = { ...state, failures };
      if (failures >= limit)
        return rollBack(
          counted,
          spec,
          r.at,
          'RolledBack',
          'AnalysisFailed',
          `analysis failed ${failures} time${failures === 1 ? '' : 's'} (failureLimit ${limit}): ${failed} over the ${window}`,
        );
      return {
        state: record(
          counted,
          r.at,
          'AnalysisFailed',
          `analysis failed (${failures} of failureLimit ${limit}): ${failed} over the ${window}`,
        ),
        effects: [],
      };
    }
    case 'pass': {
      const stepDone = state.stepElapsedMs >= spec.steps[state.step]!.pauseMs;
      const waitingForData = state.phase === 'Paused' && state.paused?.cause === 'inconclusive';
      if ((state.phase === 'Progressing' || waitingForData) && stepDone)
        return nextStep(state, spec, r.at, `analysis passed over the ${window}`);
      return { state, effects: [] };
    }
    case 'inconclusive': {
      const stepDone = state.stepElapsedMs >= spec.steps[state.step]!.pauseMs;
      if (state.phase === 'Progressing' && stepDone) {
        const why = r.metrics
          .filter((m) => m.verdict === 'inconclusive')
          .map(describeMetric)
          .join(', ');
        return {
          state: record(
            {
              ...state,
              phase: 'Paused',
              paused: { cause: 'inconclusive', resumeTo: 'Progressing' },
            },
            r.at,
            'Inconclusive',
            `step ${state.step + 1} cannot end on an inconclusive analysis (${why}); it goes on at the next passing window, or use lanes release promote / abort`,
          ),
          effects: [],
        };
      }
      return { state, effects: [] };
    }
    default:
      return assertNever(r.verdict);
  }
}

/** What a refused command can do instead, after it says why (nothing when the why says it). */
function instead(s: ReleaseState): string {
  switch (s.phase) {
    case 'Succeeded':
      // Its promotion lives in the release: starting it again or deleting it would hand the
      // services back, which lanes refuses until the promotion is written into the resources.
      return s.promotion
        ? '; it has finished and its lane is the baseline of its services: release the next change with a new Release; to delete this one, first write the promotion into your resources (lanes delete says what to apply)'
        : '; it has finished: to run it again, change its spec and apply it (a finished release whose spec changes starts again), or delete it';
    case 'RolledBack':
    case 'Failed':
      return '; it has finished: to run it again, change its spec and apply it (a finished release whose spec changes starts again), or delete it';
    case 'Promoting':
      return '; it is being promoted: lanes release status NAME -w shows when it has finished';
    case 'Paused':
      return '; it is paused: lanes release resume, promote or abort it';
    case 'Verifying':
    case 'Progressing':
      return '';
    default:
      return assertNever(s.phase);
  }
}

function onCommand(s: ReleaseState, spec: ReleaseSpec, c: ReleaseCommand, now: number): Advance {
  const finished = !ACTIVE_PHASES.has(s.phase);
  switch (c) {
    case 'approve':
      if (s.phase === 'Verifying')
        return {
          state: enterStep(s, spec, 0, now, 'Approved', 'verification approved'),
          effects: [{ kind: 'publish' }],
        };
      if (s.phase === 'Paused' && s.paused?.cause === 'promotion')
        return startPromotion(s, now, 'Approved', 'promotion approved');
      return refuse(
        s,
        `nothing to approve: the release is ${s.phase}; approve opens the verification gate, or promotes after the last step when promote is manual${instead(s)}`,
      );
    case 'pause':
      if (s.phase === 'Verifying' || s.phase === 'Progressing')
        return {
          state: record(
            { ...s, phase: 'Paused', paused: { cause: 'manual', resumeTo: s.phase } },
            now,
            'Paused',
            `paused by hand at ${s.weight} %; analysis goes on and can still roll back`,
          ),
          effects: [],
        };
      return refuse(s, `cannot pause a release that is ${s.phase}${instead(s)}`);
    case 'resume':
      if (s.phase === 'Paused' && s.paused?.cause !== 'promotion')
        return {
          state: record(
            { ...s, phase: s.paused?.resumeTo ?? 'Progressing', paused: undefined },
            now,
            'Resumed',
            'resumed by hand',
          ),
          effects: [],
        };
      return refuse(
        s,
        s.phase === 'Paused'
          ? 'the release waits for promotion: use lanes release approve (or promote)'
          : `cannot resume a release that is ${s.phase}, it is not paused${instead(s)}`,
      );
    case 'promote':
      if (s.phase === 'Verifying' || s.phase === 'Progressing' || s.phase === 'Paused')
        return startPromotion(
          s,
          now,
          'PromotedByHand',
          'promoted by hand, skipping the steps left',
        );
      return refuse(s, `cannot promote a release that is ${s.phase}${instead(s)}`);
    case 'abort':
      if (finished) return refuse(s, `cannot abort a release that is ${s.phase}${instead(s)}`);
      if (s.phase === 'Promoting' && s.promotion?.cleanupStarted)
        return refuse(s, "too late to abort: the old baseline's workloads are being deleted");
      return rollBack(s, spec, now, 'RolledBack', 'Aborted', 'aborted by hand');
    default:
      return assertNever(c);
  }
}
