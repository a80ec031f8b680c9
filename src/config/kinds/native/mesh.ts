/** `Mesh`: mesh-wide settings (Istio keeps these in MeshConfig). One per mesh, named `default`. */
import { int, obj, oneOf } from '../../schema/dsl.ts';
import { duration } from '../common.ts';
import { defineKind } from '../kind.ts';

export interface MeshSpec {
  /** What a sidecar does with a host that is not a known service (Istio's default: ALLOW_ANY). */
  readonly outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  /** Bounds of each sidecar's trace id → lane memory (trace-id carriers). */
  readonly traceMemory: { readonly maxEntries: number; readonly ttlMs: number };
}

export const MESH_DEFAULTS: MeshSpec = {
  outboundTrafficPolicy: 'ALLOW_ANY',
  traceMemory: { maxEntries: 100_000, ttlMs: 5 * 60_000 },
};

const spec = obj({
  outboundTrafficPolicy: obj({
    mode: oneOf(['ALLOW_ANY', 'REGISTRY_ONLY']).doc({ default: 'ALLOW_ANY' }),
  }),
  traceMemory: obj({
    maxEntries: int({ min: 1, max: 10_000_000 }),
    ttl: duration().check((ms, c) => {
      if (!(ms >= 1000)) c.error('Invalid value: must be at least 1s');
    }),
  }),
}).map(
  (f): MeshSpec => ({
    outboundTrafficPolicy: f.outboundTrafficPolicy?.mode ?? MESH_DEFAULTS.outboundTrafficPolicy,
    traceMemory: {
      maxEntries: f.traceMemory?.maxEntries ?? MESH_DEFAULTS.traceMemory.maxEntries,
      ttlMs: f.traceMemory?.ttl ?? MESH_DEFAULTS.traceMemory.ttlMs,
    },
  }),
);

export const meshKind = defineKind<MeshSpec>({
  group: 'lanes.dev',
  versions: ['v1alpha1'],
  kind: 'Mesh',
  scope: 'Cluster',
  placement: 'mesh',
  spec,
  specRequired: false,
  namePattern: {
    pattern: /^default$/,
    hint: 'the mesh settings must be named "default" (there is one per mesh)',
  },
});
