import type { KindDef } from '../kind.ts';
import { laneKind } from './lane.ts';
import { laneGroupKind } from './lane-group.ts';
import { meshKind } from './mesh.ts';
import { releaseKind } from './release.ts';

export type { EntryRule, EntrySplit, LaneSpec } from './lane.ts';
export type { Carrier, GroupService, LaneGroupSpec, LaneIngress } from './lane-group.ts';
export type { MatchExpr, StringTest } from './match.ts';
export type { MeshSpec } from './mesh.ts';
export type { ReleaseAnalysisSpec, ReleaseSpec, ReleaseStep, WorkloadRef } from './release.ts';
export { laneGroupKind, laneKind, meshKind, releaseKind };

export const nativeKinds: readonly KindDef[] = [
  laneGroupKind,
  laneKind,
  meshKind,
  releaseKind,
] as readonly KindDef[];
