import type { Metadata } from '../resource/resource.ts';
import type { CheckContext, Schema } from '../schema/dsl.ts';

/**
 * How a kind is declared: its API group, accepted versions, scope, placement and spec schema.
 * The registry (`registry.ts`) maps `apiVersion` + `kind` to one of these.
 */
export interface KindDef<S = unknown> {
  readonly group: string;
  readonly versions: readonly string[];
  readonly kind: string;
  /** Namespaced kinds default `metadata.namespace` to `default`; cluster-scoped kinds have none. */
  readonly scope: 'Namespaced' | 'Cluster';
  /**
   * `cluster`: lives in one cluster (`lanes apply --cluster dev` places it there).
   * `mesh`: routing config, the same in every cluster.
   */
  readonly placement: 'cluster' | 'mesh';
  readonly spec: Schema<S>;
  /** Whether a document without `spec` is an error (it is for almost every kind). */
  readonly specRequired: boolean;
  /** Checks on `metadata.name` beyond Kubernetes' DNS-1123 subdomain rule (message says why). */
  readonly namePattern?: { readonly pattern: RegExp; readonly hint: string };
  /** Checks that need metadata and spec together (e.g. an ASM lane's `swimlane-group` label). */
  readonly checkResource?: (metadata: Metadata, spec: S, c: CheckContext) => void;
}

export function defineKind<S>(def: KindDef<S>): KindDef<S> {
  return def;
}
