/**
 * Istio Gateways → listeners with host tables. VirtualServices bound to a gateway attach to the
 * servers whose hosts they intersect (and whose `ns/` filter and the VS's exportTo allow); all
 * VirtualServices for one host are merged in namespace/name order, catch-all routes last
 * (gateway.go L567-569, route.go SortVHostRoutes).
 */

import { TRUST_CLIENT_LANE } from '../../config/kinds/annotations.ts';
import type { GatewaySpec } from '../../config/kinds/istio/types.ts';
import type { Resource } from '../../config/resource/resource.ts';
import { suggestName } from '../../config/schema/did-you-mean.ts';
import { newDict } from './dict.ts';
import type { EntryRoute } from './entry-routes.ts';
import { HostTableBuilder, hostsIntersect } from './hosts.ts';
import { isCatchAll } from './matchers.ts';
import { planRoutes } from './route-plan.ts';
import type { StatusBook } from './status.ts';
import type { CompiledGateway, CompiledRoute, CompiledServer, SourceRef } from './table.ts';
import { type CompiledVirtualService, gatewayKey, MESH } from './virtual-services.ts';

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

/** The more specific of two intersecting host patterns: what a request must match on both. */
function narrower(a: string, b: string): string {
  if (a === '*') return b;
  if (b === '*') return a;
  if (!a.startsWith('*.')) return a;
  if (!b.startsWith('*.')) return b;
  return a.length >= b.length ? a : b;
}

/**
 * A VirtualService's routes up to its first catch-all: Istio stops generating there (route.go
 * L413-440), so rules after it never match. Catch-alls are moved last only across resources.
 */
function untilCatchAll(routes: readonly CompiledRoute[]): CompiledRoute[] {
  const i = routes.findIndex((r) => isCatchAll(r.match));
  return i < 0 ? [...routes] : routes.slice(0, i + 1);
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
  gateways: ReadonlyMap<string, readonly Resource[]>,
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
    // Several servers may share a port (one per host set): their hosts form one listener.
    const byPort = new Map<number, { name: string; hosts: ServerHost[] }>();
    for (const server of spec.servers) {
      const entry = byPort.get(server.port.number) ?? { name: server.port.name, hosts: [] };
      entry.hosts.push(...server.hosts.map(serverHost));
      byPort.set(server.port.number, entry);
    }
    const servers = newDict<CompiledServer>();
    for (const [port, server] of byPort) {
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
      /** The hosts a route host serves here: its overlap with each server host that admits it. */
      const effectiveHosts = (routeHost: string, routeNs: string | undefined): string[] => {
        const out = new Set<string>();
        for (const h of server.hosts) {
          if (routeNs !== undefined && !namespaceAllowed(h.namespace, namespace, routeNs)) continue;
          if (hostsIntersect(h.host, routeHost)) out.add(narrower(h.host, routeHost));
        }
        return [...out];
      };
      // Native entry routes come first: a lane's explicit rules beat a catch-all VirtualService.
      // Their group names this gateway itself, so server namespace filters do not apply.
      for (const entry of entries) {
        if (entry.gateway !== key) continue;
        for (const host of effectiveHosts(entry.host.toLowerCase(), undefined))
          add(host, entry.route);
      }
      for (const vs of virtualServices) {
        if (!vs.bindings.has(key)) continue;
        if (vs.visibleTo && !vs.visibleTo.includes(namespace)) continue;
        const routes = untilCatchAll(
          vs.routes.filter((b) => b.bindings.includes(key)).map((b) => b.route),
        );
        for (const rawHost of vs.spec.hosts) {
          for (const host of effectiveHosts(
            rawHost.toLowerCase(),
            vs.resource.metadata.namespace,
          )) {
            for (const route of routes) add(host, route);
          }
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
      servers[String(port)] = { port, name: server.name, hosts: builder.build() };
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
  return out;
}

/** A VirtualService's gateway references (top level and per match block) must exist. */
export function checkGatewayRefs(
  gateways: ReadonlyMap<string, readonly Resource[]>,
  virtualServices: readonly CompiledVirtualService[],
  status: StatusBook,
): void {
  for (const vs of virtualServices) {
    const ns = vs.resource.metadata.namespace;
    const check = (g: string, path: string) => {
      const k = gatewayKey(g, ns);
      if (k !== MESH && !gateways.has(k)) {
        status.problem(
          vs.resource,
          'ResolvedRefs',
          'GatewayNotFound',
          path,
          `gateway ${k} does not exist${suggestName(k, gateways.keys(), 'gateways')}; apply it, or fix the name`,
        );
      }
    };
    for (const [i, g] of vs.spec.gateways.entries()) check(g, `spec.gateways[${i}]`);
    for (const [i, http] of vs.spec.http.entries()) {
      for (const [j, m] of (http.match ?? []).entries()) {
        for (const [k, g] of (m.gateways ?? []).entries())
          check(g, `spec.http[${i}].match[${j}].gateways[${k}]`);
      }
    }
  }
}
