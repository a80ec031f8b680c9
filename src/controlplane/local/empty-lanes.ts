/**
 * Lanes an apply declares that select no instance of a service they list. In a permissive group
 * that is allowed (the lane's requests fall back for that service), which is exactly why a typo
 * in a selector, or in a Deployment's labels, would otherwise go unnoticed: the developer's
 * requests quietly reach the baseline instead of their build. Membership is judged from the
 * Deployments' pod labels (as `lanes render istio` does), not from instances that happen to be
 * ready, so an instance still starting does not make the note appear.
 */
import type { Resource } from '../../config/resource/resource.ts';
import { issueAt } from '../../config/resource/resource.ts';
import type { Issue } from '../../config/source/issues.ts';
import { compile } from '../../core/compiler/compile.ts';
import { declaredEndpoints } from '../../core/render/istio/declared.ts';

/** The field that selects a lane's instances, per kind that declares lanes. */
const SELECTOR_FIELD: Readonly<Record<string, string>> = {
  'lanes.dev/Lane': 'spec.selector',
  'istio.alibabacloud.com/ASMSwimLane': 'spec.labelSelector',
};

/** One `warning` issue per applied lane that lists a service no Deployment has pods of in it. */
export function emptyLanes(applied: readonly Resource[], all: readonly Resource[]): Issue[] {
  const lanes = applied.filter((r) => SELECTOR_FIELD[`${r.id.group}/${r.kind}`] !== undefined);
  if (lanes.length === 0) return [];
  const { table } = compile(all, declaredEndpoints(all));
  const out: Issue[] = [];
  for (const r of lanes) {
    const lane = table.lanes[r.metadata.name];
    // A disabled lane, or one in no group, has a status condition of its own that says so.
    if (!lane?.enabled) continue;
    const missing = lane.services.filter((s) => {
      const byLane = table.services[s]?.lanes?.byLane;
      return byLane !== undefined && (byLane[lane.name]?.all.length ?? 0) === 0;
    });
    if (missing.length === 0) continue;
    const labels = Object.entries(lane.selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    const services = missing.join(', ');
    const meanwhile =
      table.groups[lane.group]?.mode === 'strict'
        ? `fail with 503 LANE_STRICT_MISS at ${services}`
        : `reach ${services} through the lane's fallback chain instead (its fallback lanes, then the baselines)`;
    out.push(
      issueAt(
        r,
        SELECTOR_FIELD[`${r.id.group}/${r.kind}`]!,
        `lane ${lane.name} has no instance of ${services}: no Deployment's pods carry ${labels} and are selected by ${missing.length === 1 ? 'that Service' : 'those Services'}, so requests in this lane ${meanwhile}; check the selector against the Deployments' pod labels`,
        'warning',
      ),
    );
  }
  return out;
}
