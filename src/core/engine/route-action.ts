/**
 * Executes a matched route: redirect, direct response, fault injection, weighted destination
 * choice, header changes (route level, then destination level), carrier stamping, and the
 * destination's endpoints. Shared by gateways and sidecars.
 */

import { portOf } from '../compiler/hosts.ts';
import type {
  CompiledDestination,
  CompiledRoute,
  HeaderChange,
  RoutingTable,
} from '../compiler/table.ts';
import { type Resolved, resolveDestination } from './destination.ts';
import { type ErrorCode, statusOf } from './errors.ts';
import {
  type HopOverride,
  NO_OVERRIDE,
  overrideOutcome,
  overrideResponseOp,
  withOverride,
} from './override.ts';
import { carrierOps, ensureTraceIds } from './tags.ts';
import type {
  Chooser,
  DecideContext,
  Decision,
  DestinationRequest,
  Failure,
  FallbackStep,
  HeaderOp,
  OverrideInfo,
  RequestView,
  RouteInfo,
  Tag,
} from './types.ts';
import { withOps } from './view.ts';

export const NO_STEPS: readonly string[] = Object.freeze([]);

export function toOps(changes: readonly HeaderChange[], out: HeaderOp[]): void {
  for (const c of changes) out.push(c);
}

function pickWeighted(
  route: CompiledRoute & { action: { kind: 'route' } },
  random: () => number,
  chooser: Chooser | undefined,
): CompiledDestination | undefined {
  const { destinations, totalWeight } = route.action;
  if (destinations.length <= 1) return destinations[0];
  if (chooser) return destinations[chooser.destination(destinations.map((d) => d.weight))];
  let r = random() * totalWeight;
  for (const d of destinations) {
    r -= d.weight;
    if (r < 0) return d;
  }
  return destinations[destinations.length - 1];
}

/**
 * The route's response header changes on an answer the proxy gives itself: Envoy finalizes a
 * direct response's and a redirect's headers with the route's `response_headers_to_add` too.
 */
function localResponseHeaders(route: CompiledRoute): [string, string][] {
  const out: [string, string][] = [];
  for (const c of route.headers.response) {
    if (c.op === 'remove') continue;
    const at = out.findIndex(([name]) => name === c.name);
    if (c.op === 'set' && at >= 0) out[at] = [c.name, c.value];
    else out.push([c.name, c.value]);
  }
  return out;
}

function routeInfo(route: CompiledRoute): RouteInfo {
  return {
    name: route.name,
    source: route.source,
    timeoutMs: route.timeoutMs,
    retries: route.retries,
    rewrite: route.rewrite,
  };
}

function redirectLocation(
  route: CompiledRoute & { action: { kind: 'redirect' } },
  req: RequestView,
  listenerPort: number | undefined,
): string {
  const a = route.action;
  const scheme = a.scheme ?? req.scheme;
  const requestPort = portOf(req.authority);
  let host = a.authority ?? hostWithoutPort(req.authority);
  let port: number | undefined = a.port;
  if (port === undefined && a.derivePort === 'FROM_REQUEST_PORT')
    port = listenerPort ?? requestPort;
  // The request's own port belongs to its scheme: kept only when neither scheme nor host change.
  if (
    port === undefined &&
    a.derivePort === undefined &&
    a.authority === undefined &&
    scheme === req.scheme
  ) {
    port = requestPort;
  }
  // Istio leaves out :80 for http and :443 for https (route.go L780-846).
  if (
    port !== undefined &&
    !((scheme === 'http' && port === 80) || (scheme === 'https' && port === 443))
  ) {
    host = `${host}:${port}`;
  }
  let path = req.path;
  if (a.uri !== undefined) path = a.uri;
  else if (
    a.prefixRewrite !== undefined &&
    a.matchedPrefix !== undefined &&
    path.startsWith(a.matchedPrefix)
  ) {
    path = a.prefixRewrite + path.slice(a.matchedPrefix.length);
  }
  return `${scheme}://${host}${path}${req.query === '' ? '' : `?${req.query}`}`;
}

function hostWithoutPort(authority: string): string {
  return portOf(authority) === undefined
    ? authority
    : authority.slice(0, authority.lastIndexOf(':'));
}

export interface ActOptions {
  readonly table: RoutingTable;
  readonly route: CompiledRoute;
  readonly view: RequestView;
  readonly random: () => number;
  readonly ctx: DecideContext;
  /** Operations already decided (edge hygiene, tag restoration). */
  readonly ops: HeaderOp[];
  /** Tags found on the request (sidecars) or trusted from the client (gateways). */
  readonly tags: readonly Tag[];
  readonly atGateway: boolean;
  readonly port: number | undefined;
  readonly listenerPort: number | undefined;
  readonly steps: string[] | undefined;
  /** The per-request override the hop follows (or rejected), if the request carried one. */
  readonly override?: HopOverride;
}

export function actOnRoute(o: ActOptions): Decision {
  const { route, steps } = o;
  const info = routeInfo(route);
  steps?.push(
    `route ${route.name} (${route.source.kind} ${route.source.namespace ? `${route.source.namespace}/` : ''}${route.source.name} ${route.source.path ?? ''})`.replace(
      ' )',
      ')',
    ),
  );
  const action = route.action;
  if (action.kind === 'redirect') {
    const location = redirectLocation(
      route as CompiledRoute & { action: typeof action },
      o.view,
      o.listenerPort,
    );
    steps?.push(`redirect ${action.status} to ${location}`);
    return {
      kind: 'respond',
      status: action.status,
      headers: [['location', location], ...localResponseHeaders(route)],
      body: '',
      reason: 'redirect',
      route: info,
      steps: steps ?? NO_STEPS,
    };
  }
  if (action.kind === 'direct') {
    steps?.push(`direct response ${action.status}`);
    return {
      kind: 'respond',
      status: action.status,
      headers: localResponseHeaders(route),
      body: action.body ?? '',
      reason: 'direct-response',
      route: info,
      steps: steps ?? NO_STEPS,
    };
  }
  const fault = route.fault;
  const abortDrawn = fault?.abort !== undefined && o.random() * 100 < fault.abort.percent;
  if (fault?.abort && !abortDrawn)
    steps?.push(
      `fault injection: abort with ${fault.abort.status} for ${fault.abort.percent} % of requests, not this one`,
    );
  if (fault?.abort && abortDrawn) {
    steps?.push(
      `fault injection: abort with ${fault.abort.status} (${fault.abort.percent} % of requests)`,
    );
    return {
      kind: 'respond',
      status: fault.abort.status,
      headers: [],
      body: 'fault filter abort',
      reason: 'fault-abort',
      route: info,
      steps: steps ?? NO_STEPS,
    };
  }
  const delayMs =
    fault?.delay && o.random() * 100 < fault.delay.percent ? fault.delay.ms : undefined;
  if (delayMs !== undefined) steps?.push(`fault injection: delay ${delayMs} ms`);

  const dest = pickWeighted(
    route as CompiledRoute & { action: typeof action },
    o.random,
    o.ctx.choose,
  );
  if (!dest) {
    return failure(
      {
        code: 'NO_ROUTE',
        message: `route ${route.name} has no destination with a weight above 0`,
        tags: o.tags,
        override: o.override?.info,
      },
      steps,
    );
  }
  if (action.destinations.length > 1)
    steps?.push(
      `weighted choice: ${dest.host}${dest.target.kind === 'lane' || dest.target.kind === 'subset' ? ` subset ${'lane' in dest.target ? dest.target.lane : dest.target.subset}` : ''} (weight ${dest.weight} of ${action.totalWeight})`,
    );

  const ops = o.ops;
  toOps(dest.headers.request, ops);
  const after = withOps(o.view, ops);
  // A route that sets a route header stamps the lane tag (per destination, so a weighted split
  // stamps the lane actually chosen).
  const tags: Tag[] = [];
  for (const ctx of o.table.tagContexts) {
    const stamped = dest.headers.request.some((c) => c.op === 'set' && c.name === ctx.routeHeader);
    const value = after.header(ctx.routeHeader)?.trim();
    const previous = o.tags.find((t) => t.routeHeader === ctx.routeHeader);
    if (value !== undefined && value !== '') {
      const tag: Tag = stamped
        ? { routeHeader: ctx.routeHeader, lane: value, source: 'route', from: ctx.routeHeader }
        : (previous ?? {
            routeHeader: ctx.routeHeader,
            lane: value,
            source: 'route-header',
            from: ctx.routeHeader,
          });
      tags.push(tag);
      if (stamped) steps?.push(`tag ${ctx.routeHeader}: ${value} stamped by the route`);
      carrierOps(ctx, value, after, o.atGateway, ops);
    } else if (previous) {
      // A tag found in another carrier (baggage, a custom header, a trusted client's) still counts.
      tags.push(previous);
      carrierOps(ctx, previous.lane, after, o.atGateway, ops);
    } else if (o.atGateway) {
      ensureTraceIds(ctx, after, ops);
    }
  }

  const override = o.override ?? NO_OVERRIDE;
  const overrideLane = dest.service === undefined ? undefined : override.lanes?.get(dest.service);
  // Kept with the decision, so a retry resolves the same override again (reroute).
  const destination: DestinationRequest =
    overrideLane === undefined ? dest : { ...dest, overrideLane };
  const resolved = resolveDestination(o.table, destination, tags, o.ctx.isEjected, steps);
  const overrideInfo = overrideOutcome(override, resolved.overridden);
  if (!resolved.ok) return unresolved(resolved, tags, overrideInfo, steps);
  const responseOps: HeaderOp[] = [];
  toOps(dest.headers.response, responseOps);
  const told = o.atGateway ? overrideResponseOp(overrideInfo) : undefined;
  if (told) responseOps.push(told);
  return withOverride(
    {
      kind: 'forward',
      service: resolved.service.key,
      port: dest.port ?? o.port,
      target: resolved.target,
      endpoints: resolved.endpoints,
      destination,
      policy: resolved.policy,
      route: info,
      delayMs,
      requestOps: ops,
      responseOps,
      tags,
      fallback: resolved.fallback,
      steps: steps ?? NO_STEPS,
    },
    overrideInfo,
  );
}

/** What a hop that cannot forward a request says about it. */
export interface FailureInit {
  readonly code: ErrorCode;
  readonly message: string;
  /** The service the request was for, when the hop got that far. */
  readonly service?: string | undefined;
  /** The lane it asked for (or an override named). */
  readonly lane?: string | undefined;
  /** Lanes passed over before giving up, and why. */
  readonly fallback?: readonly FallbackStep[];
  readonly tags: readonly Tag[];
  /** What the hop did with the request's override, when it carried one. */
  readonly override?: OverrideInfo | undefined;
}

/** The error decision for a destination that did not resolve (no service, subset or endpoint). */
export function unresolved(
  r: Extract<Resolved, { ok: false }>,
  tags: readonly Tag[],
  override: OverrideInfo | undefined,
  steps: string[] | undefined,
): Failure {
  const { code, message, service, lane, fallback } = r;
  return failure({ code, message, service, lane, fallback, tags, override }, steps);
}

/** The error decision for `f`; its code and message go to the explanation's steps too. */
export function failure(f: FailureInit, steps: string[] | undefined): Failure {
  steps?.push(`error ${f.code}: ${f.message}`);
  const d: Failure = {
    kind: 'error',
    code: f.code,
    status: statusOf(f.code),
    message: f.message,
    service: f.service,
    lane: f.lane,
    fallback: f.fallback ?? [],
    tags: f.tags,
    steps: steps ?? NO_STEPS,
  };
  return f.override === undefined ? d : { ...d, override: f.override };
}
