/**
 * One lane model for both families: native `LaneGroup`/`Lane` and Alibaba ASM
 * `ASMSwimLaneGroup`/`ASMSwimLane` are converted here. ASM semantics follow
 * reference/lane-systems.md §1: `isPermissive`, `routeHeader`, `traceHeader` (a trace id header,
 * `baggage`, or the route header itself), `fallbackTarget`, `serviceLevelFallback(Target)`.
 */

import {
  type AsmRequestMatch,
  type AsmStringMatch,
  type AsmSwimLaneGroupSpec,
  type AsmSwimLaneSpec,
  asmSwimLaneGroupKind,
  asmSwimLaneKind,
  SWIMLANE_GROUP_LABEL,
} from '../../config/kinds/asm/index.ts';
import type {
  Carrier,
  EntrySplit,
  MatchExpr,
  StringTest,
} from '../../config/kinds/native/index.ts';
import { type LaneSpec, laneKind } from '../../config/kinds/native/lane.ts';
import { type LaneGroupSpec, laneGroupKind } from '../../config/kinds/native/lane-group.ts';
import type { GatewayRef } from '../../config/kinds/native/refs.ts';
import { isKind } from '../../config/kinds/registry.ts';
import type { Resource } from '../../config/resource/resource.ts';
import { type ServiceRef, serviceKey } from '../../config/resource/service-ref.ts';

export interface GroupServiceModel {
  readonly ref: ServiceRef;
  readonly key: string;
  readonly fallback: readonly string[];
  /** Field path of the service in the group's list, for status messages. */
  readonly path: string;
  /** Field path of where its fallback is set (its list entry when nothing sets it). */
  readonly fallbackPath: string;
}

export interface IngressModel {
  readonly gateway: GatewayRef;
  readonly hosts: readonly string[];
  readonly destination: { readonly host: string; readonly port?: number };
  readonly path: string;
}

export interface GroupModel {
  /** `Kind/name`: native and ASM groups live side by side. */
  readonly key: string;
  readonly name: string;
  readonly resource: Resource;
  readonly mode: 'permissive' | 'strict';
  readonly routeHeader: string;
  readonly carriers: readonly Carrier[];
  readonly baseline: string | undefined;
  readonly baselinePath: string;
  readonly services: readonly GroupServiceModel[];
  readonly ingress: readonly IngressModel[];
  /** The lane kind that may join this group. */
  readonly laneKind: 'Lane' | 'ASMSwimLane';
}

export interface EntryModel {
  readonly name: string;
  /** Gateways the rule applies to; empty: every ingress of the group. */
  readonly gateways: readonly GatewayRef[];
  /** Hosts the rule applies to; undefined: the ingress' hosts. */
  readonly hosts: readonly string[] | undefined;
  readonly match: MatchExpr | undefined;
  readonly split: EntrySplit;
  readonly destination: { readonly host: string; readonly port?: number } | undefined;
  readonly path: string;
  /** The resource the rule comes from when it is not the lane's own (a Release's rules). */
  readonly owner?: Resource;
}

export interface LaneModel {
  readonly name: string;
  readonly resource: Resource;
  /** `Kind/name` of the group the lane names (which may not exist). */
  readonly groupKey: string;
  readonly groupName: string;
  readonly groupPath: string;
  readonly enabled: boolean;
  readonly selector: Readonly<Record<string, string>>;
  readonly services: readonly ServiceRef[] | undefined;
  readonly fallback: readonly string[];
  readonly entry: readonly EntryModel[];
}

export function groupModels(resources: readonly Resource[]): GroupModel[] {
  const out: GroupModel[] = [];
  for (const r of resources) {
    if (isKind(r, laneGroupKind)) out.push(fromNativeGroup(r));
    else if (isKind(r, asmSwimLaneGroupKind)) out.push(fromAsmGroup(r));
  }
  return out;
}

/** A group's key in the lane model and the table: `LaneGroup/shop`, `ASMSwimLaneGroup/mock`. */
export function groupKey(kind: 'LaneGroup' | 'ASMSwimLaneGroup', name: string): string {
  return `${kind}/${name}`;
}

export function laneModels(resources: readonly Resource[]): LaneModel[] {
  const out: LaneModel[] = [];
  for (const r of resources) {
    if (isKind(r, laneKind)) out.push(fromNativeLane(r));
    else if (isKind(r, asmSwimLaneKind)) out.push(fromAsmLane(r));
  }
  return out;
}

function fromNativeGroup(r: Resource<string, LaneGroupSpec>): GroupModel {
  const s = r.spec;
  return {
    key: groupKey('LaneGroup', r.metadata.name),
    name: r.metadata.name,
    resource: r,
    mode: s.mode,
    routeHeader: s.routeHeader,
    carriers: s.carriers,
    baseline: s.baseline,
    baselinePath: 'spec.baseline',
    services: s.services.map((svc, i) => ({
      ref: svc.ref,
      key: serviceKey(svc.ref),
      fallback: svc.fallback,
      path: `spec.services[${i}]`,
      fallbackPath: `spec.services[${i}]`,
    })),
    ingress: s.ingress.map((ing, i) => ({ ...ing, path: `spec.ingress[${i}]` })),
    laneKind: 'Lane',
  };
}

function fromNativeLane(r: Resource<string, LaneSpec>): LaneModel {
  const s = r.spec;
  return {
    name: r.metadata.name,
    resource: r,
    groupKey: groupKey('LaneGroup', s.group),
    groupName: s.group,
    groupPath: 'spec.group',
    enabled: s.enabled,
    selector: s.selector,
    services: s.services,
    fallback: s.fallback,
    entry: s.entry.map((rule, i) => ({
      name: rule.name,
      gateways: rule.gateways,
      hosts: undefined,
      match: rule.match,
      split: rule.split,
      destination: rule.destination,
      path: `spec.entry[${i}]`,
    })),
  };
}

/** ASM's `traceHeader` picks the propagation mode (lane-systems.md §1.5). */
function asmCarriers(s: AsmSwimLaneGroupSpec): Carrier[] {
  const trace = s.traceHeader;
  if (trace === undefined || trace === s.routeHeader) return [];
  if (trace === 'baggage') return [{ type: 'baggage', key: s.routeHeader }];
  return [{ type: 'traceId', header: trace }];
}

function fromAsmGroup(r: Resource<string, AsmSwimLaneGroupSpec>): GroupModel {
  const s = r.spec;
  const fallbackField = r.origin.positions[
    'spec.permissiveModeConfiguration.serviceLevelFallbackTarget'
  ]
    ? 'serviceLevelFallbackTarget'
    : 'serviceLevelFallback';
  return {
    key: groupKey('ASMSwimLaneGroup', r.metadata.name),
    name: r.metadata.name,
    resource: r,
    mode: s.isPermissive ? 'permissive' : 'strict',
    routeHeader: s.routeHeader,
    carriers: asmCarriers(s),
    baseline: s.fallbackTarget,
    baselinePath: 'spec.permissiveModeConfiguration.fallbackTarget',
    services: s.services.map((ref, i) => {
      const key = serviceKey(ref);
      const target = s.serviceLevelFallback[key];
      return {
        ref,
        key,
        fallback: target === undefined ? [] : [target],
        path: `spec.services[${i}]`,
        fallbackPath:
          target === undefined
            ? `spec.services[${i}]`
            : `spec.permissiveModeConfiguration.${fallbackField}.${key}`,
      };
    }),
    // ASM's gateway is where its generated entry routes attach; entry rules live on the lanes.
    ingress: [],
    laneKind: 'ASMSwimLane',
  };
}

function asmTest(m: AsmStringMatch): StringTest {
  if (m.exact !== undefined) return { op: 'exact', value: m.exact };
  if (m.prefix !== undefined) return { op: 'prefix', value: m.prefix };
  return { op: 'regex', pattern: m.regex ?? '' };
}

function asmMatch(m: AsmRequestMatch | undefined): MatchExpr | undefined {
  if (!m) return undefined;
  const parts: MatchExpr[] = [];
  if (m.uri) parts.push({ kind: 'path', test: asmTest(m.uri) });
  for (const [name, test] of Object.entries(m.headers ?? {})) {
    parts.push({ kind: 'header', name, test: asmTest(test) });
  }
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : { kind: 'all', of: parts };
}

/** ASM lanes need their group's spec (gateway, weighted rule) to build entry rules. */
export function attachAsmEntry(lane: LaneModel, group: GroupModel | undefined): LaneModel {
  if (
    !isKind(lane.resource, asmSwimLaneKind) ||
    !group ||
    !isKind(group.resource, asmSwimLaneGroupKind)
  ) {
    return lane;
  }
  const s: AsmSwimLaneSpec = lane.resource.spec;
  const g: AsmSwimLaneGroupSpec = group.resource.spec;
  const gateways = g.gateway ? [g.gateway] : [];
  const entry: EntryModel[] = [];
  if (g.ingressRouting.strategy === 'rule_based') {
    s.ingressRules.forEach((rule, i) => {
      if (!rule.online) return;
      entry.push({
        name: rule.name,
        gateways,
        hosts: rule.hosts,
        match: asmMatch(rule.match),
        split: { kind: 'all' },
        destination: rule.destination,
        path: `spec.ingressRules[${i}]`,
      });
    });
  } else if (s.ingressWeight) {
    const matches = g.ingressRouting.requestMatches.map(asmMatch).filter((m) => m !== undefined);
    entry.push({
      name: 'ingressWeight',
      gateways,
      hosts: g.ingressRouting.hosts,
      match:
        matches.length === 0
          ? undefined
          : matches.length === 1
            ? matches[0]
            : { kind: 'any', of: matches },
      split: { kind: 'weight', percent: s.ingressWeight.weight },
      destination: s.ingressWeight.destination,
      path: 'spec.ingressWeight',
    });
  }
  return { ...lane, entry };
}

function fromAsmLane(r: Resource<string, AsmSwimLaneSpec>): LaneModel {
  const groupName = r.metadata.labels[SWIMLANE_GROUP_LABEL] ?? '';
  return {
    name: r.metadata.name,
    resource: r,
    groupKey: groupKey('ASMSwimLaneGroup', groupName),
    groupName,
    groupPath: `metadata.labels["${SWIMLANE_GROUP_LABEL}"]`,
    enabled: true,
    selector: r.spec.labelSelector,
    services: r.spec.services,
    fallback: [],
    entry: [],
  };
}
