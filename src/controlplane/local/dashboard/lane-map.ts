/**
 * The dashboard's lane map: for every lane group, services × lanes, and for each pair where its
 * traffic goes now — the lane itself, a fallback (and which lanes were passed over, why), or the
 * error the proxies answer with. Each cell is the engine's own `routeLane` on the compiled table
 * (compiled health, no proxy's ejections), so the map cannot disagree with the proxies.
 */
import { type RoutingTable, UNLANED } from '../../../core/compiler/table.ts';
import { routeLane } from '../../../core/engine/lane-route.ts';
import type { LaneColumn, LaneMapCell, LaneMapGroup, ServiceHealth } from './client/protocol.ts';

function laneName(lane: string): string {
  return lane === UNLANED ? 'no lane' : lane;
}

function cellOf(table: RoutingTable, service: string, lane: string | undefined): LaneMapCell {
  const lanes = table.services[service]?.lanes;
  if (!lanes)
    return { kind: 'fail', code: 'NO_SUCH_SERVICE', message: `${service} is in no group` };
  const routed = routeLane(service, lanes, lane, undefined, undefined);
  if (!routed.ok) return { kind: 'fail', code: routed.code, message: routed.message };
  const passed = routed.fallback.map(
    (f) => `${laneName(f.lane)}: ${f.reason.replaceAll('-', ' ')}`,
  );
  if (lane !== undefined && routed.lane === lane && passed.length === 0)
    return {
      kind: 'own',
      healthy: routed.endpoints.length,
      total: lanes.byLane[lane]?.all.length ?? routed.endpoints.length,
    };
  return { kind: 'fallback', to: laneName(routed.lane), passed, healthy: routed.endpoints.length };
}

/** Every lane group of the table as a map, groups and rows by name, baselines first. */
export function laneMap(table: RoutingTable): LaneMapGroup[] {
  const out: LaneMapGroup[] = [];
  for (const group of Object.values(table.groups).sort((a, b) => (a.key < b.key ? -1 : 1))) {
    const services = [...group.services].sort().filter((s) => table.services[s]?.lanes);
    const baselines = new Set<string>();
    for (const s of services)
      for (const lane of table.services[s]!.lanes!.baselineChain) baselines.add(lane);
    const lanes: LaneColumn[] = Object.values(table.lanes)
      .filter((l) => l.group === group.key)
      .map((l) => ({
        name: l.name,
        baseline: baselines.has(l.name),
        disabled: l.enabled ? undefined : (l.disabledReason ?? 'disabled'),
      }))
      .sort((a, b) =>
        a.baseline !== b.baseline ? (a.baseline ? -1 : 1) : a.name < b.name ? -1 : 1,
      );
    out.push({
      key: group.key,
      mode: group.mode,
      routeHeader: group.routeHeader,
      lanes,
      rows: services.map((service) => ({
        service,
        cells: lanes.map((l) => cellOf(table, service, l.name)),
        untagged: cellOf(table, service, undefined),
      })),
    });
  }
  return out;
}

/** Services outside every lane group, with their instances. */
export function otherServices(table: RoutingTable): ServiceHealth[] {
  return Object.values(table.services)
    .filter((s) => !s.lanes)
    .map((s) => ({ service: s.key, healthy: s.healthy.length, total: s.all.length }))
    .sort((a, b) => (a.service < b.service ? -1 : 1));
}
