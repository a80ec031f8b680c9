import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RETRIES } from '../core/compiler/routes.ts';
import type { RetryPolicy } from '../core/compiler/table.ts';
import { type AttemptOutcome, classify, isIdempotent, peerErrorOf } from './attempt.ts';

const policy = (retryOn: string[], extra: Partial<RetryPolicy> = {}): RetryPolicy => ({
  ...DEFAULT_RETRIES,
  defaulted: false,
  retryOn,
  ...extra,
});

const connect: AttemptOutcome = { kind: 'connect-failed', message: 'ECONNREFUSED' };
const overflow: AttemptOutcome = { kind: 'overflow', message: 'full' };
const reset: AttemptOutcome = { kind: 'reset', message: 'closed', stale: false };
const stale: AttemptOutcome = { kind: 'reset', message: 'closed', stale: true };
const timeout: AttemptOutcome = { kind: 'timeout', message: 'per try' };
const protocol: AttemptOutcome = { kind: 'protocol', message: 'garbage' };
const status = (n: number, peer?: { code: string; delivered: 'none' | 'unknown' }) =>
  ({ kind: 'response', status: n, ...(peer ? { peer } : {}) }) as AttemptOutcome;
const grpc = (grpcStatus: number): AttemptOutcome => ({
  kind: 'response',
  status: 200,
  grpcStatus,
});
const peerNotDelivered = status(502, { code: 'UPSTREAM_CONNECT_FAILURE', delivered: 'none' });
const peerReset = status(502, { code: 'UPSTREAM_RESET', delivered: 'unknown' });

describe('classify: what an attempt outcome allows', () => {
  const rows: readonly {
    readonly name: string;
    readonly outcome: AttemptOutcome;
    readonly method: string;
    readonly policy: RetryPolicy;
    readonly retry: boolean;
    readonly delivered: 'no' | 'maybe' | 'yes';
    readonly outlier: string | undefined;
    readonly code: string | null;
  }[] = [
    // Nothing reached the app: retried whatever the method.
    {
      name: 'a connect failure of a POST is retried under the default policy',
      outcome: connect,
      method: 'POST',
      policy: DEFAULT_RETRIES,
      retry: true,
      delivered: 'no',
      outlier: 'local-origin-failure',
      code: 'UPSTREAM_CONNECT_FAILURE',
    },
    {
      name: 'a connect failure is not retried when retryOn names only status codes',
      outcome: connect,
      method: 'GET',
      policy: policy(['retriable-status-codes'], { retriableStatusCodes: [503] }),
      retry: false,
      delivered: 'no',
      outlier: 'local-origin-failure',
      code: 'UPSTREAM_CONNECT_FAILURE',
    },
    {
      name: "a POST the endpoint's sidecar could not deliver to its app is retried",
      outcome: peerNotDelivered,
      method: 'POST',
      policy: DEFAULT_RETRIES,
      retry: true,
      delivered: 'no',
      outlier: 'gateway-error',
      code: null,
    },
    {
      name: 'pool overflow is never held against the endpoint',
      outcome: overflow,
      method: 'GET',
      policy: DEFAULT_RETRIES,
      retry: false,
      delivered: 'no',
      outlier: undefined,
      code: 'UPSTREAM_OVERFLOW',
    },
    {
      name: 'pool overflow is retried under 5xx, for a POST too (it never left the proxy)',
      outcome: overflow,
      method: 'POST',
      policy: policy(['5xx']),
      retry: true,
      delivered: 'no',
      outlier: undefined,
      code: 'UPSTREAM_OVERFLOW',
    },
    // The app may have seen it: only idempotent methods are sent again.
    {
      name: 'a reset of a GET is retried under the default policy (SPEC §4.5)',
      outcome: reset,
      method: 'GET',
      policy: DEFAULT_RETRIES,
      retry: true,
      delivered: 'maybe',
      outlier: 'local-origin-failure',
      code: 'UPSTREAM_RESET',
    },
    {
      name: 'a reset of a POST is never retried, even when retryOn says reset',
      outcome: reset,
      method: 'POST',
      policy: policy(['reset', '5xx']),
      retry: false,
      delivered: 'maybe',
      outlier: 'local-origin-failure',
      code: 'UPSTREAM_RESET',
    },
    {
      name: 'a reset of a GET is not retried when an explicit retryOn leaves reset out',
      outcome: reset,
      method: 'GET',
      policy: policy(['connect-failure']),
      retry: false,
      delivered: 'maybe',
      outlier: 'local-origin-failure',
      code: 'UPSTREAM_RESET',
    },
    {
      name: "a reset the endpoint's sidecar reports is retried for a PUT",
      outcome: peerReset,
      method: 'PUT',
      policy: DEFAULT_RETRIES,
      retry: true,
      delivered: 'maybe',
      outlier: 'gateway-error',
      code: null,
    },
    {
      name: "a connect failure the endpoint's sidecar met after a stale connection is retried for a GET",
      outcome: status(502, { code: 'UPSTREAM_CONNECT_FAILURE', delivered: 'unknown' }),
      method: 'GET',
      policy: DEFAULT_RETRIES,
      retry: true,
      delivered: 'maybe',
      outlier: 'gateway-error',
      code: null,
    },
    {
      name: "a reset the endpoint's sidecar reports is not retried for a PATCH",
      outcome: peerReset,
      method: 'PATCH',
      policy: DEFAULT_RETRIES,
      retry: false,
      delivered: 'maybe',
      outlier: 'gateway-error',
      code: null,
    },
    {
      name: 'a per-try timeout of a GET is retried under gateway-error',
      outcome: timeout,
      method: 'GET',
      policy: policy(['gateway-error'], { perTryTimeoutMs: 100 }),
      retry: true,
      delivered: 'maybe',
      outlier: 'local-origin-failure',
      code: 'UPSTREAM_TIMEOUT',
    },
    {
      name: 'a malformed response is retried only under 5xx',
      outcome: protocol,
      method: 'GET',
      policy: policy(['gateway-error']),
      retry: false,
      delivered: 'maybe',
      outlier: 'local-origin-failure',
      code: 'UPSTREAM_PROTOCOL_ERROR',
    },
    {
      name: 'a stale kept-alive connection is not the endpoint’s failure',
      outcome: stale,
      method: 'GET',
      policy: policy(['connect-failure']),
      retry: false,
      delivered: 'maybe',
      outlier: undefined,
      code: 'UPSTREAM_RESET',
    },
    // Statuses: the app answered.
    {
      name: "an app's 503 is retried under 5xx for a GET",
      outcome: status(503),
      method: 'GET',
      policy: policy(['5xx']),
      retry: true,
      delivered: 'yes',
      outlier: 'gateway-error',
      code: null,
    },
    {
      name: "an app's 503 to a POST is passed on, never retried",
      outcome: status(503),
      method: 'POST',
      policy: policy(['5xx']),
      retry: false,
      delivered: 'yes',
      outlier: 'gateway-error',
      code: null,
    },
    {
      name: "an app's 500 counts as a 5xx, not a gateway error, and gateway-error does not retry it",
      outcome: status(500),
      method: 'GET',
      policy: policy(['gateway-error']),
      retry: false,
      delivered: 'yes',
      outlier: 'http-5xx',
      code: null,
    },
    {
      name: 'a 409 is retried under retriable-4xx',
      outcome: status(409),
      method: 'PUT',
      policy: policy(['retriable-4xx']),
      retry: true,
      delivered: 'yes',
      outlier: 'success',
      code: null,
    },
    {
      name: 'a listed status code is retried under retriable-status-codes',
      outcome: status(429),
      method: 'GET',
      policy: policy(['retriable-status-codes'], { retriableStatusCodes: [429] }),
      retry: true,
      delivered: 'yes',
      outlier: 'success',
      code: null,
    },
    {
      name: "an app's 503 is not retried under the default policy",
      outcome: status(503),
      method: 'GET',
      policy: DEFAULT_RETRIES,
      retry: false,
      delivered: 'yes',
      outlier: 'gateway-error',
      code: null,
    },
    // gRPC: the app's trailers-only answer (HTTP 200, grpc-status in the head).
    {
      name: "an app's gRPC UNAVAILABLE is retried, a POST as it is, when the route's retryOn names unavailable",
      outcome: grpc(14),
      method: 'POST',
      policy: policy(['unavailable']),
      retry: true,
      delivered: 'yes',
      outlier: 'gateway-error',
      code: null,
    },
    {
      name: "an app's gRPC UNAVAILABLE is not re-sent by the default retries, and counts as a 503 against the endpoint",
      outcome: grpc(14),
      method: 'POST',
      policy: DEFAULT_RETRIES,
      retry: false,
      delivered: 'yes',
      outlier: 'gateway-error',
      code: null,
    },
    {
      name: "an app's gRPC INTERNAL is a 5xx for the outlier detector, and 5xx in retryOn (HTTP statuses) does not retry it",
      outcome: grpc(13),
      method: 'POST',
      policy: policy(['5xx']),
      retry: false,
      delivered: 'yes',
      outlier: 'http-5xx',
      code: null,
    },
    {
      name: "an app's gRPC NOT_FOUND is the app's own answer, a success for the outlier detector",
      outcome: grpc(5),
      method: 'POST',
      policy: policy(['unavailable', 'internal']),
      retry: false,
      delivered: 'yes',
      outlier: 'success',
      code: null,
    },
  ];
  for (const r of rows) {
    it(r.name, () => {
      const v = classify(r.outcome, r.method, r.policy);
      assert.deepEqual(
        { retry: v.retry, delivered: v.delivered, outlier: v.outlier, code: v.code },
        { retry: r.retry, delivered: r.delivered, outlier: r.outlier, code: r.code },
      );
    });
  }

  it('the outlier detector hears the status of a response, a gRPC status as the HTTP status Envoy maps it to, and none without a response', () => {
    const heard = (o: AttemptOutcome) => classify(o, 'POST', DEFAULT_RETRIES).outlierStatus;
    assert.equal(heard(status(500)), 500);
    assert.equal(heard(peerNotDelivered), 502);
    assert.equal(heard(grpc(14)), 503);
    assert.equal(heard(grpc(4)), 504);
    assert.equal(heard(grpc(8)), 429);
    assert.equal(heard(connect), undefined);
    assert.equal(heard(reset), undefined);
  });

  it('a stale connection gets its free retry only for an idempotent method', () => {
    assert.equal(classify(stale, 'GET', DEFAULT_RETRIES).freeRetry, true);
    assert.equal(classify(stale, 'POST', DEFAULT_RETRIES).freeRetry, false);
    assert.equal(classify(reset, 'GET', DEFAULT_RETRIES).freeRetry, false);
  });
});

describe('peerErrorOf', () => {
  it('reads a proxy error only when it says whether the request was delivered', () => {
    assert.deepEqual(peerErrorOf('UPSTREAM_CONNECT_FAILURE', 'none'), {
      code: 'UPSTREAM_CONNECT_FAILURE',
      delivered: 'none',
    });
    assert.equal(peerErrorOf('UPSTREAM_CONNECT_FAILURE', undefined), undefined);
    assert.equal(peerErrorOf(undefined, 'none'), undefined);
    assert.equal(peerErrorOf('UPSTREAM_RESET', 'maybe'), undefined);
  });
});

describe('isIdempotent', () => {
  it('is true for the methods RFC 9110 §9.2.2 names, and case-sensitive like methods', () => {
    for (const m of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])
      assert.ok(isIdempotent(m));
    for (const m of ['POST', 'PATCH', 'CONNECT', 'get']) assert.ok(!isIdempotent(m), m);
  });
});
