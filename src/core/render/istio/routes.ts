/**
 * HTTP routes as stock Istio reads them, built from a user's route (or a synthetic catch-all for
 * a lane-group service) for one binding class: at sidecars (mesh) and at gateways that trust
 * clients, the route is expanded into one route per tag case (every lane, an unknown tag, the
 * caller's lane in strict groups, no tag); at other gateways there is no tag (edge hygiene), so
 * destinations go to the baselines and the client's carrier headers are removed.
 */
import type { Analysis } from '../../compiler/analyze.ts';
import {
  type GroupCarriers,
  groupCarriers,
  type HeaderOps,
  stampOps,
  type TagCase,
  tagCases,
} from './carriers.ts';
import { andBlocks, type MatchBlock } from './match.ts';
import { type LaneTarget, laneTarget, resolveChain, type ServicePlan } from './targets.ts';

export type RawRoute = Record<string, unknown>;
export type BindingClass = 'mesh' | 'gateway' | 'trusted-gateway';

export interface RouteContext {
  readonly analysis: Analysis;
  /** Lane-group services, by key. */
  readonly plans: ReadonlyMap<string, ServicePlan>;
  /** The namespace of the VirtualService (short hosts resolve in it). */
  readonly namespace: string;
  /** Route headers of every group: a route that sets one stamps a lane tag. */
  readonly carriersByRouteHeader: ReadonlyMap<string, GroupCarriers>;
  /** Services that need the empty subset (filled while rendering). */
  readonly emptySubsets: Set<string>;
  /** Tag cases per group and binding class (shared by every route that expands by them). */
  readonly caseCache: Map<string, readonly TagCase[]>;
}

interface DestinationInfo {
  readonly raw: Record<string, unknown>;
  readonly plan: ServicePlan | undefined;
  /** A lane named by `subset` (not a DestinationRule subset). */
  readonly lane: string | undefined;
  /** The lane tag this destination stamps (a `set` of a route header), with its carriers. */
  readonly stamp: { readonly lane: string; readonly carriers: GroupCarriers } | undefined;
}

export type RouteOutcome =
  | { readonly kind: 'routes'; readonly routes: readonly RawRoute[] }
  /** The user's route tests a carrier itself, so lane cases cannot be ANDed in. */
  | { readonly kind: 'not-expanded'; readonly routes: readonly RawRoute[]; readonly why: string };

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : {};
}

function requestSets(headers: unknown): Record<string, unknown> {
  return obj(obj(obj(headers).request).set);
}

function destinationsOf(route: RawRoute, ctx: RouteContext): DestinationInfo[] {
  const routeSets = requestSets(route.headers);
  return (Array.isArray(route.route) ? route.route : []).map((d): DestinationInfo => {
    const raw = obj(d);
    const dest = obj(raw.destination);
    const host = typeof dest.host === 'string' ? dest.host : '';
    const service = ctx.analysis.resolveService(host, ctx.namespace);
    const plan = service === undefined ? undefined : ctx.plans.get(service);
    let lane: string | undefined;
    if (service !== undefined && typeof dest.subset === 'string') {
      const t = ctx.analysis.resolveSubset(service, dest.subset);
      if (t.kind === 'lane') lane = t.lane;
    }
    const sets = { ...routeSets, ...requestSets(raw.headers) };
    let stamp: DestinationInfo['stamp'];
    for (const [name, value] of Object.entries(sets)) {
      const carriers = ctx.carriersByRouteHeader.get(name.toLowerCase());
      if (carriers && typeof value === 'string' && value.trim() !== '')
        stamp = { lane: value.trim(), carriers };
    }
    return { raw, plan, lane, stamp };
  });
}

/** Destination headers for our writes alone, per ops object (shared across services). */
const plainOps = new WeakMap<HeaderOps, Record<string, unknown> | undefined>();

/** Our writes merged under the user's: a header the user sets or adds stays theirs. */
function mergeOps(headers: unknown, ops: HeaderOps): Record<string, unknown> | undefined {
  if (headers === undefined) {
    if (!plainOps.has(ops)) plainOps.set(ops, mergeWith({}, ops));
    return plainOps.get(ops);
  }
  return mergeWith(headers, ops);
}

function mergeWith(headers: unknown, ops: HeaderOps): Record<string, unknown> | undefined {
  const h = obj(headers);
  const request = obj(h.request);
  const userSet = obj(request.set);
  const userAdd = obj(request.add);
  const userRemove = Array.isArray(request.remove) ? (request.remove as string[]) : [];
  const set = { ...userSet };
  for (const [k, v] of Object.entries(ops.set ?? {}))
    if (!(k in userSet) && !(k in userAdd)) set[k] = v;
  const add = { ...userAdd };
  for (const [k, v] of Object.entries(ops.add ?? {})) {
    if (k in userSet) continue;
    add[k] = typeof add[k] === 'string' ? `${add[k]},${v}` : v;
  }
  const remove = [...userRemove];
  for (const name of ops.remove ?? [])
    if (!(name in set) && !(name in add) && !remove.includes(name)) remove.push(name);
  const out: Record<string, unknown> = {};
  if (Object.keys(set).length > 0) out.set = set;
  if (Object.keys(add).length > 0) out.add = add;
  if (remove.length > 0) out.remove = remove;
  const merged: Record<string, unknown> = { ...h };
  if (Object.keys(out).length > 0) merged.request = out;
  else delete merged.request;
  return Object.keys(merged).length > 0 ? merged : undefined;
}

/** The subset that selects no instance: where a failing destination of a weighted route goes. */
export const EMPTY_SUBSET = 'lanes-none';

function withTarget(
  raw: Record<string, unknown>,
  target: LaneTarget,
  plan: ServicePlan,
  ctx: RouteContext,
): Record<string, unknown> {
  const dest = { ...obj(raw.destination) };
  if (target.kind === 'subset') dest.subset = target.subset;
  else if (target.kind === 'unlaned') delete dest.subset;
  else {
    // Istio answers 503 (no healthy upstream) for a subset without instances.
    dest.subset = EMPTY_SUBSET;
    ctx.emptySubsets.add(plan.key);
  }
  return { ...raw, destination: dest };
}

/** A lane-routed destination's target for a request tagged `tag` (undefined: no tag). */
function targetFor(d: DestinationInfo, tag: TagCase | undefined): LaneTarget | undefined {
  const plan = d.plan;
  if (!plan) return undefined;
  if (d.lane !== undefined) {
    const chain = plan.chains.chains[d.lane] ?? plan.chains.baselineChain;
    return resolveChain(plan, chain, plan.group.mode === 'strict' ? d.lane : undefined);
  }
  if (d.stamp !== undefined && d.stamp.carriers.routeHeader === plan.group.routeHeader)
    return laneTarget(plan, d.stamp.lane);
  if (tag?.kind === 'caller' && tag.lane !== undefined) {
    return resolveChain(plan, plan.chains.chains[tag.lane] ?? [], tag.lane);
  }
  return laneTarget(plan, tag?.lane);
}

/** The route with every destination resolved for one tag case; a single failing one answers itself. */
function resolved(
  ctx: RouteContext,
  route: RawRoute,
  dests: readonly DestinationInfo[],
  tag: TagCase | undefined,
  cls: BindingClass,
  groupOps: HeaderOps,
  hygiene: readonly string[],
): RawRoute {
  const out: RawRoute = { ...route };
  const targets = dests.map((d) => {
    if (!d.plan) return undefined;
    // A DestinationRule subset stays as the user wrote it.
    if (obj(d.raw.destination).subset !== undefined && d.lane === undefined) return undefined;
    return targetFor(d, tag);
  });
  if (dests.length === 1 && targets[0]?.kind === 'fail') {
    const fail = targets[0];
    delete out.route;
    out.directResponse = { status: 503, body: { string: `${fail.message}\n` } };
    const headers = obj(out.headers);
    out.headers = {
      ...headers,
      response: {
        ...obj(headers.response),
        set: { ...obj(obj(headers.response).set), 'x-lanes-error': fail.code },
      },
    };
    return out;
  }
  out.route = dests.map((d, i) => {
    const target = targets[i];
    let ops: HeaderOps = {};
    if (d.stamp) ops = stampOps(d.stamp.carriers, d.stamp.lane, 'add');
    else if (cls === 'gateway') ops = { remove: hygiene };
    else ops = groupOps;
    // The same destination, subset and writes recur for every lane of every route of a service:
    // one object serves them all (the rendering is plain data, never mutated).
    const subsetKey = target?.kind === 'subset' ? target.subset : (target?.kind ?? '');
    let bySubset = entryCache.get(d.raw);
    if (!bySubset) {
      bySubset = new Map();
      entryCache.set(d.raw, bySubset);
    }
    let byOps = bySubset.get(subsetKey);
    if (!byOps) {
      byOps = new WeakMap();
      bySubset.set(subsetKey, byOps);
    }
    const cached = byOps.get(ops);
    if (cached) return cached;
    let raw = target && d.plan ? withTarget(d.raw, target, d.plan, ctx) : d.raw;
    const headers = mergeOps(raw.headers, ops);
    raw = { ...raw };
    if (headers === undefined) delete raw.headers;
    else raw.headers = headers;
    byOps.set(ops, raw);
    return raw;
  });
  return out;
}

const entryCache = new WeakMap<
  Record<string, unknown>,
  Map<string, WeakMap<HeaderOps, Record<string, unknown>>>
>();

/** The carriers whose tag decides this route: the VS host's group, else a bare destination's. */
function expansionGroup(
  dests: readonly DestinationInfo[],
  hostPlan: ServicePlan | undefined,
): ServicePlan | undefined {
  if (dests.every((d) => d.stamp !== undefined)) return undefined;
  if (hostPlan) return hostPlan;
  return dests.find(
    (d) =>
      d.plan &&
      d.stamp === undefined &&
      d.lane === undefined &&
      obj(d.raw.destination).subset === undefined,
  )?.plan;
}

/**
 * One user route (or the synthetic catch-all of a lanes VirtualService) rendered for a binding
 * class. `name(case)` names the expanded routes.
 */
export function renderRoute(
  route: RawRoute,
  cls: BindingClass,
  ctx: RouteContext,
  hostPlan: ServicePlan | undefined,
  name: (tag: TagCase | undefined) => string | undefined,
): RouteOutcome {
  if (route.redirect !== undefined || route.directResponse !== undefined)
    return { kind: 'routes', routes: [route] };
  const dests = destinationsOf(route, ctx);
  if (dests.length === 0) return { kind: 'routes', routes: [route] };
  const hygiene = [
    ...new Set([...ctx.carriersByRouteHeader.values()].flatMap((c) => c.headers)),
  ].sort();
  const group = cls === 'gateway' ? undefined : expansionGroup(dests, hostPlan);
  // Istio's field order, for people reading the output: name, match, then the action.
  const named = (r: RawRoute, tag: TagCase | undefined): RawRoute => {
    const n = name(tag);
    const { name: _name, match, ...rest } = r;
    return {
      ...(n !== undefined ? { name: n } : {}),
      ...(match !== undefined ? { match } : {}),
      ...rest,
    };
  };
  if (!group) {
    return {
      kind: 'routes',
      routes: [named(resolved(ctx, route, dests, undefined, cls, {}, hygiene), undefined)],
    };
  }
  const carriers = groupCarriers(group.group);
  const lanes = [...(group.chains.chains ? Object.keys(group.chains.chains) : [])].sort();
  const callers =
    cls === 'mesh' && group.group.mode === 'strict'
      ? lanes.map((lane) => ({
          lane,
          selector: ctx.analysis.lanes.lanes.get(lane)?.selector ?? {},
        }))
      : [];
  // The cases depend on the group and the binding only: built once, shared by every service's
  // routes (the rendered objects are plain data, never mutated).
  const caseKey = `${group.group.key}\n${cls}`;
  let cases = ctx.caseCache.get(caseKey);
  if (!cases) {
    cases = tagCases(carriers, lanes, callers);
    ctx.caseCache.set(caseKey, cases);
  }
  const userBlocks: MatchBlock[] =
    Array.isArray(route.match) && route.match.length > 0 ? (route.match as MatchBlock[]) : [{}];
  const out: RawRoute[] = [];
  for (const tag of cases) {
    if (userBlocks.length === 1 && Object.keys(userBlocks[0]!).length === 0) {
      const {
        name: _name,
        match: _match,
        ...rest
      } = resolved(ctx, route, dests, tag, cls, tag.ops, hygiene);
      const n = name(tag);
      out.push({
        ...(n !== undefined ? { name: n } : {}),
        ...(tag.kind === 'none' ? {} : { match: tag.blocks }),
        ...rest,
      });
      continue;
    }
    const blocks: MatchBlock[] = [];
    for (const u of userBlocks) {
      for (const c of tag.blocks) {
        const both = andBlocks(u, c);
        if (both === undefined) {
          return {
            kind: 'not-expanded',
            routes: [named(resolved(ctx, route, dests, undefined, cls, {}, hygiene), undefined)],
            why: `its match already tests ${Object.keys({ ...u.headers, ...u.withoutHeaders }).join(', ') || 'a field the lane routes need'}`,
          };
        }
        blocks.push(both);
      }
    }
    const r = resolved(ctx, route, dests, tag, cls, tag.ops, hygiene);
    const isAll = blocks.length === 1 && Object.keys(blocks[0]!).length === 0;
    const withMatch: RawRoute = { ...r };
    if (isAll) delete withMatch.match;
    else withMatch.match = blocks;
    out.push(named(withMatch, tag));
  }
  return { kind: 'routes', routes: out };
}
