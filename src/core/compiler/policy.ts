/**
 * DestinationRule traffic policies → upstream policies with Istio's defaults. A subset's policy
 * overrides the rule's field by field; a port-level policy replaces it (DR.proto L240-247).
 * Every field of the result has a reader in the data plane (test/policy-consumers.test.ts).
 */
import type { OutlierDetection, TrafficPolicy } from '../../config/kinds/istio/types.ts';
import type { OutlierPolicy, SourceRef, UpstreamPolicy } from './table.ts';

export const DEFAULT_POLICY: UpstreamPolicy = {
  loadBalancer: 'LEAST_REQUEST',
  warmup: undefined,
  connectTimeoutMs: 10_000,
  maxConnections: undefined,
  idleTimeoutMs: 3_600_000,
  maxRequestsPerConnection: undefined,
  http1MaxPendingRequests: undefined,
  maxConnectionDurationMs: undefined,
  maxRetries: undefined,
  http2MaxRequests: undefined,
  maxConcurrentStreams: undefined,
  h2Upgrade: 'DEFAULT',
  useClientProtocol: false,
  outlier: undefined,
  source: undefined,
};

function outlier(o: OutlierDetection): OutlierPolicy {
  return {
    consecutive5xxErrors: o.consecutive5xxErrors ?? 5,
    consecutiveGatewayErrors: o.consecutiveGatewayErrors ?? 0,
    consecutiveLocalOriginFailures: o.consecutiveLocalOriginFailures ?? 5,
    splitExternalLocalOriginErrors: o.splitExternalLocalOriginErrors ?? false,
    intervalMs: o.interval ?? 10_000,
    baseEjectionTimeMs: o.baseEjectionTime ?? 30_000,
    maxEjectionPercent: o.maxEjectionPercent ?? 10,
    minHealthPercent: o.minHealthPercent ?? 0,
  };
}

/**
 * A limit as Istio applies it: only a value above 0 sets it (cluster_traffic_policy.go
 * applyConnectionPool, `if settings.Http.MaxRetries > 0`), so 0 means no limit, not "none allowed".
 */
function limit(value: number | undefined, base: number | undefined): number | undefined {
  if (value === undefined) return base;
  return value > 0 ? value : undefined;
}

/** Applies the fields a traffic policy sets on top of `base`. */
export function applyTrafficPolicy(
  base: UpstreamPolicy,
  policy: Omit<TrafficPolicy, 'portLevelSettings'> | undefined,
  source: SourceRef,
): UpstreamPolicy {
  if (!policy) return base;
  const lb = policy.loadBalancer;
  const tcp = policy.connectionPool?.tcp;
  const http = policy.connectionPool?.http;
  const simple = lb?.simple;
  return {
    loadBalancer: simple === undefined || simple === 'UNSPECIFIED' ? base.loadBalancer : simple,
    warmup: lb?.warmup
      ? {
          durationMs: lb.warmup.duration,
          minimumPercent: lb.warmup.minimumPercent ?? 10,
          aggression: lb.warmup.aggression ?? 1,
        }
      : base.warmup,
    connectTimeoutMs: tcp?.connectTimeout ?? base.connectTimeoutMs,
    maxConnections: limit(tcp?.maxConnections, base.maxConnections),
    idleTimeoutMs: http?.idleTimeout ?? tcp?.idleTimeout ?? base.idleTimeoutMs,
    maxRequestsPerConnection: limit(http?.maxRequestsPerConnection, base.maxRequestsPerConnection),
    http1MaxPendingRequests: limit(http?.http1MaxPendingRequests, base.http1MaxPendingRequests),
    maxConnectionDurationMs: tcp?.maxConnectionDuration ?? base.maxConnectionDurationMs,
    maxRetries: limit(http?.maxRetries, base.maxRetries),
    http2MaxRequests: limit(http?.http2MaxRequests, base.http2MaxRequests),
    maxConcurrentStreams: limit(http?.maxConcurrentStreams, base.maxConcurrentStreams),
    h2Upgrade: http?.h2UpgradePolicy ?? base.h2Upgrade,
    useClientProtocol: http?.useClientProtocol ?? base.useClientProtocol,
    outlier: policy.outlierDetection ? outlier(policy.outlierDetection) : base.outlier,
    source,
  };
}
