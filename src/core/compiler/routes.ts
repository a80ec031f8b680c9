/**
 * Istio HTTPRoute → compiled routes, one per match block (as Istio emits one Envoy route per
 * block), with Istio's defaults: no timeout, 2 retries on connect-failure / refused-stream /
 * unavailable / cancelled / retriable-status-codes, redirect code 301, relative weights.
 */

import type {
  HeaderOperations,
  Headers,
  HTTPFaultInjection,
  HTTPRetry,
  HTTPRoute,
  HTTPRouteDestination,
} from '../../config/kinds/istio/types.ts';
import type { Resource } from '../../config/resource/resource.ts';
import { suggestName } from '../../config/schema/did-you-mean.ts';
import { compileRe2, re2Replacement } from '../../config/schema/regex.ts';
import { ALWAYS, istioMatch } from './matchers.ts';
import type { StatusBook } from './status.ts';
import type {
  CompiledDestination,
  CompiledRoute,
  DestinationTarget,
  FaultPolicy,
  HeaderChange,
  HeaderPolicy,
  RetryPolicy,
  RewritePolicy,
  RouteAction,
  SourceRef,
} from './table.ts';

export const DEFAULT_RETRY_ON = [
  'connect-failure',
  'refused-stream',
  'unavailable',
  'cancelled',
  'retriable-status-codes',
] as const;

export const DEFAULT_RETRIES: RetryPolicy = {
  attempts: 2,
  perTryTimeoutMs: undefined,
  retryOn: DEFAULT_RETRY_ON,
  retriableStatusCodes: [],
  backoffMs: 25,
  defaulted: true,
};

/** What route compilation needs to know about the rest of the mesh. */
export interface RouteContext {
  readonly resource: Resource;
  readonly status: StatusBook;
  /** Host as written in a route, in the route's namespace → service key, when it is a service. */
  resolveService(host: string, namespace: string): string | undefined;
  /** How a `subset` of a service resolves: a DestinationRule subset, a lane, or neither. */
  resolveSubset(service: string, subset: string): DestinationTarget;
  /** What a route may name as a subset of a service: its DestinationRule subsets and lanes. */
  subsetNames(service: string): readonly string[];
  /** Every service's key (`namespace/name`). */
  serviceKeys(): Iterable<string>;
}

export const NO_HEADERS: HeaderPolicy = { request: [], response: [] };

function changes(ops: HeaderOperations | undefined): {
  removes: HeaderChange[];
  writes: HeaderChange[];
} {
  const removes: HeaderChange[] = (ops?.remove ?? []).map((name) => ({
    op: 'remove',
    name: name.toLowerCase(),
  }));
  const writes: HeaderChange[] = [
    ...Object.entries(ops?.set ?? {}).map(
      ([name, value]): HeaderChange => ({ op: 'set', name: name.toLowerCase(), value }),
    ),
    ...Object.entries(ops?.add ?? {}).map(
      ([name, value]): HeaderChange => ({ op: 'add', name: name.toLowerCase(), value }),
    ),
  ];
  return { removes, writes };
}

/** Route-level then destination-level changes, in the order Envoy applies them. */
export function mergeHeaders(
  route: Headers | undefined,
  destination: Headers | undefined,
): HeaderPolicy {
  const merge = (
    a: HeaderOperations | undefined,
    b: HeaderOperations | undefined,
  ): HeaderChange[] => {
    const ra = changes(a);
    const rb = changes(b);
    return [...ra.removes, ...rb.removes, ...ra.writes, ...rb.writes];
  };
  const request = merge(route?.request, destination?.request);
  const response = merge(route?.response, destination?.response);
  return request.length === 0 && response.length === 0 ? NO_HEADERS : { request, response };
}

export function retryPolicy(r: HTTPRetry | undefined): RetryPolicy {
  if (r === undefined) return DEFAULT_RETRIES;
  const attempts = r.attempts ?? 0;
  let retryOn: string[] = [...DEFAULT_RETRY_ON];
  const codes: number[] = [];
  if (r.retryOn !== undefined) {
    retryOn = [];
    for (const raw of r.retryOn.split(',')) {
      const item = raw.trim();
      if (item === '') continue;
      if (/^\d+$/.test(item)) codes.push(Number(item));
      else retryOn.push(item);
    }
    // Istio adds retriable-status-codes when numeric codes are listed (retry.go L127-133).
    if (codes.length > 0 && !retryOn.includes('retriable-status-codes'))
      retryOn.push('retriable-status-codes');
  }
  return {
    attempts: Math.max(0, attempts),
    perTryTimeoutMs: r.perTryTimeout,
    retryOn,
    retriableStatusCodes: codes,
    backoffMs: r.backoff ?? 25,
    defaulted: false,
  };
}

function faultPolicy(f: HTTPFaultInjection | undefined): FaultPolicy | undefined {
  if (!f) return undefined;
  // Without a percentage no request is faulted (the deprecated integer field defaults to 0).
  const delay = f.delay
    ? { ms: f.delay.fixedDelay, percent: f.delay.percentage?.value ?? 0 }
    : undefined;
  const abort = f.abort
    ? { status: f.abort.httpStatus, percent: f.abort.percentage?.value ?? 0 }
    : undefined;
  return { delay, abort };
}

function rewritePolicy(route: HTTPRoute, uriPrefix: string | undefined): RewritePolicy | undefined {
  const rw = route.rewrite;
  if (!rw) return undefined;
  let uriRegex: RewritePolicy['uriRegex'];
  if (rw.uriRegexRewrite) {
    const compiled = compileRe2(rw.uriRegexRewrite.match, 'global');
    if (compiled.ok)
      uriRegex = {
        regexp: compiled.regexp,
        replacement: re2Replacement(rw.uriRegexRewrite.rewrite),
      };
  }
  return { uri: rw.uri, matchedPrefix: uriPrefix, uriRegex, authority: rw.authority };
}

/** The closest service name in the route's namespace to a host's first label, or the names. */
function hostSuggestion(host: string, namespace: string, ctx: RouteContext): string {
  const prefix = `${namespace}/`;
  const names = [...ctx.serviceKeys()]
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length));
  return suggestName(host.split('.')[0]!, names, `services in ${namespace}`);
}

function destinationOf(
  d: HTTPRouteDestination,
  route: HTTPRoute,
  source: SourceRef,
  path: string,
  ctx: RouteContext,
): CompiledDestination {
  const ns = ctx.resource.metadata.namespace;
  const service = ctx.resolveService(d.destination.host, ns);
  let target: DestinationTarget = { kind: 'service' };
  if (service === undefined) {
    ctx.status.problem(
      ctx.resource,
      'ResolvedRefs',
      'BackendNotFound',
      `${path}.destination.host`,
      `host ${JSON.stringify(d.destination.host)} is not a known service${hostSuggestion(d.destination.host, ns, ctx)}; requests routed here get 503 NO_SUCH_SERVICE until a Service with that name exists`,
    );
  } else if (d.destination.subset !== undefined) {
    target = ctx.resolveSubset(service, d.destination.subset);
    if (target.kind === 'unresolved-subset') {
      ctx.status.problem(
        ctx.resource,
        'ResolvedRefs',
        'SubsetNotFound',
        `${path}.destination.subset`,
        `subset ${JSON.stringify(d.destination.subset)} of ${service} is neither a DestinationRule subset nor a lane of its lane group${suggestName(d.destination.subset, ctx.subsetNames(service), 'its subsets and lanes')}; requests routed here get 503 NO_SUCH_SUBSET`,
      );
    }
  }
  return {
    host: d.destination.host,
    service,
    port: d.destination.port?.number,
    weight: d.weight ?? 0,
    target,
    headers: mergeHeaders(route.headers, d.headers),
    source: { ...source, path },
  };
}

function actionOf(
  route: HTTPRoute,
  source: SourceRef,
  path: string,
  ctx: RouteContext,
): RouteAction {
  if (route.redirect) {
    const r = route.redirect;
    return {
      kind: 'redirect',
      status: r.redirectCode ?? 301,
      uri: r.uri,
      prefixRewrite: r.prefixRewrite,
      matchedPrefix: undefined,
      authority: r.authority,
      scheme: r.scheme,
      port: r.port,
      derivePort: r.derivePort,
    };
  }
  if (route.directResponse) {
    const body = route.directResponse.body;
    const text =
      body?.string ??
      (body?.bytes !== undefined ? Buffer.from(body.bytes, 'base64').toString('utf8') : undefined);
    return { kind: 'direct', status: route.directResponse.status, body: text };
  }
  const destinations = (route.route ?? []).map((d, i) =>
    destinationOf(d, route, source, `${path}.route[${i}]`, ctx),
  );
  // A single destination gets all traffic whatever its weight (VS.proto L940-948).
  const normalised =
    destinations.length === 1
      ? [{ ...destinations[0]!, weight: 1 }]
      : destinations.filter((d) => d.weight > 0);
  return {
    kind: 'route',
    destinations: normalised,
    totalWeight: normalised.reduce((s, d) => s + d.weight, 0),
  };
}

/** Compiles `spec.http[index]` of a VirtualService into one route per match block. */
export function compileHttpRoute(
  route: HTTPRoute,
  index: number,
  ctx: RouteContext,
): CompiledRoute[] {
  const r = ctx.resource;
  const path = `spec.http[${index}]`;
  const source: SourceRef = {
    kind: r.kind,
    namespace: r.metadata.namespace,
    name: r.metadata.name,
    path,
  };
  const action = actionOf(route, source, path, ctx);
  const base = {
    name: route.name ?? `${r.metadata.namespace}/${r.metadata.name}/${index}`,
    action,
    timeoutMs: route.timeout,
    retries: retryPolicy(route.retries),
    fault: faultPolicy(route.fault),
    headers: mergeHeaders(route.headers, undefined),
  };
  const blocks = route.match ?? [];
  if (blocks.length === 0) {
    return [{ ...base, source, match: ALWAYS, rewrite: rewritePolicy(route, undefined) }];
  }
  return blocks.map((block, j): CompiledRoute => {
    const { matcher, uriPrefix } = istioMatch(block);
    return {
      ...base,
      action: action.kind === 'redirect' ? { ...action, matchedPrefix: uriPrefix } : action,
      source: { ...source, path: `${path}.match[${j}]` },
      match: matcher,
      rewrite: rewritePolicy(route, uriPrefix),
    };
  });
}
