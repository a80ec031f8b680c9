/**
 * Which Instrumentation configures a Deployment's injected SDK, as the OpenTelemetry Operator
 * picks it for an `instrumentation.opentelemetry.io/inject-*` annotation: `"true"` takes the one
 * in the pod's namespace, a name (or `namespace/name`) takes that one. One lookup for the process
 * the daemon starts (its env) and for `explain` (which headers the app forwards). Pure.
 */
import type { DeploymentSpec } from '../../../config/kinds/kube/index.ts';
import { type InstrumentationSpec, instrumentationKind } from '../../../config/kinds/otel.ts';
import {
  DEFAULT_PROPAGATORS,
  type SupportedPropagator,
} from '../../../config/kinds/otel-sdk-names.ts';
import { isKind } from '../../../config/kinds/registry.ts';
import type { Resource } from '../../../config/resource/resource.ts';

export type Instrumentation =
  /** The pod asks for no injection. */
  | { readonly kind: 'none' }
  /** Injection with no Instrumentation to configure it: the SDK's defaults. */
  | { readonly kind: 'defaults' }
  | { readonly kind: 'resource'; readonly resource: Resource<string, InstrumentationSpec> };

export function instrumentationFor(
  deployment: Resource<string, DeploymentSpec>,
  resources: readonly Resource[],
): Instrumentation {
  const request = deployment.spec.template.instrumentation[0];
  if (!request) return { kind: 'none' };
  const named = request.instrumentation;
  const namespace = named?.namespace ?? deployment.metadata.namespace;
  const resource = resources.find(
    (r): r is Resource<string, InstrumentationSpec> =>
      isKind(r, instrumentationKind) &&
      r.metadata.namespace === namespace &&
      (named === undefined || r.metadata.name === named.name),
  );
  return resource ? { kind: 'resource', resource } : { kind: 'defaults' };
}

/** The spec the injected SDK runs with; undefined for none or the defaults. */
export function specOf(i: Instrumentation): InstrumentationSpec | undefined {
  return i.kind === 'resource' ? i.resource.spec : undefined;
}

/** The headers each propagator reads and writes (what an instrumented app forwards). */
const PROPAGATOR_HEADERS: Readonly<Record<SupportedPropagator, readonly string[]>> = {
  tracecontext: ['traceparent', 'tracestate'],
  baggage: ['baggage'],
  b3: ['b3'],
  b3multi: ['x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags'],
};

function isSupported(p: string): p is SupportedPropagator {
  return Object.hasOwn(PROPAGATOR_HEADERS, p);
}

/**
 * The headers an app instrumented this way forwards from its request to its own calls (the
 * injected SDK installs only the supported propagators; the kind warns about the others).
 */
export function propagatedHeaders(i: Instrumentation): readonly string[] {
  if (i.kind === 'none') return [];
  const propagators = specOf(i)?.propagators ?? DEFAULT_PROPAGATORS;
  return propagators.filter(isSupported).flatMap((p) => PROPAGATOR_HEADERS[p]);
}
