/**
 * What the control API shows of the applied resources: each document as applied, its status,
 * its instances (Deployments), and — for lane groups and lanes, whatever kind declared them —
 * what the compiler made of it: mode, route header, selector, services with their endpoints,
 * fallback, enabled or not and why. The CLI and the dashboard read these summaries; neither
 * re-derives meaning from manifests (an ASM group's route header, a LaneGroup's default mode).
 */
import { parse as parseYaml } from 'yaml';
import { type Resource, resourceKey } from '../../config/resource/resource.ts';
import { formatIssue } from '../../config/source/issues.ts';
import { describeCondition, type ResourceStatus } from '../../core/compiler/status.ts';
import type {
  CompiledGroup,
  CompiledLane,
  RoutingTable,
  SourceRef,
} from '../../core/compiler/table.ts';
import type {
  ConditionView,
  InstanceView,
  LaneGroupSummary,
  LaneSummary,
  ReleaseView,
  ResourceQuery,
  ResourceView,
} from './protocol.ts';

/**
 * Kinds that declare one concept: a query for the first gets every one of them, each item with
 * its own kind. A lane is a lane whatever kind declared it.
 */
const SAME_CONCEPT: Readonly<Record<string, readonly string[]>> = {
  Lane: ['Lane', 'ASMSwimLane'],
  LaneGroup: ['LaneGroup', 'ASMSwimLaneGroup'],
};

export interface ViewSources {
  readonly resources: readonly Resource[];
  readonly statuses: readonly ResourceStatus[];
  readonly table: RoutingTable | undefined;
  /** The instances of a Deployment resource. */
  readonly instancesOf: (deployment: Resource) => InstanceView[] | undefined;
  /** Where a Release is. */
  readonly releaseOf?: (release: Resource) => ReleaseView | undefined;
}

export function resourceViews(src: ViewSources, query: ResourceQuery): ResourceView[] {
  const kinds = query.kind === undefined ? undefined : (SAME_CONCEPT[query.kind] ?? [query.kind]);
  const statuses = new Map(src.statuses.map((s) => [resourceKey(s.id), s]));
  const lanes = bySource(Object.values(src.table?.lanes ?? {}));
  const groups = bySource(Object.values(src.table?.groups ?? {}));
  return src.resources
    .filter(
      (r) =>
        (kinds === undefined || kinds.includes(r.kind)) &&
        (query.name === undefined || r.metadata.name === query.name) &&
        (query.namespace === undefined ||
          r.metadata.namespace === query.namespace ||
          r.metadata.namespace === '') &&
        (query.cluster === undefined || r.id.cluster === '' || r.id.cluster === query.cluster),
    )
    .map((r) => {
      const status = statuses.get(resourceKey(r.id));
      const lane = lanes.get(sourceKey(r));
      const group = groups.get(sourceKey(r));
      const instances = src.instancesOf(r);
      const release = src.releaseOf?.(r);
      return {
        apiVersion: r.apiVersion,
        kind: r.kind,
        name: r.metadata.name,
        namespace: r.metadata.namespace,
        cluster: r.id.cluster,
        source: { file: r.origin.file ?? '', line: r.origin.line },
        manifest: parseYaml(r.origin.text) as unknown,
        conditions: conditionViews(r, status),
        notes: (status?.notes ?? []).map(formatIssue),
        ...(instances ? { instances } : {}),
        ...(release ? { release } : {}),
        ...(lane && src.table ? { lane: laneSummary(src.table, lane) } : {}),
        ...(group ? { laneGroup: groupSummary(group) } : {}),
      };
    });
}

/**
 * A resource's conditions as a person reads them (the CLI, the dashboard): each problem's message
 * with its `file:line:col`, which only this machine knows (a Kubernetes status carries none).
 */
export function conditionViews(r: Resource, status: ResourceStatus | undefined): ConditionView[] {
  return (status?.conditions ?? []).map((c) => ({
    type: c.type,
    status: c.status,
    reason: c.reason,
    message: describeCondition(r, c),
  }));
}

/** `file:line` a resource was applied from; '' for one read from no file. */
export function sourceText(r: Resource): string {
  return r.origin.file ? `${r.origin.file}:${r.origin.line}` : '';
}

function sourceKey(r: Resource | { readonly source: SourceRef }): string {
  return 'source' in r
    ? `${r.source.kind} ${r.source.namespace}/${r.source.name}`
    : `${r.kind} ${r.metadata.namespace}/${r.metadata.name}`;
}

function bySource<T extends { readonly source: SourceRef }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((i) => [sourceKey(i), i]));
}

const shortName = (key: string) => key.slice(key.indexOf('/') + 1);

function laneSummary(table: RoutingTable, lane: CompiledLane): LaneSummary {
  const group = table.groups[lane.group];
  return {
    group: group?.name ?? shortName(lane.group),
    mode: group?.mode ?? 'permissive',
    routeHeader: group?.routeHeader ?? '',
    selector: { ...lane.selector },
    services: lane.services.map((service) => {
      const set = table.services[service]?.lanes?.byLane[lane.name];
      return { name: service, healthy: set?.healthy.length ?? 0, total: set?.all.length ?? 0 };
    }),
    fallback: [...lane.fallback],
    enabled: lane.enabled,
    ...(lane.disabledReason !== undefined ? { disabledReason: lane.disabledReason } : {}),
  };
}

function groupSummary(group: CompiledGroup): LaneGroupSummary {
  return {
    mode: group.mode,
    routeHeader: group.routeHeader,
    services: [...group.services],
    lanes: [...group.lanes],
    ...(group.baseline !== undefined ? { baseline: group.baseline } : {}),
  };
}
