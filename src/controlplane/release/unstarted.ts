/**
 * A Release where nothing drives it (`lanes render istio`, the Kubernetes controller): its
 * routing as it stands before its first step, and stays. The lane it creates exists — so its
 * workloads' pods are a lane of their own, never in the baseline's traffic — and only its
 * verification match enters it. Weights, analysis, rollback and promotion need the local
 * daemon's driver; rendering any step statically would put real traffic on a version nothing
 * measures or rolls back. Pure.
 */
import type { Resource } from '../../config/resource/resource.ts';
import type { ReleaseRouting } from '../../core/compiler/compile.ts';
import { laneTemplate, releasesOf } from './references.ts';

export function unstartedReleases(resources: readonly Resource[]): ReleaseRouting[] {
  return releasesOf(resources).map((r) => {
    const template = laneTemplate(r, resources);
    return {
      resource: r,
      group: r.spec.group,
      lane: r.spec.lane,
      template: typeof template === 'string' ? undefined : template,
      weight: 0,
      verify: r.spec.verify?.match,
      promoted: false,
    };
  });
}
