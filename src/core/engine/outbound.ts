/**
 * A sidecar's outbound hop (SPEC §4.3): the app calls a service through its sidecar. Find the
 * service, find the lane tag, restore it on the request, then a mesh VirtualService for the host
 * (Istio semantics), else lane routing, else any endpoint; unknown hosts pass through unless the
 * mesh is REGISTRY_ONLY.
 */
import { parseServiceHost, serviceKey } from '../../config/resource/service-ref.ts';
import { hostOnly, portOf } from '../compiler/hosts.ts';
import type { RoutingTable, VirtualHost } from '../compiler/table.ts';
import { resolveDestination } from './destination.ts';
import { firstMatch, MatchInput } from './match.ts';
import { overrideOutcome, sidecarOverride, withOverride } from './override.ts';
import { actOnRoute, failure, NO_STEPS, unresolved } from './route-action.ts';
import { carrierOps, contextOf, findTags } from './tags.ts';
import type {
  DecideContext,
  Decision,
  DestinationRequest,
  HeaderOp,
  RequestView,
  Tag,
  Workload,
} from './types.ts';
import { withOps } from './view.ts';

/** The outbound side names a service, never a subset: the lane comes from the tag. */
const BY_TAG = Object.freeze({ kind: 'service' } as const);

function visible(vhosts: readonly VirtualHost[], namespace: string): VirtualHost | undefined {
  for (const v of vhosts) if (!v.visibleTo || v.visibleTo.includes(namespace)) return v;
  return undefined;
}

function externalVhost(
  table: RoutingTable,
  host: string,
  namespace: string,
): VirtualHost | undefined {
  const exact = table.externalHosts[host];
  if (exact) return visible(exact, namespace);
  for (const w of table.externalWildcards)
    if (host.endsWith(w.suffix)) return visible(w.vhosts, namespace);
  return undefined;
}

/**
 * What a sidecar does with `CONNECT host:port` from its app: a host the mesh routes (a service,
 * or a host a mesh-bound VirtualService names) is `mesh` — the tunnel's requests are read and
 * routed one by one like any outbound call; any other host passes through as a raw tunnel, or is
 * refused while the mesh is REGISTRY_ONLY.
 */
export function connectTarget(
  table: RoutingTable,
  workload: Workload,
  authority: string,
): 'mesh' | 'passthrough' | 'registry-only' {
  const host = hostOnly(authority);
  const ref = parseServiceHost(host, workload.namespace);
  if (ref && table.services[serviceKey(ref)]) return 'mesh';
  if (externalVhost(table, host, workload.namespace)) return 'mesh';
  return table.mesh.outboundTrafficPolicy === 'REGISTRY_ONLY' ? 'registry-only' : 'passthrough';
}

export function decideOutbound(
  table: RoutingTable,
  workload: Workload,
  req: RequestView,
  random: () => number,
  ctx: DecideContext,
): Decision {
  const steps: string[] | undefined = ctx.explain ? [] : undefined;
  const host = hostOnly(req.authority);
  if (host === '')
    return failure({ code: 'BAD_REQUEST', message: 'the request names no host', tags: [] }, steps);
  const port = portOf(req.authority);
  const ref = parseServiceHost(host, workload.namespace);
  const svc = ref ? table.services[serviceKey(ref)] : undefined;
  steps?.push(
    `outbound from ${workload.name ?? workload.namespace} to ${req.authority}${svc ? ` = service ${svc.key}` : ''}`,
  );

  const tags = findTags(table, req, ctx.traceMemory, workload);
  const ops: HeaderOp[] = [];
  for (const tag of tags) {
    steps?.push(`tag ${tag.routeHeader}: ${tag.lane} (${describeSource(tag)})`);
    const context = contextOf(table, tag.routeHeader);
    if (context) carrierOps(context, tag.lane, req, false, ops);
  }
  if (tags.length === 0 && table.tagContexts.length > 0) steps?.push('no lane tag on the request');
  const override = sidecarOverride(table, req, ctx.traceMemory, ctx.overrides, ops, steps);
  const view = withOps(req, ops);

  const vhost = svc
    ? visible(svc.meshRoutes, workload.namespace)
    : externalVhost(table, host, workload.namespace);
  if (vhost) {
    steps?.push(`VirtualService ${vhost.source.namespace}/${vhost.source.name} routes ${host}`);
    const input = new MatchInput(view, port ?? svc?.ports[0], workload, random, ctx.choose);
    const route = firstMatch(vhost, input);
    if (route) {
      return actOnRoute({
        table,
        route,
        view,
        random,
        ctx,
        ops,
        tags,
        atGateway: false,
        port: port ?? singlePort(svc?.ports),
        listenerPort: undefined,
        steps,
        override,
      });
    }
    return failure(
      {
        code: 'NO_ROUTE',
        message: `VirtualService ${vhost.source.namespace}/${vhost.source.name} has no route for ${host} that matches ${req.method} ${req.path}`,
        service: svc?.key,
        tags,
        override: override.info,
      },
      steps,
    );
  }

  if (!svc) {
    if (table.mesh.outboundTrafficPolicy === 'REGISTRY_ONLY') {
      return failure(
        {
          code: 'REGISTRY_ONLY',
          message: `${host} is not a service of the mesh, and the mesh only allows its registry (Mesh spec.outboundTrafficPolicy.mode: REGISTRY_ONLY)`,
          tags,
          override: override.info,
        },
        steps,
      );
    }
    steps?.push(`${host} is not a service of the mesh: pass through (ALLOW_ANY)`);
    return withOverride(
      {
        kind: 'passthrough',
        authority: req.authority,
        requestOps: ops,
        tags,
        steps: steps ?? NO_STEPS,
      },
      override.info,
    );
  }
  if (port !== undefined && svc.ports.length > 0 && !svc.ports.includes(port)) {
    return failure(
      {
        code: 'NO_ROUTE',
        message: `service ${svc.key} has no port ${port} (ports: ${svc.ports.join(', ')})`,
        service: svc.key,
        tags,
        override: override.info,
      },
      steps,
    );
  }
  const overrideLane = override.lanes?.get(svc.key);
  const destination: DestinationRequest =
    overrideLane === undefined
      ? { service: svc.key, host, port, target: BY_TAG }
      : { service: svc.key, host, port, target: BY_TAG, overrideLane };
  const resolved = resolveDestination(table, destination, tags, ctx.isEjected, steps);
  const overrideInfo = overrideOutcome(override, resolved.overridden);
  if (!resolved.ok) return unresolved(resolved, tags, overrideInfo, steps);
  return withOverride(
    {
      kind: 'forward',
      service: svc.key,
      port: port ?? singlePort(svc.ports),
      target: resolved.target,
      endpoints: resolved.endpoints,
      destination,
      policy: resolved.policy,
      route: undefined,
      delayMs: undefined,
      requestOps: ops,
      responseOps: [],
      tags,
      fallback: resolved.fallback,
      steps: steps ?? NO_STEPS,
    },
    overrideInfo,
  );
}

function singlePort(ports: readonly number[] | undefined): number | undefined {
  return ports?.length === 1 ? ports[0] : undefined;
}

function describeSource(tag: Tag): string {
  switch (tag.source) {
    case 'trace-memory':
      return `from the trace memory, keyed by ${tag.from}`;
    case 'baggage':
      return `from baggage entry ${tag.from}`;
    case 'caller':
      return `the lane of the calling workload ${tag.from}, because its strict group needs no propagation`;
    default:
      return `from header ${tag.from}`;
  }
}
