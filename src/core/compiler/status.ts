/**
 * Per-resource status, Gateway-API style: an `Accepted` and a `ResolvedRefs` condition with a
 * reason and a message that says where (file:line:col, field path) and what to do, plus notes
 * (ignored fields, warnings). A problem in one resource never blocks the others.
 */
import {
  positionOf,
  type Resource,
  type ResourceId,
  resourceKey,
} from '../../config/resource/resource.ts';
import type { Issue } from '../../config/source/issues.ts';

export type ConditionType = 'Accepted' | 'ResolvedRefs';

export interface Condition {
  readonly type: ConditionType;
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
}

export interface ResourceStatus {
  readonly id: ResourceId;
  readonly conditions: readonly Condition[];
  readonly notes: readonly Issue[];
}

interface Problem {
  readonly type: ConditionType;
  readonly reason: string;
  readonly message: string;
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

  /** Records a problem at a field of a resource; the message gets the field's file:line:col. */
  problem(
    resource: Resource,
    type: ConditionType,
    reason: string,
    path: string,
    message: string,
  ): void {
    const key = resourceKey(resource.id);
    const pos = positionOf(resource, path);
    const where = resource.origin.file ? `${resource.origin.file}:${pos.line}:${pos.col} ` : '';
    const list = this.#problems.get(key) ?? [];
    list.push({ type, reason, message: `${where}${path}${path ? ': ' : ''}${message}` });
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
            reason: type === 'Accepted' ? 'Accepted' : 'ResolvedRefs',
            message: type === 'Accepted' ? 'accepted' : 'all references resolved',
          };
        }
        return {
          type,
          status: 'False',
          reason: mine[0]!.reason,
          message: mine.map((p) => p.message).join('; '),
        };
      });
      return { id: r.id, conditions, notes: this.#notes.get(key) ?? [] };
    });
  }
}
