/**
 * What a running Release changes in the lane model, given its state (the daemon's release
 * driver decides the state; the compiler only applies it, so it stays pure):
 *
 * - the gray lane itself, when the Release creates it (a lane named by the release that no Lane
 *   resource defines, selected by the labels its workloads share);
 * - entry rules on that lane: the verification match (only matching requests enter while the
 *   gate is closed, and testers keep their way in until the release is over) and the current
 *   step's weight — a random share of the group's ingress traffic stamped with the lane, the
 *   same band mechanism as a Lane's own `weight` rules;
 * - after promotion, the lane as the first baseline of each of its services.
 */
import type { MatchExpr } from '../../config/kinds/native/index.ts';
import type { Resource } from '../../config/resource/resource.ts';
import type { ServiceRef } from '../../config/resource/service-ref.ts';
import { type EntryModel, type GroupModel, groupKey, type LaneModel } from './lane-model.ts';

export interface ReleaseRouting {
  /** The Release resource: statuses and back-pointers of what it adds point at it. */
  readonly resource: Resource;
  readonly group: string;
  readonly lane: string;
  /** The lane to create when no Lane resource defines it. */
  readonly template:
    | {
        readonly selector: Readonly<Record<string, string>>;
        readonly services: readonly ServiceRef[];
      }
    | undefined;
  /** Percent of ingress requests stamped with the lane now; 0 for none. */
  readonly weight: number;
  /** Requests that match enter the lane (the verification gate); undefined when not in force. */
  readonly verify: MatchExpr | undefined;
  /** The lane is the first baseline of its services. */
  readonly promoted: boolean;
}

/** Lanes the releases create (those no lane resource of that name defines). */
export function releaseLaneModels(
  releases: readonly ReleaseRouting[],
  defined: ReadonlySet<string>,
): LaneModel[] {
  const out: LaneModel[] = [];
  for (const r of releases) {
    if (!r.template || defined.has(r.lane)) continue;
    out.push({
      name: r.lane,
      resource: r.resource,
      groupKey: groupKey('LaneGroup', r.group),
      groupName: r.group,
      groupPath: 'spec.group',
      enabled: true,
      selector: r.template.selector,
      services: r.template.services,
      fallback: [],
      entry: [],
    });
  }
  return out;
}

/** The lane with the entry rules of the releases that run on it. */
export function withReleaseEntries(
  lane: LaneModel,
  releases: readonly ReleaseRouting[],
): LaneModel {
  const mine = releases.filter(
    (r) => r.lane === lane.name && groupKey('LaneGroup', r.group) === lane.groupKey,
  );
  if (mine.length === 0) return lane;
  const entry: EntryModel[] = [...lane.entry];
  for (const r of mine) {
    const name = r.resource.metadata.name;
    if (r.verify)
      entry.push({
        name: `release ${name} verify`,
        gateways: [],
        hosts: undefined,
        match: r.verify,
        split: { kind: 'all' },
        destination: undefined,
        path: 'spec.verify.match',
        owner: r.resource,
      });
    if (r.weight > 0)
      entry.push({
        name: `release ${name} weight`,
        gateways: [],
        hosts: undefined,
        match: undefined,
        split: { kind: 'weight', percent: r.weight },
        destination: undefined,
        path: 'spec.steps',
        owner: r.resource,
      });
  }
  return { ...lane, entry };
}

/** Groups whose promoted release lanes come first in their services' baselines. */
export function withPromotions(
  groups: readonly GroupModel[],
  releases: readonly ReleaseRouting[],
  laneServices: (lane: string) => readonly string[] | undefined,
): GroupModel[] {
  const promoted = releases.filter((r) => r.promoted);
  if (promoted.length === 0) return [...groups];
  return groups.map((g) => {
    const mine = promoted.filter((r) => groupKey('LaneGroup', r.group) === g.key);
    if (mine.length === 0) return g;
    return {
      ...g,
      services: g.services.map((s) => {
        let fallback = s.fallback;
        for (const r of mine) {
          const services = laneServices(r.lane);
          if (services !== undefined && !services.includes(s.key)) continue;
          fallback = [r.lane, ...fallback.filter((l) => l !== r.lane)];
        }
        return fallback === s.fallback ? s : { ...s, fallback };
      }),
    };
  });
}
