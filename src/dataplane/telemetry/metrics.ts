/**
 * Per-hop request metrics with Istio's standard names and labels, so existing dashboards and
 * Flagger/Argo queries carry over (reference/progressive-delivery.md §3):
 *
 *   istio_requests_total                  counter
 *   istio_request_duration_milliseconds   histogram, Envoy's default buckets
 *   istio_request_bytes                   histogram (head and body, as Envoy's total size)
 *   istio_response_bytes                  histogram (body)
 *   lanes_fallbacks_total                 counter: hops that left their lane for a fallback
 *
 * Labels: `reporter` (`source` for a gateway or a sidecar's outbound side, `destination` for the
 * inbound side), `source_workload[_namespace]`, `destination_service[_name|_namespace]`,
 * `destination_workload[_namespace]`, `response_code`, `response_flags` (the proxy's own error
 * code, `x-lanes-error`, or `-`), and lanes' own `lane` (the tag the request carried) and
 * `lane_served` (the lane whose instance served it: differs from `lane` on fallback). Istio writes
 * `unknown` for what it does not know; so does lanes. `request_protocol` is Istio's `http`, or
 * `grpc` for a gRPC call, whose series also carries `grpc_response_status` (the status the client
 * got). Neither adds series: both follow from the status the hop ended with.
 *
 * Cardinality is bounded by the configuration, never by what clients send: no paths, no hosts of
 * unknown services (`unknown`), and a tag counts under its name only when it names a configured
 * lane (`(unknown)` otherwise — parentheses cannot appear in a lane name). On top of that a hard
 * cap on the number of series: a hop that would create one more is counted in
 * `lanes_metrics_series_dropped_total` instead.
 *
 * A small registry written for exactly this label set rather than prom-client: one string key
 * and one Map lookup per hop, label text rendered once per series. bench/metrics.ts measures the
 * two side by side (see the README).
 */
import { type RoutingTable, UNLANED } from '../../core/compiler/table.ts';
import type { Hop } from '../../core/engine/types.ts';
import type { MetricFamily } from './exposition.ts';
import { labelText } from './exposition.ts';
import type { HopEnd, HopObserver, HopProxy } from './hop-events.ts';

/** Envoy's default histogram buckets (source/common/stats/histogram_impl.cc), which Istio uses. */
export const ENVOY_BUCKETS: readonly number[] = Object.freeze([
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000,
  1800000, 3600000,
]);

export const UNKNOWN = 'unknown';
/** The `lane` of a tag that names no configured lane. */
export const UNKNOWN_LANE = '(unknown)';
/** The `lane` of a request without a tag, and `lane_served` of one routed outside lanes. */
export const NO_LANE = '';

export const DEFAULT_MAX_SERIES = 20_000;

export interface HopLabels {
  readonly reporter: 'source' | 'destination';
  readonly source_workload: string;
  readonly source_workload_namespace: string;
  readonly destination_service: string;
  readonly destination_service_name: string;
  readonly destination_service_namespace: string;
  readonly destination_workload: string;
  readonly destination_workload_namespace: string;
  readonly response_code: string;
  readonly response_flags: string;
  readonly lane: string;
  readonly lane_served: string;
  /** Present (`true`) only on hops routed by a per-request override. */
  readonly override?: 'true';
  /** `grpc` for a gRPC call, `http` for any other request (HTTP/1.1 or HTTP/2), as Istio writes it. */
  readonly request_protocol: 'http' | 'grpc';
  /** gRPC calls only. */
  readonly grpc_response_status?: string;
}

/** A histogram's counts per bucket (not cumulative), the last one for values above every bound. */
export interface HistogramSnapshot {
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

export interface HopSeriesSnapshot {
  readonly labels: HopLabels;
  /** `destination_service` as the table names it (`namespace/name`), or undefined. */
  readonly service: string | undefined;
  readonly requests: number;
  readonly fallbacks: number;
  readonly durationMs: HistogramSnapshot;
  readonly requestBytes: HistogramSnapshot;
  readonly responseBytes: HistogramSnapshot;
}

/** The counters at one moment, for in-process readers (release analysis, a dashboard). */
export interface MetricsSnapshot {
  /** Buckets of every histogram (upper bounds, ms or bytes). */
  readonly buckets: readonly number[];
  readonly series: readonly HopSeriesSnapshot[];
  readonly droppedSeries: number;
}

class Histogram {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(size: number) {
    this.counts = new Float64Array(size + 1);
  }
  observe(value: number, bounds: readonly number[]): void {
    let i = 0;
    const n = bounds.length;
    while (i < n && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
  snapshot(): HistogramSnapshot {
    return { counts: Array.from(this.counts), sum: this.sum, count: this.count };
  }
}

class Series {
  readonly labels: HopLabels;
  readonly service: string | undefined;
  /** `a="b",…` without braces, rendered once. */
  readonly text: string;
  requests = 0;
  fallbacks = 0;
  readonly duration: Histogram;
  readonly requestBytes: Histogram;
  readonly responseBytes: Histogram;
  constructor(labels: HopLabels, service: string | undefined, buckets: number) {
    this.labels = labels;
    this.service = service;
    this.text = labelText(labels as unknown as Readonly<Record<string, string>>);
    this.duration = new Histogram(buckets);
    this.requestBytes = new Histogram(buckets);
    this.responseBytes = new Histogram(buckets);
  }
}

/** What is fixed for one proxy: its reporter and source, and for an inbound side, itself. */
interface ProxyState {
  readonly reporter: 'source' | 'destination';
  readonly sourceWorkload: string;
  readonly sourceNamespace: string;
  readonly keyPrefix: string;
  /** Inbound only: the workload it fronts (`namespace/name`) and its labels. */
  readonly self: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  /** Inbound only: the lanes that select the workload, for the table they were computed on. */
  lanesTable: RoutingTable | undefined;
  lanes: readonly string[];
}

function splitName(key: string | undefined): [name: string, namespace: string] {
  if (!key) return [UNKNOWN, UNKNOWN];
  const slash = key.indexOf('/');
  return slash < 0 ? [key, UNKNOWN] : [key.slice(slash + 1), key.slice(0, slash)];
}

function proxyState(hop: Hop): ProxyState {
  const s = proxyLabels(hop);
  return { ...s, keyPrefix: `${s.reporter}\0${s.sourceNamespace}/${s.sourceWorkload}\0` };
}

function proxyLabels(hop: Hop): Omit<ProxyState, 'keyPrefix'> {
  switch (hop.kind) {
    case 'gateway': {
      const [name, namespace] = splitName(hop.gateway);
      return {
        reporter: 'source',
        sourceWorkload: name,
        sourceNamespace: namespace,
        self: { name: '', labels: {} },
        lanesTable: undefined,
        lanes: [],
      };
    }
    case 'outbound': {
      const [name, namespace] = splitName(hop.workload.name);
      return {
        reporter: 'source',
        sourceWorkload: name,
        sourceNamespace: hop.workload.name ? namespace : hop.workload.namespace,
        self: { name: '', labels: {} },
        lanesTable: undefined,
        lanes: [],
      };
    }
    case 'inbound':
      // Without mutual TLS an inbound proxy does not know who called; Istio says `unknown` too.
      return {
        reporter: 'destination',
        sourceWorkload: UNKNOWN,
        sourceNamespace: UNKNOWN,
        self: { name: hop.workload.name ?? '', labels: hop.workload.labels },
        lanesTable: undefined,
        lanes: [],
      };
  }
}

export interface HopMetricsOptions {
  /** Series beyond this many are not created (counted as dropped). Default 20,000. */
  readonly maxSeries?: number;
}

/**
 * Counts every hop of the proxies it observes. One instance serves a whole process (the daemon
 * gives it to every gateway and sidecar); `snapshot()` and `families()` read it.
 */
export class HopMetrics implements HopObserver {
  readonly #series = new Map<string, Series>();
  readonly #proxies = new WeakMap<HopProxy, ProxyState>();
  /** Per table: which services each workload's instances serve (for inbound hops). */
  readonly #workloadServices = new WeakMap<RoutingTable, Map<string, readonly string[]>>();
  readonly #maxSeries: number;
  #dropped = 0;

  constructor(options: HopMetricsOptions = {}) {
    this.#maxSeries = options.maxSeries ?? DEFAULT_MAX_SERIES;
  }

  hopEnded(e: HopEnd): void {
    const proxy = e.proxy;
    let p = this.#proxies.get(proxy);
    if (p === undefined) {
      p = proxyState(proxy.hop);
      this.#proxies.set(proxy, p);
    }
    const r = e.record;
    const o = e.outcome;
    const table = proxy.snapshot?.table;
    const tag = r.tag?.lane;
    const lane = tag === undefined ? NO_LANE : table?.lanes[tag] ? tag : UNKNOWN_LANE;
    let service = r.service ?? undefined;
    let served: string;
    let workload: string;
    if (p.reporter === 'destination') {
      workload = p.self.name || UNKNOWN;
      served = this.#ownLane(p, table, tag);
      service = this.#inboundService(p, table, r.authority);
    } else {
      workload = o.workload ?? UNKNOWN;
      served = r.lane ?? NO_LANE;
    }
    const flags = o.error ?? '-';
    // Series of all proxies share one map; the reporter and source are the same for every hop
    // of one proxy, so they are written once into its key prefix.
    const grpc = o.grpcStatus;
    const key = `${p.keyPrefix}${service}\0${workload}\0${o.status}\0${flags}\0${lane}\0${served}${r.overridden ? '\0o' : ''}${grpc === undefined ? '' : `\0g${grpc}`}`;
    let s = this.#series.get(key);
    if (s === undefined) {
      if (this.#series.size >= this.#maxSeries) {
        this.#dropped++;
        return;
      }
      s = this.#newSeries(p, service, workload, o.status, flags, lane, served, r.overridden, grpc);
      this.#series.set(key, s);
    }
    s.requests++;
    if (r.fallback.length > 0) s.fallbacks++;
    s.duration.observe(e.endedAt - r.startedAt, ENVOY_BUCKETS);
    s.requestBytes.observe(o.bytesIn, ENVOY_BUCKETS);
    s.responseBytes.observe(o.bytesOut, ENVOY_BUCKETS);
  }

  #newSeries(
    p: ProxyState,
    service: string | undefined,
    workload: string,
    status: number,
    flags: string,
    lane: string,
    served: string,
    overridden: boolean | undefined,
    grpcStatus: number | undefined,
  ): Series {
    const [svcName, svcNamespace] = service === undefined ? [UNKNOWN, UNKNOWN] : splitName(service);
    const [wlName, wlNamespace] = splitName(workload === UNKNOWN ? undefined : workload);
    const labels: HopLabels = {
      reporter: p.reporter,
      source_workload: p.sourceWorkload,
      source_workload_namespace: p.sourceNamespace,
      destination_service:
        service === undefined ? UNKNOWN : `${svcName}.${svcNamespace}.svc.cluster.local`,
      destination_service_name: svcName,
      destination_service_namespace: svcNamespace,
      destination_workload: wlName,
      destination_workload_namespace: wlNamespace,
      response_code: String(status),
      response_flags: flags,
      lane,
      lane_served: served === UNLANED ? UNLANED : served,
      ...(overridden ? { override: 'true' as const } : {}),
      ...(grpcStatus === undefined
        ? { request_protocol: 'http' as const }
        : { request_protocol: 'grpc' as const, grpc_response_status: String(grpcStatus) }),
    };
    return new Series(labels, service, ENVOY_BUCKETS.length);
  }

  /** The lane of an inbound proxy's own instance: the tag's lane if it selects it, else the first. */
  #ownLane(p: ProxyState, table: RoutingTable | undefined, tag: string | undefined): string {
    if (table === undefined) return NO_LANE;
    if (p.lanesTable !== table) {
      p.lanesTable = table;
      p.lanes = Object.values(table.lanes)
        .filter((l) => Object.entries(l.selector).every(([k, v]) => p.self.labels[k] === v))
        .map((l) => l.name)
        .sort();
    }
    if (p.lanes.length === 0) return UNLANED;
    if (tag !== undefined && p.lanes.includes(tag)) return tag;
    return p.lanes[0]!;
  }

  /** The service an inbound request is for: the one its workload serves, by Host when several. */
  #inboundService(
    p: ProxyState,
    table: RoutingTable | undefined,
    authority: string,
  ): string | undefined {
    if (table === undefined) return undefined;
    let byWorkload = this.#workloadServices.get(table);
    if (byWorkload === undefined) {
      const map = new Map<string, string[]>();
      for (const svc of Object.values(table.services)) {
        for (const e of svc.all) {
          if (e.workload === undefined) continue;
          const list = map.get(e.workload) ?? [];
          if (!list.includes(svc.key)) list.push(svc.key);
          map.set(e.workload, list);
        }
      }
      byWorkload = map;
      this.#workloadServices.set(table, byWorkload);
    }
    const services = byWorkload.get(p.self.name);
    if (services === undefined || services.length === 0) return undefined;
    if (services.length === 1) return services[0];
    const host = authority.split(':', 1)[0]!.split('.', 1)[0]!.toLowerCase();
    return services.find((s) => s.slice(s.indexOf('/') + 1) === host) ?? services[0];
  }

  snapshot(): MetricsSnapshot {
    const series: HopSeriesSnapshot[] = [];
    for (const s of this.#series.values()) {
      series.push({
        labels: s.labels,
        service: s.service,
        requests: s.requests,
        fallbacks: s.fallbacks,
        durationMs: s.duration.snapshot(),
        requestBytes: s.requestBytes.snapshot(),
        responseBytes: s.responseBytes.snapshot(),
      });
    }
    return { buckets: ENVOY_BUCKETS, series, droppedSeries: this.#dropped };
  }

  /** The families for /metrics. */
  families(): MetricFamily[] {
    const all = [...this.#series.values()];
    const histogram = (name: string, help: string, pick: (s: Series) => Histogram) =>
      ({
        type: 'histogram',
        name,
        help,
        buckets: ENVOY_BUCKETS,
        series: all.map((s) => {
          const h = pick(s);
          return { labels: s.text, counts: h.counts, sum: h.sum, count: h.count };
        }),
      }) as const;
    return [
      {
        type: 'counter',
        name: 'istio_requests',
        help: 'Requests per hop, as Istio counts them (reporter source: gateway or client sidecar; destination: server sidecar).',
        series: all.map((s) => ({ labels: s.text, value: s.requests })),
      },
      histogram(
        'istio_request_duration_milliseconds',
        'Time from the request head to the end of the response, per hop, in milliseconds.',
        (s) => s.duration,
      ),
      histogram(
        'istio_request_bytes',
        'Request size (head and body) per hop, in bytes.',
        (s) => s.requestBytes,
      ),
      histogram(
        'istio_response_bytes',
        'Response body size per hop, in bytes.',
        (s) => s.responseBytes,
      ),
      {
        type: 'counter',
        name: 'lanes_fallbacks',
        help: 'Hops whose lane lacked the service (or a healthy instance of it) and that went to a fallback lane.',
        series: all
          .filter((s) => s.fallbacks > 0)
          .map((s) => ({ labels: s.text, value: s.fallbacks })),
      },
      {
        type: 'counter',
        name: 'lanes_metrics_series_dropped',
        help: 'Hops not counted because the number of series reached its cap.',
        series: [{ labels: '', value: this.#dropped }],
      },
    ];
  }
}
