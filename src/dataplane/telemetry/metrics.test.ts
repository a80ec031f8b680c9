import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadResources } from '../../config/load/resources.ts';
import { compile } from '../../core/compiler/compile.ts';
import type { Endpoint, RoutingTable } from '../../core/compiler/table.ts';
import type { Hop } from '../../core/engine/types.ts';
import type { HopOutcome, HopRecord } from './access-log.ts';
import type { HopProxy } from './hop-events.ts';
import { HopMetrics, type HopSeriesSnapshot } from './metrics.ts';

const YAML = `
apiVersion: v1
kind: Service
metadata: { name: mocka, namespace: default }
spec: { selector: { app: mocka }, ports: [{ port: 8000 }] }
---
apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: mock }
spec: { routeHeader: version, baseline: v1, services: [mocka] }
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v1 }
spec: { group: mock, selector: { version: v1 } }
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v2 }
spec: { group: mock, selector: { version: v2 } }
`;

function endpoint(port: number, version: string): Endpoint {
  return {
    service: 'default/mocka',
    cluster: 'default',
    address: '127.0.0.1',
    port,
    labels: { app: 'mocka', version },
    healthy: true,
    workload: `default/mocka-${version}`,
  };
}

const loaded = loadResources([{ file: 'm.yaml', text: YAML }]);
const TABLE: RoutingTable = compile(loaded.resources, [endpoint(1, 'v1'), endpoint(2, 'v2')]).table;

function proxy(hop: Hop): HopProxy {
  return { hop, listenerName: 'test', snapshot: { table: TABLE } };
}

const GATEWAY = proxy({ kind: 'gateway', gateway: 'istio-system/ingressgateway', port: 80 });
const INBOUND_V2 = proxy({
  kind: 'inbound',
  workload: {
    namespace: 'default',
    labels: { app: 'mocka', version: 'v2' },
    name: 'default/mocka-v2',
  },
});

function record(over: Partial<HopRecord> = {}): HopRecord {
  return {
    hop: 'gateway',
    listener: 'test',
    method: 'GET',
    authority: 'mocka:8000',
    path: '/secret/path?user=alice',
    tag: { routeHeader: 'version', lane: 'v2', source: 'route-header', from: 'version' },
    service: 'default/mocka',
    lane: 'v2',
    subset: null,
    fallback: [],
    startedAt: 100,
    ...over,
  };
}

function outcome(over: Partial<HopOutcome> = {}): HopOutcome {
  return {
    upstream: '127.0.0.1:2',
    status: 200,
    bytesIn: 120,
    bytesOut: 30,
    error: null,
    attempts: 1,
    workload: 'default/mocka-v2',
    ...over,
  };
}

function only(m: HopMetrics): HopSeriesSnapshot {
  const series = m.snapshot().series;
  assert.equal(series.length, 1);
  return series[0]!;
}

describe('HopMetrics', () => {
  test('a gateway hop gets Istio labels, its lane and the lane that served it, and no path or host', () => {
    const m = new HopMetrics();
    m.hopEnded({ proxy: GATEWAY, record: record(), outcome: outcome(), endedAt: 112 });
    const s = only(m);
    assert.deepEqual(s.labels, {
      reporter: 'source',
      source_workload: 'ingressgateway',
      source_workload_namespace: 'istio-system',
      destination_service: 'mocka.default.svc.cluster.local',
      destination_service_name: 'mocka',
      destination_service_namespace: 'default',
      destination_workload: 'mocka-v2',
      destination_workload_namespace: 'default',
      response_code: '200',
      response_flags: '-',
      lane: 'v2',
      lane_served: 'v2',
      request_protocol: 'http',
    });
    assert.equal(s.requests, 1);
    assert.equal(s.service, 'default/mocka');
    // 12 ms lands in the le=25 bucket (index 4 of 0.5,1,5,10,25…).
    assert.equal(s.durationMs.counts[4], 1);
    assert.equal(s.durationMs.sum, 12);
    assert.equal(s.requestBytes.sum, 120);
    assert.equal(s.responseBytes.sum, 30);
  });

  test('a value equal to a bucket bound counts in that bucket (le is "less or equal")', () => {
    const m = new HopMetrics();
    m.hopEnded({ proxy: GATEWAY, record: record(), outcome: outcome(), endedAt: 100.5 });
    assert.equal(only(m).durationMs.counts[0], 1);
  });

  const tags: [string, HopRecord['tag'], string][] = [
    [
      'a configured lane',
      { routeHeader: 'version', lane: 'v1', source: 'baggage', from: 'baggage' },
      'v1',
    ],
    [
      'a value no lane has',
      { routeHeader: 'version', lane: 'alice-123456', source: 'route-header', from: 'version' },
      '(unknown)',
    ],
    ['no tag', undefined, ''],
  ];
  for (const [what, tag, lane] of tags) {
    test(`the lane label of ${what} is ${JSON.stringify(lane)}`, () => {
      const m = new HopMetrics();
      m.hopEnded({ proxy: GATEWAY, record: record({ tag }), outcome: outcome(), endedAt: 101 });
      assert.equal(only(m).labels.lane, lane);
    });
  }

  test('a gRPC call is a series of its own with request_protocol grpc and the grpc-status it ended with; other requests are request_protocol http', () => {
    const m = new HopMetrics();
    m.hopEnded({ proxy: GATEWAY, record: record(), outcome: outcome(), endedAt: 101 });
    m.hopEnded({
      proxy: GATEWAY,
      record: record(),
      outcome: outcome({ grpcStatus: 14, error: 'NO_HEALTHY_ENDPOINTS' }),
      endedAt: 101,
    });
    const grpc = m.snapshot().series.find((s) => s.labels.request_protocol === 'grpc');
    assert.equal(m.snapshot().series.length, 2);
    assert.equal(grpc?.labels.grpc_response_status, '14');
    assert.equal(grpc?.labels.response_code, '200', 'the HTTP status the client got');
    const http = m.snapshot().series.find((s) => s !== grpc);
    assert.equal(http?.labels.request_protocol, 'http');
    assert.equal(http?.labels.grpc_response_status, undefined);
  });

  test('a mesh error carries its code in response_flags and an unknown destination workload', () => {
    const m = new HopMetrics();
    m.hopEnded({
      proxy: GATEWAY,
      record: record(),
      outcome: outcome({ status: 503, error: 'LANE_NO_ENDPOINTS', workload: null, upstream: null }),
      endedAt: 101,
    });
    const s = only(m);
    assert.equal(s.labels.response_code, '503');
    assert.equal(s.labels.response_flags, 'LANE_NO_ENDPOINTS');
    assert.equal(s.labels.destination_workload, 'unknown');
  });

  test('hops that fell back are counted as fallbacks, and label the lane that served them', () => {
    const m = new HopMetrics();
    const fellBack = record({ lane: 'v1', fallback: [{ lane: 'v2', reason: 'lacks-service' }] });
    m.hopEnded({
      proxy: GATEWAY,
      record: fellBack,
      outcome: outcome({ workload: 'default/mocka-v1' }),
      endedAt: 101,
    });
    m.hopEnded({
      proxy: GATEWAY,
      record: fellBack,
      outcome: outcome({ workload: 'default/mocka-v1' }),
      endedAt: 101,
    });
    const s = only(m);
    assert.equal(s.labels.lane, 'v2');
    assert.equal(s.labels.lane_served, 'v1');
    assert.equal(s.fallbacks, 2);
    const text = m.families().find((f) => f.name === 'lanes_fallbacks');
    assert.equal(text?.series.length, 1);
  });

  test('an inbound hop reports as destination, with its own workload, service and lane', () => {
    const m = new HopMetrics();
    m.hopEnded({
      proxy: INBOUND_V2,
      record: record({ hop: 'inbound', service: null, lane: null }),
      outcome: outcome({ workload: null }),
      endedAt: 101,
    });
    const s = only(m);
    assert.equal(s.labels.reporter, 'destination');
    assert.equal(s.labels.source_workload, 'unknown');
    assert.equal(s.labels.destination_workload, 'mocka-v2');
    assert.equal(s.labels.destination_service, 'mocka.default.svc.cluster.local');
    assert.equal(s.labels.lane_served, 'v2');
  });

  test('overridden hops are a separate series labelled override="true"', () => {
    const m = new HopMetrics();
    m.hopEnded({ proxy: GATEWAY, record: record(), outcome: outcome(), endedAt: 101 });
    m.hopEnded({
      proxy: GATEWAY,
      record: record({ overridden: true }),
      outcome: outcome(),
      endedAt: 101,
    });
    const series = m.snapshot().series;
    assert.equal(series.length, 2);
    assert.deepEqual(
      series.map((s) => s.labels.override),
      [undefined, 'true'],
    );
  });

  test('past the series cap, a new label set is dropped and counted while existing series still count', () => {
    const m = new HopMetrics({ maxSeries: 1 });
    m.hopEnded({ proxy: GATEWAY, record: record(), outcome: outcome(), endedAt: 101 });
    m.hopEnded({
      proxy: GATEWAY,
      record: record(),
      outcome: outcome({ status: 500 }),
      endedAt: 101,
    });
    m.hopEnded({ proxy: GATEWAY, record: record(), outcome: outcome(), endedAt: 101 });
    const snap = m.snapshot();
    assert.equal(snap.series.length, 1);
    assert.equal(snap.series[0]!.requests, 2);
    assert.equal(snap.droppedSeries, 1);
  });
});
