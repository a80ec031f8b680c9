/**
 * How one attempt to reach an endpoint ended, and what follows from it: whether another attempt
 * may go elsewhere, what the endpoint's outlier detector hears, and which error the client gets
 * if this was the last attempt. One pure function, `classify`, decides all three, so the retry
 * rules, the outlier rules and the error codes cannot drift apart.
 *
 * The retry rule has two parts; both must allow a retry.
 *
 * 1. Safety (lanes' own rule, stricter than Envoy's): a request is sent again only if no byte of
 *    it can have reached the application, or if its method is idempotent (RFC 9110 §9.2.2: GET,
 *    HEAD, OPTIONS, PUT, DELETE, TRACE). No byte reached the app when the connection was never
 *    made, when the proxy's own connection-pool limits held the request back, or when the
 *    endpoint's own sidecar says so (`x-lanes-delivered: none` on its error response: it could
 *    not connect to its app). Envoy re-sends a POST after a reset when `retryOn` says `reset`;
 *    lanes does not, because the app may have acted on it.
 * 2. Policy (Istio's `retryOn`): connect failures retry under `connect-failure`, `reset`, `5xx`
 *    or `gateway-error`; streams an HTTP/2 upstream refused under `refused-stream` too; resets
 *    and per-try timeouts under `reset`, `5xx` or `gateway-error`; a
 *    malformed response under `5xx`; statuses under `5xx`, `gateway-error` (502-504),
 *    `retriable-4xx` (409) and `retriable-status-codes`. A route without `retries` gets Istio's
 *    default plus `reset` (SPEC §4.5: the default covers connect failures and resets), which by
 *    rule 1 re-sends only idempotent requests: a GET in flight on an instance that dies is
 *    answered by another one.
 *
 * A gRPC call's trailers-only answer (`grpc-status` in the head, HTTP 200) is the app's answer:
 * its status is retried only when the route's own `retryOn` names it (`unavailable`, …) — then,
 * as the route asked, even though the call is a POST; Istio's default retries list `unavailable`
 * and `cancelled` but do not re-send a call the app answered (rule 1). The outlier detector hears
 * it as the HTTP status the gRPC status stands for (Envoy's router does the same), so an instance
 * that answers UNAVAILABLE counts as a 503.
 *
 * The budget (`attempts`), the replay buffer (a body is re-sent only while all of it is
 * buffered) and whether the response already started are the exchange's to check.
 */
import type { RetryPolicy } from '../core/compiler/table.ts';
import type { ErrorCode } from '../core/engine/errors.ts';
import { grpcRetriable, httpStatusOfGrpc } from './grpc.ts';
import type { Outcome } from './upstream/outlier.ts';

/** The code of an error the mesh produced (SPEC §4.4). */
export const ERROR_HEADER = 'x-lanes-error';
/** On a proxy's own error response: whether the request can have reached an app (`none`, `unknown`). */
export const DELIVERED_HEADER = 'x-lanes-delivered';

export type AttemptOutcome =
  /** No connection: refused, unreachable, or the connect timeout passed. */
  | { readonly kind: 'connect-failed'; readonly message: string }
  /** The DestinationRule's connectionPool limits are full (Envoy's UO): it never left the proxy. */
  | { readonly kind: 'overflow'; readonly message: string }
  /**
   * The connection closed or failed before a complete response head. `stale`: it was a kept-alive
   * connection the upstream had closed while idle (no response byte came back).
   */
  | { readonly kind: 'reset'; readonly message: string; readonly stale: boolean }
  /** The per-try timeout passed with no response head. */
  | { readonly kind: 'timeout'; readonly message: string }
  /** The upstream sent a response the proxy cannot forward (malformed HTTP/1.1, or an HTTP/2 stream it reset as malformed). */
  | { readonly kind: 'protocol'; readonly message: string }
  /**
   * An HTTP/2 upstream refused the stream (REFUSED_STREAM, or a GOAWAY whose last stream is
   * below it): by RFC 9113 §8.7 it was not processed, so no byte reached the app.
   */
  | { readonly kind: 'refused'; readonly message: string }
  /**
   * A response head. `peer`: it is the error response of the endpoint's own sidecar about its
   * attempt to reach the app (`x-lanes-error` with `x-lanes-delivered`), not the app's answer.
   * `grpcStatus`: a gRPC call's head carried the app's `grpc-status` (a trailers-only answer).
   */
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly peer?: PeerError;
      readonly grpcStatus?: number;
    };

export interface PeerError {
  /** The peer's `x-lanes-error`. */
  readonly code: string;
  /** `none`: no byte reached its app; `unknown`: some may have. */
  readonly delivered: 'none' | 'unknown';
}

/** Could the application behind the endpoint have seen (part of) the request? */
export type Delivery = 'no' | 'maybe' | 'yes';

export interface Verdict {
  readonly delivered: Delivery;
  /** The policy and the safety rule allow another attempt. */
  readonly retry: boolean;
  /**
   * A kept-alive connection the upstream had closed: one more try on a fresh connection, which
   * uses no retry and may go to the same endpoint (the endpoint did nothing wrong).
   */
  readonly freeRetry: boolean;
  /** What the endpoint's outlier detector hears; undefined: nothing (not the endpoint's doing). */
  readonly outlier: Outcome | undefined;
  /** The response status that goes with `outlier`; undefined when no response came. */
  readonly outlierStatus: number | undefined;
  /** The client's error if this was the last attempt; null: the response itself is forwarded. */
  readonly code: ErrorCode | null;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** RFC 9110 §9.2.2. */
export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/** Reads a peer proxy's verdict from a response head's fields; undefined for an app's answer. */
export function peerErrorOf(
  error: string | undefined,
  delivered: string | undefined,
): PeerError | undefined {
  if (error === undefined || (delivered !== 'none' && delivered !== 'unknown')) return undefined;
  return { code: error, delivered };
}

type Failure = 'connect' | 'reset' | 'protocol';

function policyAllows(failure: Failure, p: RetryPolicy): boolean {
  const on = p.retryOn;
  const broad = on.includes('5xx') || on.includes('gateway-error') || on.includes('reset');
  switch (failure) {
    case 'connect':
      return broad || on.includes('connect-failure');
    case 'reset':
      return broad || p.defaulted;
    case 'protocol':
      return on.includes('5xx');
  }
}

function statusAllows(status: number, p: RetryPolicy): boolean {
  const on = p.retryOn;
  if (on.includes('5xx') && status >= 500) return true;
  if (on.includes('gateway-error') && isGatewayStatus(status)) return true;
  if (on.includes('retriable-4xx') && status === 409) return true;
  return on.includes('retriable-status-codes') && p.retriableStatusCodes.includes(status);
}

function isGatewayStatus(status: number): boolean {
  return status === 502 || status === 503 || status === 504;
}

function statusOutcome(status: number): Outcome {
  if (status < 500) return 'success';
  return isGatewayStatus(status) ? 'gateway-error' : 'http-5xx';
}

/**
 * What a peer's error says happened one hop further, in the terms of this proxy's own failures.
 * A connect failure after an earlier attempt that may have reached the app (a stale kept-alive
 * connection, say) is as good as a reset: maybe delivered.
 */
function peerFailure(peer: PeerError): Failure | undefined {
  if (peer.delivered === 'none') return 'connect';
  switch (peer.code) {
    case 'UPSTREAM_CONNECT_FAILURE':
    case 'UPSTREAM_OVERFLOW':
    case 'UPSTREAM_RESET':
    case 'UPSTREAM_TIMEOUT':
      return 'reset';
    case 'UPSTREAM_PROTOCOL_ERROR':
      return 'protocol';
    default:
      return undefined;
  }
}

export function classify(outcome: AttemptOutcome, method: string, policy: RetryPolicy): Verdict {
  const idempotent = isIdempotent(method);
  const verdict = (
    delivered: Delivery,
    allowed: boolean,
    outlier: Outcome | undefined,
    code: ErrorCode | null,
    freeRetry = false,
  ): Verdict => ({
    delivered,
    retry: allowed && (delivered === 'no' || idempotent),
    freeRetry: freeRetry && idempotent,
    outlier,
    outlierStatus: undefined,
    code,
  });
  switch (outcome.kind) {
    case 'connect-failed':
      return verdict(
        'no',
        policyAllows('connect', policy),
        'local-origin-failure',
        'UPSTREAM_CONNECT_FAILURE',
      );
    case 'overflow':
      // The proxy's own limit: the endpoint did nothing wrong, so the detector hears nothing.
      return verdict('no', policy.retryOn.includes('5xx'), undefined, 'UPSTREAM_OVERFLOW');
    case 'reset':
      return verdict(
        'maybe',
        policyAllows('reset', policy),
        // A stale kept-alive connection is not the endpoint's failure either.
        outcome.stale ? undefined : 'local-origin-failure',
        'UPSTREAM_RESET',
        outcome.stale,
      );
    case 'timeout':
      return verdict(
        'maybe',
        policyAllows('reset', policy),
        'local-origin-failure',
        'UPSTREAM_TIMEOUT',
      );
    case 'protocol':
      return verdict(
        'maybe',
        policyAllows('protocol', policy),
        'local-origin-failure',
        'UPSTREAM_PROTOCOL_ERROR',
      );
    case 'refused':
      // Envoy's `refused-stream` policy; the endpoint only said "not now" (no outlier event).
      return verdict(
        'no',
        policy.retryOn.includes('refused-stream') || policyAllows('reset', policy),
        undefined,
        'UPSTREAM_RESET',
      );
    case 'response': {
      const { status, peer, grpcStatus } = outcome;
      if (grpcStatus !== undefined && peer === undefined) {
        const heard = httpStatusOfGrpc(grpcStatus);
        return {
          delivered: 'yes',
          retry: !policy.defaulted && grpcRetriable(policy.retryOn, grpcStatus),
          freeRetry: false,
          outlier: statusOutcome(heard),
          outlierStatus: heard,
          code: null,
        };
      }
      const failure = peer ? peerFailure(peer) : undefined;
      const allowed =
        statusAllows(status, policy) || (failure !== undefined && policyAllows(failure, policy));
      const delivered: Delivery =
        peer === undefined ? 'yes' : peer.delivered === 'none' ? 'no' : 'maybe';
      return { ...verdict(delivered, allowed, statusOutcome(status), null), outlierStatus: status };
    }
  }
}
