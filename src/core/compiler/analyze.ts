/**
 * analyze(resources, endpoints): the one pure analysis of a set of resources that both back ends
 * lower — to the lanes proxies' routing table (`compile()`) and to stock Istio objects
 * (`src/core/render/istio/`). It resolves services, DestinationRules, lane groups, lanes and
 * their fallback chains, VirtualServices and lane entry rules, and records every broken
 * reference in the status book. Deterministic: inputs are sorted; no I/O, no clock.
 */

import { compareResources, type Resource } from '../../config/resource/resource.ts';
import { parseServiceHost, serviceKey } from '../../config/resource/service-ref.ts';
import { type EntryRoute, entryRoutes } from './entry-routes.ts';
import { checkGatewayRefs, gatewayResources } from './gateways.ts';
import { type LaneChains, laneChains, type ResolvedLanes, resolveLanes } from './lanes.ts';
import type { ReleaseRouting } from './release-lanes.ts';
import type { RouteContext } from './routes.ts';
import { applyDestinationRules, buildRegistry, isIstio, type RegistryEntry } from './services.ts';
import { StatusBook } from './status.ts';
import type { DestinationTarget, Endpoint } from './table.ts';
import { type CompiledVirtualService, compileVirtualService } from './virtual-services.ts';

export interface Analysis {
  /** The resources, sorted by kind, namespace and name. */
  readonly resources: readonly Resource[];
  readonly status: StatusBook;
  /** Services (merged across clusters) with their endpoints, subsets and policies. */
  readonly registry: ReadonlyMap<string, RegistryEntry>;
  /** Istio Gateways by `namespace/name` (one copy per cluster). */
  readonly gateways: ReadonlyMap<string, readonly Resource[]>;
  readonly lanes: ResolvedLanes;
  /** Per service of a lane group: which lanes contain it and each lane's fallback chain. */
  readonly chains: ReadonlyMap<string, LaneChains>;
  readonly virtualServices: readonly CompiledVirtualService[];
  /** Lane entry rules and native ingress defaults, per gateway and host, in evaluation order. */
  readonly entries: readonly EntryRoute[];
  /** A host as written in a route, in the route's namespace → service key, if it is one. */
  resolveService(host: string, namespace: string): string | undefined;
  /** A `subset` of a service: a DestinationRule subset, a lane of its group, or neither. */
  resolveSubset(service: string, subset: string): DestinationTarget;
}

export interface AnalyzeOptions {
  /** What running Releases change in the lanes (their state is the release driver's). */
  readonly releases?: readonly ReleaseRouting[];
}

export function analyze(
  resources: readonly Resource[],
  endpoints: readonly Endpoint[],
  options: AnalyzeOptions = {},
): Analysis {
  const sorted = [...resources].sort(compareResources);
  const status = new StatusBook(sorted);

  const registry = buildRegistry(sorted, endpoints);
  applyDestinationRules(sorted, registry, status);
  const gateways = gatewayResources(sorted);
  const lanes = resolveLanes(
    sorted,
    new Set(registry.keys()),
    new Set(gateways.keys()),
    status,
    options.releases,
  );

  const resolveService = (host: string, namespace: string): string | undefined => {
    const ref = parseServiceHost(host, namespace);
    if (!ref) return undefined;
    const key = serviceKey(ref);
    return registry.has(key) ? key : undefined;
  };
  const resolveSubset = (service: string, subset: string): DestinationTarget => {
    if (registry.get(service)?.subsets[subset]) return { kind: 'subset', subset };
    const group = lanes.serviceGroup.get(service);
    const lane = lanes.compiledLanes[subset];
    if (group && lane && lane.group === group.key)
      return { kind: 'lane', group: group.key, lane: subset };
    return { kind: 'unresolved-subset', subset };
  };
  const subsetNames = (service: string): string[] => {
    const group = lanes.serviceGroup.get(service);
    return [
      ...Object.keys(registry.get(service)?.subsets ?? {}),
      ...(group
        ? Object.values(lanes.compiledLanes)
            .filter((l) => l.group === group.key)
            .map((l) => l.name)
        : []),
    ];
  };
  const routeCtx: Omit<RouteContext, 'resource'> = {
    status,
    resolveService,
    resolveSubset,
    subsetNames,
    serviceKeys: () => registry.keys(),
  };

  const virtualServices = sorted
    .filter((r) => isIstio(r, 'VirtualService'))
    .map((r) => compileVirtualService(r, routeCtx));
  checkGatewayRefs(gateways, virtualServices, status);
  const entries = entryRoutes(lanes, routeCtx, status);

  return {
    resources: sorted,
    status,
    registry,
    gateways,
    lanes,
    chains: laneChains(lanes),
    virtualServices,
    entries,
    resolveService,
    resolveSubset,
  };
}
