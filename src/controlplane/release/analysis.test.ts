import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReleaseAnalysisSpec } from '../../config/kinds/native/index.ts';
import type {
  HopLabels,
  HopSeriesSnapshot,
  MetricsSnapshot,
} from '../../dataplane/telemetry/metrics.ts';
import { ENVOY_BUCKETS } from '../../dataplane/telemetry/metrics.ts';
import { analyze, histogramQuantile, measure, type Traffic, windowOf } from './analysis.ts';

const SPEC: ReleaseAnalysisSpec = {
  intervalMs: 10_000,
  minRequests: 50,
  successRate: { min: 99 },
  latencyP99: { maxMs: 500 },
  compareToBaseline: { maxErrorRateIncrease: 1 },
  failureLimit: 2,
};
const WINDOW = { at: Date.UTC(2026, 0, 1), ms: 10_000 };

/** `n` requests, `errors` of them 5xx, all taking about `ms`. */
function traffic(n: number, errors: number, ms = 20): Traffic {
  const counts = new Array<number>(ENVOY_BUCKETS.length + 1).fill(0);
  const i = ENVOY_BUCKETS.findIndex((b) => ms <= b);
  counts[i < 0 ? ENVOY_BUCKETS.length : i] = n;
  return { requests: n, errors, durationCounts: counts };
}

describe('analyze', () => {
  test('passes a healthy window with enough requests on every metric', () => {
    const r = analyze(SPEC, traffic(200, 1), traffic(1000, 5), ENVOY_BUCKETS, WINDOW);
    assert.equal(r.verdict, 'pass');
    assert.deepEqual(
      r.metrics.map((m) => [m.metric, m.value, m.verdict]),
      [
        ['successRate', 99.5, 'pass'],
        ['latencyP99', 24.85, 'pass'],
        ['errorRateIncrease', 0, 'pass'],
      ],
    );
  });

  test('fewer requests than minRequests is inconclusive, even when every one of them failed', () => {
    const r = analyze(SPEC, traffic(10, 10), traffic(1000, 0), ENVOY_BUCKETS, WINDOW);
    assert.equal(r.verdict, 'inconclusive');
    assert.ok(r.metrics.every((m) => m.verdict === 'inconclusive'));
    assert.match(
      r.metrics[0]!.reason!,
      /10 requests served by the lane in the window, fewer than minRequests 50/,
    );
  });

  test('no traffic at all is inconclusive, with no value, never a pass', () => {
    const r = analyze(SPEC, traffic(0, 0), traffic(0, 0), ENVOY_BUCKETS, WINDOW);
    assert.equal(r.verdict, 'inconclusive');
    assert.equal(r.metrics[0]!.value, undefined);
  });

  test('a success rate under the minimum fails, and failing wins over inconclusive', () => {
    const r = analyze(SPEC, traffic(100, 5), traffic(10, 0), ENVOY_BUCKETS, WINDOW);
    assert.equal(r.verdict, 'fail');
    assert.deepEqual(
      r.metrics.map((m) => m.verdict),
      ['fail', 'pass', 'inconclusive'],
    );
    assert.match(
      r.metrics[2]!.reason!,
      /10 baseline requests in the same window, fewer than minRequests 50/,
    );
  });

  test('a slow lane fails latencyP99 computed like histogram_quantile', () => {
    const r = analyze(SPEC, traffic(100, 0, 900), traffic(100, 0), ENVOY_BUCKETS, WINDOW);
    assert.equal(r.verdict, 'fail');
    assert.equal(r.metrics[1]!.metric, 'latencyP99');
    assert.equal(r.metrics[1]!.value, 995);
  });

  test('compareToBaseline fails on an error rate more than the allowed points above the baseline', () => {
    const only = { ...SPEC, successRate: undefined, latencyP99: undefined };
    // Both bad, but the lane no worse than the baseline: a pass (it is not the release's fault).
    assert.equal(
      analyze(only, traffic(100, 10), traffic(100, 10), ENVOY_BUCKETS, WINDOW).verdict,
      'pass',
    );
    const worse = analyze(only, traffic(100, 12), traffic(100, 10), ENVOY_BUCKETS, WINDOW);
    assert.equal(worse.verdict, 'fail');
    assert.equal(worse.metrics[0]!.value, 2);
  });
});

describe('histogramQuantile', () => {
  const rows: [string, number, number[], number | undefined][] = [
    ['no observations: no value', 0.99, [0, 0, 0], undefined],
    ['interpolates inside the bucket where the rank falls', 0.5, [0, 10, 0], 15],
    ['the first bucket starts at 0', 0.5, [4, 0, 0], 5],
    ['a rank in +Inf answers the highest finite bound', 0.99, [0, 0, 10], 20],
  ];
  for (const [what, q, counts, expected] of rows) {
    test(what, () => assert.equal(histogramQuantile(q, [10, 20], counts), expected));
  }
});

describe('windows', () => {
  test('a window is the difference of two cumulative readings', () => {
    assert.deepEqual(windowOf(traffic(100, 2), traffic(150, 5)), {
      requests: 50,
      errors: 3,
      durationCounts: traffic(50, 0).durationCounts,
    });
  });

  test('counters that went down mean the daemon restarted: the window is what came since', () => {
    assert.deepEqual(windowOf(traffic(100, 2), traffic(30, 1)), traffic(30, 1));
    assert.deepEqual(windowOf(undefined, traffic(30, 1)), traffic(30, 1));
  });
});

function series(labels: Partial<HopLabels>, service: string, requests: number): HopSeriesSnapshot {
  const h = { counts: traffic(requests, 0).durationCounts, sum: 0, count: requests };
  return {
    labels: {
      reporter: 'source',
      source_workload: 'gw',
      source_workload_namespace: 'istio-system',
      destination_service: 'x',
      destination_service_name: 'x',
      destination_service_namespace: 'default',
      destination_workload: 'x',
      destination_workload_namespace: 'default',
      response_code: '200',
      response_flags: '-',
      lane: 'v2',
      lane_served: 'v2',
      request_protocol: 'http',
      ...labels,
    },
    service,
    requests,
    fallbacks: 0,
    durationMs: h,
    requestBytes: h,
    responseBytes: h,
  };
}

describe('measure', () => {
  test("counts only the lane's own client-side hops of its services, and their baselines", () => {
    const snapshot: MetricsSnapshot = {
      buckets: ENVOY_BUCKETS,
      droppedSeries: 0,
      series: [
        series({}, 'default/mocka', 10),
        series({ response_code: '503' }, 'default/mockc', 2),
        // Served by v1 although tagged v2 (fallback): not the lane's.
        series({ lane_served: 'v1' }, 'default/mockb', 7),
        // The server side of the same hops: counted once, from the client side.
        series({ reporter: 'destination' }, 'default/mocka', 10),
        // Routed by a per-request override: left out.
        series({ override: 'true' }, 'default/mocka', 4),
        // Baseline traffic of a lane service.
        series({ lane: '', lane_served: 'v1' }, 'default/mocka', 100),
        series({ lane: '', lane_served: 'v1', response_code: '500' }, 'default/mockc', 3),
      ],
    };
    const { gray, baseline } = measure(snapshot, {
      lane: 'v2',
      services: new Set(['default/mocka', 'default/mockc']),
      baselines: new Map([
        ['default/mocka', 'v1'],
        ['default/mockc', 'v1'],
      ]),
    });
    assert.equal(gray.requests, 12);
    assert.equal(gray.errors, 2);
    assert.equal(baseline.requests, 103);
    assert.equal(baseline.errors, 3);
  });
});
