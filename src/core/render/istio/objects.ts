/**
 * What `renderIstio` produces: plain Kubernetes objects of stock Istio's `networking.istio.io/v1`
 * (and the opt-in Lua extension), and warnings for every lanes feature stock Istio cannot carry,
 * each naming the resource and the field.
 */

/** A Kubernetes object as it is applied: plain JSON, ready for YAML or JSON output. */
export interface IstioObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly spec: Readonly<Record<string, unknown>>;
}

export const NETWORKING_V1 = 'networking.istio.io/v1';

/** Why part of the lanes configuration is not (exactly) expressed by the rendered objects. */
export type RenderWarningReason =
  /** A trace-id carrier: the trace id → lane memory lives in lanes' sidecars, not in Envoy. */
  | 'TraceIdCarrierNotRendered'
  /** Permissive fallback when a lane's instances are unhealthy (not absent): Istio cannot. */
  | 'HealthFallbackNotRendered'
  /** A sticky percentage: VirtualService weights are random per request. */
  | 'StickyEntryNotRendered'
  /** An entry condition with no Istio match form (a negated path, an absent query parameter…). */
  | 'MatchNotRendered'
  /** Weighted entry rules whose remainder cannot go on to the routes after them. */
  | 'WeightedEntryNotRendered'
  /** A `Mesh` setting that no Istio networking object holds. */
  | 'MeshSettingNotRendered'
  /** Edge hygiene for one baggage member needs the Lua extension (`--edge-lua`). */
  | 'BaggageHygieneNeedsExtension'
  /** Instances in no lane are a fallback, but a subset cannot select "no lane label". */
  | 'UnlanedFallbackNotSelectable'
  /** A user route whose match already tests a lane carrier, so lane routes cannot be combined. */
  | 'UserRouteNotExpanded'
  /** Two catch-all routes for one gateway host in different VirtualServices: Istio orders them by creation time. */
  | 'GatewayRouteOrder'
  /** A DestinationRule subset has a lane's name but other labels. */
  | 'SubsetNameConflict'
  /** (controller) A user's VirtualService for a lane-group host that lanes cannot read. */
  | 'UserObjectUnreadable'
  /** A Release: its driver (steps, analysis, promotion) runs in lanes' local daemon only. */
  | 'ReleaseNotRendered'
  /** The lane a Release creates cannot be: its workloads' Deployments are not among the inputs. */
  | 'ReleaseLaneNotRendered'
  /** A gateway trusting its clients follows their unsigned overrides; Envoy follows none. */
  | 'OverrideNotRendered';

export interface RenderWarning {
  readonly resource: {
    readonly kind: string;
    readonly namespace: string;
    readonly name: string;
  };
  /** Field path inside that resource; '' for the resource as a whole. */
  readonly fieldPath: string;
  readonly reason: RenderWarningReason;
  readonly message: string;
}

/** `Kind ns/name fieldPath: Reason`, the short form tests and the CLI use. */
export function warningKey(w: RenderWarning): string {
  const ns = w.resource.namespace === '' ? '' : `${w.resource.namespace}/`;
  return `${w.resource.kind} ${ns}${w.resource.name}${w.fieldPath ? ` ${w.fieldPath}` : ''}: ${w.reason}`;
}
