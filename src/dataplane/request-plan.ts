/**
 * What happens to a request once its head is read, whatever protocol carried it: the decision
 * engine's answer turned into a plan (answer with an error, answer directly, or forward to an
 * upstream with this request), the request the upstream gets, and the hop's log record whether it
 * was forwarded or answered here. The HTTP/1.1 connection and the HTTP/2 streams both run it, so
 * a hop routes, and is logged, the same way in both.
 */
import { newTraceparent, requestTraceId } from '../core/carriers/trace-context.ts';
import { hostOnly, portOf } from '../core/compiler/hosts.ts';
import type { PortProtocol, UpstreamPolicy } from '../core/compiler/table.ts';
import { applyHeaderOps } from '../core/engine/apply-ops.ts';
import { decide } from '../core/engine/decide.ts';
import type { ErrorCode } from '../core/engine/errors.ts';
import type {
  Decision,
  FallbackStep,
  Forward,
  HeaderOp,
  OverrideInfo,
  Respond,
  Tag,
} from '../core/engine/types.ts';
import type { Snapshot } from './config.ts';
import type { ErrorDetails } from './error-response.ts';
import type { Downstream, ExchangeInit, UpstreamTarget } from './exchange.ts';
import { grpcTimeoutMs, isGrpcContentType } from './grpc.ts';
import { endToEnd, type HeaderList, newTraceId } from './headers.ts';
import type { ProxyCore } from './proxy.ts';
import type { RawRequestView } from './request-view.ts';
import type { ResponseSink } from './response-sink.ts';
import { chosenByOverride, type HopRecord } from './telemetry/access-log.ts';
import type { UpstreamRequest } from './upstream/leg.ts';

export interface Target {
  readonly authority: string;
  readonly pathAndQuery: string;
}

/** What the log says of where a forwarded request went. */
export interface ForwardMeta {
  readonly service: string | null;
  readonly lane: string | null;
  readonly subset: string | null;
  readonly fallback: readonly FallbackStep[];
  readonly tag: Tag | undefined;
  /** What the hop did with a per-request override the request carried. */
  readonly override: OverrideInfo | undefined;
}

/** A request the decision refused: the mesh error its client gets. */
export interface ErrorPlan {
  readonly kind: 'error';
  readonly code: ErrorCode;
  readonly message: string;
  readonly service: string | undefined;
  readonly fallback: readonly FallbackStep[];
  readonly tag: Tag | undefined;
  readonly lane: string | undefined;
  readonly override: OverrideInfo | undefined;
}

export type Plan =
  | ErrorPlan
  | { readonly kind: 'respond'; readonly decision: Respond }
  | {
      readonly kind: 'forward';
      /** After the route's rewrite. */
      readonly target: Target;
      readonly ops: readonly HeaderOp[];
      readonly upstream: UpstreamTarget;
      readonly meta: ForwardMeta;
      readonly decision: Forward | undefined;
      /** What the service port speaks, for a request to a service; undefined otherwise. */
      readonly portProtocol: PortProtocol | undefined;
    };

function applyRewrite(decision: Forward, target: Target): Target {
  if (!decision.route?.rewrite) return target;
  const rw = decision.route.rewrite;
  const q = target.pathAndQuery.indexOf('?');
  let path = q < 0 ? target.pathAndQuery : target.pathAndQuery.slice(0, q);
  const query = q < 0 ? '' : target.pathAndQuery.slice(q);
  if (rw.uriRegex) {
    rw.uriRegex.regexp.lastIndex = 0;
    path = path.replace(rw.uriRegex.regexp, rw.uriRegex.replacement);
  } else if (rw.uri !== undefined) {
    // Istio replaces only the matched prefix when the route matched on a prefix (route.go).
    path =
      rw.matchedPrefix !== undefined && path.startsWith(rw.matchedPrefix)
        ? rw.uri + path.slice(rw.matchedPrefix.length)
        : rw.uri;
  }
  return { authority: rw.authority ?? target.authority, pathAndQuery: `${path}${query}` };
}

/** What the log says of a request sent to no service of the mesh (the local app, a passthrough). */
function outsideServices(tag: Tag | undefined, override: OverrideInfo | undefined): ForwardMeta {
  return { service: null, lane: null, subset: null, fallback: [], tag, override };
}

/** What the log says of a request the proxy answered before any decision: it went nowhere. */
export const NOWHERE: ForwardMeta = Object.freeze(outsideServices(undefined, undefined));

/** What the log says of a request a decision refused: where it was going, and why not. */
export function errorMeta(plan: ErrorPlan): ForwardMeta {
  return {
    service: plan.service ?? null,
    lane: plan.lane ?? null,
    subset: null,
    fallback: plan.fallback,
    tag: plan.tag,
    override: plan.override,
  };
}

/** How a request arrived at this hop, for its log record. */
export interface Arrival {
  /** The request as the client sent it; undefined for a head that could not be read. */
  readonly view: RawRequestView | undefined;
  readonly protocol: 'HTTP/1.1' | 'HTTP/2';
  /** `runtime.now()` when its head arrived (or began to). */
  readonly startedAt: number;
}

/**
 * The log record of one request at this hop, whether an exchange forwarded it or the proxy
 * answered it itself: the same fields, the override's included, over either protocol.
 */
export function hopRecord(
  core: ProxyCore,
  arrival: Arrival,
  meta: ForwardMeta,
  traceId: string | undefined,
): HopRecord {
  const view = arrival.view;
  return {
    hop: core.hop.kind,
    listener: core.listenerName,
    method: view?.method ?? '',
    authority: view?.authority ?? '',
    path: view?.path ?? '',
    tag: meta.tag,
    service: meta.service,
    lane: meta.lane,
    subset: meta.subset,
    fallback: meta.fallback,
    startedAt: arrival.startedAt,
    overridden: chosenByOverride(meta.override),
    traceId,
    override: meta.override,
    protocol: arrival.protocol === 'HTTP/2' ? 'HTTP/2' : undefined,
  };
}

/** How the proxy answered a request itself, for the log. */
export interface LocalAnswer {
  readonly status: number;
  readonly error: ErrorCode | null;
  /** Bytes of the request head as received (0 where the protocol does not count them). */
  readonly bytesIn: number;
  /** gRPC calls: the status the client got. */
  readonly grpcStatus?: number | undefined;
}

/**
 * Ends the hop of a request the proxy answered itself (a mesh error, a direct response, a tunnel
 * it opened), over either protocol.
 */
export function endLocalHop(
  core: ProxyCore,
  arrival: Arrival,
  meta: ForwardMeta,
  answer: LocalAnswer,
): void {
  const view = arrival.view;
  core.runtime.hops.end(
    hopRecord(core, arrival, meta, view ? requestTraceId((name) => view.header(name)) : undefined),
    {
      upstream: null,
      status: answer.status,
      bytesIn: answer.bytesIn,
      bytesOut: 0,
      error: answer.error,
      attempts: 0,
      grpcStatus: answer.grpcStatus,
    },
  );
}

/** The mesh error for a request the hop answers itself, as its client is told. */
export function errorDetails(
  core: ProxyCore,
  error: { readonly code: ErrorCode; readonly message: string },
  meta: ForwardMeta,
  keepAlive: boolean,
): ErrorDetails {
  return {
    code: error.code,
    message: error.message,
    service: meta.service,
    lane: meta.lane ?? meta.tag?.lane,
    fallback: meta.fallback,
    hop: core.listenerName,
    keepAlive,
  };
}

/** The plan for one request whose head is read and checked. */
export function planRequest(
  core: ProxyCore,
  snapshot: Snapshot,
  view: RawRequestView,
  target: Target,
): Plan {
  const decision: Decision = decide(
    snapshot.table,
    core.hop,
    view,
    core.runtime.random,
    core.decideContext,
  );
  const tag = decision.kind === 'respond' ? undefined : decision.tags[0];
  switch (decision.kind) {
    case 'error':
      return {
        kind: 'error',
        code: decision.code,
        message: decision.message,
        service: decision.service,
        fallback: decision.fallback,
        tag,
        lane: decision.lane,
        override: decision.override,
      };
    case 'respond':
      return { kind: 'respond', decision };
    case 'local': {
      for (const r of decision.remember) core.traceMemory?.set(r.traceKey, r.lane);
      if (core.appDown !== undefined) {
        // The supervisor saw the app exit: nothing reaches it, so the caller's proxy may retry
        // the request on another instance whatever its method (x-lanes-delivered: none).
        return {
          kind: 'error',
          code: 'UPSTREAM_CONNECT_FAILURE',
          message: `the app is not running: ${core.appDown}`,
          service: undefined,
          fallback: [],
          tag,
          lane: undefined,
          override: decision.override,
        };
      }
      const app = core.app!;
      return {
        kind: 'forward',
        target,
        ops: [],
        upstream: { kind: 'fixed', host: app.host, port: app.port },
        meta: outsideServices(tag, decision.override),
        decision: undefined,
        portProtocol: undefined,
      };
    }
    case 'passthrough': {
      // The engine's own reading of the authority: the host it did not find is the one we dial.
      const host = hostOnly(target.authority).replace(/^\[|\]$/g, '');
      const port = portOf(target.authority) ?? 80;
      return {
        kind: 'forward',
        target,
        ops: decision.requestOps,
        upstream: { kind: 'fixed', host, port },
        meta: outsideServices(tag, decision.override),
        decision: undefined,
        portProtocol: undefined,
      };
    }
    case 'forward': {
      const table = snapshot.table;
      const svc = table.services[decision.service];
      const port = decision.port ?? (svc?.ports.length === 1 ? svc.ports[0] : undefined);
      return {
        kind: 'forward',
        target: applyRewrite(decision, target),
        ops: decision.requestOps,
        upstream: {
          kind: 'endpoints',
          service: decision.service,
          endpoints: decision.endpoints,
          serviceSize: svc?.all.length ?? decision.endpoints.length,
          decided: { table, decision },
        },
        meta: {
          service: decision.service,
          lane: decision.target.kind === 'lane' ? decision.target.lane : null,
          subset: decision.target.kind === 'subset' ? decision.target.subset : null,
          fallback: decision.fallback,
          tag,
          override: decision.override,
        },
        decision,
        portProtocol: port === undefined ? undefined : svc?.protocolByPort[String(port)],
      };
    }
  }
}

/**
 * What the upstream speaks: a service port's protocol (Istio's protocol selection), unless the
 * DestinationRule says `useClientProtocol` or `h2UpgradePolicy`; the client's protocol for the
 * local app and passthrough hosts (the inbound side receives what the port speaks). Upgrades
 * (WebSocket) are HTTP/1.1 only.
 */
export function upstreamProtocol(
  plan: Extract<Plan, { kind: 'forward' }>,
  policy: UpstreamPolicy,
  client: 'HTTP/1.1' | 'HTTP/2',
  upgrade: boolean,
): 'HTTP/1.1' | 'HTTP/2' {
  if (upgrade) return 'HTTP/1.1';
  if (plan.upstream.kind === 'fixed' || policy.useClientProtocol) return client;
  if (plan.portProtocol === 'http2') return 'HTTP/2';
  if (policy.h2Upgrade === 'UPGRADE') return 'HTTP/2';
  return 'HTTP/1.1';
}

/**
 * The end-to-end fields the upstream gets: the client's, minus hop-by-hop fields and Host, with
 * the decision's operations applied, plus X-Forwarded-* at gateways.
 */
export function upstreamFields(
  core: ProxyCore,
  raw: readonly string[],
  lower: readonly string[],
  ops: readonly HeaderOp[],
  authority: string,
  clientAddress: string | undefined,
): HeaderList {
  const headers = endToEnd(raw, lower, true);
  applyHeaderOps(headers, ops, newTraceId);
  if (core.hop.kind === 'gateway') {
    // SPEC §4.1: the de-facto X-Forwarded-* headers (RFC 7239 standardised them as `Forwarded`,
    // which proxies and apps read far less): who called, over what, for which host.
    const previous = headers.get('x-forwarded-for');
    const client = clientAddress ?? 'unknown';
    headers.set('x-forwarded-for', previous === undefined ? client : `${previous}, ${client}`);
    headers.set('x-forwarded-proto', 'http');
    headers.set('x-forwarded-host', authority);
    // A request with no trace context starts one here, as Envoy's gateways do with tracing on:
    // its hops can then be followed in the access log (`lanes requests`), as far as the apps
    // forward traceparent (OpenTelemetry's default propagators do).
    if (requestTraceId((name) => headers.get(name)) === undefined)
      headers.set('traceparent', newTraceparent());
  }
  return headers;
}

/** Shared by every request that has no response operations (no per-request array). */
const NO_OPS: readonly HeaderOp[] = Object.freeze([]);

export interface ForwardArgs {
  readonly down: Downstream;
  readonly sink: ResponseSink;
  readonly view: RawRequestView;
  readonly request: UpstreamRequest;
  readonly upstreamProtocol: 'HTTP/1.1' | 'HTTP/2';
  readonly clientKeepAlive: boolean;
  readonly startedAt: number;
  /** Bytes of the request head as received. */
  readonly bytesIn: number;
}

/**
 * The exchange for a forward plan: the route's retries and timeout, and for gRPC the client's
 * `grpc-timeout` (Istio lets it through uncapped unless the route sets a timeout, which then caps
 * it: route.go sets max_grpc_timeout to the route timeout).
 */
export function exchangeInit(
  core: ProxyCore,
  plan: Extract<Plan, { kind: 'forward' }>,
  a: ForwardArgs,
): ExchangeInit {
  const decision = plan.decision;
  const grpc = isGrpcContentType(a.view.header('content-type'));
  const timeoutMs = decision?.route?.timeoutMs;
  let deadlineMs = grpc ? grpcTimeoutMs(a.view.header('grpc-timeout')) : undefined;
  if (deadlineMs !== undefined && timeoutMs !== undefined && timeoutMs > 0)
    deadlineMs = Math.min(deadlineMs, timeoutMs);
  const log = hopRecord(
    core,
    { view: a.view, protocol: a.sink.protocol, startedAt: a.startedAt },
    plan.meta,
    requestTraceId((name) => a.request.headers.get(name)),
  );
  return {
    runtime: core.runtime,
    down: a.down,
    method: a.request.method,
    request: a.request,
    sink: a.sink,
    upstreamProtocol: a.upstreamProtocol,
    grpc,
    clientKeepAlive: a.clientKeepAlive,
    upgrade: a.request.upgrade,
    target: plan.upstream,
    policy: decision?.policy ?? core.defaultPolicy,
    retries: decision?.route?.retries ?? core.defaultRetries,
    // With a grpc-timeout, the deadline (counted from the start) replaces the route timeout.
    timeoutMs: deadlineMs === undefined ? timeoutMs : undefined,
    deadlineMs,
    delayMs: decision?.delayMs,
    responseOps: decision?.responseOps ?? NO_OPS,
    log,
    headBytes: a.bytesIn,
  };
}
