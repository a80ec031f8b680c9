import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertIssue, doc, type Expected, errors, parseOne } from './test-support.ts';
import type { DestinationRuleSpec } from './types.ts';

interface Case extends Expected {
  readonly title: string;
  readonly spec: readonly string[];
}

const rejected: Case[] = [
  {
    title: 'a DestinationRule without host',
    spec: ['subsets: [{name: v1}]'],
    path: 'spec.host',
    message: 'Required value',
    at: 'subsets',
  },
  {
    title: 'a host that is not a domain name',
    spec: ['host: reviews_svc'],
    path: 'spec.host',
    message: 'domain name "reviews_svc" invalid (label "reviews_svc" invalid)',
    at: 'reviews_svc',
  },
  {
    title: '#26 an empty traffic policy',
    spec: ['host: reviews', 'trafficPolicy: {}'],
    path: 'spec.trafficPolicy',
    message: 'traffic policy must have at least one field',
    at: '{}',
  },
  {
    title: '#26 a port traffic policy with only a port',
    spec: ['host: reviews', 'trafficPolicy:', '  portLevelSettings: [{port: {number: 80}}]'],
    path: 'spec.trafficPolicy.portLevelSettings[0]',
    message: 'port traffic policy must have at least one field',
    at: '{port',
  },
  {
    title: '#26 a port traffic policy without a port',
    spec: [
      'host: reviews',
      'trafficPolicy:',
      '  portLevelSettings: [{loadBalancer: {simple: RANDOM}}]',
    ],
    path: 'spec.trafficPolicy.portLevelSettings[0].port',
    message: 'portTrafficPolicy must have valid port',
  },
  {
    title: '#26 an empty connection pool',
    spec: ['host: reviews', 'trafficPolicy: {connectionPool: {}}'],
    path: 'spec.trafficPolicy.connectionPool',
    message: 'connection pool must have at least one field',
  },
  {
    title: '#27 two subsets with one name',
    spec: ['host: reviews', 'subsets:', '- name: v1', '- name: v2', '- {name: v1, labels: {a: b}}'],
    path: 'spec.subsets[2].name',
    message: 'duplicate subset names: v1',
    at: 'v1, labels',
  },
  {
    title: '#27 a subset name that is not a DNS label',
    spec: ['host: reviews', 'subsets: [{name: v1.0}]'],
    path: 'spec.subsets[0].name',
    message: 'subset name is invalid: v1.0',
    at: 'v1.0',
  },
  {
    title: '#27 a subset label key Istio rejects',
    spec: ['host: reviews', 'subsets: [{name: v1, labels: {"bad key": v1}}]'],
    path: 'spec.subsets[0].labels["bad key"]',
    message: 'invalid tag key: "bad key"',
    at: '"bad key"',
  },
  {
    title: '#27 a subset label value Istio rejects',
    spec: ['host: reviews', 'subsets: [{name: v1, labels: {version: "-v1"}}]'],
    path: 'spec.subsets[0].labels.version',
    message: 'invalid tag value: "-v1"',
  },
  {
    title: '#28 local-origin failures without split external/local-origin errors',
    spec: [
      'host: reviews',
      'trafficPolicy: {outlierDetection: {consecutiveLocalOriginFailures: 3}}',
    ],
    path: 'spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures',
    message:
      'outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false',
  },
  {
    title: '#28 maxEjectionPercent over 100',
    spec: ['host: reviews', 'trafficPolicy: {outlierDetection: {maxEjectionPercent: 150}}'],
    path: 'spec.trafficPolicy.outlierDetection.maxEjectionPercent',
    message: 'percentage 150 is not in range 0..100',
    at: '150',
  },
  {
    title: '#28 an outlier interval under 1ms',
    spec: ['host: reviews', 'trafficPolicy: {outlierDetection: {interval: 0s}}'],
    path: 'spec.trafficPolicy.outlierDetection.interval',
    message: 'duration must be greater than 1ms',
  },
  {
    title: '#29 useClientProtocol with h2UpgradePolicy UPGRADE',
    spec: [
      'host: reviews',
      'trafficPolicy:',
      '  connectionPool: {http: {h2UpgradePolicy: UPGRADE, useClientProtocol: true}}',
    ],
    path: 'spec.trafficPolicy.connectionPool.http.useClientProtocol',
    message: 'use client protocol must not be true when H2UpgradePolicy is UPGRADE',
  },
  {
    title: '#29 negative max connections',
    spec: ['host: reviews', 'trafficPolicy: {connectionPool: {tcp: {maxConnections: -1}}}'],
    path: 'spec.trafficPolicy.connectionPool.tcp.maxConnections',
    message: 'max connections must be non-negative',
    at: '-1',
  },
  {
    title: '#29 negative max retries in a subset policy',
    spec: [
      'host: reviews',
      'subsets:',
      '- name: v1',
      '  trafficPolicy: {connectionPool: {http: {maxRetries: -3}}}',
    ],
    path: 'spec.subsets[0].trafficPolicy.connectionPool.http.maxRetries',
    message: 'max retries must be non-negative',
  },
  {
    title: 'a warmup duration finer than a millisecond',
    spec: ['host: reviews', 'trafficPolicy: {loadBalancer: {warmup: {duration: 1.0005s}}}'],
    path: 'spec.trafficPolicy.loadBalancer.warmup.duration',
    message: 'only durations to ms precision are supported',
  },
  {
    title: 'a warmup minimumPercent over 100 (the CRD range)',
    spec: [
      'host: reviews',
      'trafficPolicy: {loadBalancer: {warmup: {duration: 1s, minimumPercent: 101}}}',
    ],
    path: 'spec.trafficPolicy.loadBalancer.warmup.minimumPercent',
    message: 'Invalid value: 101: must be between 0 and 100',
  },
  {
    title: 'an unknown load balancer',
    spec: ['host: reviews', 'trafficPolicy: {loadBalancer: {simple: ROUND_ROBBIN}}'],
    path: 'spec.trafficPolicy.loadBalancer.simple',
    message:
      'Unsupported value: "ROUND_ROBBIN" (did you mean "ROUND_ROBIN"?): supported values: "UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST"',
    at: 'ROUND_ROBBIN',
  },
  {
    title: 'PASSTHROUGH load balancing',
    spec: ['host: reviews', 'trafficPolicy: {loadBalancer: {simple: PASSTHROUGH}}'],
    path: 'spec.trafficPolicy.loadBalancer.simple',
    message:
      "not supported by lanes yet: PASSTHROUGH load balancing (forwarding to the caller's original destination address); use LEAST_REQUEST, ROUND_ROBIN or RANDOM",
    at: 'PASSTHROUGH',
  },
  {
    title: 'TLS origination (tls.mode MUTUAL)',
    spec: ['host: reviews', 'trafficPolicy: {tls: {mode: MUTUAL}}'],
    path: 'spec.trafficPolicy.tls.mode',
    message:
      'not supported by lanes yet: lanes does not originate TLS yet (tls.mode MUTUAL); only DISABLE and ISTIO_MUTUAL are accepted, and ignored',
    at: 'MUTUAL',
  },
  {
    title: '#30 consistent-hash load balancing',
    spec: [
      'host: reviews',
      'trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user}}}',
    ],
    path: 'spec.trafficPolicy.loadBalancer.consistentHash',
    message:
      'not supported by lanes yet: consistent-hash load balancing (sticky sessions by header, cookie, source IP or query parameter)',
    at: 'consistentHash',
  },
  {
    title: '#31 workloadSelector',
    spec: ['host: reviews', 'workloadSelector: {matchLabels: {app: a}}'],
    path: 'spec.workloadSelector',
    message:
      'not supported by lanes yet: DestinationRules for selected workloads only; a lanes DestinationRule applies to every caller',
  },
  {
    title: 'tunnel settings',
    spec: ['host: reviews', 'trafficPolicy: {tunnel: {targetHost: a, targetPort: 80}}'],
    path: 'spec.trafficPolicy.tunnel',
    message: 'not supported by lanes yet: tunnelling upstream connections (HTTP CONNECT or POST)',
  },
  {
    title: 'outlierDetectionHttpErrorCodes',
    spec: [
      'host: reviews',
      'trafficPolicy: {outlierDetection: {outlierDetectionHttpErrorCodes: [500]}}',
    ],
    path: 'spec.trafficPolicy.outlierDetection.outlierDetectionHttpErrorCodes',
    message:
      'not supported by lanes yet: custom outlier status codes; lanes counts 5xx responses (consecutive5xxErrors) and 502/503/504 (consecutiveGatewayErrors)',
  },
  {
    title: 'a misspelt subset field gets a did-you-mean',
    spec: ['host: reviews', 'subsets: [{name: v1, lables: {version: v1}}]'],
    path: 'spec.subsets[0].lables',
    message: 'unknown field "lables": did you mean "labels"?',
    at: 'lables',
  },
  {
    title: 'a misspelt connection pool field gets a did-you-mean',
    spec: ['host: reviews', 'trafficPolicy: {connectionPool: {tcp: {maxConnection: 10}}}'],
    path: 'spec.trafficPolicy.connectionPool.tcp.maxConnection',
    message: 'unknown field "maxConnection": did you mean "maxConnections"?',
  },
];

const warned: Case[] = [
  {
    title: 'LEAST_CONN (deprecated)',
    spec: ['host: reviews', 'trafficPolicy: {loadBalancer: {simple: LEAST_CONN}}'],
    path: 'spec.trafficPolicy.loadBalancer.simple',
    message: 'LEAST_CONN is deprecated; it is LEAST_REQUEST (as in Istio)',
    severity: 'warning',
    at: 'LEAST_CONN',
  },
  {
    title: 'warmupDurationSecs (deprecated)',
    spec: ['host: reviews', 'trafficPolicy: {loadBalancer: {warmupDurationSecs: 60s}}'],
    path: 'spec.trafficPolicy.loadBalancer.warmupDurationSecs',
    message: 'warmupDurationSecs is deprecated; use warmup: {duration: …}',
    severity: 'warning',
  },
  {
    title: 'consecutiveErrors (deprecated)',
    spec: ['host: reviews', 'trafficPolicy: {outlierDetection: {consecutiveErrors: 7}}'],
    path: 'spec.trafficPolicy.outlierDetection.consecutiveErrors',
    message:
      'outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead',
    severity: 'warning',
  },
  {
    title: 'tls mode DISABLE',
    spec: ['host: reviews', 'trafficPolicy: {tls: {mode: DISABLE}}'],
    path: 'spec.trafficPolicy.tls',
    message: 'ignored: local-mode hops are plaintext on loopback; mesh mTLS is not implemented',
    severity: 'ignored',
  },
  {
    title: 'localityLbSetting',
    spec: ['host: reviews', 'trafficPolicy: {loadBalancer: {localityLbSetting: {enabled: true}}}'],
    path: 'spec.trafficPolicy.loadBalancer.localityLbSetting',
    message: 'ignored: local mode has one locality',
    severity: 'ignored',
    at: 'localityLbSetting',
  },
  {
    title: 'tcpKeepalive',
    spec: ['host: reviews', 'trafficPolicy: {connectionPool: {tcp: {tcpKeepalive: {time: 10s}}}}'],
    path: 'spec.trafficPolicy.connectionPool.tcp.tcpKeepalive',
    message: 'ignored: lanes leaves TCP keepalive to the operating system',
    severity: 'ignored',
  },
  {
    title: 'http2KeepAlive',
    spec: [
      'host: reviews',
      'trafficPolicy: {connectionPool: {http: {http2KeepAlive: {interval: 10s}}}}',
    ],
    path: 'spec.trafficPolicy.connectionPool.http.http2KeepAlive',
    message:
      'ignored: lanes detects dead upstream connections when a request fails on them, not with PINGs',
    severity: 'ignored',
  },
];

describe('DestinationRule validation (Istio messages)', () => {
  for (const c of rejected) {
    test(`${c.title} is rejected at ${c.path}: ${c.message}`, () => {
      const text = doc('DestinationRule', c.spec);
      const { resource, issues } = parseOne(text);
      assert.equal(resource, undefined);
      assertIssue(text, issues, c);
    });
  }

  for (const c of warned) {
    test(`${c.title} is accepted with the ${c.severity} note: ${c.message}`, () => {
      const text = doc('DestinationRule', c.spec);
      const { resource, issues } = parseOne(text);
      assert.deepEqual(errors(issues), []);
      assert.ok(resource);
      assertIssue(text, issues, c);
    });
  }
});

describe('DestinationRule parsing', () => {
  const spec = (lines: readonly string[]): DestinationRuleSpec => {
    const { resource, issues } = parseOne(doc('DestinationRule', lines));
    assert.deepEqual(errors(issues), []);
    return resource?.spec as DestinationRuleSpec;
  };

  test('subsets keep their labels and policies; a subset without labels has {}', () => {
    assert.deepEqual(
      spec([
        'host: reviews',
        'subsets:',
        '- name: v1',
        '  labels: {version: v1}',
        '- name: all',
        '  trafficPolicy: {loadBalancer: {simple: RANDOM}}',
      ]),
      {
        host: 'reviews',
        trafficPolicy: undefined,
        subsets: [
          { name: 'v1', labels: { version: 'v1' }, trafficPolicy: undefined },
          {
            name: 'all',
            labels: {},
            trafficPolicy: { loadBalancer: { simple: 'RANDOM', warmup: undefined } },
          },
        ],
        exportTo: undefined,
      },
    );
  });

  test('LEAST_CONN becomes LEAST_REQUEST', () => {
    assert.equal(
      spec(['host: reviews', 'trafficPolicy: {loadBalancer: {simple: LEAST_CONN}}']).trafficPolicy
        ?.loadBalancer?.simple,
      'LEAST_REQUEST',
    );
  });

  test('warmupDurationSecs becomes warmup.duration in milliseconds', () => {
    assert.deepEqual(
      spec(['host: reviews', 'trafficPolicy: {loadBalancer: {warmupDurationSecs: 90s}}'])
        .trafficPolicy?.loadBalancer?.warmup,
      { duration: 90_000 },
    );
  });

  test('warmup keeps duration (ms), minimumPercent and aggression', () => {
    assert.deepEqual(
      spec([
        'host: reviews',
        'trafficPolicy: {loadBalancer: {warmup: {duration: 300s, minimumPercent: 5.0, aggression: 2}}}',
      ]).trafficPolicy?.loadBalancer?.warmup,
      { duration: 300_000, minimumPercent: 5, aggression: 2 },
    );
  });

  test('consecutiveErrors counts gateway errors and turns 5xx ejection off, as in Istio', () => {
    assert.deepEqual(
      spec(['host: reviews', 'trafficPolicy: {outlierDetection: {consecutiveErrors: 7}}'])
        .trafficPolicy?.outlierDetection,
      { consecutiveGatewayErrors: 7, consecutive5xxErrors: 0 },
    );
  });

  test('explicit consecutive5xxErrors wins over the deprecated consecutiveErrors', () => {
    assert.deepEqual(
      spec([
        'host: reviews',
        'trafficPolicy: {outlierDetection: {consecutiveErrors: 7, consecutive5xxErrors: 3}}',
      ]).trafficPolicy?.outlierDetection,
      { consecutiveGatewayErrors: 7, consecutive5xxErrors: 3 },
    );
  });

  test('connection pool durations become milliseconds; HTTP/2 settings are kept; tcp idleTimeout 0s is allowed', () => {
    assert.deepEqual(
      spec([
        'host: reviews',
        'trafficPolicy:',
        '  connectionPool:',
        '    tcp: {maxConnections: 100, connectTimeout: 250ms, idleTimeout: 0s, maxConnectionDuration: 1h}',
        '    http: {http1MaxPendingRequests: 10, maxRequestsPerConnection: 1, maxRetries: 3, idleTimeout: 30s, http2MaxRequests: 5, maxConcurrentStreams: 7, h2UpgradePolicy: UPGRADE}',
      ]).trafficPolicy?.connectionPool,
      {
        tcp: {
          maxConnections: 100,
          connectTimeout: 250,
          idleTimeout: 0,
          maxConnectionDuration: 3_600_000,
        },
        http: {
          http1MaxPendingRequests: 10,
          maxRequestsPerConnection: 1,
          maxRetries: 3,
          idleTimeout: 30_000,
          http2MaxRequests: 5,
          maxConcurrentStreams: 7,
          h2UpgradePolicy: 'UPGRADE',
          useClientProtocol: undefined,
        },
      },
    );
  });

  test('port-level settings keep their port and drop an ignored tls', () => {
    assert.deepEqual(
      spec([
        'host: reviews',
        'trafficPolicy:',
        '  portLevelSettings:',
        '  - port: {number: 9080}',
        '    tls: {mode: ISTIO_MUTUAL}',
        '    outlierDetection: {consecutive5xxErrors: 2, interval: 5s}',
      ]).trafficPolicy,
      {
        portLevelSettings: [
          { port: { number: 9080 }, outlierDetection: { consecutive5xxErrors: 2, interval: 5000 } },
        ],
      },
    );
  });
});
