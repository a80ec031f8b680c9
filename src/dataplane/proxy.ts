/**
 * A lanes proxy: one listener in one of three roles — a gateway (ingress), a sidecar's outbound
 * side (the app's http_proxy) or its inbound side (in front of the app). The three are the same
 * pieces composed with a different hop; they differ only in what `decide()` is asked.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { DEFAULT_POLICY } from '../core/compiler/policy.ts';
import { DEFAULT_RETRIES } from '../core/compiler/routes.ts';
import type { RetryPolicy, UpstreamPolicy } from '../core/compiler/table.ts';
import type { DecideContext, Hop, Workload } from '../core/engine/types.ts';
import type { ConfigSource, Snapshot } from './config.ts';
import { DownstreamConnection } from './connection.ts';
import type { ProxyRuntime } from './exchange.ts';
import { DEFAULT_LIMITS as PARSER_LIMITS } from './http1/types.ts';
import type { AccessLog } from './telemetry/access-log.ts';
import { accessLogObserver, HopEvents, type HopObserver } from './telemetry/hop-events.ts';
import { TraceMemory } from './trace-memory.ts';
import { EndpointStates } from './upstream/balancer.ts';
import { H2Pool } from './upstream/h2-pool.ts';
import { OutlierDetector } from './upstream/outlier.ts';
import { UpstreamPool } from './upstream/pool.ts';
import { RetryCircuit } from './upstream/retry-circuit.ts';

export type ProxyRole =
  | { readonly kind: 'gateway'; readonly gateway: string; readonly port: number }
  | { readonly kind: 'outbound'; readonly workload: Workload }
  | {
      readonly kind: 'inbound';
      readonly workload: Workload;
      readonly app: { readonly host: string; readonly port: number };
    };

export interface ProxyLimits {
  /** Request line plus header section (Node's default is 16 KiB too). */
  readonly maxHeadBytes: number;
  readonly maxHeaders: number;
  readonly maxTargetBytes: number;
  /** The whole request head must arrive within this time once its first byte did (slowloris). */
  readonly headersTimeoutMs: number;
  /** A connection with nothing moving for this long is closed. */
  readonly idleTimeoutMs: number;
}

export const DEFAULT_LIMITS: ProxyLimits = {
  ...PARSER_LIMITS,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
};

export interface ProxyOptions {
  readonly role: ProxyRole;
  readonly source: ConfigSource;
  /** Name in access-log lines; defaults to a description of the role. */
  readonly name?: string;
  readonly accessLog?: AccessLog;
  /** Observers of every hop besides the access log (the metrics). */
  readonly hopObservers?: readonly HopObserver[];
  readonly limits?: Partial<ProxyLimits>;
  readonly random?: () => number;
  /** Monotonic milliseconds. */
  readonly now?: () => number;
  /**
   * The trace id → lane memory of the sidecar this listener belongs to: its inbound side records,
   * its outbound side restores, so the two must share one (see createSidecar).
   */
  readonly traceMemory?: TraceMemory;
}

/** Sidecar inbound hops forward to a local app: no retries, as Envoy's inbound routes. */
const NO_RETRIES: RetryPolicy = { ...DEFAULT_RETRIES, attempts: 0, defaulted: false };

/** What every connection of a proxy shares. */
export class ProxyCore {
  readonly hop: Hop;
  /** Names this proxy in logs and error bodies: the caller's name, else its role and whose it is. */
  readonly listenerName: string;
  readonly limits: ProxyLimits;
  readonly runtime: ProxyRuntime;
  readonly traceMemory: TraceMemory | undefined;
  readonly app: { readonly host: string; readonly port: number } | undefined;
  /** Inbound: why the app is not running now (its supervisor said so); undefined while it is. */
  appDown: string | undefined;
  readonly defaultPolicy: UpstreamPolicy = DEFAULT_POLICY;
  readonly defaultRetries: RetryPolicy;
  /** Changes only with a snapshot that brings other override keys. */
  decideContext: DecideContext;
  readonly connections = new Set<DownstreamConnection>();
  snapshot: Snapshot | undefined;

  constructor(options: ProxyOptions) {
    const role = options.role;
    const now = options.now ?? (() => performance.now());
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.runtime = {
      pool: new UpstreamPool(now, this.limits),
      retries: new RetryCircuit(),
      h2pool: new H2Pool(now),
      states: new EndpointStates(now),
      outlier: new OutlierDetector(now),
      log: options.accessLog,
      hops: new HopEvents(
        this,
        [
          ...(options.accessLog ? [accessLogObserver(options.accessLog)] : []),
          ...(options.hopObservers ?? []),
        ],
        now,
      ),
      random: options.random ?? Math.random,
      now,
    };
    let label: string;
    switch (role.kind) {
      case 'gateway':
        this.hop = { kind: 'gateway', gateway: role.gateway, port: role.port };
        label = `gateway ${role.gateway}:${role.port}`;
        break;
      case 'outbound':
        this.hop = { kind: 'outbound', workload: role.workload };
        label = `sidecar outbound ${role.workload.name ?? role.workload.namespace}`;
        break;
      case 'inbound':
        this.hop = { kind: 'inbound', workload: role.workload };
        label = `sidecar inbound ${role.workload.name ?? role.workload.namespace}`;
        this.app = role.app;
        break;
    }
    this.listenerName = options.name ?? label;
    this.defaultRetries = role.kind === 'inbound' ? NO_RETRIES : DEFAULT_RETRIES;
    // Sidecars remember trace id → lane; the memory's bounds come with each routing table.
    this.traceMemory =
      role.kind === 'gateway' ? undefined : (options.traceMemory ?? newTraceMemory());
    const outlier = this.runtime.outlier;
    this.decideContext = {
      traceMemory: this.traceMemory,
      isEjected: (e) => outlier.isEjected(e.id),
      explain: false,
    };
  }

  install(snapshot: Snapshot): void {
    const previous = this.snapshot;
    this.snapshot = snapshot;
    const tm = snapshot.table.mesh.traceMemory;
    this.traceMemory?.configure(tm.maxEntries, tm.ttlMs);
    const keys = snapshot.overrideKeys;
    if (keys !== previous?.overrideKeys) {
      // An override expires at a wall-clock time, so its check reads the wall clock.
      const overrides = keys ? { keys, now: Date.now, verified: new Map() } : undefined;
      this.decideContext = { ...this.decideContext, overrides };
    }
    if (previous && previous.table.services !== snapshot.table.services) {
      // Runtime state of endpoints that left the table would otherwise pile up.
      const ids = new Set<string>();
      for (const svc of Object.values(snapshot.table.services))
        for (const e of svc.all) ids.add(e.id);
      this.runtime.states.forget(ids);
      this.runtime.outlier.forget(ids);
      // HTTP/2 connections to endpoints that left close gracefully; their streams finish.
      if (this.hop.kind !== 'inbound') this.runtime.h2pool.retire(ids);
    }
  }

  /** Once a second: idle upstream connections, slow request heads, expired trace entries. */
  sweep(): void {
    const now = this.runtime.now();
    this.runtime.pool.sweep();
    this.runtime.h2pool.sweep();
    for (const conn of this.connections) conn.checkHeadTimeout(now);
    this.traceMemory?.prune();
  }

  connectionClosed(conn: DownstreamConnection): void {
    this.connections.delete(conn);
  }
}

export function newTraceMemory(): TraceMemory {
  return new TraceMemory({ maxEntries: 100_000, ttlMs: 300_000, now: () => Date.now() });
}

export interface ProxyStats {
  readonly configVersion: number | undefined;
  readonly connections: number;
  readonly upstream: ReturnType<UpstreamPool['stats']>;
  readonly traceMemory: ReturnType<TraceMemory['stats']> | undefined;
}

export interface ProxyServer {
  readonly core: ProxyCore;
  /** Listens (127.0.0.1 and port 0 by default) and resolves with the bound address. */
  listen(port?: number, host?: string): Promise<net.AddressInfo>;
  /** Stops accepting, lets requests in flight finish for `graceMs`, then closes everything. */
  close(graceMs?: number): Promise<void>;
  stats(): ProxyStats;
  /**
   * Inbound only: the app stopped running (`reason`, e.g. "killed by SIGKILL after 2.1 s"), or
   * runs again (undefined). While it is down, requests are answered at once with
   * UPSTREAM_CONNECT_FAILURE and `x-lanes-delivered: none` — so the caller's proxy sends them to
   * another instance, whatever their method — instead of meeting the dead app's connections, and
   * the connections kept open to it are closed. The supervisor knows of an exit before the next
   * routing table can say it: this closes the moment between the two.
   */
  setAppDown(reason: string | undefined): void;
}

export function createProxy(options: ProxyOptions): ProxyServer {
  const core = new ProxyCore(options);
  const unsubscribe = options.source.subscribe((snapshot) => core.install(snapshot));
  // Half-open allowed: a client may end its side once its request is sent and still read the
  // answer (HAProxy and nginx answer it too); the connection decides when to end ours.
  const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    core.connections.add(new DownstreamConnection(socket, core));
  });
  const sweeper = setInterval(() => core.sweep(), 1000);
  sweeper.unref();
  return {
    core,
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as net.AddressInfo);
        });
      });
    },
    async close(graceMs = 5_000) {
      unsubscribe();
      clearInterval(sweeper);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const conn of core.connections) conn.shutdown(graceMs);
      const deadline = setTimeout(() => {
        for (const conn of core.connections) conn.socket.destroy();
      }, graceMs);
      await closed;
      clearTimeout(deadline);
      core.runtime.pool.destroy();
      core.runtime.h2pool.destroy();
    },
    setAppDown(reason) {
      if (core.app === undefined) return;
      core.appDown = reason;
      if (reason !== undefined) core.runtime.pool.closeIdle();
    },
    stats() {
      return {
        configVersion: core.snapshot?.version,
        connections: core.connections.size,
        upstream: core.runtime.pool.stats(),
        traceMemory: core.traceMemory?.stats(),
      };
    },
  };
}
