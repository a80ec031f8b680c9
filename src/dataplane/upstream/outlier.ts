/**
 * Passive health checking per Istio DestinationRule `outlierDetection` (istio-semantics.md §1.7),
 * with Envoy's semantics, which Istio configures (istio/istio
 * pilot/pkg/networking/core/cluster_traffic_policy.go `applyOutlierDetection`; envoyproxy/envoy
 * source/common/upstream/outlier_detection_impl.cc; docs arch_overview/upstream/outlier):
 *
 * - Consecutive 5xx (default 5, 0 disables): every 5xx response counts. Unless local-origin
 *   errors are split off, so do connect failures, timeouts and resets (Envoy maps them to 503
 *   and 504).
 * - Consecutive gateway errors (off by default): 502, 503 and 504; unless split, local-origin
 *   failures count too. A 5xx that is not a gateway error resets this counter.
 * - `splitExternalLocalOriginErrors`: local-origin failures count only toward
 *   `consecutiveLocalOriginFailures` (default 5); any response, even a 5xx, proves the
 *   connection worked and resets that counter.
 * - A non-5xx response resets every counter. A counter that reaches its threshold is reset,
 *   whether or not the ejection is allowed.
 * - Ejection lasts `baseEjectionTime × n`, where n grows by one per ejection and shrinks by one
 *   per `interval` the endpoint spends back in service, capped at Envoy's `max_ejection_time`
 *   default (300 s, or the base time if that is longer; Istio does not set it).
 * - At most `maxEjectionPercent` of a pool is ejected at once, counting the endpoint about to
 *   be ejected: Envoy ejects when `100 × (ejected + 1) / hosts ≤ maxEjectionPercent`. Since
 *   envoyproxy/envoy#27909 (2023) no host is ejected for free, so with the default 10% a pool
 *   needs 10 endpoints before one can be ejected. Envoy's opt-in `always_eject_one_host` (#34796,
 *   not exposed by Istio) is the `alwaysEjectOneHost` option here.
 * - An ejected endpoint is back when its time is up. Envoy notices at its next `interval` tick;
 *   this detector notices on the next lookup, so the ejection ends exactly on time.
 * - Ejection state belongs to the endpoint (`id` is `address:port`, one instance). The pool
 *   (`serviceKey` + `serviceEndpointCount`) only bounds how many are ejected at once; Istio makes
 *   one Envoy cluster per subset, so a caller routing to a subset may pass the subset as the pool.
 * - `minHealthPercent` (Istio: "outlier detection will be enabled as long as the associated load
 *   balancing pool has at least min_health_percent hosts in healthy mode"; Envoy's panic
 *   threshold): while fewer than that share of the pool is not ejected, `isEjected` says no for
 *   the whole pool, so the balancer spreads over every endpoint again. Ejections still happen
 *   and run their time; only their effect is suspended. Healthy here means not ejected: the
 *   control plane's own view of health already decided which endpoints are candidates at all.
 */
import type { OutlierPolicy, TableEndpoint } from '../../core/compiler/table.ts';

export type Outcome = 'success' | 'http-5xx' | 'gateway-error' | 'local-origin-failure';

export type EjectionReason =
  | 'consecutive-5xx'
  | 'consecutive-gateway-errors'
  | 'consecutive-local-origin-failures';

/** What the proxy writes to its access log when it ejects an endpoint. */
export interface EjectionEvent {
  /** Endpoint id (`address:port`). */
  readonly endpoint: string;
  readonly service: string;
  readonly reason: EjectionReason;
  /** When the endpoint is back in service, in the detector's clock. */
  readonly untilMs: number;
  /** How many times this endpoint has been ejected, this one included. */
  readonly times: number;
}

export interface Ejected {
  readonly endpoint: TableEndpoint;
  readonly service: string;
  readonly until: number;
  readonly times: number;
}

export interface OutlierStats {
  /** Endpoints ejected now. */
  readonly ejected: number;
  readonly ejectionsTotal: number;
  /** Ejections not done because `maxEjectionPercent` would have been exceeded. */
  readonly overflows: number;
  /** Endpoints with counters or ejection history. */
  readonly tracked: number;
}

export interface OutlierOptions {
  /** Eject one endpoint of a pool even when `maxEjectionPercent` would not allow it (Envoy). */
  readonly alwaysEjectOneHost?: boolean;
}

/** Envoy's `max_ejection_time` default (10 × the 30 s default base ejection time). */
export const DEFAULT_MAX_EJECTION_TIME_MS = 300_000;

interface Host {
  endpoint: TableEndpoint;
  service: string;
  consecutive5xx: number;
  consecutiveGateway: number;
  consecutiveLocal: number;
  out: boolean;
  /** When an ejection ends (meaningful while `out`). */
  until: number;
  times: number;
  /** The multiplier of the base ejection time the next ejection starts from. */
  backoff: number;
  /** When it last came back, for the backoff's decay. */
  backAt: number | undefined;
}

function isGatewayStatus(status: number | undefined): boolean {
  return status === 502 || status === 503 || status === 504;
}

export class OutlierDetector {
  readonly #now: () => number;
  readonly #alwaysEjectOneHost: boolean;
  readonly #hosts = new Map<string, Host>();
  /** Ejected endpoints by id, some possibly due back (noticed lazily). */
  readonly #ejected = new Map<string, Host>();
  /** Ejected endpoints by pool, for the max-percent bound. */
  readonly #ejectedByPool = new Map<string, Set<Host>>();
  /** A pool's size and panic threshold as last recorded (pools with a minHealthPercent only). */
  readonly #panicAt = new Map<string, { size: number; minHealthPercent: number }>();
  #ejectionsTotal = 0;
  #overflows = 0;

  constructor(now: () => number, opts: OutlierOptions = {}) {
    this.#now = now;
    this.#alwaysEjectOneHost = opts.alwaysEjectOneHost ?? false;
  }

  /**
   * Whether the endpoint is ejected now. O(1); reads no clock and allocates nothing while no
   * endpoint is ejected. An arrow property, so it can be handed around unbound; it takes an id
   * or the endpoint itself (the engine's `DecideContext.isEjected` signature).
   */
  readonly isEjected = (endpoint: string | TableEndpoint): boolean => {
    if (this.#ejected.size === 0) return false;
    const host = this.#ejected.get(typeof endpoint === 'string' ? endpoint : endpoint.id);
    if (host === undefined) return false;
    if (this.#now() >= host.until) {
      this.#reinstate(host);
      return false;
    }
    return !this.#panicking(host.service);
  };

  /** Keeps a pool's size and panic threshold current; runs on every outcome, so it allocates only for a new pool. */
  #notePool(serviceKey: string, size: number, minHealthPercent: number): void {
    if (minHealthPercent <= 0 || size <= 0) {
      this.#panicAt.delete(serviceKey);
      return;
    }
    const panic = this.#panicAt.get(serviceKey);
    if (panic === undefined) this.#panicAt.set(serviceKey, { size, minHealthPercent });
    else {
      panic.size = size;
      panic.minHealthPercent = minHealthPercent;
    }
  }

  /** Too little of the pool is left in service for ejections to apply (minHealthPercent). */
  #panicking(service: string): boolean {
    const panic = this.#panicAt.get(service);
    if (panic === undefined) return false;
    const ejected = this.#ejectedByPool.get(service)?.size ?? 0;
    return (100 * (panic.size - ejected)) / panic.size < panic.minHealthPercent;
  }

  /**
   * Records the outcome of one attempt on `endpoint`. `status` is the response status when there
   * was one. Returns the ejection this outcome caused, if any. Without a policy (the destination
   * has no `outlierDetection`) nothing is counted.
   */
  record(
    serviceKey: string,
    endpoint: TableEndpoint,
    outcome: Outcome,
    status: number | undefined,
    policy: OutlierPolicy | undefined,
    serviceEndpointCount: number,
  ): EjectionEvent | undefined {
    if (policy === undefined) return undefined;
    this.#notePool(serviceKey, serviceEndpointCount, policy.minHealthPercent);
    let host = this.#hosts.get(endpoint.id);
    if (host?.out) {
      if (this.#now() < host.until) return undefined; // Late results while ejected: Envoy ignores them too.
      this.#reinstate(host);
    }
    if (outcome === 'success') {
      if (host !== undefined) this.#succeeded(host);
      return undefined;
    }
    if (host === undefined) {
      host = {
        endpoint,
        service: serviceKey,
        consecutive5xx: 0,
        consecutiveGateway: 0,
        consecutiveLocal: 0,
        out: false,
        until: 0,
        times: 0,
        backoff: 0,
        backAt: undefined,
      };
      this.#hosts.set(endpoint.id, host);
    }
    host.endpoint = endpoint;
    host.service = serviceKey;

    const split = policy.splitExternalLocalOriginErrors;
    if (outcome === 'local-origin-failure' && split) {
      host.consecutiveLocal++;
      if (policy.consecutiveLocalOriginFailures > 0) {
        if (host.consecutiveLocal >= policy.consecutiveLocalOriginFailures) {
          host.consecutiveLocal = 0;
          return this.#eject(
            host,
            'consecutive-local-origin-failures',
            policy,
            serviceEndpointCount,
          );
        }
      }
      return undefined;
    }

    // A response arrived (or, not split, a local failure that counts as a 503 or 504).
    if (outcome !== 'local-origin-failure') host.consecutiveLocal = 0;
    const gateway =
      outcome === 'gateway-error' || outcome === 'local-origin-failure' || isGatewayStatus(status);
    if (gateway) host.consecutiveGateway++;
    else host.consecutiveGateway = 0;
    host.consecutive5xx++;

    // Envoy checks the gateway counter first. When both fire and the first may not eject (the
    // pool is at its limit), the second is tried too, and both counters start over.
    if (gateway && policy.consecutiveGatewayErrors > 0) {
      if (host.consecutiveGateway >= policy.consecutiveGatewayErrors) {
        host.consecutiveGateway = 0;
        const event = this.#eject(host, 'consecutive-gateway-errors', policy, serviceEndpointCount);
        if (event !== undefined) return event;
      }
    }
    if (policy.consecutive5xxErrors > 0 && host.consecutive5xx >= policy.consecutive5xxErrors) {
      host.consecutive5xx = 0;
      return this.#eject(host, 'consecutive-5xx', policy, serviceEndpointCount);
    }
    return undefined;
  }

  /** Endpoints ejected now. */
  ejected(): readonly Ejected[] {
    const now = this.#now();
    const out: Ejected[] = [];
    for (const host of this.#ejected.values()) {
      if (now < host.until) {
        out.push({
          endpoint: host.endpoint,
          service: host.service,
          until: host.until,
          times: host.times,
        });
      } else {
        this.#reinstate(host);
      }
    }
    return out;
  }

  /**
   * Forgets endpoints whose id is not in `current` (the routing table now in use), ejected or
   * not, as Envoy drops a removed host's monitor. Returns how many.
   */
  forget(current: ReadonlySet<string>): number {
    let removed = 0;
    for (const [id, host] of this.#hosts) {
      if (current.has(id)) continue;
      if (host.out) this.#release(host);
      this.#hosts.delete(id);
      removed++;
    }
    return removed;
  }

  stats(): OutlierStats {
    return {
      ejected: this.ejected().length,
      ejectionsTotal: this.#ejectionsTotal,
      overflows: this.#overflows,
      tracked: this.#hosts.size,
    };
  }

  #succeeded(host: Host): void {
    host.consecutive5xx = 0;
    host.consecutiveGateway = 0;
    host.consecutiveLocal = 0;
    // Nothing to remember about an endpoint never ejected: keep the map small.
    if (host.times === 0) this.#hosts.delete(host.endpoint.id);
  }

  #eject(
    host: Host,
    reason: EjectionReason,
    policy: OutlierPolicy,
    poolSize: number,
  ): EjectionEvent | undefined {
    const now = this.#now();
    const pool = this.#activeInPool(host.service, now);
    const active = pool?.size ?? 0;
    const hosts = Math.max(poolSize, active + 1);
    const allowed =
      (100 * (active + 1)) / hosts <= policy.maxEjectionPercent ||
      (this.#alwaysEjectOneHost && active === 0);
    if (!allowed) {
      this.#overflows++;
      return undefined;
    }

    const base = policy.baseEjectionTimeMs;
    const max = Math.max(DEFAULT_MAX_EJECTION_TIME_MS, base);
    if (host.backAt !== undefined && host.backoff > 0 && policy.intervalMs > 0) {
      const healthyIntervals = Math.floor((now - host.backAt) / policy.intervalMs);
      host.backoff = Math.max(0, host.backoff - healthyIntervals);
    }
    // Envoy stops growing the multiplier once the ejection time has reached the cap.
    if (host.backoff * base < max + base) host.backoff++;
    host.out = true;
    host.until = now + Math.min(base * host.backoff, max);
    host.times++;
    host.consecutive5xx = 0;
    host.consecutiveGateway = 0;
    host.consecutiveLocal = 0;
    this.#ejectionsTotal++;
    this.#ejected.set(host.endpoint.id, host);
    let set = pool;
    if (set === undefined) {
      set = new Set();
      this.#ejectedByPool.set(host.service, set);
    }
    set.add(host);
    return {
      endpoint: host.endpoint.id,
      service: host.service,
      reason,
      untilMs: host.until,
      times: host.times,
    };
  }

  /** The pool's ejected endpoints after returning those whose time is up. */
  #activeInPool(service: string, now: number): Set<Host> | undefined {
    const set = this.#ejectedByPool.get(service);
    if (set === undefined) return undefined;
    for (const host of set) if (now >= host.until) this.#reinstate(host);
    return this.#ejectedByPool.get(service);
  }

  /** Back in service: Envoy resets the counters so a few new errors do not eject it again. */
  #reinstate(host: Host): void {
    host.backAt = host.until;
    this.#release(host);
    host.consecutive5xx = 0;
    host.consecutiveGateway = 0;
    host.consecutiveLocal = 0;
  }

  #release(host: Host): void {
    host.out = false;
    this.#ejected.delete(host.endpoint.id);
    const set = this.#ejectedByPool.get(host.service);
    if (set !== undefined) {
      set.delete(host);
      if (set.size === 0) this.#ejectedByPool.delete(host.service);
    }
  }
}
