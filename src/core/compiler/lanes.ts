/**
 * Resolves lane groups and lanes: which lanes are usable, which services each contains, and —
 * per service — the endpoints of every lane and the ordered fallback chain of every lane. Broken
 * references disable the lane that has them (reported in its status); the rest keeps working.
 */

import type { Resource } from '../../config/resource/resource.ts';
import { serviceKey } from '../../config/resource/service-ref.ts';
import { suggestName } from '../../config/schema/did-you-mean.ts';
import { dictFrom, labelsMatch, labelsOf, newDict } from './dict.ts';
import {
  attachAsmEntry,
  type GroupModel,
  groupModels,
  type LaneModel,
  laneModels,
} from './lane-model.ts';
import {
  type ReleaseRouting,
  releaseLaneModels,
  withPromotions,
  withReleaseEntries,
} from './release-lanes.ts';
import type { StatusBook } from './status.ts';
import {
  type CompiledGroup,
  type CompiledLane,
  type Dict,
  type EndpointSet,
  type ServiceLanes,
  type TableEndpoint,
  UNLANED,
} from './table.ts';

export interface ResolvedLanes {
  readonly groups: readonly GroupModel[];
  /** Usable lanes, by name. */
  readonly lanes: ReadonlyMap<string, LaneModel>;
  /** Every lane model (including disabled ones), by name, for status and explain. */
  readonly compiledLanes: Dict<CompiledLane>;
  readonly compiledGroups: Dict<CompiledGroup>;
  /** service key → the group that owns it. */
  readonly serviceGroup: ReadonlyMap<string, GroupModel>;
}

interface LaneCheck {
  readonly model: LaneModel;
  disabledReason: string | undefined;
}

export function resolveLanes(
  resources: readonly Resource[],
  knownServices: ReadonlySet<string>,
  knownGateways: ReadonlySet<string>,
  status: StatusBook,
  releases: readonly ReleaseRouting[] = [],
): ResolvedLanes {
  const defined = laneModels(resources);
  const rawLanes = [
    ...defined,
    ...releaseLaneModels(releases, new Set(defined.map((l) => l.name))),
  ];
  const laneServices = (name: string) =>
    rawLanes.find((l) => l.name === name)?.services?.map(serviceKey);
  const groups = withPromotions(groupModels(resources), releases, laneServices);
  const groupByKey = new Map(groups.map((g) => [g.key, g]));

  // A service belongs to one group: the first by name keeps it, later ones are told.
  const serviceGroup = new Map<string, GroupModel>();
  for (const g of groups) {
    for (const s of g.services) {
      const owner = serviceGroup.get(s.key);
      if (owner) {
        status.problem(
          g.resource,
          'ResolvedRefs',
          'ServiceConflict',
          s.path,
          `service ${s.key} already belongs to ${owner.resource.kind} ${owner.name}; a service can be in one lane group, so this group does not route it`,
        );
        continue;
      }
      serviceGroup.set(s.key, g);
      if (!knownServices.has(s.key)) {
        status.problem(
          g.resource,
          'ResolvedRefs',
          'ServiceNotFound',
          s.path,
          `service ${s.key} does not exist in any cluster yet${suggestName(s.key, knownServices, 'services')}; apply its Service, or fix the name (requests to it fail until then)`,
        );
      }
    }
    for (const ing of g.ingress) {
      const gw = `${ing.gateway.namespace}/${ing.gateway.name}`;
      if (!knownGateways.has(gw)) {
        status.problem(
          g.resource,
          'ResolvedRefs',
          'GatewayNotFound',
          `${ing.path}.gateway`,
          `gateway ${gw} does not exist${suggestName(gw, knownGateways, 'gateways')}; apply it, or fix the name`,
        );
      }
    }
  }

  // Lane names are lane tags, so they are unique across the mesh.
  const checks: LaneCheck[] = [];
  const byName = new Map<string, LaneCheck>();
  for (const raw of rawLanes) {
    const group = groupByKey.get(raw.groupKey);
    const model = withReleaseEntries(attachAsmEntry(raw, group), releases);
    const check: LaneCheck = { model, disabledReason: undefined };
    checks.push(check);
    const first = byName.get(model.name);
    if (first) {
      check.disabledReason = `the lane name ${model.name} is already used by ${first.model.resource.kind} ${first.model.name}`;
      status.problem(
        model.resource,
        'Accepted',
        'Conflicted',
        'metadata.name',
        `${check.disabledReason}; lane names are tags and must be unique in the mesh`,
      );
      continue;
    }
    byName.set(model.name, check);
    if (!group) {
      check.disabledReason = `its group ${model.groupName} does not exist`;
      status.problem(
        model.resource,
        'ResolvedRefs',
        'GroupNotFound',
        model.groupPath,
        `lane group ${JSON.stringify(model.groupName)} does not exist${suggestName(
          model.groupName,
          groups.map((g) => g.name),
          'lane groups',
        )}; apply it or fix the name`,
      );
      continue;
    }
    const members = new Set(group.services.map((s) => s.key));
    model.services?.forEach((ref, i) => {
      const key = serviceKey(ref);
      if (!members.has(key)) {
        check.disabledReason = `it lists ${key}, which is not a service of group ${group.name}`;
        status.problem(
          model.resource,
          'ResolvedRefs',
          'ServiceNotInGroup',
          `spec.services[${i}]`,
          `service ${key} is not in lane group ${group.name} (its services: ${[...members].join(', ')}); add it to the group or remove it here`,
        );
      }
    });
  }
  // Fallback references can only be checked once every lane is known.
  for (const check of checks) {
    const { model } = check;
    if (check.disabledReason || !groupByKey.has(model.groupKey)) continue;
    model.fallback.forEach((name, i) => {
      const target = byName.get(name);
      if (!target || target.model.groupKey !== model.groupKey) {
        check.disabledReason = `its fallback lane ${name} is not a lane of group ${model.groupName}`;
        status.problem(
          model.resource,
          'ResolvedRefs',
          'FallbackNotFound',
          `spec.fallback[${i}]`,
          `lane ${JSON.stringify(name)} is not a lane of group ${model.groupName}`,
        );
      }
    });
  }
  for (const check of checks) {
    if (check.disabledReason && !status.isRejected(check.model.resource)) {
      status.problem(
        check.model.resource,
        'Accepted',
        'Disabled',
        '',
        `lane ${check.model.name} is disabled because ${check.disabledReason}; requests tagged ${check.model.name} use the baselines`,
      );
    }
  }

  const usable = new Map<string, LaneModel>();
  for (const check of checks) {
    if (!check.disabledReason && check.model.enabled && byName.get(check.model.name) === check) {
      usable.set(check.model.name, check.model);
    }
  }

  const compiledLanes = newDict<CompiledLane>();
  for (const check of checks) {
    const m = check.model;
    if (byName.get(m.name) !== check) continue;
    const group = groupByKey.get(m.groupKey);
    compiledLanes[m.name] = {
      name: m.name,
      group: m.groupKey,
      enabled: usable.has(m.name),
      disabledReason:
        check.disabledReason ?? (m.enabled ? undefined : 'it is disabled (spec.enabled: false)'),
      selector: labelsOf(m.selector),
      services: (m.services ?? group?.services.map((s) => s.ref) ?? []).map(serviceKey),
      fallback: [...m.fallback],
      source: sourceOf(m.resource),
    };
  }

  const compiledGroups = newDict<CompiledGroup>();
  for (const g of groups) {
    const lanes = [...byName.values()]
      .filter((c) => c.model.groupKey === g.key)
      .map((c) => c.model.name);
    checkBaselines(g, usable, status);
    if (g.mode === 'strict') warnIncompleteStrictLanes(g, usable, status);
    compiledGroups[g.key] = {
      key: g.key,
      name: g.name,
      mode: g.mode,
      routeHeader: g.routeHeader,
      services: g.services.map((s) => s.key),
      lanes,
      baseline: g.baseline,
      source: sourceOf(g.resource),
    };
  }

  return { groups, lanes: usable, compiledLanes, compiledGroups, serviceGroup };
}

export function laneContains(lane: LaneModel, group: GroupModel, service: string): boolean {
  if (lane.groupKey !== group.key) return false;
  return lane.services === undefined || lane.services.some((s) => serviceKey(s) === service);
}

function checkBaselines(
  g: GroupModel,
  usable: ReadonlyMap<string, LaneModel>,
  status: StatusBook,
): void {
  if (g.baseline !== undefined) {
    const lane = usable.get(g.baseline);
    if (!lane || lane.groupKey !== g.key) {
      status.problem(
        g.resource,
        'ResolvedRefs',
        'BaselineNotFound',
        g.baselinePath,
        `baseline lane ${JSON.stringify(g.baseline)} is not a usable lane of this group`,
      );
    }
  }
  for (const s of g.services) {
    s.fallback.forEach((name) => {
      const lane = usable.get(name);
      if (!lane || lane.groupKey !== g.key) {
        status.problem(
          g.resource,
          'ResolvedRefs',
          'BaselineNotFound',
          s.fallbackPath,
          `baseline lane ${JSON.stringify(name)} of ${s.key} is not a usable lane of this group`,
        );
      } else if (!laneContains(lane, g, s.key)) {
        status.problem(
          g.resource,
          'ResolvedRefs',
          'BaselineLacksService',
          s.fallbackPath,
          `baseline lane ${name} does not contain ${s.key}; add ${s.key} to the lane's services or choose another baseline`,
        );
      }
    });
  }
}

function warnIncompleteStrictLanes(
  g: GroupModel,
  usable: ReadonlyMap<string, LaneModel>,
  status: StatusBook,
): void {
  for (const lane of usable.values()) {
    if (lane.groupKey !== g.key || lane.services === undefined) continue;
    const missing = g.services.filter((s) => !laneContains(lane, g, s.key)).map((s) => s.key);
    if (missing.length > 0) {
      status.warn(
        lane.resource,
        'spec.services',
        `group ${g.name} is strict, and this lane lacks ${missing.join(', ')}: requests tagged ${lane.name} to those services fail with LANE_STRICT_MISS`,
      );
    }
  }
}

function sourceOf(r: Resource) {
  return { kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name };
}

// ---------------------------------------------------------------------------------------------
// Per-service lane data

function endpointSet(all: readonly TableEndpoint[]): EndpointSet {
  return { all, healthy: all.filter((e) => e.healthy) };
}

/**
 * Expands a lane's fallback list depth-first (a fallback lane's own fallbacks come right after
 * it), each lane once, so cycles end instead of looping.
 */
function expandFallbacks(
  lane: string,
  lanes: ReadonlyMap<string, LaneModel>,
  out: string[],
  seen: Set<string>,
): void {
  if (seen.has(lane)) return;
  seen.add(lane);
  out.push(lane);
  for (const next of lanes.get(lane)?.fallback ?? []) expandFallbacks(next, lanes, out, seen);
}

/**
 * The lanes of one service of a group, decided from membership alone (no endpoints): what both
 * lowerings need. The proxy table adds each lane's endpoints; the Istio rendering picks, per lane,
 * the first lane of its chain that has instances.
 */
export interface LaneChains {
  readonly group: GroupModel;
  /** Usable lanes of the group that contain the service, in lane-name order. */
  readonly containing: readonly string[];
  /** For every usable lane of the group: the lanes to try, ending with `UNLANED`. */
  readonly chains: Dict<readonly string[]>;
  /** The chain for requests with no tag, an unknown tag or the tag of a disabled lane. */
  readonly baselineChain: readonly string[];
  /** Lanes of the group that exist but are disabled, with why. */
  readonly disabled: Dict<string>;
}

/** Membership and chains of every service that belongs to a group. Chains are shared arrays. */
export function laneChains(resolved: ResolvedLanes): Map<string, LaneChains> {
  const out = new Map<string, LaneChains>();
  const chainCache = new Map<string, readonly string[]>();
  const share = (chain: string[]): readonly string[] => {
    const key = chain.join('\n');
    const hit = chainCache.get(key);
    if (hit) return hit;
    chainCache.set(key, chain);
    return chain;
  };
  for (const group of resolved.groups) {
    const groupLanes = [...resolved.lanes.values()].filter((l) => l.groupKey === group.key);
    const expanded = new Map<string, string[]>();
    for (const lane of groupLanes) {
      const order: string[] = [];
      expandFallbacks(lane.name, resolved.lanes, order, new Set());
      expanded.set(lane.name, order);
    }
    const disabled = newDict<string>();
    for (const l of Object.values(resolved.compiledLanes)) {
      if (l.group === group.key && !l.enabled) disabled[l.name] = l.disabledReason ?? 'disabled';
    }
    const frozenDisabled = dictFrom(Object.entries(disabled));
    // Which lanes contain which service, and each lane's position in every expanded chain, once
    // per group: per service the work is then proportional to the lanes that contain it.
    const memberOf = new Map<string, string[]>();
    const everywhere: string[] = [];
    for (const lane of groupLanes) {
      if (lane.services === undefined) everywhere.push(lane.name);
      else
        for (const ref of lane.services) {
          const key = serviceKey(ref);
          memberOf.set(key, [...(memberOf.get(key) ?? []), lane.name]);
        }
    }
    const position = new Map<string, Map<string, number>>();
    for (const [name, order] of expanded) position.set(name, new Map(order.map((l, i) => [l, i])));
    const laneOrder = new Map(groupLanes.map((l, i) => [l.name, i]));
    for (const svc of group.services) {
      if (resolved.serviceGroup.get(svc.key) !== group) continue;
      const containing = new Set<string>(
        [...everywhere, ...(memberOf.get(svc.key) ?? [])].sort(
          (a, b) => (laneOrder.get(a) ?? 0) - (laneOrder.get(b) ?? 0),
        ),
      );
      const baselines = [
        ...svc.fallback,
        ...(group.baseline === undefined ? [] : [group.baseline]),
      ].filter((l) => containing.has(l));
      const baselineChain = share(dedupe([...baselines, UNLANED]));
      const chains = newDict<readonly string[]>();
      for (const lane of groupLanes) {
        if (group.mode === 'strict') {
          chains[lane.name] = share(containing.has(lane.name) ? [lane.name] : []);
        } else {
          const at = position.get(lane.name);
          const own = [...containing]
            .filter((l) => at?.has(l))
            .sort((a, b) => at!.get(a)! - at!.get(b)!);
          chains[lane.name] = share(dedupe([...own, ...baselines, UNLANED]));
        }
      }
      out.set(svc.key, {
        group,
        containing: [...containing],
        chains,
        baselineChain,
        disabled: frozenDisabled,
      });
    }
  }
  return out;
}

/**
 * The endpoints of each lane that contains a service, and (`UNLANED`) those no lane of the group
 * selects: the service's base environment.
 */
export function laneEndpoints(
  resolved: ResolvedLanes,
  chains: LaneChains,
  endpoints: readonly TableEndpoint[],
): Record<string, readonly TableEndpoint[]> {
  const out = newDict<readonly TableEndpoint[]>();
  for (const name of chains.containing) {
    const lane = resolved.lanes.get(name);
    if (lane) out[name] = endpoints.filter((e) => labelsMatch(e.labels, lane.selector));
  }
  const groupLanes = Object.values(resolved.compiledLanes).filter(
    (l) => l.group === chains.group.key,
  );
  out[UNLANED] = endpoints.filter(
    (e) => !groupLanes.some((l) => labelsMatch(e.labels, l.selector)),
  );
  return out;
}

/** Builds the lane data of every service that belongs to a group: chains plus endpoints. */
export function serviceLanes(
  resolved: ResolvedLanes,
  chains: ReadonlyMap<string, LaneChains>,
  endpointsOf: (service: string) => readonly TableEndpoint[],
): Map<string, ServiceLanes> {
  const out = new Map<string, ServiceLanes>();
  for (const [service, c] of chains) {
    const byLane = newDict<EndpointSet>();
    for (const [lane, all] of Object.entries(laneEndpoints(resolved, c, endpointsOf(service))))
      byLane[lane] = endpointSet(all);
    out.set(service, {
      group: c.group.key,
      mode: c.group.mode,
      routeHeader: c.group.routeHeader,
      byLane,
      chains: c.chains,
      baselineChain: c.baselineChain,
      disabled: c.disabled,
    });
  }
  return out;
}

function dedupe(list: readonly string[]): string[] {
  return [...new Set(list)];
}
