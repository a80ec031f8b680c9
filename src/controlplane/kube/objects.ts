/** Kubernetes objects as the controller reads and writes them: plain JSON, keyed by identity. */

export interface KubeMetadata {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly generation?: number;
  readonly resourceVersion?: string;
  readonly uid?: string;
}

export interface KubeObj {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: KubeMetadata;
  readonly spec?: unknown;
  readonly status?: unknown;
  readonly [key: string]: unknown;
}

export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export function refOf(o: KubeObj): ObjectRef {
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name,
  };
}

/** `group/Kind namespace/name` (the version left out: one object, whichever version it is read as). */
export function objectKey(
  o:
    | {
        readonly apiVersion: string;
        readonly kind: string;
        readonly metadata: { readonly name: string; readonly namespace?: string };
      }
    | ObjectRef,
): string {
  const apiVersion = o.apiVersion;
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.lastIndexOf('/')) : '';
  const namespace = 'metadata' in o ? (o.metadata.namespace ?? '') : o.namespace;
  const name = 'metadata' in o ? o.metadata.name : o.name;
  return `${group}/${o.kind} ${namespace}/${name}`;
}

/** The object as a user wrote it: no server fields, no status. */
export function userView(o: KubeObj): KubeObj {
  const m = o.metadata;
  const metadata: Record<string, unknown> = { name: m.name };
  if (m.namespace !== undefined) metadata.namespace = m.namespace;
  if (m.labels && Object.keys(m.labels).length > 0) metadata.labels = m.labels;
  // kubectl's record of the last applied configuration is not the user's annotation.
  const annotations = { ...(m.annotations ?? {}) };
  delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  const out: Record<string, unknown> = { apiVersion: o.apiVersion, kind: o.kind, metadata };
  if (o.spec !== undefined) out.spec = o.spec;
  return out as unknown as KubeObj;
}
