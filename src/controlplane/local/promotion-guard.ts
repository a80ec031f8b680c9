/**
 * The store's checks that keep a promotion from ending by accident: a delete of a promoted
 * Release (or an apply that changes a finished one's spec, which starts it again) would hand its
 * services back to the lane they left. The delete is refused unless forced, the apply is refused
 * at the Release; both say what to apply first so the promotion outlives its Release.
 */
import type { ReleaseSpec } from '../../config/kinds/native/index.ts';
import { issueAt, type Resource } from '../../config/resource/resource.ts';
import type { Issue } from '../../config/source/issues.ts';
import { compile } from '../../core/compiler/compile.ts';
import { endpointsFor, type Instance } from '../../core/compiler/endpoints.ts';
import { type HandBackReport, handBackReport, handBacks } from '../release/hand-back.ts';
import { laneTemplate } from '../release/references.ts';
import type { ReleaseDriver } from './releases.ts';
import type { ApplyCheck, DeleteCheck } from './store.ts';

type Release = Resource<string, ReleaseSpec>;

export interface PromotionGuardDeps {
  readonly releases: () => ReleaseDriver;
  /** What the store holds now. */
  readonly resources: () => readonly Resource[];
  readonly instances: () => readonly Instance[];
}

/** Per promoted release that `after` ends and that would hand a service back: what to say. */
function endedPromotions(
  deps: PromotionGuardDeps,
  after: readonly Resource[],
  change: 'delete' | 'change',
): { release: Release; report: HandBackReport }[] {
  const releases = deps.releases();
  const ended = releases.promotionsEndedBy(after);
  if (ended.length === 0) return [];
  const { table } = compile(after, endpointsFor(after, deps.instances()), {
    releases: releases.routing(after),
  });
  const now = deps.resources();
  return ended.flatMap(({ release, promotion }) => {
    const backs = handBacks(release.spec.lane, promotion, table);
    if (backs.length === 0) return [];
    const template = laneTemplate(release, now);
    return [
      {
        release,
        report: handBackReport(
          release,
          promotion,
          backs,
          after,
          typeof template === 'string' ? undefined : template,
          change,
        ),
      },
    ];
  });
}

export function promotionDeleteCheck(deps: PromotionGuardDeps): DeleteCheck {
  return (after) => {
    const ended = endedPromotions(deps, after, 'delete');
    if (ended.length === 0) return undefined;
    return {
      message: ended.map((e) => e.report.message).join('; '),
      lines: ended.flatMap((e) => e.report.lines),
    };
  };
}

/** At the Release being applied: its new spec would start it again, unpromoted. */
export function promotionApplyCheck(deps: PromotionGuardDeps): ApplyCheck {
  return (applied, all) =>
    endedPromotions(deps, all, 'change').flatMap(({ release, report }): Issue[] => {
      const at = applied.find(
        (r) =>
          r.kind === release.kind &&
          r.metadata.name === release.metadata.name &&
          r.metadata.namespace === release.metadata.namespace,
      );
      return at ? [issueAt(at, 'spec', `${report.message}: ${report.lines.join('; ')}`)] : [];
    });
}
