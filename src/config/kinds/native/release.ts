/**
 * `Release`: a gray release of one lane as one resource — an optional verification gate where
 * only matching requests enter the lane, weight steps with pauses, metric analysis of the lane's
 * own traffic after every interval, automatic rollback, promotion of the lane to the baseline of
 * its services, and the cleanup of the old baseline's workloads. The daemon drives it
 * (src/controlplane/release/); this file is only its shape and the checks one document allows.
 * References to other resources (group, lane, workloads) are checked at apply, against
 * everything applied (src/controlplane/release/references.ts).
 */
import { bool, int, list, num, obj, oneOf, required, str } from '../../schema/dsl.ts';
import { NS_PER_MS, parseGoDurationNs } from '../../schema/duration.ts';
import { duration } from '../common.ts';
import { defineKind } from '../kind.ts';
import { type MatchExpr, matchExpr } from './match.ts';
import { laneName } from './refs.ts';

export interface WorkloadRef {
  readonly namespace: string;
  readonly name: string;
}

export type Approval =
  /** `lanes release approve NAME` opens the gate. */
  | { readonly kind: 'manual' }
  /** The gate opens by itself after this long (time the daemon ran). */
  | { readonly kind: 'after'; readonly ms: number };

export interface ReleaseStep {
  /** Percent of the gateway's requests stamped with the lane (1-100, increasing). */
  readonly weight: number;
  /** How long the step lasts at least; the step ends at the first passing analysis after it. */
  readonly pauseMs: number;
}

export interface ReleaseAnalysisSpec {
  readonly intervalMs: number;
  /** Fewer requests than this in a window: inconclusive, never a pass. */
  readonly minRequests: number;
  /** Percent of answers that are not 5xx. */
  readonly successRate: { readonly min: number } | undefined;
  readonly latencyP99: { readonly maxMs: number } | undefined;
  /** Gray error rate minus baseline error rate, in percentage points, over the same window. */
  readonly compareToBaseline: { readonly maxErrorRateIncrease: number } | undefined;
  /** Rolls back at this many failed analyses. */
  readonly failureLimit: number;
}

export interface ReleaseSpec {
  readonly group: string;
  readonly lane: string;
  readonly workloads: readonly WorkloadRef[];
  readonly verify: { readonly match: MatchExpr; readonly approval: Approval } | undefined;
  readonly steps: readonly ReleaseStep[];
  readonly analysis: ReleaseAnalysisSpec | undefined;
  /** `baseline`: after the last step the lane becomes the baseline of its services; `manual`: wait for approve. */
  readonly promote: 'baseline' | 'manual';
  readonly cleanup: { readonly afterMs: number } | undefined;
  readonly rollback: { readonly deleteWorkloads: boolean };
}

export const ANALYSIS_DEFAULTS = { intervalMs: 30_000, minRequests: 50, failureLimit: 2 } as const;

const WORKLOAD = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?\/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

const workloadRef = str({
  pattern: WORKLOAD,
  patternHint: 'a workload is a Deployment, named name or namespace/name',
}).map((text): WorkloadRef => {
  const slash = text.indexOf('/');
  return slash < 0
    ? { namespace: 'default', name: text }
    : { namespace: text.slice(0, slash), name: text.slice(slash + 1) };
});

const approval = str({ minLength: 1 })
  .check((text, c) => {
    const ns = text === 'manual' ? 0n : parseGoDurationNs(text);
    if (ns === undefined || ns < 0n)
      c.error(
        `Unsupported value: ${JSON.stringify(text)}: approval is "manual" (lanes release approve) or a duration such as 10m`,
      );
  })
  .map(
    (text): Approval =>
      text === 'manual'
        ? { kind: 'manual' }
        : { kind: 'after', ms: Number(parseGoDurationNs(text) ?? 0n) / Number(NS_PER_MS) },
  );

const step = obj({
  weight: required(int({ min: 1, max: 100 })),
  pause: duration(),
});

const analysis = obj({
  interval: duration().check((ms, c) => {
    if (!(ms >= 1000)) c.error('Invalid value: must be at least 1s');
  }),
  minRequests: int({ min: 1, max: 1_000_000_000 }),
  successRate: obj({ min: required(num({ min: 0, max: 100 })) }),
  latencyP99: obj({ maxMs: required(num({ min: 0 })) }),
  compareToBaseline: obj({ maxErrorRateIncrease: required(num({ min: 0, max: 100 })) }),
  failureLimit: int({ min: 1, max: 1000 }),
}).check((f, c) => {
  if (!f.successRate && !f.latencyP99 && !f.compareToBaseline)
    c.error(
      'Required value: analysis needs at least one of successRate, latencyP99, compareToBaseline',
    );
});

const spec = obj({
  group: required(str({ minLength: 1 })),
  lane: required(laneName()),
  workloads: required(list(workloadRef, { min: 1 })),
  verify: obj({ match: required(matchExpr), approval }),
  steps: required(list(step, { min: 1 })),
  analysis,
  promote: oneOf(['baseline', 'manual']),
  cleanup: obj({ after: required(duration()) }),
  rollback: obj({ deleteWorkloads: bool() }),
})
  .check((f, c) => {
    f.steps.forEach((s, i) => {
      const before = f.steps[i - 1];
      if (before !== undefined && s.weight <= before.weight)
        c.error(
          `Invalid value: ${s.weight}: weights must increase from step to step (the step before has ${before.weight})`,
          'steps',
          i,
          'weight',
        );
    });
    const seen = new Set<string>();
    f.workloads.forEach((w, i) => {
      const key = `${w.namespace}/${w.name}`;
      if (seen.has(key)) c.error(`Duplicate value: ${JSON.stringify(key)}`, 'workloads', i);
      seen.add(key);
    });
  })
  .map(
    (f): ReleaseSpec => ({
      group: f.group,
      lane: f.lane,
      workloads: f.workloads,
      verify: f.verify
        ? { match: f.verify.match, approval: f.verify.approval ?? { kind: 'manual' } }
        : undefined,
      steps: f.steps.map((s) => ({ weight: s.weight, pauseMs: s.pause ?? 0 })),
      analysis: f.analysis
        ? {
            intervalMs: f.analysis.interval ?? ANALYSIS_DEFAULTS.intervalMs,
            minRequests: f.analysis.minRequests ?? ANALYSIS_DEFAULTS.minRequests,
            successRate: f.analysis.successRate,
            latencyP99: f.analysis.latencyP99,
            compareToBaseline: f.analysis.compareToBaseline,
            failureLimit: f.analysis.failureLimit ?? ANALYSIS_DEFAULTS.failureLimit,
          }
        : undefined,
      promote: f.promote ?? 'baseline',
      cleanup: f.cleanup ? { afterMs: f.cleanup.after } : undefined,
      rollback: { deleteWorkloads: f.rollback?.deleteWorkloads ?? false },
    }),
  );

export const releaseKind = defineKind<ReleaseSpec>({
  group: 'lanes.dev',
  versions: ['v1alpha1'],
  kind: 'Release',
  scope: 'Cluster',
  placement: 'mesh',
  spec,
  specRequired: true,
});
