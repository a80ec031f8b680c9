/**
 * What the dashboard page reads from the daemon (`/dashboard/api/…`): read-only projections of
 * the compiled table, the workloads, the resources, and the traffic counters. Types only — no
 * compiler, no `node:*` — so the page (served to a browser) and the daemon share them.
 */

/** `GET /dashboard/api/snapshot`, and the `snapshot` server-sent event. */
export interface DashboardSnapshot {
  /** The routing table's version (it grows with every publish). */
  readonly version: number;
  /** ISO 8601. */
  readonly generatedAt: string;
  readonly groups: readonly LaneMapGroup[];
  /** Services outside every lane group. */
  readonly otherServices: readonly ServiceHealth[];
  readonly gateways: readonly GatewayRow[];
  readonly workloads: readonly WorkloadRow[];
  readonly resources: readonly ResourceRow[];
}

/** One lane group: lanes as columns, services as rows, and where each pair's traffic goes. */
export interface LaneMapGroup {
  /** `LaneGroup/shop`, `ASMSwimLaneGroup/mock`. */
  readonly key: string;
  readonly mode: 'permissive' | 'strict';
  readonly routeHeader: string;
  readonly lanes: readonly LaneColumn[];
  readonly rows: readonly LaneMapRow[];
}

export interface LaneColumn {
  readonly name: string;
  /** A baseline of some service of the group (the lanes traffic falls back to). */
  readonly baseline: boolean;
  /** Why the lane is disabled; its requests go to the baselines. */
  readonly disabled: string | undefined;
}

export interface LaneMapRow {
  /** `namespace/name`. */
  readonly service: string;
  /** One per lane column, in the same order. */
  readonly cells: readonly LaneMapCell[];
  /** Requests that carry no tag (or an unknown one): the service's baselines. */
  readonly untagged: LaneMapCell;
}

/** Where requests tagged with a lane go for one service, as the proxies decide it now. */
export type LaneMapCell =
  /** The lane has the service, with healthy instances. */
  | { readonly kind: 'own'; readonly healthy: number; readonly total: number }
  /** Another lane serves it: `to`, after passing over `passed` (`lane: reason`). */
  | {
      readonly kind: 'fallback';
      readonly to: string;
      readonly passed: readonly string[];
      readonly healthy: number;
    }
  /** No lane can: the error code the proxies answer with. */
  | { readonly kind: 'fail'; readonly code: string; readonly message: string };

export interface ServiceHealth {
  readonly service: string;
  readonly healthy: number;
  readonly total: number;
}

export interface GatewayRow {
  readonly name: string;
  readonly namespace: string;
  readonly cluster: string;
  readonly url: string;
}

export interface WorkloadRow {
  readonly name: string;
  readonly namespace: string;
  readonly cluster: string;
  readonly replicas: number;
  readonly ready: number;
  readonly restarts: number;
  /** Each instance: `ready`, `starting`, `backoff`, … with why its last run ended. */
  readonly instances: readonly {
    readonly index: number;
    readonly status: string;
    readonly lastExit: string | null;
  }[];
}

export interface ResourceRow {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly cluster: string;
  /** `file:line` where it was applied from. */
  readonly source: string;
  readonly conditions: readonly {
    readonly type: string;
    readonly status: 'True' | 'False';
    readonly reason: string;
    /** With `file:line:col` of the field when the condition points at one. */
    readonly message: string;
  }[];
}

/**
 * The `traffic` server-sent event, every tick: rates over the last tick and totals since the
 * daemon started, from the same counters as the Prometheus metrics (client-side hops only, so
 * each call between two services counts once).
 */
export interface TrafficUpdate {
  /** How long the rates are measured over (ms). */
  readonly intervalMs: number;
  /** Per lane tag (`''`: no tag, `(unknown)`: a tag that names no lane): requests entering at gateways. */
  readonly lanes: readonly LaneTraffic[];
  /** Per service and lane tag: the calls to the service (the lane map's cells). */
  readonly cells: readonly CellTraffic[];
  /** Answers the mesh itself gave (`x-lanes-error` codes) and 5xx from the apps. */
  readonly codes: readonly CodeTraffic[];
  /** Hops whose lane a per-request override chose. */
  readonly overridden: number;
}

export interface LaneTraffic {
  readonly lane: string;
  readonly rps: number;
  readonly total: number;
  readonly fallbacks: number;
  readonly errors: number;
}

export interface CellTraffic {
  readonly service: string;
  readonly lane: string;
  readonly rps: number;
  readonly total: number;
  /** Calls that left the lane for a fallback. */
  readonly fallbacks: number;
}

export interface CodeTraffic {
  /** A mesh error code, or the HTTP status of an app's 5xx. */
  readonly code: string;
  readonly rps: number;
  readonly total: number;
}

/**
 * The `requests` server-sent event: the latest requests, each with every hop it took (the
 * access log's lines joined by trace id), oldest first. Sent when a new one completes.
 */
export interface RequestRow {
  /** The id its hops share; null for a hop that carried none. */
  readonly traceId: string | null;
  /** When its first hop arrived (ISO 8601). */
  readonly time: string;
  readonly method: string;
  readonly authority: string;
  readonly path: string;
  readonly status: number;
  readonly durationUs: number;
  /** The lane tag at its first hop. */
  readonly tag: string | null;
  readonly hops: readonly HopRow[];
}

/** One hop of a request, as the access log recorded it. */
export interface HopRow {
  readonly hop: 'gateway' | 'outbound' | 'inbound';
  /** `gateway istio-system/ingressgateway:80`, `sidecar outbound default/mocka-v1`, … */
  readonly listener: string;
  readonly service: string | null;
  /** The lane that served it (after fallback). */
  readonly lane: string | null;
  readonly tag: string | null;
  /** Lanes passed over, as `lane:reason`. */
  readonly fallback: readonly string[];
  readonly upstream: string | null;
  readonly status: number;
  /** The mesh's own error code, when it answered. */
  readonly error: string | null;
  readonly durationUs: number;
  /** A per-request override this hop followed (its pairs), chose the lane by, or rejected. */
  readonly override?: string;
  readonly overridden?: boolean;
  readonly overrideRejected?: string;
}
