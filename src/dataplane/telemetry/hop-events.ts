/**
 * The one point where a hop ends. Every way a proxy finishes a request — an exchange with an
 * upstream, a local answer, a mesh error, a request whose head never became one — ends in
 * `HopEvents.end(record, outcome)`, and whatever wants to know about requests subscribes here:
 * the access log and the Prometheus metrics are two observers of the same event, so a new kind
 * of hop (HTTP/2, gRPC) that ends through this point is logged and counted with no second path.
 *
 * The event is also published on the `node:diagnostics_channel` channel `lanes:hop:end`, for
 * process-wide consumers (a recent-requests view, a debugger) that should not be wired into
 * every proxy. Publishing costs one `hasSubscribers` check when nobody listens.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { RoutingTable } from '../../core/compiler/table.ts';
import type { Hop } from '../../core/engine/types.ts';
import { type AccessLog, type HopOutcome, type HopRecord, hopEntry } from './access-log.ts';

/** What an observer may know about the proxy that ended the hop. `ProxyCore` is one. */
export interface HopProxy {
  readonly hop: Hop;
  readonly listenerName: string;
  /** The proxy's current routing table (the one its next request will use). */
  readonly snapshot: { readonly table: RoutingTable } | undefined;
}

export interface HopEnd {
  readonly proxy: HopProxy;
  readonly record: HopRecord;
  readonly outcome: HopOutcome;
  /** `runtime.now()` when the hop ended: monotonic milliseconds, like `record.startedAt`. */
  readonly endedAt: number;
}

export interface HopObserver {
  /** Called synchronously on the request path: keep it cheap, never throw. */
  hopEnded(end: HopEnd): void;
}

export const HOP_END_CHANNEL = 'lanes:hop:end';
const hopEndChannel = diagnosticsChannel.channel(HOP_END_CHANNEL);

export class HopEvents {
  readonly #proxy: HopProxy;
  readonly #observers: readonly HopObserver[];
  readonly #now: () => number;

  constructor(proxy: HopProxy, observers: readonly HopObserver[], now: () => number) {
    this.#proxy = proxy;
    this.#observers = observers;
    this.#now = now;
  }

  end(record: HopRecord, outcome: HopOutcome): void {
    const end: HopEnd = { proxy: this.#proxy, record, outcome, endedAt: this.#now() };
    for (const o of this.#observers) o.hopEnded(end);
    if (hopEndChannel.hasSubscribers) hopEndChannel.publish(end);
  }
}

/** The access log as an observer: one line per hop. */
export function accessLogObserver(log: AccessLog): HopObserver {
  return { hopEnded: (e) => log.write(hopEntry(e.record, e.outcome, e.endedAt)) };
}

/** Subscribes to every hop of every proxy in this process; returns unsubscribe. */
export function subscribeHopEnds(fn: (end: HopEnd) => void): () => void {
  const listener = (message: unknown) => fn(message as HopEnd);
  diagnosticsChannel.subscribe(HOP_END_CHANNEL, listener);
  return () => {
    diagnosticsChannel.unsubscribe(HOP_END_CHANNEL, listener);
  };
}
