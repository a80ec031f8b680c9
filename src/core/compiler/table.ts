/**
 * The routing table: the immutable, deep-frozen output of `compile()` that every proxy executes.
 * Lookups are by key (null-prototype records), never by scanning, so a decision costs the same
 * with 10 services or 10,000. Every route keeps a back-pointer to the resource it came from.
 */
import type { MeshSpec } from '../../config/kinds/native/mesh.ts';

/** A read-only dictionary with a null prototype (safe for keys such as `constructor`). */
export type Dict<T> = Readonly<Record<string, T>>;

/** An instance serving a service: what the control plane knows about one process or pod. */
export interface Endpoint {
  /** `namespace/name` of the service it serves. */
  readonly service: string;
  readonly cluster: string;
  readonly address: string;
  readonly port: number;
  readonly labels: Dict<string>;
  /** Ready and alive, as far as the control plane knows (the proxy adds its own ejections). */
  readonly healthy: boolean;
  /** `namespace/name` of the workload (Deployment) that runs it, for logs and `explain`. */
  readonly workload?: string;
}

/** A compiled endpoint: the input plus a stable id (`address:port`). */
export interface TableEndpoint extends Endpoint {
  readonly id: string;
}

/** Which resource (and which field of it) a piece of the table came from. */
export interface SourceRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** Field path inside the resource, e.g. `spec.http[1].match[0]`. */
  readonly path?: string;
}

export interface EndpointSet {
  readonly all: readonly TableEndpoint[];
  readonly healthy: readonly TableEndpoint[];
}

/**
 * What a service port speaks, as Istio selects it from `appProtocol` or the port name: `http2`
 * (HTTP/2, gRPC, h2c — the proxy speaks h2c to it) or `http` (HTTP/1.1, and anything else).
 */
export type PortProtocol = 'http' | 'http2';

export type LoadBalancer = 'LEAST_REQUEST' | 'ROUND_ROBIN' | 'RANDOM';

export interface OutlierPolicy {
  readonly consecutive5xxErrors: number;
  readonly consecutiveGatewayErrors: number;
  readonly consecutiveLocalOriginFailures: number;
  readonly splitExternalLocalOriginErrors: boolean;
  readonly intervalMs: number;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionPercent: number;
  /** Ejections are ignored while fewer than this share of the pool is not ejected (Envoy's panic threshold). */
  readonly minHealthPercent: number;
}

/** How to talk to the endpoints of a destination (Istio DestinationRule `trafficPolicy`). */
export interface UpstreamPolicy {
  readonly loadBalancer: LoadBalancer;
  readonly warmup:
    | { readonly durationMs: number; readonly minimumPercent: number; readonly aggression: number }
    | undefined;
  readonly connectTimeoutMs: number;
  readonly maxConnections: number | undefined;
  readonly idleTimeoutMs: number;
  readonly maxRequestsPerConnection: number | undefined;
  readonly http1MaxPendingRequests: number | undefined;
  /** A connection older than this takes no new request (Envoy's max_connection_duration). */
  readonly maxConnectionDurationMs: number | undefined;
  /** Retries outstanding to the destination at once, all endpoints together (Envoy's circuit breaker). */
  readonly maxRetries: number | undefined;
  /** Streams open at once to one destination over HTTP/2 (`http2MaxRequests`). */
  readonly http2MaxRequests: number | undefined;
  /** Streams per upstream HTTP/2 connection (`maxConcurrentStreams`; the peer's limit also holds). */
  readonly maxConcurrentStreams: number | undefined;
  /** `h2UpgradePolicy`: UPGRADE speaks h2c to HTTP/1.1 ports too, DO_NOT_UPGRADE never does. */
  readonly h2Upgrade: 'DEFAULT' | 'DO_NOT_UPGRADE' | 'UPGRADE';
  /** `useClientProtocol`: the upstream gets the protocol the client spoke. */
  readonly useClientProtocol: boolean;
  /** Undefined: no outlier detection (Istio enables it only when a DestinationRule asks). */
  readonly outlier: OutlierPolicy | undefined;
  /** The DestinationRule it came from; undefined for defaults. */
  readonly source: SourceRef | undefined;
}

export interface CompiledSubset extends EndpointSet {
  readonly name: string;
  readonly labels: Dict<string>;
  readonly policy: UpstreamPolicy;
  readonly source: SourceRef;
}

/** The lane that requests use when a lane lacks a service and the chain has no better one. */
export const UNLANED = '(no lane)';

/** Lane routing data for one service that belongs to a lane group. */
export interface ServiceLanes {
  readonly group: string;
  readonly mode: 'permissive' | 'strict';
  /** The route header of the group: its value names the lane. */
  readonly routeHeader: string;
  /** Endpoints per lane for lanes that contain this service (`UNLANED`: instances in no lane). */
  readonly byLane: Dict<EndpointSet>;
  /**
   * For every enabled lane of the group: the ordered lanes to try for this service (the lane itself
   * first when it contains the service), ending with the service's baselines and `UNLANED`.
   */
  readonly chains: Dict<readonly string[]>;
  /** The chain for requests with no tag, an unknown tag or the tag of a disabled lane. */
  readonly baselineChain: readonly string[];
  /** Lanes of the group that exist but are disabled, with why (for `explain`). */
  readonly disabled: Dict<string>;
}

export interface CompiledService extends EndpointSet {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  /** Declared service ports; empty when the service only exists through its endpoints. */
  readonly ports: readonly number[];
  readonly policy: UpstreamPolicy;
  readonly policyByPort: Dict<UpstreamPolicy>;
  /** The protocol of each declared port (Istio's protocol selection), by port number. */
  readonly protocolByPort: Dict<PortProtocol>;
  readonly subsets: Dict<CompiledSubset>;
  readonly lanes: ServiceLanes | undefined;
  /** Mesh-bound VirtualServices for this service, first visible one wins (Istio does not merge). */
  readonly meshRoutes: readonly VirtualHost[];
}

// ---------------------------------------------------------------------------------------------
// Matching

export type CompiledTest =
  | { readonly op: 'exact'; readonly value: string }
  | { readonly op: 'prefix'; readonly value: string }
  | { readonly op: 'suffix'; readonly value: string }
  | { readonly op: 'regex'; readonly regexp: RegExp; readonly source: string }
  | { readonly op: 'present' }
  | { readonly op: 'absent' }
  | { readonly op: 'notEqual'; readonly value: string }
  | { readonly op: 'in'; readonly values: readonly string[] };

export type Matcher =
  | { readonly kind: 'always' }
  | { readonly kind: 'all'; readonly of: readonly Matcher[] }
  | { readonly kind: 'any'; readonly of: readonly Matcher[] }
  | { readonly kind: 'not'; readonly of: Matcher }
  | {
      readonly kind: 'header';
      readonly name: string;
      readonly test: CompiledTest;
      /** Envoy's treat_missing_header_as_empty, used by Istio's `withoutHeaders`. */
      readonly missingAsEmpty: boolean;
    }
  | { readonly kind: 'query' | 'cookie'; readonly name: string; readonly test: CompiledTest }
  | { readonly kind: 'path'; readonly test: CompiledTest; readonly ignoreCase: boolean }
  | { readonly kind: 'method' | 'authority' | 'scheme'; readonly test: CompiledTest }
  | { readonly kind: 'port'; readonly port: number }
  | { readonly kind: 'sourceLabels'; readonly labels: Dict<string> }
  | { readonly kind: 'sourceNamespace'; readonly namespace: string }
  /** `hash("<salt>/<key value>") % 100 < percent`; no key value → no match. */
  | {
      readonly kind: 'sticky';
      readonly salt: string;
      readonly percent: number;
      readonly key: { readonly header: string } | { readonly cookie: string };
    }
  /** One random draw per request in [0, 100): weighted entry rules occupy disjoint bands. */
  | { readonly kind: 'band'; readonly from: number; readonly to: number };

// ---------------------------------------------------------------------------------------------
// Routes

/**
 * One header change. Lists are applied in order: removals first (as Envoy does), then route-level
 * set/add, then destination-level set/add — so a destination `set` overrides a route `add`.
 */
export type HeaderChange =
  | { readonly op: 'set' | 'add'; readonly name: string; readonly value: string }
  | { readonly op: 'remove'; readonly name: string };

export interface HeaderPolicy {
  readonly request: readonly HeaderChange[];
  readonly response: readonly HeaderChange[];
}

export type DestinationTarget =
  /** The destination names no subset: lane routing by tag if the service is in a group, else all endpoints. */
  | { readonly kind: 'service' }
  | { readonly kind: 'subset'; readonly subset: string }
  | { readonly kind: 'lane'; readonly group: string; readonly lane: string }
  /** The subset names neither a DestinationRule subset nor a lane: 503 at run time. */
  | { readonly kind: 'unresolved-subset'; readonly subset: string };

export interface CompiledDestination {
  /** The host as written in the route. */
  readonly host: string;
  /** `namespace/name` when the host is a known service; undefined otherwise (503 at run time). */
  readonly service: string | undefined;
  readonly port: number | undefined;
  readonly weight: number;
  readonly target: DestinationTarget;
  /** Route-level then destination-level header changes, already merged in Istio's order. */
  readonly headers: HeaderPolicy;
  readonly source: SourceRef;
}

export interface RetryPolicy {
  readonly attempts: number;
  readonly perTryTimeoutMs: number | undefined;
  readonly retryOn: readonly string[];
  readonly retriableStatusCodes: readonly number[];
  readonly backoffMs: number;
  /** Whether the retry policy is Istio's default (no `retries` in the route). */
  readonly defaulted: boolean;
}

export interface FaultPolicy {
  readonly delay: { readonly ms: number; readonly percent: number } | undefined;
  readonly abort: { readonly status: number; readonly percent: number } | undefined;
}

export interface RewritePolicy {
  readonly uri: string | undefined;
  /** Set when the route matched on a URI prefix: `uri` then replaces only that prefix. */
  readonly matchedPrefix: string | undefined;
  readonly uriRegex: { readonly regexp: RegExp; readonly replacement: string } | undefined;
  readonly authority: string | undefined;
}

export type RouteAction =
  | {
      readonly kind: 'route';
      readonly destinations: readonly CompiledDestination[];
      readonly totalWeight: number;
    }
  | {
      readonly kind: 'redirect';
      readonly status: number;
      readonly uri: string | undefined;
      /** Replaces `matchedPrefix` (the block's URI prefix match) in the request path. */
      readonly prefixRewrite: string | undefined;
      readonly matchedPrefix: string | undefined;
      readonly authority: string | undefined;
      readonly scheme: string | undefined;
      readonly port: number | undefined;
      readonly derivePort: 'FROM_PROTOCOL_DEFAULT' | 'FROM_REQUEST_PORT' | undefined;
    }
  | { readonly kind: 'direct'; readonly status: number; readonly body: string | undefined };

export interface CompiledRoute {
  /** The rule's `name`, or `<resource>/<index>`. */
  readonly name: string;
  readonly source: SourceRef;
  readonly match: Matcher;
  readonly action: RouteAction;
  readonly timeoutMs: number | undefined;
  readonly retries: RetryPolicy;
  readonly fault: FaultPolicy | undefined;
  readonly rewrite: RewritePolicy | undefined;
  /** Route-level header changes (each destination carries these merged with its own). */
  readonly headers: HeaderPolicy;
}

/**
 * How a host's routes are evaluated. A run of consecutive routes that each match one exact value
 * of the same header (typical of per-lane entry rules) becomes one lookup instead of a scan;
 * first-match order holds because a value maps to the first route of the run that has it.
 */
export type RouteStep =
  | { readonly kind: 'route'; readonly route: CompiledRoute }
  | { readonly kind: 'by-header'; readonly header: string; readonly routes: Dict<CompiledRoute> };

/** The routes of one host (Istio's virtual host). */
export interface VirtualHost {
  readonly host: string;
  readonly routes: readonly CompiledRoute[];
  readonly plan: readonly RouteStep[];
  /** Namespaces that may use these routes (`exportTo`); undefined means every namespace. */
  readonly visibleTo: readonly string[] | undefined;
  readonly source: SourceRef;
}

export interface HostTable {
  readonly exact: Dict<VirtualHost>;
  /** `*.example.com` hosts, longest suffix first. */
  readonly wildcards: readonly { readonly suffix: string; readonly vhost: VirtualHost }[];
  readonly any: VirtualHost | undefined;
}

export interface CompiledServer {
  readonly port: number;
  readonly name: string;
  readonly hosts: HostTable;
}

export interface CompiledGateway {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  /** Clusters where this Gateway is deployed (`lanes apply --cluster`). */
  readonly clusters: readonly string[];
  /** Keep lane tags sent by clients (annotation `lanes.dev/trust-client-lane: "true"`). */
  readonly trustClientLane: boolean;
  readonly servers: Dict<CompiledServer>;
  readonly source: SourceRef;
}

/**
 * How a lane tag is found and carried for one route header. Groups that share a route header
 * share a context: a tag is a tag, whichever group's services it will meet downstream.
 */
export interface TagContext {
  readonly routeHeader: string;
  /** Custom headers the apps forward, tried in order after the route header. */
  readonly headers: readonly string[];
  readonly baggageKeys: readonly string[];
  /** Trace-id headers whose value keys the trace memory (`traceparent`, `x-request-id`, …). */
  readonly traceHeaders: readonly string[];
  readonly groups: readonly string[];
  /**
   * Lanes of strict groups in this context, by selector: a request without a tag stays in the
   * lane of the workload that sends it (ASM's strict mode routes by source labels, so apps need
   * not forward anything).
   */
  readonly callerLanes: readonly { readonly lane: string; readonly selector: Dict<string> }[];
}

export interface CompiledLane {
  readonly name: string;
  readonly group: string;
  readonly enabled: boolean;
  readonly disabledReason: string | undefined;
  readonly selector: Dict<string>;
  readonly services: readonly string[];
  readonly fallback: readonly string[];
  readonly source: SourceRef;
}

export interface CompiledGroup {
  readonly key: string;
  readonly name: string;
  readonly mode: 'permissive' | 'strict';
  readonly routeHeader: string;
  readonly services: readonly string[];
  readonly lanes: readonly string[];
  readonly baseline: string | undefined;
  readonly source: SourceRef;
}

export interface RoutingTable {
  readonly mesh: MeshSpec;
  readonly services: Dict<CompiledService>;
  /** Mesh-bound VirtualServices for hosts that are not services (external hosts), by exact host. */
  readonly externalHosts: Dict<readonly VirtualHost[]>;
  readonly externalWildcards: readonly {
    readonly suffix: string;
    readonly vhosts: readonly VirtualHost[];
  }[];
  readonly gateways: Dict<CompiledGateway>;
  readonly tagContexts: readonly TagContext[];
  readonly groups: Dict<CompiledGroup>;
  readonly lanes: Dict<CompiledLane>;
  /** What gateways remove from untrusted clients (SPEC §4.1 step 1). */
  readonly edgeHygiene: {
    readonly headers: readonly string[];
    readonly baggageKeys: readonly string[];
  };
}
