/**
 * compile(resources, endpoints) → { table, statuses }: the analysis (analyze.ts) lowered to the
 * routing table the proxies execute. Pure and deterministic (inputs are sorted, no I/O, no
 * clock), and the table is deep-frozen. Broken references become status conditions on the
 * resource that has them; everything else still compiles.
 */

import { MESH_DEFAULTS, type MeshSpec } from '../../config/kinds/native/mesh.ts';
import { type Resource, resourceLabel } from '../../config/resource/resource.ts';
import { type Analysis, analyze } from './analyze.ts';
import { deepFreeze, labelsOf, newDict } from './dict.ts';
import { compileGateways } from './gateways.ts';
import type { GroupModel, LaneModel } from './lane-model.ts';
import { serviceLanes } from './lanes.ts';
import type { ReleaseRouting } from './release-lanes.ts';
import { planRoutes } from './route-plan.ts';
import type { RegistryEntry } from './services.ts';
import type { ResourceStatus, StatusBook } from './status.ts';
import type { CompiledService, Endpoint, RoutingTable, TagContext, VirtualHost } from './table.ts';
import { type CompiledVirtualService, MESH } from './virtual-services.ts';

export interface CompileResult {
  readonly table: RoutingTable;
  readonly statuses: readonly ResourceStatus[];
}

export interface CompileOptions {
  /** What running Releases change in the lanes (their state is the release driver's). */
  readonly releases?: readonly ReleaseRouting[];
}

export function compile(
  resources: readonly Resource[],
  endpoints: readonly Endpoint[],
  options: CompileOptions = {},
): CompileResult {
  return lowerToTable(analyze(resources, endpoints, options));
}

/** The analysis lowered to the proxies' routing table (and the statuses it found). */
export function lowerToTable(analysis: Analysis): CompileResult {
  const { registry, lanes, status } = analysis;
  const compiledGateways = compileGateways(
    analysis.gateways,
    analysis.virtualServices,
    analysis.entries,
    status,
  );
  const lanesByService = serviceLanes(
    lanes,
    analysis.chains,
    (key) => registry.get(key)?.endpoints ?? [],
  );
  const mesh = meshRoutes(analysis.virtualServices, analysis.resolveService, status);

  const services = newDict<CompiledService>();
  for (const entry of registry.values()) {
    services[entry.key] = compiledService(
      entry,
      lanesByService.get(entry.key),
      mesh.byService.get(entry.key) ?? [],
    );
  }

  const table: RoutingTable = {
    mesh: meshSettings(analysis.resources),
    services,
    externalHosts: mesh.external,
    externalWildcards: mesh.externalWildcards,
    gateways: compiledGateways,
    tagContexts: tagContexts(lanes.groups, lanes.lanes),
    groups: lanes.compiledGroups,
    lanes: lanes.compiledLanes,
    edgeHygiene: edgeHygiene(lanes.groups),
  };
  return { table: deepFreeze(table), statuses: deepFreeze(status.build()) };
}

function compiledService(
  entry: RegistryEntry,
  lanes: CompiledService['lanes'],
  meshRoutes: readonly VirtualHost[],
): CompiledService {
  return {
    key: entry.key,
    namespace: entry.namespace,
    name: entry.name,
    ports: entry.ports,
    all: entry.endpoints,
    healthy: entry.endpoints.filter((e) => e.healthy),
    policy: entry.policy,
    policyByPort: entry.policyByPort,
    protocolByPort: entry.protocolByPort,
    subsets: entry.subsets,
    lanes,
    meshRoutes,
  };
}

function meshSettings(resources: readonly Resource[]): MeshSpec {
  const mesh = resources.find((r) => r.kind === 'Mesh' && r.id.group === 'lanes.dev');
  const spec = mesh ? (mesh.spec as MeshSpec) : MESH_DEFAULTS;
  // A copy: the table is frozen, the resources given to compile() are not ours to freeze.
  return {
    outboundTrafficPolicy: spec.outboundTrafficPolicy,
    traceMemory: { ...spec.traceMemory },
  };
}

/**
 * Mesh-bound VirtualServices by host. Sidecars do not merge VirtualServices for one host (Istio
 * drops the second, httproute.go L416-427): the first visible one by namespace/name wins.
 */
function meshRoutes(
  virtualServices: readonly CompiledVirtualService[],
  resolveService: (host: string, namespace: string) => string | undefined,
  status: StatusBook,
) {
  const byService = new Map<string, VirtualHost[]>();
  const external = newDict<VirtualHost[]>();
  const wildcardMap = new Map<string, VirtualHost[]>();
  const owners = new Map<string, Resource>();
  for (const vs of virtualServices) {
    if (!vs.bindings.has(MESH)) continue;
    const ns = vs.resource.metadata.namespace;
    const routes = vs.routes.filter((r) => r.bindings.includes(MESH)).map((r) => r.route);
    const plan = planRoutes(routes);
    for (const rawHost of vs.spec.hosts) {
      const host = rawHost.toLowerCase();
      const vhost: VirtualHost = {
        host,
        routes,
        plan,
        visibleTo: vs.visibleTo,
        source: { kind: vs.resource.kind, namespace: ns, name: vs.resource.metadata.name },
      };
      const service = host.startsWith('*') ? undefined : resolveService(host, ns);
      const ownerKey = service ?? host;
      const owner = owners.get(ownerKey);
      if (owner && vs.visibleTo === undefined) {
        status.warn(
          vs.resource,
          'spec.hosts',
          `${resourceLabel(owner.id)} already routes ${ownerKey} for sidecars; Istio does not merge VirtualServices at sidecars, so this one is used only where that one is not visible (exportTo)`,
        );
      }
      if (!owner) owners.set(ownerKey, vs.resource);
      if (service) byService.set(service, [...(byService.get(service) ?? []), vhost]);
      else if (host.startsWith('*.'))
        wildcardMap.set(host.slice(1), [...(wildcardMap.get(host.slice(1)) ?? []), vhost]);
      else external[host] = [...(external[host] ?? []), vhost];
    }
  }
  const externalWildcards = [...wildcardMap.entries()]
    .sort((a, b) => b[0].length - a[0].length || (a[0] < b[0] ? -1 : 1))
    .map(([suffix, vhosts]) => ({ suffix, vhosts }));
  return { byService, external, externalWildcards };
}

function tagContexts(
  groups: readonly GroupModel[],
  lanes: ReadonlyMap<string, LaneModel>,
): TagContext[] {
  const byHeader = new Map<
    string,
    {
      headers: string[];
      baggageKeys: string[];
      traceHeaders: string[];
      groups: string[];
      callerLanes: { lane: string; selector: Readonly<Record<string, string>> }[];
    }
  >();
  for (const g of groups) {
    const ctx = byHeader.get(g.routeHeader) ?? {
      headers: [],
      baggageKeys: [],
      traceHeaders: [],
      groups: [],
      callerLanes: [],
    };
    ctx.groups.push(g.key);
    if (g.mode === 'strict') {
      for (const lane of lanes.values()) {
        if (lane.groupKey === g.key)
          ctx.callerLanes.push({ lane: lane.name, selector: labelsOf(lane.selector) });
      }
    }
    for (const c of g.carriers) {
      const list =
        c.type === 'header'
          ? ctx.headers
          : c.type === 'baggage'
            ? ctx.baggageKeys
            : ctx.traceHeaders;
      const value = c.type === 'header' ? c.name : c.type === 'baggage' ? c.key : c.header;
      if (!list.includes(value)) list.push(value);
    }
    byHeader.set(g.routeHeader, ctx);
  }
  return [...byHeader.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([routeHeader, c]) => ({ routeHeader, ...c }));
}

function edgeHygiene(groups: readonly GroupModel[]) {
  const headers = new Set<string>();
  const baggageKeys = new Set<string>();
  for (const g of groups) {
    headers.add(g.routeHeader);
    for (const c of g.carriers) {
      if (c.type === 'header') headers.add(c.name);
      if (c.type === 'baggage') baggageKeys.add(c.key);
    }
  }
  return { headers: [...headers].sort(), baggageKeys: [...baggageKeys].sort() };
}

export type { ReleaseRouting, ResourceStatus };
