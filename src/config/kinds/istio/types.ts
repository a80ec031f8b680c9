/**
 * Parsed Istio `networking.istio.io` specs, as the compiler consumes them. Field names follow
 * Istio's YAML; durations are milliseconds; defaults are not applied here (the compiler applies
 * Istio's defaults, so `explain` can say which were defaulted).
 */

/** Exactly one of the three, or none (`{}` means "present" in header matches). */
export interface StringMatch {
  readonly exact?: string;
  readonly prefix?: string;
  readonly regex?: string;
}

export interface HeaderOperations {
  readonly set?: Readonly<Record<string, string>>;
  readonly add?: Readonly<Record<string, string>>;
  readonly remove?: readonly string[];
}

export interface Headers {
  readonly request?: HeaderOperations;
  readonly response?: HeaderOperations;
}

export interface Destination {
  readonly host: string;
  readonly subset?: string;
  readonly port?: { readonly number?: number };
}

export interface HTTPRouteDestination {
  readonly destination: Destination;
  readonly weight?: number;
  readonly headers?: Headers;
}

export interface HTTPMatchRequest {
  readonly name?: string;
  readonly uri?: StringMatch;
  readonly scheme?: StringMatch;
  readonly method?: StringMatch;
  readonly authority?: StringMatch;
  readonly headers?: Readonly<Record<string, StringMatch>>;
  readonly withoutHeaders?: Readonly<Record<string, StringMatch>>;
  readonly queryParams?: Readonly<Record<string, StringMatch>>;
  readonly port?: number;
  readonly sourceLabels?: Readonly<Record<string, string>>;
  readonly sourceNamespace?: string;
  readonly gateways?: readonly string[];
  readonly ignoreUriCase?: boolean;
  readonly statPrefix?: string;
}

export interface HTTPRedirect {
  readonly uri?: string;
  /** Replaces the matched URI prefix (the match block must use a prefix match). */
  readonly prefixRewrite?: string;
  readonly authority?: string;
  readonly port?: number;
  readonly derivePort?: 'FROM_PROTOCOL_DEFAULT' | 'FROM_REQUEST_PORT';
  readonly scheme?: string;
  readonly redirectCode?: number;
}

export interface HTTPDirectResponse {
  readonly status: number;
  readonly body?: { readonly string?: string; readonly bytes?: string };
}

export interface HTTPRewrite {
  readonly uri?: string;
  readonly authority?: string;
  readonly uriRegexRewrite?: { readonly match: string; readonly rewrite: string };
}

export interface HTTPRetry {
  readonly attempts?: number;
  /** Milliseconds. */
  readonly perTryTimeout?: number;
  readonly retryOn?: string;
  readonly retryRemoteLocalities?: boolean;
  readonly retryIgnorePreviousHosts?: boolean;
  /** Milliseconds. */
  readonly backoff?: number;
}

export interface Percent {
  readonly value: number;
}

export interface HTTPFaultInjection {
  readonly delay?: {
    /** Milliseconds. */
    readonly fixedDelay: number;
    readonly percentage?: Percent;
  };
  readonly abort?: {
    readonly httpStatus: number;
    readonly percentage?: Percent;
  };
}

export interface HTTPRoute {
  readonly name?: string;
  readonly match?: readonly HTTPMatchRequest[];
  readonly route?: readonly HTTPRouteDestination[];
  readonly redirect?: HTTPRedirect;
  readonly directResponse?: HTTPDirectResponse;
  readonly rewrite?: HTTPRewrite;
  /** Milliseconds. */
  readonly timeout?: number;
  readonly retries?: HTTPRetry;
  readonly fault?: HTTPFaultInjection;
  readonly headers?: Headers;
}

export interface VirtualServiceSpec {
  readonly hosts: readonly string[];
  /** Empty means `mesh` alone (Istio's default). */
  readonly gateways: readonly string[];
  readonly http: readonly HTTPRoute[];
  readonly exportTo?: readonly string[];
}

export type SimpleLB = 'UNSPECIFIED' | 'RANDOM' | 'ROUND_ROBIN' | 'LEAST_REQUEST';

export interface LoadBalancerSettings {
  /** LEAST_CONN (deprecated in Istio) is normalised to LEAST_REQUEST with a warning. */
  readonly simple?: SimpleLB;
  readonly warmup?: {
    /** Milliseconds. */
    readonly duration: number;
    readonly minimumPercent?: number;
    readonly aggression?: number;
  };
}

export interface ConnectionPoolSettings {
  readonly tcp?: {
    readonly maxConnections?: number;
    /** Milliseconds. */
    readonly connectTimeout?: number;
    /** Milliseconds. */
    readonly maxConnectionDuration?: number;
    /** Milliseconds. */
    readonly idleTimeout?: number;
  };
  readonly http?: {
    readonly http1MaxPendingRequests?: number;
    readonly maxRequestsPerConnection?: number;
    readonly maxRetries?: number;
    /** Milliseconds. */
    readonly idleTimeout?: number;
    /** Streams open at once to one destination (Envoy's max_requests circuit breaker). */
    readonly http2MaxRequests?: number;
    /** Streams on one upstream HTTP/2 connection. */
    readonly maxConcurrentStreams?: number;
    readonly h2UpgradePolicy?: 'DEFAULT' | 'DO_NOT_UPGRADE' | 'UPGRADE';
    /** Speak to the upstream in the protocol the client used. */
    readonly useClientProtocol?: boolean;
  };
}

export interface OutlierDetection {
  readonly consecutiveGatewayErrors?: number;
  readonly consecutive5xxErrors?: number;
  /** Milliseconds. */
  readonly interval?: number;
  /** Milliseconds. */
  readonly baseEjectionTime?: number;
  readonly maxEjectionPercent?: number;
  readonly minHealthPercent?: number;
  readonly splitExternalLocalOriginErrors?: boolean;
  readonly consecutiveLocalOriginFailures?: number;
}

export interface PortTrafficPolicy {
  readonly port?: { readonly number?: number };
  readonly loadBalancer?: LoadBalancerSettings;
  readonly connectionPool?: ConnectionPoolSettings;
  readonly outlierDetection?: OutlierDetection;
}

export interface TrafficPolicy {
  readonly loadBalancer?: LoadBalancerSettings;
  readonly connectionPool?: ConnectionPoolSettings;
  readonly outlierDetection?: OutlierDetection;
  readonly portLevelSettings?: readonly PortTrafficPolicy[];
}

export interface Subset {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly trafficPolicy?: TrafficPolicy;
}

export interface DestinationRuleSpec {
  readonly host: string;
  readonly trafficPolicy?: TrafficPolicy;
  readonly subsets: readonly Subset[];
  readonly exportTo?: readonly string[];
}

export interface GatewayServer {
  readonly port: { readonly number: number; readonly protocol: string; readonly name: string };
  readonly hosts: readonly string[];
  readonly name?: string;
}

export interface GatewaySpec {
  readonly selector: Readonly<Record<string, string>>;
  readonly servers: readonly GatewayServer[];
}
