/**
 * CustomResourceDefinitions generated from lanes' own kind schemas (src/config/kinds/): structural
 * OpenAPI v3 with the same enums, bounds and defaults, a status subresource (conditions with
 * observedGeneration, written by `lanes controller`) and printer columns. Checks that are code,
 * not shape (a carrier field that belongs to another carrier type, a route header owned by HTTP),
 * stay lanes' own: the controller reports them as status conditions.
 */
import { asmSwimLaneKind } from '../kinds/asm/swim-lane.ts';
import { asmSwimLaneGroupKind } from '../kinds/asm/swim-lane-group.ts';
import type { KindDef } from '../kinds/kind.ts';
import { laneKind } from '../kinds/native/lane.ts';
import { laneGroupKind } from '../kinds/native/lane-group.ts';
import { meshKind } from '../kinds/native/mesh.ts';
import { releaseKind } from '../kinds/native/release.ts';
import type { OpenApiSchema } from '../schema/dsl.ts';

export interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'boolean' | 'integer' | 'date';
  readonly jsonPath: string;
}

export interface CustomResourceDefinition {
  readonly apiVersion: 'apiextensions.k8s.io/v1';
  readonly kind: 'CustomResourceDefinition';
  readonly metadata: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  readonly spec: {
    readonly group: string;
    readonly names: {
      readonly kind: string;
      readonly listKind: string;
      readonly plural: string;
      readonly singular: string;
      readonly categories: readonly string[];
    };
    readonly scope: 'Namespaced' | 'Cluster';
    readonly versions: readonly {
      readonly name: string;
      readonly served: boolean;
      readonly storage: boolean;
      readonly schema: { readonly openAPIV3Schema: OpenApiSchema };
      readonly subresources: { readonly status: Record<string, never> };
      readonly additionalPrinterColumns: readonly PrinterColumn[];
    }[];
  };
}

/** metav1.Condition, as lanes writes it. */
export const CONDITION_SCHEMA: OpenApiSchema = {
  type: 'object',
  required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
  properties: {
    type: { type: 'string', maxLength: 316 },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: { type: 'string', maxLength: 1024, minLength: 1 },
    message: { type: 'string', maxLength: 32768 },
    observedGeneration: { type: 'integer', minimum: 0 },
    lastTransitionTime: { type: 'string', format: 'date-time' },
  },
};

export const STATUS_SCHEMA: OpenApiSchema = {
  type: 'object',
  description: 'written by lanes controller',
  properties: {
    observedGeneration: { type: 'integer', minimum: 0 },
    conditions: {
      type: 'array',
      items: CONDITION_SCHEMA,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    },
  },
};

function condition(type: string): PrinterColumn {
  return {
    name: type,
    type: 'string',
    jsonPath: `.status.conditions[?(@.type=="${type}")].status`,
  };
}

const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

const COLUMNS: Readonly<Record<string, readonly PrinterColumn[]>> = {
  LaneGroup: [
    { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
    { name: 'Route-Header', type: 'string', jsonPath: '.spec.routeHeader' },
    condition('Accepted'),
    condition('Programmed'),
    AGE,
  ],
  Lane: [
    { name: 'Group', type: 'string', jsonPath: '.spec.group' },
    { name: 'Enabled', type: 'boolean', jsonPath: '.spec.enabled' },
    condition('Accepted'),
    condition('ResolvedRefs'),
    AGE,
  ],
  Mesh: [
    { name: 'Outbound', type: 'string', jsonPath: '.spec.outboundTrafficPolicy.mode' },
    condition('Accepted'),
    AGE,
  ],
  // A cluster does not run releases (lanes' local daemon does): Degraded says so.
  Release: [
    { name: 'Group', type: 'string', jsonPath: '.spec.group' },
    { name: 'Lane', type: 'string', jsonPath: '.spec.lane' },
    condition('Accepted'),
    condition('Degraded'),
    AGE,
  ],
  ASMSwimLaneGroup: [
    { name: 'Permissive', type: 'boolean', jsonPath: '.spec.isPermissive' },
    condition('Accepted'),
    condition('Programmed'),
    AGE,
  ],
  ASMSwimLane: [
    { name: 'Group', type: 'string', jsonPath: '.metadata.labels.swimlane-group' },
    condition('Accepted'),
    condition('ResolvedRefs'),
    AGE,
  ],
};

const PLURALS: Readonly<Record<string, string>> = { Mesh: 'meshes' };

function plural(kind: string): string {
  return PLURALS[kind] ?? `${kind.toLowerCase()}s`;
}

/** How deep lane match trees (`all`/`any`/`not`) are unfolded before the rest is kept as written (the API server checks the shape of two levels; lanes checks all). */
const MATCH_DEPTH = 2;

export function crdFor(def: KindDef): CustomResourceDefinition {
  const spec = def.spec.toOpenApi({ depth: 0, maxDepth: MATCH_DEPTH });
  const root: OpenApiSchema = {
    type: 'object',
    properties: { spec, status: STATUS_SCHEMA },
    ...(def.specRequired ? { required: ['spec'] } : {}),
  };
  const p = plural(def.kind);
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${p}.${def.group}`, labels: { 'app.kubernetes.io/part-of': 'lanes' } },
    spec: {
      group: def.group,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: p,
        singular: def.kind.toLowerCase(),
        categories: ['lanes'],
      },
      scope: def.scope,
      versions: def.versions.map((name, i) => ({
        name,
        served: true,
        storage: i === 0,
        schema: { openAPIV3Schema: root },
        subresources: { status: {} },
        additionalPrinterColumns: COLUMNS[def.kind] ?? [AGE],
      })),
    },
  };
}

/** lanes' own kinds. */
export const NATIVE_CRD_KINDS: readonly KindDef[] = [
  laneGroupKind,
  laneKind,
  meshKind,
  releaseKind,
] as readonly KindDef[];
/** Alibaba ASM's lane kinds, for clusters without ASM (`lanes install --asm-crds`). */
export const ASM_CRD_KINDS: readonly KindDef[] = [
  asmSwimLaneGroupKind,
  asmSwimLaneKind,
] as readonly KindDef[];

export function laneCrds(options: { readonly asm?: boolean } = {}): CustomResourceDefinition[] {
  return [...NATIVE_CRD_KINDS, ...(options.asm ? ASM_CRD_KINDS : [])].map(crdFor);
}
