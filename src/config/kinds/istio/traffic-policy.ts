/**
 * DestinationRule traffic policies (DR.proto): load balancer, connection pool, outlier detection,
 * TLS and port-level settings, with validateTrafficPolicy's checks from istio/istio. Fields lanes
 * accepts but does not use are reported as ignored; fields it cannot honour are errors.
 */
import {
  anyValue,
  bool,
  ignored,
  list,
  num,
  obj,
  oneOf,
  required,
  type Schema,
  str,
  unsupported,
} from '../../schema/dsl.ts';
import { int32, istioDuration, percentMessage, uint32 } from './common.ts';
import type {
  ConnectionPoolSettings,
  LoadBalancerSettings,
  OutlierDetection,
  PortTrafficPolicy,
  TrafficPolicy,
} from './types.ts';

const PLAINTEXT = 'local-mode hops are plaintext on loopback; mesh mTLS is not implemented';

function nonNegative(what: string): Schema<number> {
  return int32().check((n, c) => {
    if (n < 0) c.error(`${what} must be non-negative`);
  });
}

const warmupSchema = obj({
  duration: required(istioDuration()),
  minimumPercent: num({ min: 0, max: 100 }),
  // The CRD allows 0; Istio's validation (and Envoy) want at least 1.
  aggression: num({ min: 1 }),
});

const loadBalancerSchema: Schema<LoadBalancerSettings> = obj({
  simple: oneOf([
    'UNSPECIFIED',
    'LEAST_CONN',
    'RANDOM',
    'PASSTHROUGH',
    'ROUND_ROBIN',
    'LEAST_REQUEST',
  ]),
  consistentHash: unsupported(
    'consistent-hash load balancing (sticky sessions by header, cookie, source IP or query parameter)',
  ),
  localityLbSetting: ignored('local mode has one locality', anyValue()),
  zoneAwareLbSetting: unsupported('zone-aware load balancing (local mode has one zone)'),
  warmup: warmupSchema,
  warmupDurationSecs: istioDuration(),
})
  .check((lb, c) => {
    if (lb.simple === 'LEAST_CONN') {
      c.warn('LEAST_CONN is deprecated; it is LEAST_REQUEST (as in Istio)', 'simple');
    }
    if (lb.simple === 'PASSTHROUGH') {
      c.error(
        "not supported by lanes yet: PASSTHROUGH load balancing (forwarding to the caller's original destination address); use LEAST_REQUEST, ROUND_ROBIN or RANDOM",
        'simple',
      );
    }
    if (lb.warmupDurationSecs !== undefined) {
      c.warn(
        lb.warmup
          ? 'ignored: warmup is set, so the deprecated warmupDurationSecs is not used'
          : 'warmupDurationSecs is deprecated; use warmup: {duration: …}',
        'warmupDurationSecs',
      );
    }
  })
  .map((lb) => {
    const simple = lb.simple === 'LEAST_CONN' ? 'LEAST_REQUEST' : lb.simple;
    const warmup =
      lb.warmup ??
      (lb.warmupDurationSecs !== undefined ? { duration: lb.warmupDurationSecs } : undefined);
    return {
      simple: simple === 'PASSTHROUGH' ? undefined : simple,
      warmup,
    };
  });

const tcpSchema = obj({
  maxConnections: nonNegative('max connections'),
  connectTimeout: istioDuration(),
  tcpKeepalive: ignored(
    'lanes leaves TCP keepalive to the operating system',
    obj({ time: istioDuration(), interval: istioDuration(), probes: uint32() }),
  ),
  maxConnectionDuration: istioDuration(),
  // `0s` turns the idle timeout off (Istio skips the duration check for it).
  idleTimeout: istioDuration({ allowZero: true }),
});

const httpSchema = obj({
  http1MaxPendingRequests: nonNegative('http1 max pending requests'),
  http2MaxRequests: nonNegative('http2 max requests'),
  maxRequestsPerConnection: nonNegative('max requests per connection'),
  maxRetries: nonNegative('max retries'),
  idleTimeout: istioDuration(),
  h2UpgradePolicy: oneOf(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE']),
  useClientProtocol: bool(),
  maxConcurrentStreams: nonNegative('max concurrent streams'),
  http2KeepAlive: ignored(
    'lanes detects dead upstream connections when a request fails on them, not with PINGs',
    obj({ interval: istioDuration(), timeout: istioDuration() }),
  ),
}).check((h, c) => {
  if (h.h2UpgradePolicy === 'UPGRADE' && h.useClientProtocol) {
    c.error(
      'use client protocol must not be true when H2UpgradePolicy is UPGRADE',
      'useClientProtocol',
    );
  }
});

const connectionPoolSchema: Schema<ConnectionPoolSettings> = obj({
  tcp: tcpSchema,
  http: httpSchema,
})
  .check((p, c) => {
    if (!p.tcp && !p.http) c.error('connection pool must have at least one field');
  })
  .map((p) => ({
    tcp: p.tcp,
    http: p.http && {
      http1MaxPendingRequests: p.http.http1MaxPendingRequests,
      maxRequestsPerConnection: p.http.maxRequestsPerConnection,
      maxRetries: p.http.maxRetries,
      idleTimeout: p.http.idleTimeout,
      http2MaxRequests: p.http.http2MaxRequests,
      maxConcurrentStreams: p.http.maxConcurrentStreams,
      h2UpgradePolicy: p.http.h2UpgradePolicy,
      useClientProtocol: p.http.useClientProtocol,
    },
  }));

function percentField(): Schema<number> {
  return int32().check((n, c) => {
    const message = percentMessage(n);
    if (message) c.error(message);
  });
}

const outlierSchema: Schema<OutlierDetection> = obj({
  consecutiveErrors: int32(),
  consecutive5xxErrors: uint32(),
  consecutiveGatewayErrors: uint32(),
  consecutiveLocalOriginFailures: uint32(),
  splitExternalLocalOriginErrors: bool(),
  interval: istioDuration(),
  baseEjectionTime: istioDuration(),
  maxEjectionPercent: percentField(),
  minHealthPercent: percentField(),
  outlierDetectionHttpErrorCodes: unsupported(
    'custom outlier status codes; lanes counts 5xx responses (consecutive5xxErrors) and 502/503/504 (consecutiveGatewayErrors)',
  ),
})
  .check((o, c) => {
    if (o.consecutiveErrors) {
      c.warn(
        'outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead',
        'consecutiveErrors',
      );
    }
    if (!o.splitExternalLocalOriginErrors && (o.consecutiveLocalOriginFailures ?? 0) > 0) {
      c.error(
        'outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false',
        'consecutiveLocalOriginFailures',
      );
    }
  })
  // Istio maps the deprecated consecutiveErrors to gateway errors only, with 5xx ejection off;
  // explicit newer fields win (cluster_traffic_policy.go applyOutlierDetection).
  .map((o) => {
    const { consecutiveErrors, ...rest } = o;
    if (!consecutiveErrors || consecutiveErrors < 0) return rest;
    return {
      ...rest,
      consecutiveGatewayErrors: rest.consecutiveGatewayErrors ?? consecutiveErrors,
      consecutive5xxErrors: rest.consecutive5xxErrors ?? 0,
    };
  });

/**
 * ClientTLSSettings. Without TLS origination only the modes that mean "no TLS from lanes"
 * (DISABLE, and ISTIO_MUTUAL, which local mode cannot honour either) are accepted, as ignored.
 */
function tlsSchema(): Schema<undefined> {
  return obj({
    mode: oneOf(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL']),
    clientCertificate: str(),
    privateKey: str(),
    caCertificates: str(),
    credentialName: str(),
    subjectAltNames: list(str()),
    sni: str(),
    insecureSkipVerify: bool(),
    caCrl: str(),
  })
    .check((tls, c) => {
      if (tls.mode === 'SIMPLE' || tls.mode === 'MUTUAL') {
        c.error(
          `not supported by lanes yet: lanes does not originate TLS yet (tls.mode ${tls.mode}); only DISABLE and ISTIO_MUTUAL are accepted, and ignored`,
          'mode',
        );
      } else {
        c.ignored(`ignored: ${PLAINTEXT}`);
      }
    })
    .map(() => undefined);
}

function policyFields() {
  return {
    loadBalancer: loadBalancerSchema,
    connectionPool: connectionPoolSchema,
    outlierDetection: outlierSchema,
    tls: tlsSchema(),
  };
}

const portTrafficPolicySchema: Schema<PortTrafficPolicy> = obj({
  port: obj({ number: uint32() }),
  ...policyFields(),
})
  .check((p, c) => {
    if (!p.port) c.error('portTrafficPolicy must have valid port', 'port');
    if (!p.loadBalancer && !p.connectionPool && !p.outlierDetection && !('tls' in p)) {
      c.error('port traffic policy must have at least one field');
    }
  })
  .map(({ tls: _tls, ...p }) => p);

export const trafficPolicySchema: Schema<TrafficPolicy> = obj({
  ...policyFields(),
  portLevelSettings: list(portTrafficPolicySchema, { max: 4096 }),
  tunnel: unsupported('tunnelling upstream connections (HTTP CONNECT or POST)'),
  proxyProtocol: unsupported('sending the PROXY protocol header to upstreams'),
  retryBudget: unsupported(
    "retry budgets; limit retries with connectionPool.http.maxRetries or a route's retries",
  ),
})
  .check((p, c) => {
    if (
      !p.loadBalancer &&
      !p.connectionPool &&
      !p.outlierDetection &&
      !('tls' in p) &&
      !p.portLevelSettings
    ) {
      c.error('traffic policy must have at least one field');
    }
  })
  .map(({ tls: _tls, ...p }) => p);
