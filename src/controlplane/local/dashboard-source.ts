/**
 * The daemon as the dashboard sees it (dashboard/server.ts's DashboardSource): the published
 * table, and rows for gateways, workloads, resources and recent requests — views built from what
 * the daemon holds, never the daemon itself. Resource rows are rebuilt only when the statuses change (once
 * per publish), not on every tick of every open page.
 */
import { resourceKey } from '../../config/resource/resource.ts';
import type { ResourceStatus } from '../../core/compiler/status.ts';
import type { Daemon } from './daemon.ts';
import type { HopRow, RequestRow, ResourceRow, WorkloadRow } from './dashboard/client/protocol.ts';
import type { DashboardSource } from './dashboard/server.ts';
import { conditionViews, sourceText } from './resource-views.ts';
import { workloadSummary } from './workload-views.ts';

export function dashboardSource(daemon: Daemon): DashboardSource {
  let rowsOf: { statuses: readonly ResourceStatus[]; rows: ResourceRow[] } | undefined;
  return {
    table: () => daemon.config.current,
    metrics: () => daemon.metrics.snapshot(),
    gateways: () => daemon.gateways.views(),
    workloads: (): WorkloadRow[] =>
      daemon.workloadViews().map((w) => ({
        ...workloadSummary(w),
        instances: w.instances.map((i) => ({
          index: i.index,
          status: i.status,
          lastExit: i.lastExit,
        })),
      })),
    // The same join `lanes requests` shows (recent-requests.ts), trimmed to what the page draws.
    requests: (limit): RequestRow[] =>
      daemon.requests.recent({ limit }).map((r) => ({
        traceId: r.traceId,
        time: r.time,
        method: r.method,
        authority: r.authority,
        path: r.path,
        status: r.status,
        durationUs: r.durationUs,
        tag: r.tag,
        hops: r.hops.map(
          (h): HopRow => ({
            hop: h.hop,
            listener: h.listener,
            service: h.service,
            lane: h.lane,
            tag: h.tag,
            fallback: h.fallback,
            upstream: h.upstream,
            status: h.status,
            error: h.error,
            durationUs: h.durationUs,
            ...(h.override !== undefined ? { override: h.override } : {}),
            ...(h.overridden ? { overridden: true } : {}),
            ...(h.overrideRejected !== undefined ? { overrideRejected: h.overrideRejected } : {}),
          }),
        ),
      })),
    resources: () => {
      const statuses = daemon.statuses;
      if (rowsOf?.statuses === statuses) return rowsOf.rows;
      const byKey = new Map(statuses.map((s) => [resourceKey(s.id), s]));
      const rows = daemon.store.resources().map((r): ResourceRow => {
        const status = byKey.get(resourceKey(r.id));
        return {
          kind: r.kind,
          name: r.metadata.name,
          namespace: r.metadata.namespace,
          cluster: r.id.cluster,
          source: sourceText(r),
          conditions: conditionViews(r, status),
        };
      });
      rowsOf = { statuses, rows };
      return rows;
    },
  };
}
