/**
 * Istio Gateways → listeners with host tables. VirtualServices bound to a gateway attach to the
 * servers whose hosts they intersect (and whose `ns/` filter and the VS's exportTo allow); all
 * VirtualServices for one host are merged in namespace/name order, catch-all routes last
 * (gateway.go L567-569, route.go SortVHostRoutes).
 */
import type { Resource } from '../api/resource.ts';
import { TRUST_CLIENT_LANE } from '../kinds/annotations.ts';
import type { GatewaySpec } from '../kinds/istio/types.ts';
import { newDict } from './dict.ts';
import type { EntryRoute } from './entry-routes.ts';
import { HostTableBuilder, hostsIntersect } from './hosts.ts';
import { isCatchAll } from './matchers.ts';
import { planRoutes } from './route-plan.ts';
import type { StatusBook } from './status.ts';
import type { CompiledGateway, CompiledRoute, CompiledServer, SourceRef } from './table.ts';
import type { CompiledVirtualService } from './virtual-services.ts';

interface ServerHost {
  /** `*`, `.` or a namespace the attached VirtualService must be in. */
  readonly namespace: string;
  readonly host: string;
}

function serverHost(raw: string): ServerHost {
  const slash = raw.indexOf('/');
  return slash < 0
    ? { namespace: '*', host: raw.toLowerCase() }
    : { namespace: raw.slice(0, slash), host: raw.slice(slash + 1).toLowerCase() };
}

function namespaceAllowed(filter: string, gatewayNs: string, vsNs: string): boolean {
  return filter === '*' || (filter === '.' ? vsNs === gatewayNs : filter === vsNs);
}

export function gatewayResources(resources: readonly Resource[]): Map<string, Resource[]> {
  const byKey = new Map<string, Resource[]>();
  for (const r of resources) {
    if (r.kind !== 'Gateway' || r.id.group !== 'networking.istio.io') continue;
    const key = `${r.metadata.namespace}/${r.metadata.name}`;
    byKey.set(key, [...(byKey.get(key) ?? []), r]);
  }
  return byKey;
}

export function compileGateways(
  gateways: Map<string, Resource[]>,
  virtualServices: readonly CompiledVirtualService[],
  entries: readonly EntryRoute[],
  status: StatusBook,
): Record<string, CompiledGateway> {
  const out = newDict<CompiledGateway>();
  for (const [key, copies] of gateways) {
    const first = copies[0]!;
    const spec = first.spec as GatewaySpec;
    const [namespace, name] = key.split('/') as [string, string];
    const source: SourceRef = { kind: 'Gateway', namespace, name };
    for (const other of copies.slice(1)) {
      if (JSON.stringify(other.spec) !== JSON.stringify(spec)) {
        status.warn(
          other,
          'spec',
          `differs from the copy in cluster ${first.id.cluster}; lanes routes the gateway by the first copy (clusters in name order)`,
        );
      }
    }
    const servers = newDict<CompiledServer>();
    for (const server of spec.servers) {
      const hosts = server.hosts.map(serverHost);
      const builder = new HostTableBuilder();
      const routesByHost = new Map<
        string,
        { specific: CompiledRoute[]; catchAll: CompiledRoute[] }
      >();
      const add = (host: string, route: CompiledRoute) => {
        const bucket = routesByHost.get(host) ?? { specific: [], catchAll: [] };
        (isCatchAll(route.match) ? bucket.catchAll : bucket.specific).push(route);
        routesByHost.set(host, bucket);
      };
      const attached = (vsHost: string, vsNs: string) =>
        hosts.some(
          (h) => namespaceAllowed(h.namespace, namespace, vsNs) && hostsIntersect(h.host, vsHost),
        );
      // Native entry routes come first: a lane's explicit rules beat a catch-all VirtualService.
      for (const entry of entries) {
        if (entry.gateway === key && attached(entry.host.toLowerCase(), ''))
          add(entry.host.toLowerCase(), entry.route);
      }
      for (const vs of virtualServices) {
        if (!vs.bindings.has(key)) continue;
        if (vs.visibleTo && !vs.visibleTo.includes(namespace)) continue;
        const vsNs = vs.resource.metadata.namespace;
        for (const rawHost of vs.spec.hosts) {
          const host = rawHost.toLowerCase();
          if (!attached(host, vsNs)) continue;
          for (const bound of vs.routes) if (bound.bindings.includes(key)) add(host, bound.route);
        }
      }
      for (const [host, bucket] of routesByHost) {
        const routes = [...bucket.specific, ...bucket.catchAll];
        builder.set(host, {
          host,
          routes,
          plan: planRoutes(routes),
          visibleTo: undefined,
          source: routes[0]?.source ?? source,
        });
      }
      servers[String(server.port.number)] = {
        port: server.port.number,
        name: server.port.name,
        hosts: builder.build(),
      };
    }
    out[key] = {
      key,
      namespace,
      name,
      clusters: [...new Set(copies.map((c) => c.id.cluster))].sort(),
      trustClientLane: first.metadata.annotations[TRUST_CLIENT_LANE] === 'true',
      servers,
      source,
    };
  }
  for (const vs of virtualServices) {
    vs.spec.gateways.forEach((g, i) => {
      const k =
        g === 'mesh' ? 'mesh' : g.includes('/') ? g : `${vs.resource.metadata.namespace}/${g}`;
      if (k !== 'mesh' && !gateways.has(k)) {
        status.problem(
          vs.resource,
          'ResolvedRefs',
          'GatewayNotFound',
          `spec.gateways[${i}]`,
          `gateway ${k} does not exist; apply it, or fix the name`,
        );
      }
    });
  }
  return out;
}
