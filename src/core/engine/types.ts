/**
 * What the decision engine takes and gives. A decision says where a request goes at one hop and
 * why: destination, lane, candidate endpoints, header operations, fallback path, or an error
 * code the proxy answers with.
 */

import type { OverrideKey } from '../carriers/override.ts';
import type {
  DestinationTarget,
  RetryPolicy,
  RewritePolicy,
  SourceRef,
  TableEndpoint,
  UpstreamPolicy,
} from '../compiler/table.ts';
import type { ErrorCode } from './errors.ts';

/** The workload a sidecar serves. */
export interface Workload {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly cluster?: string;
  /** `namespace/name` of the Deployment, for logs. */
  readonly name?: string;
}

export type Hop =
  /** A gateway listener: the Gateway `namespace/name` and the server port it declares. */
  | { readonly kind: 'gateway'; readonly gateway: string; readonly port: number }
  /** A sidecar's outbound side: the app calls another service. */
  | { readonly kind: 'outbound'; readonly workload: Workload }
  /** A sidecar's inbound side: a request arrives for the app. */
  | { readonly kind: 'inbound'; readonly workload: Workload };

/**
 * The request as the engine sees it. Header names are lower case; a header sent several times
 * reads as its values joined with `, `. The proxy backs this with raw header arrays.
 */
export interface RequestView {
  readonly method: string;
  readonly scheme: 'http' | 'https';
  /** Host header (or the authority of an absolute-form request), possibly with a port. */
  readonly authority: string;
  /** Path without the query string. */
  readonly path: string;
  /** Query string without `?` ('' when none). */
  readonly query: string;
  header(name: string): string | undefined;
}

/** Reads the per-sidecar trace id → lane memory (trace-id carriers). */
export interface TraceMemoryReader {
  get(traceKey: string): string | undefined;
}

/** Extra state a proxy holds that decisions depend on. */
export interface DecideContext {
  readonly traceMemory?: TraceMemoryReader;
  /** Endpoints the proxy has ejected (outlier detection); they count as unhealthy. */
  readonly isEjected?: (endpoint: TableEndpoint) => boolean;
  /** Record a step-by-step explanation (for `lanes explain`); off on the proxy hot path. */
  readonly explain?: boolean;
  /** The mesh's keys for per-request overrides; without them no override is followed. */
  readonly overrides?: OverrideTrust;
  /** For `lanes explain`: takes the decision's random choices instead of a draw. */
  readonly choose?: Chooser;
}

/**
 * The random choices of one decision, made by `lanes explain` so that it can show every branch
 * and follow the one asked for; the proxy draws them at random instead.
 */
export interface Chooser {
  /**
   * The draw in [0, 100) that weighted entry rules compare with their percentage bands; each
   * band the matching looks at is reported to `band`.
   */
  readonly bandDraw: number;
  band(from: number, to: number): void;
  /** The index to take among a route's weighted destinations (`weights`, in route order). */
  destination(weights: readonly number[]): number;
}

/** What a hop needs to verify per-request overrides, and at a trusting gateway to sign them. */
export interface OverrideTrust {
  /** Keys whose signatures are honoured; the first one signs. */
  readonly keys: readonly OverrideKey[];
  /** Wall-clock milliseconds since the epoch: an override expires at a wall-clock time. */
  readonly now: () => number;
  /**
   * Values this proxy has verified already, a memo it owns and the engine fills (bounded there):
   * a repeated override costs a lookup instead of a parse and an HMAC. Expiry is checked on
   * every use; a new key set comes with a new memo.
   */
  readonly verified?: Map<string, VerifiedOverride>;
}

/** An override whose signature a hop has checked. */
export interface VerifiedOverride {
  /** Canonical pairs: `default/mockb=dev-bob,default/mockc=v2`. */
  readonly pairs: string;
  /** Service key → lane. */
  readonly lanes: ReadonlyMap<string, string>;
  /** The signed value, canonical, as the hop carries it on. */
  readonly token: string;
  /** Unix seconds. */
  readonly exp: number;
  readonly kid: string;
}

/** Where a per-request override came from. */
export type OverrideSource = 'header' | 'baggage' | 'trace-memory' | 'l5d-dtab' | 'l5d-ctx-dtab';

/** Why a hop did not follow an override the request carried. */
export type OverrideRejection =
  | 'unsigned'
  | 'expired'
  | 'foreign-key'
  | 'bad-signature'
  | 'malformed';

/** What a hop did with a per-request override (`lanes-override`, or Linkerd's `l5d-dtab`). */
export type OverrideInfo =
  | {
      readonly status: 'followed';
      /** Canonical pairs: `default/mockb=dev-bob,default/mockc=v2`. */
      readonly pairs: string;
      readonly source: OverrideSource;
      /** This hop's lane was chosen by the override (it names the hop's service). */
      readonly applied: boolean;
    }
  | {
      readonly status: 'rejected';
      readonly reason: OverrideRejection;
      readonly message: string;
      readonly source: OverrideSource;
    };

export type HeaderOp =
  | { readonly op: 'set' | 'add'; readonly name: string; readonly value: string }
  | { readonly op: 'remove'; readonly name: string }
  /** Put `key=value` into `baggage`, keeping every other entry (W3C). */
  | { readonly op: 'set-baggage'; readonly key: string; readonly value: string }
  | { readonly op: 'remove-baggage'; readonly keys: readonly string[] }
  /** Create a trace id in this header when the request has none (gateways, trace-id carriers). */
  | { readonly op: 'ensure-trace-id'; readonly header: string };

export type TagSource =
  | 'route-header'
  | 'header'
  | 'baggage'
  | 'trace-memory'
  | 'route'
  | 'client'
  | 'caller';

export interface Tag {
  readonly routeHeader: string;
  readonly lane: string;
  /** Where the tag came from: a header on the request, a carrier, the memory, or a route that stamped it. */
  readonly source: TagSource;
  /** The header or baggage key it was read from. */
  readonly from: string;
}

export type FallbackReason =
  | 'lacks-service'
  | 'no-healthy-endpoints'
  | 'disabled'
  | 'unknown-lane'
  | 'no-tag';

export interface FallbackStep {
  readonly lane: string;
  readonly reason: FallbackReason;
}

export type Target =
  | { readonly kind: 'lane'; readonly group: string; readonly lane: string }
  | { readonly kind: 'subset'; readonly subset: string }
  | { readonly kind: 'service' };

export interface RouteInfo {
  readonly name: string;
  readonly source: SourceRef;
  readonly timeoutMs: number | undefined;
  readonly retries: RetryPolicy;
  readonly rewrite: RewritePolicy | undefined;
}

/** A destination as a route (or the outbound side's host) names it, before it is resolved. */
export interface DestinationRequest {
  readonly service: string | undefined;
  readonly host: string;
  readonly port: number | undefined;
  readonly target: DestinationTarget;
  /** The lane a per-request override names for this service: it wins over the tag's lane. */
  readonly overrideLane?: string;
}

export interface Forward {
  readonly kind: 'forward';
  /** `namespace/name`. */
  readonly service: string;
  readonly port: number | undefined;
  readonly target: Target;
  /** Healthy candidates; the proxy's load balancer picks one. Never empty. */
  readonly endpoints: readonly TableEndpoint[];
  /** What was resolved to `target` and `endpoints`: a retry resolves it again (`reroute`). */
  readonly destination: DestinationRequest;
  readonly policy: UpstreamPolicy;
  readonly route: RouteInfo | undefined;
  /** Delay to inject before forwarding (fault injection), when the draw says so. */
  readonly delayMs: number | undefined;
  readonly requestOps: readonly HeaderOp[];
  readonly responseOps: readonly HeaderOp[];
  readonly tags: readonly Tag[];
  /** Lanes passed over before the chosen one, and why. */
  readonly fallback: readonly FallbackStep[];
  readonly steps: readonly string[];
  readonly override?: OverrideInfo;
}

/** The sidecar inbound side: hand the request to the local app. */
export interface Local {
  readonly kind: 'local';
  readonly tags: readonly Tag[];
  /** Trace id → lane entries to record in the sidecar's memory. */
  readonly remember: readonly { readonly traceKey: string; readonly lane: string }[];
  readonly steps: readonly string[];
  readonly override?: OverrideInfo;
}

/** An unknown host under ALLOW_ANY: forward to the host itself. */
export interface Passthrough {
  readonly kind: 'passthrough';
  readonly authority: string;
  readonly requestOps: readonly HeaderOp[];
  readonly tags: readonly Tag[];
  readonly steps: readonly string[];
  readonly override?: OverrideInfo;
}

/** Answer without forwarding: a redirect, a direct response, or an injected abort. */
export interface Respond {
  readonly kind: 'respond';
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string;
  readonly reason: 'redirect' | 'direct-response' | 'fault-abort';
  readonly route: RouteInfo;
  readonly steps: readonly string[];
}

/** The proxy answers with `x-lanes-error: <code>` and a plain-text body saying what happened. */
export interface Failure {
  readonly kind: 'error';
  readonly code: ErrorCode;
  readonly status: number;
  readonly message: string;
  readonly service: string | undefined;
  readonly lane: string | undefined;
  readonly fallback: readonly FallbackStep[];
  readonly tags: readonly Tag[];
  readonly steps: readonly string[];
  readonly override?: OverrideInfo;
}

export type Decision = Forward | Local | Passthrough | Respond | Failure;
