/**
 * Status subresources of lane resources, metav1.Condition style: `Accepted` and `ResolvedRefs`
 * (the analysis), `Programmed` (the Istio objects were applied), `Degraded` (a feature stock Istio
 * cannot carry, named with its field). Messages carry field paths, never local file paths.
 * `lastTransitionTime` changes only when a condition's status does.
 */
import {
  type Condition as AnalysisCondition,
  atField,
  type ResourceStatus,
} from '../../core/compiler/status.ts';
import type { RenderWarning } from '../../core/render/istio/objects.ts';
import { canonicalJson } from '../../core/render/istio/ownership.ts';
import { type KubeObj, type ObjectRef, objectKey, refOf } from './objects.ts';
import type { ReconcilePlan } from './reconcile.ts';

export interface KubeCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime: string;
}

export interface LaneStatus {
  readonly observedGeneration?: number;
  readonly conditions: readonly KubeCondition[];
}

export interface StatusWrite {
  readonly ref: ObjectRef;
  readonly status: LaneStatus;
}

export interface Programmed {
  readonly ok: boolean;
  readonly message: string;
}

type Draft = Omit<KubeCondition, 'lastTransitionTime' | 'observedGeneration'>;

function fromAnalysis(c: AnalysisCondition): Draft {
  return { type: c.type, status: c.status, reason: c.reason, message: c.message };
}

function degraded(warnings: readonly RenderWarning[]): Draft {
  if (warnings.length === 0)
    return {
      type: 'Degraded',
      status: 'False',
      reason: 'FullyRendered',
      message: 'stock Istio carries every feature of this resource',
    };
  return {
    type: 'Degraded',
    status: 'True',
    reason: warnings[0]!.reason,
    message: warnings.map((w) => atField(w.fieldPath, `${w.reason}: ${w.message}`)).join('; '),
  };
}

function liveConditions(o: KubeObj): readonly KubeCondition[] {
  const s = o.status as { conditions?: KubeCondition[] } | undefined;
  return Array.isArray(s?.conditions) ? s.conditions : [];
}

function sameStatus(a: LaneStatus, b: LaneStatus | undefined): boolean {
  return b !== undefined && canonicalJson(a) === canonicalJson(b);
}

/** The status each lane resource should have now; only the ones that differ from the live ones. */
export function statusWrites(
  plan: ReconcilePlan,
  programmed: Programmed,
  now: string,
): StatusWrite[] {
  const out: StatusWrite[] = [];
  const byKey = new Map<string, ResourceStatus>();
  for (const s of plan.statuses)
    byKey.set(`${s.id.group}/${s.id.kind} ${s.id.namespace}/${s.id.name}`, s);
  const rejected = new Map(plan.rejected.map((r) => [objectKey(r.ref), r]));
  for (const [key, o] of plan.laneObjects) {
    const generation = o.metadata.generation;
    const r = rejected.get(key);
    let drafts: Draft[];
    if (r) {
      const message = atField(r.fieldPath, r.message);
      drafts = [
        { type: 'Accepted', status: 'False', reason: 'Invalid', message },
        {
          type: 'ResolvedRefs',
          status: 'Unknown',
          reason: 'Invalid',
          message: 'not read: the resource is invalid',
        },
        {
          type: 'Programmed',
          status: 'False',
          reason: 'Invalid',
          message: 'not rendered: the resource is invalid',
        },
      ];
    } else {
      const s = byKey.get(key);
      if (!s) continue;
      const mine = plan.warnings.filter(
        (w) =>
          w.resource.kind === o.kind &&
          w.resource.name === o.metadata.name &&
          w.resource.namespace === (o.metadata.namespace ?? ''),
      );
      drafts = [
        ...s.conditions.map(fromAnalysis),
        programmed.ok
          ? {
              type: 'Programmed',
              status: 'True',
              reason: 'Programmed',
              message: 'the Istio objects are applied',
            }
          : {
              type: 'Programmed',
              status: 'False',
              reason: 'ApplyFailed',
              message: programmed.message,
            },
        degraded(mine),
      ];
    }
    const before = liveConditions(o);
    const conditions = drafts.map((d): KubeCondition => {
      const previous = before.find((c) => c.type === d.type);
      return {
        ...d,
        ...(generation !== undefined ? { observedGeneration: generation } : {}),
        lastTransitionTime:
          previous && previous.status === d.status ? previous.lastTransitionTime : now,
      };
    });
    const status: LaneStatus = {
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      conditions,
    };
    if (!sameStatus(status, o.status as LaneStatus | undefined))
      out.push({ ref: refOf(o), status });
  }
  return out;
}

/** Rejections not reported yet for this generation: each becomes one Warning Event. */
export function newRejections(plan: ReconcilePlan): ReconcilePlan['rejected'] {
  return plan.rejected.filter((r) => {
    const o = plan.laneObjects.get(objectKey(r.ref));
    const accepted = o ? liveConditions(o).find((c) => c.type === 'Accepted') : undefined;
    return !(accepted?.status === 'False' && accepted.observedGeneration === r.generation);
  });
}
