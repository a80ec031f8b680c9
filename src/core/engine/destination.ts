/**
 * Resolves a chosen destination to endpoints: a DestinationRule subset, a lane (with fallback),
 * or the whole service (lane routing by tag when the service is in a lane group).
 */
import type {
  CompiledService,
  RoutingTable,
  TableEndpoint,
  UpstreamPolicy,
} from '../compiler/table.ts';
import type { ErrorCode } from './errors.ts';
import { healthyOf, routeLane, routeOverrideLane } from './lane-route.ts';
import type { DestinationRequest, FallbackStep, Forward, Tag, Target } from './types.ts';

export type Resolved =
  | {
      readonly ok: true;
      readonly service: CompiledService;
      readonly target: Target;
      readonly endpoints: readonly TableEndpoint[];
      readonly policy: UpstreamPolicy;
      readonly fallback: readonly FallbackStep[];
      /** The lane was chosen by a per-request override. */
      readonly overridden: boolean;
    }
  | {
      readonly ok: false;
      readonly code: ErrorCode;
      readonly message: string;
      readonly service: string | undefined;
      readonly lane: string | undefined;
      readonly fallback: readonly FallbackStep[];
      readonly overridden: boolean;
    };

function policyFor(svc: CompiledService, port: number | undefined): UpstreamPolicy {
  return (port !== undefined ? svc.policyByPort[String(port)] : undefined) ?? svc.policy;
}

export function resolveDestination(
  table: RoutingTable,
  dest: DestinationRequest,
  tags: readonly Tag[],
  isEjected: ((e: TableEndpoint) => boolean) | undefined,
  steps: string[] | undefined,
): Resolved {
  const svc = dest.service === undefined ? undefined : table.services[dest.service];
  if (!svc) {
    return {
      ok: false,
      code: 'NO_SUCH_SERVICE',
      message: `${dest.host} is not a known service`,
      service: dest.service,
      lane: undefined,
      fallback: [],
      overridden: false,
    };
  }
  const target = dest.target;
  const overrideLane = dest.overrideLane;
  switch (target.kind) {
    case 'unresolved-subset':
      return {
        ok: false,
        code: 'NO_SUCH_SUBSET',
        message: `subset ${target.subset} of ${svc.key} is neither a DestinationRule subset nor a lane of its group`,
        service: svc.key,
        lane: undefined,
        fallback: [],
        overridden: false,
      };
    case 'subset': {
      if (overrideLane !== undefined)
        steps?.push(
          `${svc.key}: the override's lane ${overrideLane} does not apply: the route names DestinationRule subset ${target.subset}, which is not a lane`,
        );
      const subset = svc.subsets[target.subset];
      const healthy = subset ? healthyOf(subset.healthy, isEjected) : [];
      if (!subset || healthy.length === 0) {
        return {
          ok: false,
          code: subset ? 'NO_HEALTHY_ENDPOINTS' : 'NO_SUCH_SUBSET',
          message: subset
            ? `subset ${target.subset} of ${svc.key} has no healthy endpoint (${subset.all.length} known)`
            : `subset ${target.subset} of ${svc.key} no longer exists`,
          service: svc.key,
          lane: undefined,
          fallback: [],
          overridden: false,
        };
      }
      steps?.push(
        `${svc.key}: subset ${target.subset} (${healthy.length} healthy endpoint${healthy.length === 1 ? '' : 's'})`,
      );
      return {
        ok: true,
        service: svc,
        target: { kind: 'subset', subset: target.subset },
        endpoints: healthy,
        policy: subset.policy,
        fallback: [],
        overridden: false,
      };
    }
    case 'lane':
    case 'service': {
      const lanes = svc.lanes;
      if (!lanes && overrideLane !== undefined)
        steps?.push(
          `${svc.key}: the override's lane ${overrideLane} does not apply: ${svc.key} is in no lane group`,
        );
      if (!lanes) {
        const healthy = healthyOf(svc.healthy, isEjected);
        if (healthy.length === 0) {
          return {
            ok: false,
            code: 'NO_HEALTHY_ENDPOINTS',
            message: `${svc.key} has no healthy endpoint (${svc.all.length} known)`,
            service: svc.key,
            lane: undefined,
            fallback: [],
            overridden: false,
          };
        }
        steps?.push(`${svc.key}: any endpoint (${healthy.length} healthy)`);
        return {
          ok: true,
          service: svc,
          target: { kind: 'service' },
          endpoints: healthy,
          policy: policyFor(svc, dest.port),
          fallback: [],
          overridden: false,
        };
      }
      const requested =
        target.kind === 'lane'
          ? target.lane
          : tags.find((t) => t.routeHeader === lanes.routeHeader)?.lane;
      if (target.kind === 'lane') steps?.push(`${svc.key}: the route names lane ${target.lane}`);
      // The override wins over the tag and the route's lane, for the services it names only.
      const overridden = overrideLane !== undefined;
      const routed = overridden
        ? routeOverrideLane(svc.key, lanes, overrideLane, isEjected, steps)
        : routeLane(svc.key, lanes, requested, isEjected, steps);
      if (!routed.ok) {
        return {
          ok: false,
          code: routed.code,
          message: routed.message,
          service: svc.key,
          lane: overridden ? overrideLane : requested,
          fallback: routed.fallback,
          overridden,
        };
      }
      return {
        ok: true,
        service: svc,
        target: { kind: 'lane', group: lanes.group, lane: routed.lane },
        endpoints: routed.endpoints,
        policy: policyFor(svc, dest.port),
        fallback: routed.fallback,
        overridden,
      };
    }
  }
}

/**
 * Where a retry goes once every candidate of a forward decision has failed the request: the same
 * destination resolved again with those endpoints counted as unhealthy (`unavailable`). For a
 * lane that is the next lane of its fallback chain with a healthy endpoint (strict lanes have
 * none); a DestinationRule subset or a service outside lanes has nowhere else to go. Istio
 * retries into the same subset; lanes keeps the request in its lane only while the lane can
 * serve it, as its first decision does.
 */
export function reroute(
  table: RoutingTable,
  decision: Forward,
  unavailable: (e: TableEndpoint) => boolean,
): Resolved {
  return resolveDestination(table, decision.destination, decision.tags, unavailable, undefined);
}
