/**
 * What a deletion took away from traffic that still flows: for every lane group service, the
 * lanes (and requests without a tag) whose requests reached an instance before and now fail. A
 * Deployment deleted while it was the last one serving a service's baseline is a valid change —
 * but the 503s it causes must be heard at `lanes delete`, not from users. The cells are the
 * dashboard's lane map (the engine's own lane routing on the compiled table), so the warning
 * cannot disagree with what the proxies do.
 */
import type { RoutingTable } from '../../core/compiler/table.ts';
import { type ErrorCode, statusOf } from '../../core/engine/errors.ts';
import type { LaneMapCell } from './dashboard/client/protocol.ts';
import { laneMap } from './dashboard/lane-map.ts';

/** A column of the lane map: a lane's name, or requests that carry no tag. */
const UNTAGGED = '';

type Failure = LaneMapCell & { readonly kind: 'fail' };

function cellsByService(table: RoutingTable): Map<string, Map<string, LaneMapCell>> {
  const out = new Map<string, Map<string, LaneMapCell>>();
  for (const group of laneMap(table)) {
    for (const row of group.rows) {
      const byLane = new Map<string, LaneMapCell>(
        group.lanes.map((lane, i) => [lane.name, row.cells[i]!]),
      );
      byLane.set(UNTAGGED, row.untagged);
      out.set(row.service, byLane);
    }
  }
  return out;
}

function lanesText(lanes: readonly string[]): string {
  const named = lanes.filter((l) => l !== UNTAGGED);
  const parts =
    named.length === 0 ? [] : [`${named.length === 1 ? 'lane' : 'lanes'} ${named.join(', ')}`];
  if (lanes.includes(UNTAGGED)) parts.push('without a lane tag');
  return parts.join(' and ');
}

/**
 * One `warning:` line per service whose requests, in some lane or without a tag, reached an
 * instance in `before` and fail in `after`: which requests, the error they now get, and what to do.
 */
export function lostRoutes(before: RoutingTable | undefined, after: RoutingTable): string[] {
  if (!before) return [];
  const was = cellsByService(before);
  const out: string[] = [];
  for (const [service, now] of cellsByService(after)) {
    const previous = was.get(service);
    if (!previous) continue;
    const lost: [string, Failure][] = [];
    for (const [lane, cell] of now) {
      const old = previous.get(lane);
      if (cell.kind === 'fail' && old !== undefined && old.kind !== 'fail') lost.push([lane, cell]);
    }
    if (lost.length === 0) continue;
    // Named lanes first, by name. The message is the baselines' (untagged requests try exactly
    // those) when they failed too, else the first lane's: either says which lanes were tried.
    lost.sort(([a], [b]) => (a === UNTAGGED ? 1 : b === UNTAGGED ? -1 : a < b ? -1 : 1));
    const [, failure] = lost.at(-1)![0] === UNTAGGED ? lost.at(-1)! : lost[0]!;
    out.push(
      `warning: requests for ${service} in ${lanesText(lost.map(([lane]) => lane))} reached an instance before and now get ${statusOf(failure.code as ErrorCode)} ${failure.code}: ${failure.message}; deploy an instance of ${service} in one of those lanes or in a lane they fall back to (lanes explain shows the chain)`,
    );
  }
  return out;
}
