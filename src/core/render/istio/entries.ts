/**
 * Lane entry rules (native `entry`, ASM `ingressRules` / `ingressWeight`) and native ingress
 * defaults → one lanes VirtualService per gateway and host, in lanes' own order: plain rules,
 * (sticky rules: not renderable), weighted rules, the ingress default. Weighted rules become one
 * route with a destination per lane, each stamping its own lane, and the rest of 100 % going where
 * the ingress default sends requests.
 */
import type { EntryRoute } from '../../compiler/entry-routes.ts';
import { groupCarriers, stampOps } from './carriers.ts';
import { matchBlocks } from './match.ts';
import type { RenderWarning } from './objects.ts';
import { type BindingClass, type RawRoute, type RouteContext, renderRoute } from './routes.ts';
import { type LaneTarget, resolveChain } from './targets.ts';

export interface EntryHost {
  readonly gateway: string;
  readonly host: string;
  readonly routes: readonly RawRoute[];
  /** The resource and field of the native ingress whose default route ends the host, if any. */
  readonly catchAll:
    | { readonly kind: string; readonly name: string; readonly path: string }
    | undefined;
}

function warn(
  out: RenderWarning[],
  e: EntryRoute,
  reason: RenderWarning['reason'],
  fieldPath: string,
  message: string,
): void {
  const r = e.origin.kind === 'rule' ? e.origin.lane.resource : e.origin.group.resource;
  out.push({
    resource: { kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name },
    fieldPath,
    reason,
    message,
  });
}

function destinationFor(
  e: EntryRoute & { origin: { kind: 'rule' } },
  ctx: RouteContext,
  weight: number | undefined,
):
  | { readonly kind: 'destination'; readonly value: Record<string, unknown> }
  | { readonly kind: 'fail'; readonly fail: LaneTarget & { kind: 'fail' } } {
  const o = e.origin;
  const plan = o.service === undefined ? undefined : ctx.plans.get(o.service);
  // The VirtualService lives in the gateway's namespace: name the service in full.
  const destination: Record<string, unknown> = { host: plan?.host ?? o.destination.host };
  if (o.destination.port !== undefined) destination.port = { number: o.destination.port };
  if (plan && plan.group.key === o.group.key) {
    const chain = plan.chains.chains[o.lane.name] ?? plan.chains.baselineChain;
    const target = resolveChain(
      plan,
      chain,
      plan.group.mode === 'strict' ? o.lane.name : undefined,
    );
    if (target.kind === 'fail') return { kind: 'fail', fail: target };
    if (target.kind === 'subset') destination.subset = target.subset;
  }
  const ops = stampOps(groupCarriers(o.group), o.lane.name, 'add');
  const request: Record<string, unknown> = { set: ops.set };
  if (ops.add) request.add = ops.add;
  const out: Record<string, unknown> = { destination };
  if (weight !== undefined) out.weight = weight;
  out.headers = { request };
  return { kind: 'destination', value: out };
}

function failRoute(name: string, match: unknown, fail: LaneTarget & { kind: 'fail' }): RawRoute {
  const r: RawRoute = { name };
  if (match !== undefined) r.match = match;
  r.directResponse = { status: 503, body: { string: `${fail.message}\n` } };
  r.headers = { response: { set: { 'x-lanes-error': fail.code } } };
  return r;
}

/** Entry routes of one gateway host, in order, as Istio routes. */
export function entryHost(
  gateway: string,
  host: string,
  entries: readonly EntryRoute[],
  cls: BindingClass,
  ctx: RouteContext,
  warnings: RenderWarning[],
): EntryHost {
  const routes: RawRoute[] = [];
  const ingress = entries.find((e) => e.origin.kind === 'ingress');
  let catchAll: EntryHost['catchAll'];
  const bands = entries.filter((e) => e.origin.kind === 'rule' && e.origin.share.kind === 'band');
  for (const e of entries) {
    const o = e.origin;
    if (o.kind === 'ingress') continue;
    const path = o.rule.path;
    if (o.share.kind === 'sticky') {
      warn(
        warnings,
        e,
        'StickyEntryNotRendered',
        `${path}.sticky`,
        `sticky percentage at ${gateway} host ${host}: VirtualService weights are random per request, so this rule is not rendered (its requests take the routes after it)`,
      );
      continue;
    }
    if (o.share.kind === 'band') continue;
    const blocks = matchBlocks(o.rule.match, `${path}.match`);
    if (!blocks.ok) {
      warn(
        warnings,
        e,
        'MatchNotRendered',
        blocks.path,
        `${blocks.message}; entry rule ${o.rule.name} is not rendered`,
      );
      continue;
    }
    const match =
      blocks.blocks.length === 1 && Object.keys(blocks.blocks[0]!).length === 0
        ? undefined
        : blocks.blocks;
    const name = `lanes/${o.lane.name}/${o.rule.name}`;
    const dest = destinationFor(e as EntryRoute & { origin: { kind: 'rule' } }, ctx, undefined);
    if (dest.kind === 'fail') routes.push(failRoute(name, match, dest.fail));
    else
      routes.push(
        match === undefined ? { name, route: [dest.value] } : { name, match, route: [dest.value] },
      );
  }

  // Weighted rules share one draw: one route, a destination per lane, the rest to the default.
  const first = bands[0];
  if (first && first.origin.kind === 'rule') {
    const firstBlocks = matchBlocks(first.origin.rule.match, `${first.origin.rule.path}.match`);
    const key = JSON.stringify(firstBlocks);
    const same = bands.filter(
      (b) =>
        b.origin.kind === 'rule' &&
        JSON.stringify(matchBlocks(b.origin.rule.match, `${b.origin.rule.path}.match`)) === key,
    );
    for (const b of bands) {
      if (same.includes(b) || b.origin.kind !== 'rule') continue;
      warn(
        warnings,
        b,
        'WeightedEntryNotRendered',
        b.origin.rule.path,
        `weighted rules at ${gateway} host ${host} share one random draw; Istio can render them only with one common match, and this rule's differs from ${first.origin.lane.name}/${first.origin.rule.name}'s`,
      );
    }
    const dests: Record<string, unknown>[] = [];
    let used = 0;
    for (const b of same) {
      if (b.origin.kind !== 'rule' || b.origin.share.kind !== 'band') continue;
      const weight = b.origin.share.to - b.origin.share.from;
      used += weight;
      const d = destinationFor(b as EntryRoute & { origin: { kind: 'rule' } }, ctx, weight);
      if (d.kind === 'fail') {
        warn(
          warnings,
          b,
          'WeightedEntryNotRendered',
          b.origin.rule.path,
          `${d.fail.message}; a weighted destination cannot answer by itself`,
        );
        continue;
      }
      dests.push(d.value);
    }
    const rest = 100 - used;
    let ok = firstBlocks.ok;
    if (!firstBlocks.ok) {
      warn(
        warnings,
        first,
        'MatchNotRendered',
        firstBlocks.path,
        `${firstBlocks.message}; weighted entry rules are not rendered`,
      );
    }
    if (ok && rest > 0) {
      const fallback = ingress
        ? renderRoute(
            { route: [ingressDestination(ingress, ctx)] },
            cls,
            ctx,
            undefined,
            () => undefined,
          )
        : undefined;
      const only = fallback?.routes.length === 1 ? fallback.routes[0] : undefined;
      const restDests = Array.isArray(only?.route)
        ? (only.route as Record<string, unknown>[])
        : undefined;
      if (restDests?.length === 1) {
        dests.push({ ...restDests[0], weight: rest });
      } else {
        ok = false;
        warn(
          warnings,
          first,
          'WeightedEntryNotRendered',
          first.origin.rule.path,
          `weighted rules at ${gateway} host ${host} leave ${rest} % that lanes sends on to the routes after them; Istio cannot continue a weighted route, so they are rendered only where a native ingress gives the rest one destination`,
        );
      }
    }
    if (ok && dests.length > 0 && firstBlocks.ok) {
      const blocks = firstBlocks.blocks;
      const match =
        blocks.length === 1 && Object.keys(blocks[0]!).length === 0 ? undefined : blocks;
      const r: RawRoute = { name: 'lanes/weighted' };
      if (match !== undefined) r.match = match;
      r.route = dests;
      routes.push(r);
    }
  }

  // A weighted route without a match that took the rest already ends the host.
  const ended = routes.some((r) => r.name === 'lanes/weighted' && r.match === undefined);
  if (ingress && ingress.origin.kind === 'ingress' && !ended) {
    const o = ingress.origin;
    const outcome = renderRoute(
      { route: [ingressDestination(ingress, ctx)] },
      cls,
      ctx,
      undefined,
      (tag) =>
        tag === undefined
          ? `lanes/${o.group.name}/ingress`
          : `lanes/${o.group.name}/ingress/${tag.lane ?? tag.kind}${tag.lane ? `/${tag.kind}` : ''}`,
    );
    routes.push(...outcome.routes);
  }
  if (ingress && ingress.origin.kind === 'ingress') {
    const o = ingress.origin;
    catchAll = { kind: o.group.resource.kind, name: o.group.name, path: o.ingress.path };
  }
  return { gateway, host, routes, catchAll };
}

function ingressDestination(e: EntryRoute, ctx: RouteContext): Record<string, unknown> {
  if (e.origin.kind !== 'ingress') return {};
  const d = e.origin.ingress.destination;
  const plan = e.origin.service === undefined ? undefined : ctx.plans.get(e.origin.service);
  const destination: Record<string, unknown> = { host: plan?.host ?? d.host };
  if (d.port !== undefined) destination.port = { number: d.port };
  return { destination };
}
