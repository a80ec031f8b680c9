/**
 * Finding the lane tag on a request and making the carriers hold it (SPEC §4.1 step 5, §4.3
 * steps 2–3). Per tag context the first hit wins: the route header, then the custom header
 * carriers, then the baggage entry, then the trace-id memory.
 */
import { getBaggageValue } from '../carriers/baggage.ts';
import { traceIdFrom, traceIdKindOf } from '../carriers/trace-context.ts';
import { labelsMatch } from '../compiler/dict.ts';
import type { RoutingTable, TagContext } from '../compiler/table.ts';
import type { HeaderOp, RequestView, Tag, TraceMemoryReader, Workload } from './types.ts';

/** The trace id a trace header carries, normalised; undefined when absent or invalid. */
export function traceIdOf(header: string, req: RequestView): string | undefined {
  const value = req.header(header);
  if (value === undefined) return undefined;
  return traceIdFrom(traceIdKindOf(header), value);
}

/** Memory key: the same trace may carry tags of two route headers. */
export function traceKey(routeHeader: string, traceId: string): string {
  return `${routeHeader} ${traceId}`;
}

function clean(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  return v === '' ? undefined : v;
}

export function findTag(
  ctx: TagContext,
  req: RequestView,
  memory: TraceMemoryReader | undefined,
): Tag | undefined {
  const direct = clean(req.header(ctx.routeHeader));
  if (direct !== undefined)
    return {
      routeHeader: ctx.routeHeader,
      lane: direct,
      source: 'route-header',
      from: ctx.routeHeader,
    };
  for (const name of ctx.headers) {
    const v = clean(req.header(name));
    if (v !== undefined)
      return { routeHeader: ctx.routeHeader, lane: v, source: 'header', from: name };
  }
  if (ctx.baggageKeys.length > 0) {
    const baggage = req.header('baggage');
    if (baggage !== undefined) {
      for (const key of ctx.baggageKeys) {
        const v = clean(getBaggageValue(baggage, key));
        if (v !== undefined)
          return { routeHeader: ctx.routeHeader, lane: v, source: 'baggage', from: key };
      }
    }
  }
  if (memory) {
    for (const header of ctx.traceHeaders) {
      const id = traceIdOf(header, req);
      if (id === undefined) continue;
      const lane = memory.get(traceKey(ctx.routeHeader, id));
      if (lane !== undefined)
        return { routeHeader: ctx.routeHeader, lane, source: 'trace-memory', from: header };
    }
  }
  return undefined;
}

/**
 * Tags of every context. With a `caller`, a strict group's request without a tag takes the lane
 * of the calling workload.
 */
export function findTags(
  table: RoutingTable,
  req: RequestView,
  memory: TraceMemoryReader | undefined,
  caller?: Workload,
): Tag[] {
  const out: Tag[] = [];
  for (const ctx of table.tagContexts) {
    const tag = findTag(ctx, req, memory) ?? (caller ? callerLane(ctx, caller) : undefined);
    if (tag) out.push(tag);
  }
  return out;
}

function callerLane(ctx: TagContext, caller: Workload): Tag | undefined {
  for (const { lane, selector } of ctx.callerLanes) {
    if (!labelsMatch(caller.labels, selector)) continue;
    return {
      routeHeader: ctx.routeHeader,
      lane,
      source: 'caller',
      from: caller.name ?? 'the calling workload',
    };
  }
  return undefined;
}

export function contextOf(table: RoutingTable, routeHeader: string): TagContext | undefined {
  for (const ctx of table.tagContexts) if (ctx.routeHeader === routeHeader) return ctx;
  return undefined;
}

/**
 * Operations that make every carrier of the tag's context hold the tag. `req` is the request as
 * it will be after earlier operations. Gateways also create a trace id for trace-id carriers.
 */
export function carrierOps(
  ctx: TagContext,
  lane: string,
  req: RequestView,
  atGateway: boolean,
  out: HeaderOp[],
): void {
  if (req.header(ctx.routeHeader) !== lane)
    out.push({ op: 'set', name: ctx.routeHeader, value: lane });
  for (const name of ctx.headers)
    if (req.header(name) !== lane) out.push({ op: 'set', name, value: lane });
  if (ctx.baggageKeys.length > 0) {
    const baggage = req.header('baggage');
    for (const key of ctx.baggageKeys) {
      if (getBaggageValue(baggage, key) !== lane) out.push({ op: 'set-baggage', key, value: lane });
    }
  }
  if (atGateway) ensureTraceIds(ctx, req, out);
}

/** Gateways start a trace when a trace-id carrier has none, so the memory has a key downstream. */
export function ensureTraceIds(ctx: TagContext, req: RequestView, out: HeaderOp[]): void {
  for (const header of ctx.traceHeaders) {
    if (traceIdOf(header, req) === undefined) out.push({ op: 'ensure-trace-id', header });
  }
}
