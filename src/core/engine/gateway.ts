/**
 * A gateway hop (SPEC §4.1): edge hygiene, virtual host by Host header, first matching route,
 * weighted destination, header changes, tag stamping into every carrier, lane fallback.
 */
import { getBaggageValue } from '../carriers/baggage.ts';
import { hostOnly, lookupHost } from '../compiler/hosts.ts';
import type { RoutingTable } from '../compiler/table.ts';
import { firstMatch, MatchInput } from './match.ts';
import { gatewayOverride } from './override.ts';
import { actOnRoute, failure } from './route-action.ts';
import { findTags } from './tags.ts';
import type { DecideContext, Decision, HeaderOp, RequestView, Tag } from './types.ts';
import { withOps } from './view.ts';

export function decideGateway(
  table: RoutingTable,
  hop: { readonly gateway: string; readonly port: number },
  req: RequestView,
  random: () => number,
  ctx: DecideContext,
): Decision {
  const steps: string[] | undefined = ctx.explain ? [] : undefined;
  const gw = table.gateways[hop.gateway];
  if (!gw)
    return failure(
      { code: 'NO_ROUTE', message: `gateway ${hop.gateway} does not exist`, tags: [] },
      steps,
    );
  const server = gw.servers[String(hop.port)];
  if (!server) {
    return failure(
      {
        code: 'NO_ROUTE',
        message: `gateway ${hop.gateway} has no server on port ${hop.port}`,
        tags: [],
      },
      steps,
    );
  }
  steps?.push(`gateway ${gw.key}, port ${hop.port}`);

  const ops: HeaderOp[] = [];
  let view = req;
  let tags: readonly Tag[] = [];
  if (gw.trustClientLane) {
    tags = findTags(table, req, undefined).map((t) => ({ ...t, source: 'client' as const }));
    steps?.push(
      `the gateway trusts lane tags from clients${tags.length ? `: ${tags.map((t) => `${t.routeHeader}=${t.lane}`).join(', ')}` : ''}`,
    );
  } else {
    // SPEC §4.1 step 1: a client must not put itself into a lane.
    for (const name of table.edgeHygiene.headers) {
      if (req.header(name) !== undefined) ops.push({ op: 'remove', name });
    }
    const baggage = table.edgeHygiene.baggageKeys.length > 0 ? req.header('baggage') : undefined;
    if (baggage !== undefined) {
      const present = table.edgeHygiene.baggageKeys.filter(
        (k) => getBaggageValue(baggage, k) !== undefined,
      );
      if (present.length > 0) ops.push({ op: 'remove-baggage', keys: present });
    }
    if (ops.length > 0) {
      view = withOps(req, ops);
      steps?.push(
        `edge hygiene removed the client's lane tag (${ops.map((o) => (o.op === 'remove' ? o.name : 'baggage entry')).join(', ')})`,
      );
    }
  }

  const before = ops.length;
  const override = gatewayOverride(table, view, gw.trustClientLane, ctx.overrides, ops, steps);
  if (ops.length !== before) view = withOps(req, ops);
  if (override.invalid !== undefined)
    return failure(
      { code: 'OVERRIDE_INVALID', message: override.invalid, tags, override: override.info },
      steps,
    );

  const host = hostOnly(req.authority);
  const vhost = lookupHost(server.hosts, host);
  if (!vhost) {
    return failure(
      {
        code: 'NO_ROUTE',
        message: `no VirtualService for host ${JSON.stringify(host)} is bound to gateway ${gw.key}`,
        tags,
        override: override.info,
      },
      steps,
    );
  }
  const input = new MatchInput(view, hop.port, undefined, random, ctx.choose);
  const route = firstMatch(vhost, input);
  if (route) {
    return actOnRoute({
      table,
      route,
      view,
      random,
      ctx,
      ops,
      tags,
      atGateway: true,
      port: undefined,
      listenerPort: hop.port,
      steps,
      override,
    });
  }
  return failure(
    {
      code: 'NO_ROUTE',
      message: `no route for ${host} on gateway ${gw.key} matched ${req.method} ${req.path}`,
      tags,
      override: override.info,
    },
    steps,
  );
}
