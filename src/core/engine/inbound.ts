/**
 * A sidecar's inbound hop (SPEC §4.2): note the lane tag the request arrived with and, for
 * trace-id carriers, remember trace id → lane so the app's outgoing calls in the same trace get
 * the tag back even if the app forwards only its trace header.
 */
import type { RoutingTable } from '../compiler/table.ts';
import { overrideMemory, sidecarOverride, withOverride } from './override.ts';
import { NO_STEPS } from './route-action.ts';
import { contextOf, findTags, traceIdOf, traceKey } from './tags.ts';
import type { DecideContext, Decision, RequestView, Workload } from './types.ts';

export function decideInbound(
  table: RoutingTable,
  workload: Workload,
  req: RequestView,
  ctx: DecideContext,
): Decision {
  const steps: string[] | undefined = ctx.explain ? [] : undefined;
  const tags = findTags(table, req, undefined);
  const remember: { traceKey: string; lane: string }[] = [];
  for (const tag of tags) {
    const context = contextOf(table, tag.routeHeader);
    for (const header of context?.traceHeaders ?? []) {
      const id = traceIdOf(header, req);
      if (id === undefined) continue;
      remember.push({ traceKey: traceKey(tag.routeHeader, id), lane: tag.lane });
      steps?.push(`remember trace ${id} (${header}) → ${tag.routeHeader}: ${tag.lane}`);
    }
  }
  const override = sidecarOverride(table, req, undefined, ctx.overrides, undefined, steps);
  if (override.token !== undefined) overrideMemory(table, req, override.token, remember, steps);
  steps?.push(
    `inbound to ${workload.name ?? workload.namespace}: deliver to the app${tags.length ? ` (tag ${tags.map((t) => `${t.routeHeader}=${t.lane}`).join(', ')})` : ''}`,
  );
  return withOverride({ kind: 'local', tags, remember, steps: steps ?? NO_STEPS }, override.info);
}
