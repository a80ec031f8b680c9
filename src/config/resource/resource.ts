/**
 * The resource model: what a validated document is, how it is identified and where it came from.
 * Kind-specific spec types live beside their schemas in `src/config/kinds/`.
 */
import type { Issue } from '../source/issues.ts';
import type { Pos } from '../source/node.ts';

/**
 * Identity of a resource: API group + kind + namespace + name, plus the cluster for kinds that are
 * placed in a cluster (Service, Deployment, Gateway). Mesh-wide kinds have `cluster: ''`;
 * cluster-scoped kinds (lane groups, lanes) have `namespace: ''`.
 */
export interface ResourceId {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly cluster: string;
}

/** Where a resource was read from, and the position of each of its field paths. */
export interface Origin {
  readonly file: string | undefined;
  readonly line: number;
  readonly col: number;
  readonly positions: Readonly<Record<string, Pos>>;
  /** The document as written (from its first content line), for storing and showing it again. */
  readonly text: string;
  /** The line of the file where `text` starts. */
  readonly textLine: number;
}

export interface Metadata {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface Resource<K extends string = string, S = unknown> {
  readonly apiVersion: string;
  readonly kind: K;
  readonly id: ResourceId;
  readonly metadata: Metadata;
  readonly spec: S;
  readonly origin: Origin;
  /** Accepted-but-ignored fields and warnings found while validating, for the status. */
  readonly notes: readonly Issue[];
}

export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_CLUSTER = 'default';

/** `group/Kind namespace/name` (+ `@cluster`), stable and unique: used as a sort and map key. */
export function resourceKey(id: ResourceId): string {
  const ns = id.namespace === '' ? '' : `${id.namespace}/`;
  const cluster = id.cluster === '' ? '' : `@${id.cluster}`;
  return `${id.group}/${id.kind} ${ns}${id.name}${cluster}`;
}

/** `Kind ns/name`, the short form used in messages. */
export function resourceLabel(id: Pick<ResourceId, 'kind' | 'namespace' | 'name'>): string {
  return `${id.kind} ${id.namespace === '' ? '' : `${id.namespace}/`}${id.name}`;
}

export function compareResources(a: Resource, b: Resource): number {
  const ka = resourceKey(a.id);
  const kb = resourceKey(b.id);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** The position of a field path of a resource, falling back to the document's own position. */
export function positionOf(resource: Resource, path: string): Pos {
  let p = path;
  for (;;) {
    const pos = resource.origin.positions[p];
    if (pos) return pos;
    if (p === '') return { line: resource.origin.line, col: resource.origin.col };
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    p = cut > 0 ? p.slice(0, cut) : '';
  }
}

/** An issue at a field of a resource: its `file:line:col`, the field path, and the resource's label. */
export function issueAt(
  resource: Resource,
  path: string,
  message: string,
  severity: Issue['severity'] = 'error',
): Issue {
  const pos = positionOf(resource, path);
  return {
    file: resource.origin.file,
    line: pos.line,
    col: pos.col,
    path,
    message,
    severity,
    resource: resourceLabel(resource.id),
  };
}
