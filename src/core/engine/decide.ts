/**
 * decide(table, hop, request, random) → decision: where a request goes at one hop and why. Pure
 * apart from the proxy state passed in `ctx` (trace memory, ejected endpoints).
 */

import { assertNever } from '../../util/assert-never.ts';
import type { RoutingTable } from '../compiler/table.ts';
import { decideGateway } from './gateway.ts';
import { decideInbound } from './inbound.ts';
import { decideOutbound } from './outbound.ts';
import type { DecideContext, Decision, Hop, RequestView } from './types.ts';

const NO_CONTEXT: DecideContext = {};

export function decide(
  table: RoutingTable,
  hop: Hop,
  request: RequestView,
  random: () => number = Math.random,
  ctx: DecideContext = NO_CONTEXT,
): Decision {
  switch (hop.kind) {
    case 'gateway':
      return decideGateway(table, hop, request, random, ctx);
    case 'outbound':
      return decideOutbound(table, hop.workload, request, random, ctx);
    case 'inbound':
      return decideInbound(table, hop.workload, request, ctx);
    default:
      return assertNever(hop);
  }
}
