/**
 * Errors the mesh itself produces (SPEC §4.4), distinct from the application's own: each has a
 * stable code sent as `x-lanes-error` and an HTTP status. README documents the table. One code,
 * DOWNSTREAM_CLOSED, is never sent (nobody is left to read it): it is how the access log and the
 * metrics name a hop the client abandoned.
 */
export const ERROR_CODES = {
  /** A gateway or host has no route for the request (Envoy's NR). */
  NO_ROUTE: 404,
  /** The route names a host that is not a known service (Envoy's NC). */
  NO_SUCH_SERVICE: 503,
  /** The route names a subset that is neither a DestinationRule subset nor a lane (NC). */
  NO_SUCH_SUBSET: 503,
  /** The destination (service or subset) has no healthy endpoint (Envoy's UH). */
  NO_HEALTHY_ENDPOINTS: 503,
  /** Permissive lanes: neither the lane nor any fallback has a healthy endpoint of the service. */
  LANE_NO_ENDPOINTS: 503,
  /** Strict lanes: the lane lacks the service or has no healthy endpoint of it. */
  LANE_STRICT_MISS: 503,
  /**
   * A gateway that trusts its clients got an override it cannot follow as written: malformed,
   * Linkerd dtab syntax lanes does not support, or a service or lane the mesh does not have.
   */
  OVERRIDE_INVALID: 400,
  /** Strict lanes: the lane an override names lacks the service or has no healthy endpoint of it. */
  OVERRIDE_STRICT_MISS: 503,
  /** An unknown host while the mesh is REGISTRY_ONLY (Istio answers 502 from its block_all host). */
  REGISTRY_ONLY: 502,
  /** CONNECT to a gateway or an inbound side, or over HTTP/2: only a sidecar's outbound side tunnels. */
  CONNECT_UNSUPPORTED: 405,
  /** The request itself is malformed (bad Host, bad absolute-form URI). */
  BAD_REQUEST: 400,
  /** The proxy could not connect to the chosen upstream (Envoy's UF). */
  UPSTREAM_CONNECT_FAILURE: 502,
  /** The DestinationRule's connectionPool limits are full: connections and waiting requests (Envoy's UO). */
  UPSTREAM_OVERFLOW: 503,
  /** The upstream closed or reset the connection before a complete response (Envoy's UC). */
  UPSTREAM_RESET: 502,
  /** The route timeout or the per-try timeout passed before the upstream answered (Envoy's UT). */
  UPSTREAM_TIMEOUT: 504,
  /** The upstream answered with something that is not valid HTTP/1.1 or HTTP/2. */
  UPSTREAM_PROTOCOL_ERROR: 502,
  /** The request head did not arrive within the header timeout (slow client). */
  REQUEST_TIMEOUT: 408,
  /** The request head is larger than the proxy accepts. */
  HEADERS_TOO_LARGE: 431,
  /** The request target is longer than the proxy accepts. */
  URI_TOO_LONG: 414,
  /** A transfer coding other than chunked. */
  NOT_IMPLEMENTED: 501,
  /** An HTTP version other than 1.0 and 1.1. */
  VERSION_NOT_SUPPORTED: 505,
  /** An `Expect` other than 100-continue. */
  EXPECTATION_FAILED: 417,
  /** The gateway or sidecar has no routing table yet. */
  NO_CONFIG: 503,
  /**
   * The client closed its connection (HTTP/2: reset its stream) before the response was complete
   * (Envoy's DC; 499 is nginx's "client closed request", which Envoy's gRPC mapping uses too).
   */
  DOWNSTREAM_CLOSED: 499,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code];
}
