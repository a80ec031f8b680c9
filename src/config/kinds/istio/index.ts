/** Istio networking kinds lanes accepts verbatim (istio-semantics.md §1). */
import type { KindDef } from '../kind.ts';
import { destinationRuleKind } from './destination-rule.ts';
import { gatewayKind } from './gateway.ts';
import { virtualServiceKind } from './virtual-service.ts';

export { destinationRuleKind, gatewayKind, virtualServiceKind };

export const istioKinds: readonly KindDef[] = [
  gatewayKind,
  virtualServiceKind,
  destinationRuleKind,
] as readonly KindDef[];
