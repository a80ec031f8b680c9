/**
 * Lane routing for one service (SPEC §4.3 step 4): the lane named by the tag (or by a route's
 * subset) if it contains the service and has healthy endpoints; otherwise, in permissive groups,
 * the first lane of its fallback chain that does; in strict groups, a clear error. No tag, an
 * unknown tag or a disabled lane's tag → the service's baselines. The tag itself never changes.
 */
import { type ServiceLanes, type TableEndpoint, UNLANED } from '../compiler/table.ts';
import type { ErrorCode } from './errors.ts';
import type { FallbackStep } from './types.ts';

export type LaneRouteResult =
  | {
      readonly ok: true;
      readonly lane: string;
      readonly endpoints: readonly TableEndpoint[];
      readonly fallback: readonly FallbackStep[];
    }
  | {
      readonly ok: false;
      readonly code: ErrorCode;
      readonly message: string;
      readonly fallback: readonly FallbackStep[];
    };

export function healthyOf(
  endpoints: readonly TableEndpoint[],
  isEjected: ((e: TableEndpoint) => boolean) | undefined,
): readonly TableEndpoint[] {
  if (!isEjected || endpoints.length === 0) return endpoints;
  let ejected = 0;
  for (const e of endpoints) if (isEjected(e)) ejected++;
  return ejected === 0 ? endpoints : endpoints.filter((e) => !isEjected(e));
}

export function laneLabel(lane: string): string {
  return lane === UNLANED ? 'instances in no lane' : `lane ${lane}`;
}

export function routeLane(
  service: string,
  lanes: ServiceLanes,
  requested: string | undefined,
  isEjected: ((e: TableEndpoint) => boolean) | undefined,
  steps: string[] | undefined,
): LaneRouteResult {
  const fallback: FallbackStep[] = [];
  let chain: readonly string[];
  const strictPin =
    requested !== undefined && lanes.mode === 'strict' && lanes.chains[requested] !== undefined;
  if (requested === undefined) {
    chain = lanes.baselineChain;
    steps?.push(`${service}: no lane tag, so the baselines: ${chain.map(laneLabel).join(' → ')}`);
  } else if (lanes.chains[requested] !== undefined) {
    chain = lanes.chains[requested];
    if (chain[0] !== requested) {
      fallback.push({ lane: requested, reason: 'lacks-service' });
      steps?.push(`${service}: lane ${requested} does not contain ${service}`);
    }
  } else if (lanes.disabled[requested] !== undefined) {
    chain = lanes.baselineChain;
    fallback.push({ lane: requested, reason: 'disabled' });
    steps?.push(
      `${service}: lane ${requested} is disabled (${lanes.disabled[requested]}), so the baselines`,
    );
  } else {
    chain = lanes.baselineChain;
    fallback.push({ lane: requested, reason: 'unknown-lane' });
    steps?.push(`${service}: ${requested} is not a lane of group ${lanes.group}, so the baselines`);
  }

  for (const lane of chain) {
    const set = lanes.byLane[lane];
    const healthy = set ? healthyOf(set.healthy, isEjected) : [];
    if (healthy.length > 0) {
      if (fallback.length > 0 || lane !== requested) {
        // Say which kind of fallback this is: the first thing a developer asks is "why there?".
        const role =
          lane === UNLANED
            ? ''
            : lanes.baselineChain.includes(lane)
              ? `, a baseline of ${service}`
              : requested !== undefined && lane !== requested
                ? `, a fallback of lane ${requested}`
                : '';
        steps?.push(
          `${service}: → ${laneLabel(lane)}${role} (${healthy.length} healthy endpoint${healthy.length === 1 ? '' : 's'})`,
        );
      } else {
        steps?.push(
          `${service}: lane ${lane} has ${healthy.length} healthy endpoint${healthy.length === 1 ? '' : 's'}`,
        );
      }
      return { ok: true, lane, endpoints: healthy, fallback };
    }
    fallback.push({ lane, reason: 'no-healthy-endpoints' });
    steps?.push(
      `${service}: ${laneLabel(lane)} has no healthy endpoint${set && set.all.length > 0 ? ` (${set.all.length} unhealthy)` : ''}`,
    );
  }

  if (strictPin) {
    return {
      ok: false,
      code: 'LANE_STRICT_MISS',
      fallback,
      message: `lane ${requested} of strict group ${lanes.group} ${chain.length === 0 ? `does not contain ${service}` : `has no healthy endpoint of ${service}`}; strict lanes never fall back`,
    };
  }
  const tried = fallback.map((f) => laneLabel(f.lane)).join(', ');
  return {
    ok: false,
    code: 'LANE_NO_ENDPOINTS',
    fallback,
    message: `no healthy endpoint of ${service} in ${tried || 'any lane'}${requested === undefined ? '' : ` (request tagged ${requested})`}`,
  };
}

/**
 * Lane routing for a service a per-request override names. Permissive groups route exactly as
 * for a tag naming that lane (its own chain, then the baselines); strict groups never leave the
 * lane the override names, and the error says it was the override, not the request's lane.
 */
export function routeOverrideLane(
  service: string,
  lanes: ServiceLanes,
  lane: string,
  isEjected: ((e: TableEndpoint) => boolean) | undefined,
  steps: string[] | undefined,
): LaneRouteResult {
  steps?.push(`${service}: the override names lane ${lane}`);
  if (lanes.mode === 'permissive') return routeLane(service, lanes, lane, isEjected, steps);
  const set = lanes.chains[lane] !== undefined ? lanes.byLane[lane] : undefined;
  const healthy = set ? healthyOf(set.healthy, isEjected) : [];
  if (healthy.length > 0) {
    steps?.push(
      `${service}: lane ${lane} has ${healthy.length} healthy endpoint${healthy.length === 1 ? '' : 's'}`,
    );
    return { ok: true, lane, endpoints: healthy, fallback: [] };
  }
  const [reason, why]: [FallbackStep['reason'], string] =
    lanes.chains[lane] === undefined
      ? lanes.disabled[lane] !== undefined
        ? ['disabled', `is disabled (${lanes.disabled[lane]})`]
        : ['unknown-lane', `is not a lane of strict group ${lanes.group}`]
      : set === undefined
        ? ['lacks-service', `does not contain ${service}`]
        : ['no-healthy-endpoints', `has no healthy endpoint of ${service}`];
  return {
    ok: false,
    code: 'OVERRIDE_STRICT_MISS',
    fallback: [{ lane, reason }],
    message: `the override names lane ${lane} for ${service}, which ${why}; strict lanes never fall back`,
  };
}
