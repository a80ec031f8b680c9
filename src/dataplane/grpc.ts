/**
 * gRPC at the proxy (gRPC over HTTP/2, grpc/grpc PROTOCOL-HTTP2.md): which requests are gRPC, the
 * `grpc-timeout` header, the status a mesh error becomes, and the trailers-only answer that
 * carries it — a gRPC client reads no HTTP body, so an error must be a `grpc-status` it can read.
 */
import type { ErrorCode } from '../core/engine/errors.ts';
import { assertNever } from '../util/assert-never.ts';

/** gRPC status codes (grpc/grpc doc/statuscodes.md). */
export const GRPC_STATUS = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcStatusName = keyof typeof GRPC_STATUS;

/** Whether a content-type names gRPC (`application/grpc`, `application/grpc+proto`, …). */
export function isGrpcContentType(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType.length < 16) return false;
  const lower = contentType.slice(0, 16).toLowerCase();
  if (lower !== 'application/grpc') return false;
  const next = contentType.charCodeAt(16);
  // Not grpc-web (application/grpc-web…): that one travels over HTTP/1.1 with body trailers.
  return Number.isNaN(next) || next === 0x2b /* + */ || next === 0x3b /* ; */;
}

/**
 * The status a mesh error becomes: the gRPC spec's HTTP mapping where it has one (404 →
 * UNIMPLEMENTED, 503/502 → UNAVAILABLE), DEADLINE_EXCEEDED for timeouts, as clients report a
 * deadline they set themselves.
 */
export function grpcStatusOf(code: ErrorCode): GrpcStatusName {
  switch (code) {
    case 'NO_ROUTE':
    case 'NOT_IMPLEMENTED':
    case 'VERSION_NOT_SUPPORTED':
      return 'UNIMPLEMENTED';
    case 'NO_SUCH_SERVICE':
    case 'NO_SUCH_SUBSET':
    case 'NO_HEALTHY_ENDPOINTS':
    case 'LANE_NO_ENDPOINTS':
    case 'LANE_STRICT_MISS':
    case 'OVERRIDE_STRICT_MISS':
    case 'REGISTRY_ONLY':
    case 'UPSTREAM_CONNECT_FAILURE':
    case 'UPSTREAM_OVERFLOW':
    case 'UPSTREAM_RESET':
    case 'NO_CONFIG':
      return 'UNAVAILABLE';
    case 'UPSTREAM_TIMEOUT':
    case 'REQUEST_TIMEOUT':
      return 'DEADLINE_EXCEEDED';
    case 'HEADERS_TOO_LARGE':
    case 'URI_TOO_LONG':
      return 'RESOURCE_EXHAUSTED';
    case 'OVERRIDE_INVALID':
      return 'INVALID_ARGUMENT';
    case 'DOWNSTREAM_CLOSED':
      return 'CANCELLED';
    case 'BAD_REQUEST':
    case 'UPSTREAM_PROTOCOL_ERROR':
    case 'EXPECTATION_FAILED':
    case 'CONNECT_UNSUPPORTED':
      return 'INTERNAL';
    default:
      return assertNever(code);
  }
}

/**
 * The HTTP status a gRPC status stands for when a proxy judges an upstream by it: Envoy's
 * `Grpc::Utility::grpcToHttpStatus` (Google's API design guide, "Handling errors"), which its
 * router hands the outlier detector for a `grpc-status` in a response head.
 */
export function httpStatusOfGrpc(status: number): number {
  switch (status) {
    case GRPC_STATUS.OK:
      return 200;
    case GRPC_STATUS.CANCELLED:
      return 499;
    case GRPC_STATUS.INVALID_ARGUMENT:
    case GRPC_STATUS.FAILED_PRECONDITION:
    case GRPC_STATUS.OUT_OF_RANGE:
      return 400;
    case GRPC_STATUS.DEADLINE_EXCEEDED:
      return 504;
    case GRPC_STATUS.NOT_FOUND:
      return 404;
    case GRPC_STATUS.ALREADY_EXISTS:
    case GRPC_STATUS.ABORTED:
      return 409;
    case GRPC_STATUS.PERMISSION_DENIED:
      return 403;
    case GRPC_STATUS.RESOURCE_EXHAUSTED:
      return 429;
    case GRPC_STATUS.UNIMPLEMENTED:
      return 501;
    case GRPC_STATUS.UNAVAILABLE:
      return 503;
    case GRPC_STATUS.UNAUTHENTICATED:
      return 401;
    default:
      // UNKNOWN, INTERNAL, DATA_LOSS, and codes the spec does not define.
      return 500;
  }
}

/** `grpc-message` is percent-encoded UTF-8: bytes outside 0x20–0x7e, and `%`, become `%XX`. */
export function encodeGrpcMessage(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  let out = '';
  for (const b of bytes) {
    out +=
      b >= 0x20 && b <= 0x7e && b !== 0x25
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const TIMEOUT_UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

/**
 * `grpc-timeout` in milliseconds: 1–8 digits and a unit (H M S m u n). Undefined when absent or
 * malformed (a malformed one is ignored, as gRPC servers do, rather than failing the call).
 */
export function grpcTimeoutMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^([0-9]{1,8})([HMSmun])$/.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * TIMEOUT_UNIT_MS[m[2]!]!;
}

/**
 * The Istio `retryOn` policies that name a gRPC status (Envoy's x-envoy-retry-grpc-on); a response
 * whose headers carry one of these statuses may be retried.
 */
export const GRPC_RETRY_ON: Readonly<Record<string, number>> = {
  cancelled: GRPC_STATUS.CANCELLED,
  'deadline-exceeded': GRPC_STATUS.DEADLINE_EXCEEDED,
  internal: GRPC_STATUS.INTERNAL,
  'resource-exhausted': GRPC_STATUS.RESOURCE_EXHAUSTED,
  unavailable: GRPC_STATUS.UNAVAILABLE,
};

/** Whether `retryOn` allows retrying a response whose headers say `grpc-status: status`. */
export function grpcRetriable(retryOn: readonly string[], status: number): boolean {
  for (const policy of retryOn) if (GRPC_RETRY_ON[policy] === status) return true;
  return false;
}
