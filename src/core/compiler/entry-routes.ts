/**
 * Lane entry rules → gateway routes of the same form as VirtualService routes. Per gateway and
 * host, rules are ordered: plain conditions, then sticky percentages, then weights, each group by
 * lane name and rule order; a native ingress ends with a default route to the baseline.
 *
 * Weighted rules at one gateway host share one random draw in [0, 100) per request and occupy
 * disjoint bands in rule order, so `v2: 20` and `v3: 10` really give 20 % and 10 %. Sticky rules
 * hash `"<lane>/<key value>"`, so raising a percentage only adds keys, and lanes are independent.
 */
import type { EntryRule } from '../../config/kinds/native/lane.ts';
import type { EntryModel, GroupModel, IngressModel, LaneModel } from './lane-model.ts';
import type { ResolvedLanes } from './lanes.ts';
import { ALWAYS, and, nativeMatch } from './matchers.ts';
import { DEFAULT_RETRIES, NO_HEADERS, type RouteContext } from './routes.ts';
import type { StatusBook } from './status.ts';
import type { CompiledRoute, DestinationTarget, Matcher } from './table.ts';

/** The share of matching requests a rule takes, as decided for one gateway host. */
export type EntryShare =
  | { readonly kind: 'all' }
  | { readonly kind: 'sticky'; readonly percent: number }
  /** Its band of the one random draw in [0, 100) per request at this gateway host. */
  | { readonly kind: 'band'; readonly from: number; readonly to: number };

/** What an entry route was made from: what the Istio lowering renders. */
export type EntryOrigin =
  | {
      readonly kind: 'rule';
      readonly group: GroupModel;
      readonly lane: LaneModel;
      readonly rule: EntryModel;
      readonly share: EntryShare;
      readonly destination: { readonly host: string; readonly port?: number };
      readonly service: string | undefined;
    }
  | {
      readonly kind: 'ingress';
      readonly group: GroupModel;
      readonly ingress: IngressModel;
      readonly service: string | undefined;
    };

export interface EntryRoute {
  readonly gateway: string;
  readonly host: string;
  readonly route: CompiledRoute;
  readonly origin: EntryOrigin;
}

interface Target {
  readonly gateway: string;
  readonly hosts: readonly string[];
  readonly destination: { readonly host: string; readonly port?: number };
}

const SPLIT_ORDER: Record<EntryRule['split']['kind'], number> = { all: 0, sticky: 1, weight: 2 };

/** Where a rule puts requests into its lane: gateways, hosts and the destination there. */
function targetsOf(group: GroupModel, rule: LaneModel['entry'][number]): Target[] {
  const gatewayKeys = rule.gateways.map((g) => `${g.namespace}/${g.name}`);
  switch (group.laneKind) {
    case 'ASMSwimLane':
      // ASM lanes carry their own hosts and destination; the group names the gateway.
      if (!rule.destination) return [];
      return gatewayKeys.map((gateway) => ({
        gateway,
        hosts: rule.hosts ?? ['*'],
        destination: rule.destination!,
      }));
    case 'Lane':
      // Native rules apply at the group's ingresses (those the rule names, if it names any).
      return group.ingress
        .filter(
          (ing: IngressModel) =>
            gatewayKeys.length === 0 ||
            gatewayKeys.includes(`${ing.gateway.namespace}/${ing.gateway.name}`),
        )
        .map((ing) => ({
          gateway: `${ing.gateway.namespace}/${ing.gateway.name}`,
          hosts: rule.hosts ?? ing.hosts,
          destination: rule.destination ?? ing.destination,
        }));
  }
}

/** Why a native rule applies at no gateway, for its lane's status. */
function nowhereMessage(group: GroupModel, rule: LaneModel['entry'][number]): string {
  const ingresses = group.ingress.map((i) => `${i.gateway.namespace}/${i.gateway.name}`);
  if (ingresses.length === 0)
    return `entry rule ${rule.name} applies at no gateway: LaneGroup ${group.name} has no spec.ingress; add one naming the gateway where requests enter`;
  return `entry rule ${rule.name} applies at no gateway: it names ${rule.gateways.map((g) => `${g.namespace}/${g.name}`).join(', ')}, and the ingresses of LaneGroup ${group.name} are ${ingresses.join(', ')}; name one of those, or add the gateway to spec.ingress`;
}

export function entryRoutes(
  resolved: ResolvedLanes,
  ctx: Omit<RouteContext, 'resource'>,
  status: StatusBook,
): EntryRoute[] {
  const out: EntryRoute[] = [];
  const bandUsed = new Map<string, number>();
  for (const group of resolved.groups) {
    const lanes = [...resolved.lanes.values()]
      .filter((l) => l.groupKey === group.key)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const rules = lanes
      .flatMap((lane) => lane.entry.map((rule, index) => ({ lane, rule, index })))
      .sort((a, b) => SPLIT_ORDER[a.rule.split.kind] - SPLIT_ORDER[b.rule.split.kind]);
    for (const { lane, rule } of rules) {
      const owner = rule.owner ?? lane.resource;
      const targets = targetsOf(group, rule);
      if (targets.length === 0 && group.laneKind === 'Lane') {
        status.problem(owner, 'ResolvedRefs', 'NoIngress', rule.path, nowhereMessage(group, rule));
      }
      for (const target of targets) {
        for (const host of target.hosts) {
          const split = splitMatcher(
            lane,
            rule,
            owner,
            `${target.gateway}\n${host}`,
            bandUsed,
            status,
          );
          if (split === undefined) continue;
          const service = ctx.resolveService(target.destination.host, 'default');
          if (service === undefined) {
            status.problem(
              owner,
              'ResolvedRefs',
              'BackendNotFound',
              `${rule.path}.destination`,
              `entry destination ${JSON.stringify(target.destination.host)} is not a known service`,
            );
          }
          const laneTarget: DestinationTarget = { kind: 'lane', group: group.key, lane: lane.name };
          const source = {
            kind: owner.kind,
            namespace: owner.metadata.namespace,
            name: owner.metadata.name,
            path: rule.path,
          };
          out.push({
            gateway: target.gateway,
            host,
            origin: {
              kind: 'rule',
              group,
              lane,
              rule,
              share: shareOf(split),
              destination: target.destination,
              service,
            },
            route: {
              name: `${lane.name}/${rule.name}`,
              source,
              match: and([rule.match ? nativeMatch(rule.match) : ALWAYS, split]),
              action: {
                kind: 'route',
                totalWeight: 1,
                destinations: [
                  {
                    host: target.destination.host,
                    service,
                    port: target.destination.port,
                    weight: 1,
                    target: laneTarget,
                    // Stamping the route header here is what puts the request into the lane.
                    headers: {
                      request: [{ op: 'set', name: group.routeHeader, value: lane.name }],
                      response: [],
                    },
                    source,
                  },
                ],
              },
              timeoutMs: undefined,
              retries: DEFAULT_RETRIES,
              fault: undefined,
              rewrite: undefined,
              headers: NO_HEADERS,
            },
          });
        }
      }
    }
    // A native ingress sends everything no rule took to the destination's baseline.
    group.ingress.forEach((ing) => {
      const gateway = `${ing.gateway.namespace}/${ing.gateway.name}`;
      const service = ctx.resolveService(ing.destination.host, 'default');
      const source = { kind: group.resource.kind, namespace: '', name: group.name, path: ing.path };
      for (const host of ing.hosts) {
        out.push({
          gateway,
          host,
          origin: { kind: 'ingress', group, ingress: ing, service },
          route: {
            name: `${group.name}/ingress`,
            source,
            match: ALWAYS,
            action: {
              kind: 'route',
              totalWeight: 1,
              destinations: [
                {
                  host: ing.destination.host,
                  service,
                  port: ing.destination.port,
                  weight: 1,
                  target: { kind: 'service' },
                  headers: NO_HEADERS,
                  source,
                },
              ],
            },
            timeoutMs: undefined,
            retries: DEFAULT_RETRIES,
            fault: undefined,
            rewrite: undefined,
            headers: NO_HEADERS,
          },
        });
      }
    });
  }
  return out;
}

function shareOf(split: Matcher): EntryShare {
  if (split.kind === 'sticky') return { kind: 'sticky', percent: split.percent };
  if (split.kind === 'band') return { kind: 'band', from: split.from, to: split.to };
  return { kind: 'all' };
}

function splitMatcher(
  lane: LaneModel,
  rule: LaneModel['entry'][number],
  owner: LaneModel['resource'],
  bandKey: string,
  bandUsed: Map<string, number>,
  status: StatusBook,
): Matcher | undefined {
  const split = rule.split;
  switch (split.kind) {
    case 'all':
      return ALWAYS;
    case 'sticky':
      return { kind: 'sticky', salt: lane.name, percent: split.percent, key: split.key };
    case 'weight': {
      const from = bandUsed.get(bandKey) ?? 0;
      const to = Math.min(100, from + split.percent);
      if (from + split.percent > 100) {
        status.problem(
          owner,
          'ResolvedRefs',
          'WeightsExceed100',
          rule.path,
          `weighted entry rules at ${bandKey.replace('\n', ' host ')} add up to more than 100 %; this rule gets the ${to - from} % that is left`,
        );
      }
      bandUsed.set(bandKey, to);
      return to > from ? { kind: 'band', from, to } : undefined;
    }
  }
}
