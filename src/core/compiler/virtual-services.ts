/**
 * VirtualServices → routes bound to gateways and routes bound to the mesh (sidecars). A match
 * block's own `gateways` overrides the VirtualService's (VS.proto L823-826); an empty `gateways`
 * means `mesh` alone (VS.proto L180-193).
 */

import type { VirtualServiceSpec } from '../../config/kinds/istio/types.ts';
import type { Resource } from '../../config/resource/resource.ts';
import { compileHttpRoute, type RouteContext } from './routes.ts';
import type { CompiledRoute } from './table.ts';

export const MESH = 'mesh';

export interface BoundRoute {
  readonly route: CompiledRoute;
  /** Gateway keys (`ns/name`) and/or `mesh` this route applies to. */
  readonly bindings: readonly string[];
}

export interface CompiledVirtualService {
  readonly resource: Resource;
  readonly spec: VirtualServiceSpec;
  readonly routes: readonly BoundRoute[];
  /** Every binding any route uses. */
  readonly bindings: ReadonlySet<string>;
  /** Namespaces the VirtualService is exported to; undefined: all. */
  readonly visibleTo: readonly string[] | undefined;
}

/** `name` → `<vs namespace>/name`; `ns/name` as is; `mesh` as is. */
export function gatewayKey(ref: string, namespace: string): string {
  if (ref === MESH) return MESH;
  return ref.includes('/') ? ref : `${namespace}/${ref}`;
}

export function visibleTo(
  exportTo: readonly string[] | undefined,
  namespace: string,
): readonly string[] | undefined {
  if (!exportTo || exportTo.length === 0 || exportTo.includes('*')) return undefined;
  return [...new Set(exportTo.map((ns) => (ns === '.' ? namespace : ns)))].sort();
}

export function compileVirtualService(
  resource: Resource,
  ctx: Omit<RouteContext, 'resource'>,
): CompiledVirtualService {
  const spec = resource.spec as VirtualServiceSpec;
  const ns = resource.metadata.namespace;
  const topBindings =
    spec.gateways.length === 0 ? [MESH] : spec.gateways.map((g) => gatewayKey(g, ns));
  const routes: BoundRoute[] = [];
  spec.http.forEach((http, i) => {
    const compiled = compileHttpRoute(http, i, { ...ctx, resource });
    compiled.forEach((route, j) => {
      const block = http.match?.[j];
      const bindings = block?.gateways?.length
        ? block.gateways.map((g) => gatewayKey(g, ns))
        : topBindings;
      routes.push({ route, bindings });
    });
  });
  const bindings = new Set(routes.flatMap((r) => r.bindings));
  if (routes.length === 0) for (const b of topBindings) bindings.add(b);
  return { resource, spec, routes, bindings, visibleTo: visibleTo(spec.exportTo, ns) };
}
