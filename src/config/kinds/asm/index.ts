import type { KindDef } from '../kind.ts';
import { asmSwimLaneKind } from './swim-lane.ts';
import { asmSwimLaneGroupKind } from './swim-lane-group.ts';

export type { AsmDestination, AsmRequestMatch, AsmStringMatch } from './shared.ts';
export type { AsmIngressRule, AsmSwimLaneSpec } from './swim-lane.ts';
export { SWIMLANE_GROUP_LABEL } from './swim-lane.ts';
export type { AsmSwimLaneGroupSpec } from './swim-lane-group.ts';
export { asmSwimLaneGroupKind, asmSwimLaneKind };

export const asmKinds: readonly KindDef[] = [
  asmSwimLaneGroupKind,
  asmSwimLaneKind,
] as readonly KindDef[];
