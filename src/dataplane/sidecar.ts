/**
 * A sidecar: the inbound listener in front of an app and the outbound listener the app uses as
 * its http_proxy, sharing one trace id → lane memory (the inbound side records what arrives,
 * the outbound side restores it on the app's calls in the same trace).
 */
import type { Workload } from '../core/engine/types.ts';
import type { ConfigSource } from './config.ts';
import { createProxy, newTraceMemory, type ProxyLimits, type ProxyServer } from './proxy.ts';
import type { AccessLog } from './telemetry/access-log.ts';
import type { HopObserver } from './telemetry/hop-events.ts';
import type { TraceMemory } from './trace-memory.ts';

export interface SidecarOptions {
  readonly workload: Workload;
  /** Where the app listens. */
  readonly app: { readonly host: string; readonly port: number };
  readonly source: ConfigSource;
  readonly accessLog?: AccessLog;
  readonly hopObservers?: readonly HopObserver[];
  readonly limits?: Partial<ProxyLimits>;
  readonly random?: () => number;
}

export interface Sidecar {
  readonly inbound: ProxyServer;
  readonly outbound: ProxyServer;
  readonly traceMemory: TraceMemory;
  close(graceMs?: number): Promise<void>;
}

export function createSidecar(o: SidecarOptions): Sidecar {
  const traceMemory = newTraceMemory();
  const common = {
    source: o.source,
    traceMemory,
    ...(o.accessLog ? { accessLog: o.accessLog } : {}),
    ...(o.hopObservers ? { hopObservers: o.hopObservers } : {}),
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.random ? { random: o.random } : {}),
  };
  const inbound = createProxy({
    ...common,
    role: { kind: 'inbound', workload: o.workload, app: o.app },
  });
  const outbound = createProxy({ ...common, role: { kind: 'outbound', workload: o.workload } });
  return {
    inbound,
    outbound,
    traceMemory,
    async close(graceMs = 5_000) {
      await Promise.all([inbound.close(graceMs), outbound.close(graceMs)]);
    },
  };
}
