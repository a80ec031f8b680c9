/**
 * The dashboard's traffic numbers, from the same counters the Prometheus endpoint serves
 * (`HopMetrics.snapshot()`): totals since the daemon started and rates over the last tick. Only
 * client-side hops (`reporter="source"`: gateways and sidecars' outbound sides) are counted, so
 * a call from one service to another counts once; a lane's own traffic is what enters it at a
 * gateway.
 */
import type { MetricsSnapshot } from '../../../dataplane/telemetry/metrics.ts';
import type { CellTraffic, CodeTraffic, LaneTraffic, TrafficUpdate } from './client/protocol.ts';

interface Count {
  total: number;
  fallbacks: number;
  errors: number;
}

interface Totals {
  readonly lanes: Map<string, Count>;
  readonly cells: Map<string, Count>;
  readonly codes: Map<string, number>;
  overridden: number;
}

function bump(map: Map<string, Count>, key: string, n: number, fallbacks: number, error: boolean) {
  let c = map.get(key);
  if (!c) {
    c = { total: 0, fallbacks: 0, errors: 0 };
    map.set(key, c);
  }
  c.total += n;
  c.fallbacks += fallbacks;
  if (error) c.errors += n;
}

/** Totals per lane, per (service, lane) and per error code, from one metrics snapshot. */
export function trafficTotals(m: MetricsSnapshot, gateways: ReadonlySet<string>): Totals {
  const t: Totals = { lanes: new Map(), cells: new Map(), codes: new Map(), overridden: 0 };
  for (const s of m.series) {
    const l = s.labels;
    if (l.reporter !== 'source') continue;
    const status = Number(l.response_code);
    const code = l.response_flags !== '-' ? l.response_flags : status >= 500 ? String(status) : '';
    if (code !== '') t.codes.set(code, (t.codes.get(code) ?? 0) + s.requests);
    if (l.override === 'true') t.overridden += s.requests;
    const service = s.service ?? l.destination_service;
    bump(t.cells, `${service}\0${l.lane}`, s.requests, s.fallbacks, code !== '');
    if (gateways.has(`${l.source_workload_namespace}/${l.source_workload}`))
      bump(t.lanes, l.lane, s.requests, s.fallbacks, code !== '');
  }
  return t;
}

/** Keeps the previous totals to turn the next ones into rates. */
export class TrafficRates {
  #previous: { at: number; totals: Totals } | undefined;

  update(m: MetricsSnapshot, gateways: ReadonlySet<string>, at: number): TrafficUpdate {
    const totals = trafficTotals(m, gateways);
    const prev = this.#previous;
    this.#previous = { at, totals };
    const seconds = prev ? Math.max((at - prev.at) / 1000, 0.001) : 0;
    const rate = (now: number, before: number | undefined) =>
      prev ? Math.round(((now - (before ?? 0)) / seconds) * 10) / 10 : 0;
    const lanes: LaneTraffic[] = [...totals.lanes].map(([lane, c]) => ({
      lane,
      rps: rate(c.total, prev?.totals.lanes.get(lane)?.total),
      total: c.total,
      fallbacks: c.fallbacks,
      errors: c.errors,
    }));
    const cells: CellTraffic[] = [...totals.cells].map(([key, c]) => {
      const [service, lane] = key.split('\0') as [string, string];
      return {
        service,
        lane,
        rps: rate(c.total, prev?.totals.cells.get(key)?.total),
        total: c.total,
        fallbacks: c.fallbacks,
      };
    });
    const codes: CodeTraffic[] = [...totals.codes].map(([code, total]) => ({
      code,
      rps: rate(total, prev?.totals.codes.get(code)),
      total,
    }));
    return {
      intervalMs: prev ? at - prev.at : 0,
      lanes: lanes.sort((a, b) => (a.lane < b.lane ? -1 : 1)),
      cells,
      codes: codes.sort((a, b) => b.total - a.total),
      overridden: totals.overridden,
    };
  }
}
