/**
 * Release analysis, pure: the counters of one window → a verdict per metric and overall.
 *
 * What is measured is the lane's OWN traffic: hops reported by the client side (a gateway or a
 * caller's sidecar: `reporter="source"`) that the lane's instances served (`lane_served` = the
 * lane, so requests that fell back elsewhere do not count, while requests of other lanes that fell
 * back INTO it would), for the services the lane contains, and not routed by a per-request
 * override. The client side sees what users see: a refused connection to a gray instance is a 5xx
 * of the lane too. The same query in PromQL:
 *
 *   sum(increase(istio_requests_total{reporter="source",lane_served="v2",override!="true",
 *       destination_service=~"mocka.default.svc.cluster.local|…"}[30s]))
 *
 * Rules (reference/progressive-delivery.md §0, "no-data handling"):
 * - fewer requests than `minRequests` in the window → inconclusive, never a pass, and never a
 *   silent fail: the release waits at the end of its step and says so;
 * - success rate = 100 × non-5xx / all, passes at ≥ min;
 * - p99 latency as Prometheus' histogram_quantile computes it from the same buckets, passes at ≤ max;
 * - compared to the baseline (the services' baseline lanes over the same window): gray error rate
 *   minus baseline error rate, in percentage points, passes at ≤ maxErrorRateIncrease; a baseline
 *   with too little traffic makes only that metric inconclusive.
 * Overall: any metric failing fails; else any inconclusive is inconclusive; else it passes.
 */
import type { ReleaseAnalysisSpec } from '../../config/kinds/native/index.ts';
import type { HopSeriesSnapshot, MetricsSnapshot } from '../../dataplane/telemetry/metrics.ts';

/** Counters of one selection of series, cumulative or over a window. */
export interface Traffic {
  readonly requests: number;
  /** Answers with a 5xx status (from the app or from the mesh). */
  readonly errors: number;
  /** Duration histogram: per bucket (not cumulative), one more than the bounds. */
  readonly durationCounts: readonly number[];
}

export const NO_TRAFFIC: Traffic = { requests: 0, errors: 0, durationCounts: [] };

export type Verdict = 'pass' | 'fail' | 'inconclusive';

export type MetricName = 'successRate' | 'latencyP99' | 'errorRateIncrease';

export interface MetricResult {
  readonly metric: MetricName;
  /** Undefined when it could not be computed (no data). */
  readonly value: number | undefined;
  /** `≥ 99` reads as: the value must be at least 99. */
  readonly op: '>=' | '<=';
  readonly threshold: number;
  readonly verdict: Verdict;
  /** Why, in a sentence, when it is not a plain pass. */
  readonly reason?: string;
}

export interface AnalysisResult {
  readonly verdict: Verdict;
  /** Wall-clock ms when the window ended. */
  readonly at: number;
  /** How long the window was (observed time). */
  readonly windowMs: number;
  readonly requests: number;
  readonly errors: number;
  readonly baselineRequests: number | undefined;
  readonly metrics: readonly MetricResult[];
}

/** Which series a release measures. */
export interface Selection {
  readonly lane: string;
  /** `namespace/name` of the services the lane contains. */
  readonly services: ReadonlySet<string>;
  /** Per service, the lane that serves it as baseline (for compareToBaseline). */
  readonly baselines: ReadonlyMap<string, string>;
}

function isMeasured(s: HopSeriesSnapshot): boolean {
  // Per-request overrides (labelled override="true") say nothing about the lane's own traffic.
  return s.labels.reporter === 'source' && s.labels.override === undefined;
}

function sum(series: readonly HopSeriesSnapshot[], bucketCount: number): Traffic {
  let requests = 0;
  let errors = 0;
  const durationCounts = new Array<number>(bucketCount + 1).fill(0);
  for (const s of series) {
    requests += s.requests;
    if (s.labels.response_code.startsWith('5')) errors += s.requests;
    s.durationMs.counts.forEach((n, i) => {
      durationCounts[i] = (durationCounts[i] ?? 0) + n;
    });
  }
  return { requests, errors, durationCounts };
}

/** The gray lane's traffic and its baseline's, cumulative, from one metrics snapshot. */
export function measure(
  snapshot: MetricsSnapshot,
  sel: Selection,
): { readonly gray: Traffic; readonly baseline: Traffic } {
  const gray: HopSeriesSnapshot[] = [];
  const baseline: HopSeriesSnapshot[] = [];
  for (const s of snapshot.series) {
    if (!isMeasured(s) || s.service === undefined || !sel.services.has(s.service)) continue;
    if (s.labels.lane_served === sel.lane) gray.push(s);
    else if (sel.baselines.get(s.service) === s.labels.lane_served) baseline.push(s);
  }
  const n = snapshot.buckets.length;
  return { gray: sum(gray, n), baseline: sum(baseline, n) };
}

/**
 * `after − before`. Counters only grow within one daemon; if they went down, the daemon
 * restarted in between and `after` is all there is of the window.
 */
export function windowOf(before: Traffic | undefined, after: Traffic): Traffic {
  if (before === undefined || after.requests < before.requests) return after;
  return {
    requests: after.requests - before.requests,
    errors: after.errors - before.errors,
    durationCounts: after.durationCounts.map((n, i) => n - (before.durationCounts[i] ?? 0)),
  };
}

/**
 * Prometheus' histogram_quantile: the bucket where the rank falls, linear interpolation inside
 * it (the first bucket starts at 0); a rank in the +Inf bucket answers the highest finite bound.
 */
export function histogramQuantile(
  q: number,
  bounds: readonly number[],
  counts: readonly number[],
): number | undefined {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let cumulative = 0;
  for (let i = 0; i < bounds.length; i++) {
    const inBucket = counts[i] ?? 0;
    if (cumulative + inBucket >= rank && inBucket > 0) {
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = bounds[i]!;
      return lower + ((upper - lower) * (rank - cumulative)) / inBucket;
    }
    cumulative += inBucket;
  }
  return bounds[bounds.length - 1];
}

const round = (v: number) => Math.round(v * 1000) / 1000;

export function analyze(
  spec: ReleaseAnalysisSpec,
  gray: Traffic,
  baseline: Traffic,
  bounds: readonly number[],
  window: { readonly at: number; readonly ms: number },
): AnalysisResult {
  const metrics: MetricResult[] = [];
  const enough = gray.requests >= spec.minRequests;
  const tooFew = `${gray.requests} request${gray.requests === 1 ? '' : 's'} served by the lane in the window, fewer than minRequests ${spec.minRequests}`;
  const errorRate = (t: Traffic) => (100 * t.errors) / t.requests;
  if (spec.successRate) {
    const value = gray.requests > 0 ? round(100 - errorRate(gray)) : undefined;
    metrics.push({
      metric: 'successRate',
      value,
      op: '>=',
      threshold: spec.successRate.min,
      ...(enough
        ? { verdict: value! >= spec.successRate.min ? 'pass' : 'fail' }
        : { verdict: 'inconclusive', reason: tooFew }),
    });
  }
  if (spec.latencyP99) {
    const p99 = histogramQuantile(0.99, bounds, gray.durationCounts);
    const value = p99 === undefined ? undefined : round(p99);
    metrics.push({
      metric: 'latencyP99',
      value,
      op: '<=',
      threshold: spec.latencyP99.maxMs,
      ...(enough
        ? { verdict: value! <= spec.latencyP99.maxMs ? 'pass' : 'fail' }
        : { verdict: 'inconclusive', reason: tooFew }),
    });
  }
  if (spec.compareToBaseline) {
    const max = spec.compareToBaseline.maxErrorRateIncrease;
    const comparable = baseline.requests > 0 && gray.requests > 0;
    const value = comparable ? round(errorRate(gray) - errorRate(baseline)) : undefined;
    const base = { metric: 'errorRateIncrease', value, op: '<=', threshold: max } as const;
    if (!enough) metrics.push({ ...base, verdict: 'inconclusive', reason: tooFew });
    else if (baseline.requests < spec.minRequests)
      metrics.push({
        ...base,
        verdict: 'inconclusive',
        reason: `${baseline.requests} baseline request${baseline.requests === 1 ? '' : 's'} in the same window, fewer than minRequests ${spec.minRequests}`,
      });
    else metrics.push({ ...base, verdict: value! <= max ? 'pass' : 'fail' });
  }
  const verdict: Verdict = metrics.some((m) => m.verdict === 'fail')
    ? 'fail'
    : metrics.some((m) => m.verdict === 'inconclusive')
      ? 'inconclusive'
      : 'pass';
  return {
    verdict,
    at: window.at,
    windowMs: window.ms,
    requests: gray.requests,
    errors: gray.errors,
    baselineRequests: spec.compareToBaseline ? baseline.requests : undefined,
    metrics,
  };
}

/** `successRate 91.2 (must be >= 99)`: how the CLI and the status say a metric. */
export function describeMetric(m: MetricResult): string {
  const value = m.value === undefined ? 'no data' : String(m.value);
  return `${m.metric} ${value} (must be ${m.op} ${m.threshold})${m.verdict === 'inconclusive' && m.reason ? `: ${m.reason}` : ''}`;
}
