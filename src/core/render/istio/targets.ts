/**
 * Permissive fallback by membership, resolved at render time: for lane L on service S, the
 * destination is the subset of the first lane of L's chain that has instances of S (any health:
 * Istio cannot fall back on health). Without any endpoint knowledge of S, membership is what the
 * lanes declare. A chain that reaches "instances in no lane" routes to the bare host, which is
 * exact only while no lane has instances; a chain with nothing left fails as lanes' proxies do.
 */
import type { Analysis } from '../../compiler/analyze.ts';
import type { GroupModel } from '../../compiler/lane-model.ts';
import { type LaneChains, laneEndpoints } from '../../compiler/lanes.ts';
import { UNLANED } from '../../compiler/table.ts';

export type LaneTarget =
  | { readonly kind: 'subset'; readonly subset: string; readonly lane: string }
  /** The host without a subset: every instance of the service. */
  | { readonly kind: 'unlaned' }
  | {
      readonly kind: 'fail';
      readonly code: 'LANE_STRICT_MISS' | 'LANE_NO_ENDPOINTS';
      readonly message: string;
    };

export interface ServicePlan {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly host: string;
  readonly group: GroupModel;
  readonly chains: LaneChains;
  /** Subsets lanes needs on this service: one per lane that contains it, by lane name. */
  readonly subsets: ReadonlyMap<
    string,
    { readonly name: string; readonly labels: Readonly<Record<string, string>> }
  >;
  /** Lanes with instances of the service (any health); undefined when no instance is known at all. */
  readonly populated: ReadonlySet<string> | undefined;
  /** Whether lanes other than "no lane" have instances (the bare host then mixes lanes). */
  readonly unlanedMixes: boolean;
}

export function servicePlan(
  analysis: Analysis,
  key: string,
  chains: LaneChains,
  subsetName: (lane: string) => string,
): ServicePlan {
  const entry = analysis.registry.get(key);
  const [namespace, name] = key.split('/') as [string, string];
  const endpoints = entry?.endpoints ?? [];
  const byLane = laneEndpoints(analysis.lanes, chains, endpoints);
  const populated =
    endpoints.length === 0
      ? undefined
      : new Set(Object.keys(byLane).filter((l) => (byLane[l]?.length ?? 0) > 0));
  const subsets = new Map<string, { name: string; labels: Readonly<Record<string, string>> }>();
  for (const lane of chains.containing) {
    const model = analysis.lanes.lanes.get(lane);
    if (model) subsets.set(lane, { name: subsetName(lane), labels: model.selector });
  }
  return {
    key,
    namespace,
    name,
    host: `${name}.${namespace}.svc.cluster.local`,
    group: chains.group,
    chains,
    subsets,
    populated,
    unlanedMixes: populated !== undefined && [...populated].some((l) => l !== UNLANED),
  };
}

/** Where a request for `plan`'s service goes along `chain` (`pinned`: a strict lane's tag). */
export function resolveChain(
  plan: ServicePlan,
  chain: readonly string[],
  requested: string | undefined,
): LaneTarget {
  const strictPin = requested !== undefined && plan.group.mode === 'strict';
  for (const lane of chain) {
    const has = plan.populated === undefined ? lane !== UNLANED : plan.populated.has(lane);
    if (!has) continue;
    if (lane === UNLANED) return { kind: 'unlaned' };
    const subset = plan.subsets.get(lane);
    if (subset) return { kind: 'subset', subset: subset.name, lane };
  }
  if (plan.populated === undefined && chain.at(-1) === UNLANED) return { kind: 'unlaned' };
  if (strictPin) {
    return {
      kind: 'fail',
      code: 'LANE_STRICT_MISS',
      message: `lane ${requested} of strict group ${plan.group.name} ${chain.length === 0 ? `does not contain ${plan.key}` : `has no instance of ${plan.key}`}; strict lanes never fall back`,
    };
  }
  return {
    kind: 'fail',
    code: 'LANE_NO_ENDPOINTS',
    message: `no instance of ${plan.key} in ${chain.map((l) => (l === UNLANED ? 'instances in no lane' : `lane ${l}`)).join(', ')}${requested === undefined ? '' : ` (request tagged ${requested})`}`,
  };
}

/** The target of a request tagged `lane` (a usable lane of the group, else the baselines). */
export function laneTarget(plan: ServicePlan, lane: string | undefined): LaneTarget {
  if (lane === undefined) return resolveChain(plan, plan.chains.baselineChain, undefined);
  const chain = plan.chains.chains[lane];
  if (chain === undefined) return resolveChain(plan, plan.chains.baselineChain, undefined);
  return resolveChain(plan, chain, lane);
}
