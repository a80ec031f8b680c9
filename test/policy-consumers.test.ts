/**
 * "Supported" means "has a consumer": every field of the compiled upstream, outlier and retry
 * policies is read by the data plane module this ledger names (the types make the ledger
 * complete: a new field does not compile until it is given its reader), and every
 * DestinationRule setting the README lists as supported changes the compiled policy. A setting
 * that is parsed and compiled but applied nowhere — what P1 of the code review found for
 * maxConnectionDuration, maxRetries and minHealthPercent — fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadResources } from '../src/config/load/resources.ts';
import { formatIssue } from '../src/config/source/issues.ts';
import { compile } from '../src/core/compiler/compile.ts';
import { DEFAULT_POLICY } from '../src/core/compiler/policy.ts';
import type { OutlierPolicy, RetryPolicy, UpstreamPolicy } from '../src/core/compiler/table.ts';

type Reader = `src/${string}.ts` | { readonly note: string };

const UPSTREAM: Record<keyof UpstreamPolicy, Reader> = {
  loadBalancer: 'src/dataplane/upstream/balancer.ts',
  warmup: 'src/dataplane/upstream/balancer.ts',
  connectTimeoutMs: 'src/dataplane/upstream/pool.ts',
  maxConnections: 'src/dataplane/upstream/pool.ts',
  idleTimeoutMs: 'src/dataplane/upstream/pool.ts',
  maxRequestsPerConnection: 'src/dataplane/upstream/pool.ts',
  http1MaxPendingRequests: 'src/dataplane/upstream/pool.ts',
  maxConnectionDurationMs: 'src/dataplane/upstream/pool.ts',
  maxRetries: 'src/dataplane/exchange.ts',
  http2MaxRequests: 'src/dataplane/upstream/h2-pool.ts',
  maxConcurrentStreams: 'src/dataplane/upstream/h2-pool.ts',
  h2Upgrade: 'src/dataplane/request-plan.ts',
  useClientProtocol: 'src/dataplane/request-plan.ts',
  outlier: 'src/dataplane/exchange.ts',
  source: { note: 'a back-pointer to the DestinationRule, like every SourceRef of the table' },
};

const OUTLIER: Record<keyof OutlierPolicy, Reader> = {
  consecutive5xxErrors: 'src/dataplane/upstream/outlier.ts',
  consecutiveGatewayErrors: 'src/dataplane/upstream/outlier.ts',
  consecutiveLocalOriginFailures: 'src/dataplane/upstream/outlier.ts',
  splitExternalLocalOriginErrors: 'src/dataplane/upstream/outlier.ts',
  intervalMs: 'src/dataplane/upstream/outlier.ts',
  baseEjectionTimeMs: 'src/dataplane/upstream/outlier.ts',
  maxEjectionPercent: 'src/dataplane/upstream/outlier.ts',
  minHealthPercent: 'src/dataplane/upstream/outlier.ts',
};

const RETRY: Record<keyof RetryPolicy, Reader> = {
  attempts: 'src/dataplane/exchange.ts',
  perTryTimeoutMs: 'src/dataplane/exchange.ts',
  retryOn: 'src/dataplane/attempt.ts',
  retriableStatusCodes: 'src/dataplane/attempt.ts',
  backoffMs: 'src/dataplane/exchange.ts',
  defaulted: 'src/dataplane/attempt.ts',
};

const ROOT = new URL('../', import.meta.url);

describe('every compiled policy field has a reader in the data plane', () => {
  for (const [name, ledger] of [
    ['UpstreamPolicy', UPSTREAM],
    ['OutlierPolicy', OUTLIER],
    ['RetryPolicy', RETRY],
  ] as const) {
    for (const [field, reader] of Object.entries(ledger) as [string, Reader][]) {
      if (typeof reader !== 'string') continue;
      it(`${name}.${field} is read in ${reader}`, () => {
        const text = readFileSync(new URL(reader, ROOT), 'utf8');
        // A property read, not a mention in a comment.
        const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
        assert.match(code, new RegExp(`\\.${field}\\b`));
      });
    }
  }
});

function compiled(trafficPolicy: string): UpstreamPolicy {
  const yaml = `
apiVersion: v1
kind: Service
metadata: { name: app, namespace: default }
spec: { ports: [{ port: 80, name: http }], selector: { app: app } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: app, namespace: default }
spec:
  host: app
  trafficPolicy: ${trafficPolicy}
`;
  const loaded = loadResources([{ file: 'test.yaml', text: yaml }]);
  if (!loaded.ok) throw new Error(loaded.issues.map(formatIssue).join('\n'));
  const svc = compile(loaded.resources, []).table.services['default/app'];
  assert.ok(svc);
  return svc.policy;
}

describe('every supported DestinationRule setting changes the compiled policy', () => {
  const rows: readonly [string, (p: UpstreamPolicy) => unknown, unknown][] = [
    ['{ loadBalancer: { simple: ROUND_ROBIN } }', (p) => p.loadBalancer, 'ROUND_ROBIN'],
    ['{ loadBalancer: { warmup: { duration: 30s } } }', (p) => p.warmup?.durationMs, 30_000],
    ['{ connectionPool: { tcp: { maxConnections: 7 } } }', (p) => p.maxConnections, 7],
    ['{ connectionPool: { tcp: { connectTimeout: 2s } } }', (p) => p.connectTimeoutMs, 2_000],
    [
      '{ connectionPool: { tcp: { maxConnectionDuration: 1h } } }',
      (p) => p.maxConnectionDurationMs,
      3_600_000,
    ],
    ['{ connectionPool: { tcp: { idleTimeout: 5s } } }', (p) => p.idleTimeoutMs, 5_000],
    ['{ connectionPool: { http: { idleTimeout: 6s } } }', (p) => p.idleTimeoutMs, 6_000],
    [
      '{ connectionPool: { http: { http1MaxPendingRequests: 3 } } }',
      (p) => p.http1MaxPendingRequests,
      3,
    ],
    [
      '{ connectionPool: { http: { maxRequestsPerConnection: 1 } } }',
      (p) => p.maxRequestsPerConnection,
      1,
    ],
    ['{ connectionPool: { http: { maxRetries: 4 } } }', (p) => p.maxRetries, 4],
    ['{ connectionPool: { http: { http2MaxRequests: 5 } } }', (p) => p.http2MaxRequests, 5],
    ['{ connectionPool: { http: { maxConcurrentStreams: 6 } } }', (p) => p.maxConcurrentStreams, 6],
    ['{ connectionPool: { http: { h2UpgradePolicy: UPGRADE } } }', (p) => p.h2Upgrade, 'UPGRADE'],
    ['{ connectionPool: { http: { useClientProtocol: true } } }', (p) => p.useClientProtocol, true],
    [
      '{ outlierDetection: { consecutive5xxErrors: 3 } }',
      (p) => p.outlier?.consecutive5xxErrors,
      3,
    ],
    [
      '{ outlierDetection: { consecutiveGatewayErrors: 2 } }',
      (p) => p.outlier?.consecutiveGatewayErrors,
      2,
    ],
    [
      '{ outlierDetection: { splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 2 } }',
      (p) => [p.outlier?.splitExternalLocalOriginErrors, p.outlier?.consecutiveLocalOriginFailures],
      [true, 2],
    ],
    ['{ outlierDetection: { interval: 3s } }', (p) => p.outlier?.intervalMs, 3_000],
    [
      '{ outlierDetection: { baseEjectionTime: 1m } }',
      (p) => p.outlier?.baseEjectionTimeMs,
      60_000,
    ],
    ['{ outlierDetection: { maxEjectionPercent: 50 } }', (p) => p.outlier?.maxEjectionPercent, 50],
    ['{ outlierDetection: { minHealthPercent: 40 } }', (p) => p.outlier?.minHealthPercent, 40],
  ];
  for (const [policy, read, expected] of rows) {
    it(policy, () => {
      assert.deepEqual(read(compiled(policy)), expected);
      assert.notDeepEqual(read(DEFAULT_POLICY), expected, 'the default is something else');
    });
  }

  it('0 for a connection-pool limit means no limit, as Istio applies only values above 0', () => {
    const p = compiled(
      '{ connectionPool: { tcp: { maxConnections: 0 }, http: { http1MaxPendingRequests: 0, maxRequestsPerConnection: 0, maxRetries: 0 } } }',
    );
    assert.deepEqual(
      [p.maxConnections, p.http1MaxPendingRequests, p.maxRequestsPerConnection, p.maxRetries],
      [undefined, undefined, undefined, undefined],
    );
  });
});
