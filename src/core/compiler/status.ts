/**
 * Per-resource status, Gateway-API style: an `Accepted` and a `ResolvedRefs` condition with a
 * typed reason, the field path of each problem and a message that says what to do, plus notes
 * (ignored fields, warnings). A problem in one resource never blocks the others.
 *
 * Status text never holds a file position: positions stay in the resource's origin, and whoever
 * shows a condition to a person on this machine (the CLI, the local daemon's views) renders
 * `file:line:col` with `describeCondition`. A Kubernetes status carries the same conditions as
 * they are, without local paths.
 */
import {
  positionOf,
  type Resource,
  type ResourceId,
  resourceKey,
} from '../../config/resource/resource.ts';
import type { Issue } from '../../config/source/issues.ts';

export type ConditionType = 'Accepted' | 'ResolvedRefs';

/** Why a resource is not accepted (or is accepted but switched off). */
export type AcceptedReason = 'Accepted' | 'Conflicted' | 'Disabled';

/** Why a reference of a resource does not resolve. */
export type ResolvedRefsReason =
  | 'ResolvedRefs'
  | 'ServiceNotFound'
  | 'ServiceConflict'
  | 'ServiceNotInGroup'
  | 'GatewayNotFound'
  | 'GroupNotFound'
  | 'FallbackNotFound'
  | 'BaselineNotFound'
  | 'BaselineLacksService'
  | 'BackendNotFound'
  | 'SubsetNotFound'
  | 'NoIngress'
  | 'WeightsExceed100';

export type ConditionReason<T extends ConditionType = ConditionType> = T extends 'Accepted'
  ? AcceptedReason
  : ResolvedRefsReason;

/** One problem behind a condition: where in the resource, and what to do. */
export interface ConditionDetail {
  readonly reason: ConditionReason;
  /** Field path inside the resource (`spec.services[1]`); '' for the resource as a whole. */
  readonly fieldPath: string;
  readonly message: string;
}

export interface Condition {
  readonly type: ConditionType;
  readonly status: 'True' | 'False';
  /** The first problem's reason, or the condition type itself when all is well. */
  readonly reason: ConditionReason;
  /** Every problem as `fieldPath: message`, joined with `; ` (no file positions). */
  readonly message: string;
  /** The first problem's field path; undefined when all is well. */
  readonly fieldPath: string | undefined;
  readonly details: readonly ConditionDetail[];
}

export interface ResourceStatus {
  readonly id: ResourceId;
  readonly conditions: readonly Condition[];
  readonly notes: readonly Issue[];
}

interface Problem extends ConditionDetail {
  readonly type: ConditionType;
}

/** `spec.services[1]: message`, or the message alone for the resource as a whole. */
export function atField(fieldPath: string, message: string): string {
  return `${fieldPath}${fieldPath ? ': ' : ''}${message}`;
}

function detailText(d: ConditionDetail): string {
  return atField(d.fieldPath, d.message);
}

/**
 * A condition's message for a person at this machine: each problem as
 * `file:line:col path: message`, the position taken from the resource's origin.
 */
export function describeCondition(resource: Resource, condition: Condition): string {
  if (condition.details.length === 0) return condition.message;
  return condition.details
    .map((d) => {
      const pos = positionOf(resource, d.fieldPath);
      const where = resource.origin.file ? `${resource.origin.file}:${pos.line}:${pos.col} ` : '';
      return `${where}${detailText(d)}`;
    })
    .join('; ');
}

/** Collects problems per resource while compiling; `build()` turns them into statuses. */
export class StatusBook {
  readonly #resources: Resource[] = [];
  readonly #problems = new Map<string, Problem[]>();
  readonly #notes = new Map<string, Issue[]>();

  constructor(resources: readonly Resource[]) {
    this.#resources = [...resources];
    for (const r of resources) this.#notes.set(resourceKey(r.id), [...r.notes]);
  }

  /** Records a problem at a field of a resource. */
  problem<T extends ConditionType>(
    resource: Resource,
    type: T,
    reason: ConditionReason<T>,
    fieldPath: string,
    message: string,
  ): void {
    const key = resourceKey(resource.id);
    const list = this.#problems.get(key) ?? [];
    list.push({ type, reason, fieldPath, message });
    this.#problems.set(key, list);
  }

  /** Records a warning: accepted, but probably not what the user meant. */
  warn(resource: Resource, path: string, message: string): void {
    const pos = positionOf(resource, path);
    const key = resourceKey(resource.id);
    const list = this.#notes.get(key) ?? [];
    list.push({
      file: resource.origin.file,
      line: pos.line,
      col: pos.col,
      path,
      message,
      severity: 'warning',
    });
    this.#notes.set(key, list);
  }

  isRejected(resource: Resource): boolean {
    return (this.#problems.get(resourceKey(resource.id)) ?? []).some((p) => p.type === 'Accepted');
  }

  build(): ResourceStatus[] {
    return this.#resources.map((r) => {
      const key = resourceKey(r.id);
      const problems = this.#problems.get(key) ?? [];
      const conditions: Condition[] = (['Accepted', 'ResolvedRefs'] as const).map((type) => {
        const mine = problems.filter((p) => p.type === type);
        if (mine.length === 0) {
          return {
            type,
            status: 'True',
            reason: type,
            message: type === 'Accepted' ? 'accepted' : 'all references resolved',
            fieldPath: undefined,
            details: [],
          };
        }
        const details = mine.map(({ reason, fieldPath, message }) => ({
          reason,
          fieldPath,
          message,
        }));
        return {
          type,
          status: 'False',
          reason: mine[0]!.reason,
          message: details.map(detailText).join('; '),
          fieldPath: mine[0]!.fieldPath,
          details,
        };
      });
      return { id: r.id, conditions, notes: this.#notes.get(key) ?? [] };
    });
  }
}
