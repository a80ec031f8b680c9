import type { KindDef } from '../kind.ts';
import { laneKind } from './lane.ts';
import { laneGroupKind } from './lane-group.ts';
import { meshKind } from './mesh.ts';

export type { EntryRule, EntrySplit, LaneSpec } from './lane.ts';
export type { Carrier, GroupService, LaneGroupSpec, LaneIngress } from './lane-group.ts';
export type { MatchExpr, StringTest } from './match.ts';
export type { MeshSpec } from './mesh.ts';
export { laneGroupKind, laneKind, meshKind };

export const nativeKinds: readonly KindDef[] = [
  laneGroupKind,
  laneKind,
  meshKind,
] as readonly KindDef[];
