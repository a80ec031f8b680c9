/**
 * Gateway listeners of the local mesh: one gateway proxy per Istio Gateway, cluster and server
 * port, on a loopback port. A listener keeps its port across daemon restarts when it can (the
 * state directory remembers it), so the URLs `lanes status` prints stay valid.
 */

import type { GatewaySpec } from '../../config/kinds/istio/types.ts';
import type { Resource } from '../../config/resource/resource.ts';
import type { ConfigSource } from '../../dataplane/config.ts';
import { createProxy, type ProxyServer } from '../../dataplane/proxy.ts';
import type { AccessLog } from '../../dataplane/telemetry/access-log.ts';
import type { HopObserver } from '../../dataplane/telemetry/hop-events.ts';
import type { StatusResponse } from './protocol.ts';
import type { StateDir } from './state/state.ts';

export type GatewayView = StatusResponse['gateways'][number];

export interface GatewayListener {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly cluster: string;
  readonly declaredPort: number;
  readonly port: number;
  /** The remembered port it could not have back (another program holds it). */
  readonly movedFrom: number | undefined;
  readonly proxy: ProxyServer;
}

function listenerKey(r: Resource, port: number): string {
  return `${r.metadata.namespace}/${r.metadata.name}@${r.id.cluster}:${port}`;
}

export class Gateways {
  readonly #state: StateDir;
  readonly #source: ConfigSource;
  readonly #log: AccessLog | undefined;
  readonly #observers: readonly HopObserver[];
  readonly #listeners = new Map<string, GatewayListener>();

  constructor(
    state: StateDir,
    source: ConfigSource,
    log: AccessLog | undefined,
    observers: readonly HopObserver[] = [],
  ) {
    this.#state = state;
    this.#source = source;
    this.#log = log;
    this.#observers = observers;
  }

  listeners(): GatewayListener[] {
    // By name first, so `ingressgateway` comes before `ingressgateway-dev` (the key's `@` would not).
    const order = (l: GatewayListener) =>
      [l.namespace, l.name, l.cluster, String(l.declaredPort).padStart(5, '0')].join('\0');
    return [...this.#listeners.values()].sort((a, b) => (order(a) < order(b) ? -1 : 1));
  }

  /** Each listener as `lanes status` and the dashboard show it: its Gateway and its URL. */
  views(): GatewayView[] {
    return this.listeners().map((l) => ({
      name: l.name,
      namespace: l.namespace,
      cluster: l.cluster,
      url: `http://127.0.0.1:${l.port}`,
      ...(l.movedFrom !== undefined ? { movedFrom: l.movedFrom } : {}),
    }));
  }

  async reconcile(resources: readonly Resource[]): Promise<void> {
    const wanted = new Map<string, { r: Resource; port: number }>();
    for (const r of resources) {
      if (r.kind !== 'Gateway' || r.id.group !== 'networking.istio.io') continue;
      for (const server of (r.spec as GatewaySpec).servers)
        wanted.set(listenerKey(r, server.port.number), { r, port: server.port.number });
    }
    for (const [key, l] of this.#listeners) {
      if (wanted.has(key)) continue;
      this.#listeners.delete(key);
      await l.proxy.close(1000);
    }
    const ports = this.#state.readPorts();
    let portsChanged = false;
    for (const [key, { r, port }] of wanted) {
      if (this.#listeners.has(key)) continue;
      const proxy = createProxy({
        role: { kind: 'gateway', gateway: `${r.metadata.namespace}/${r.metadata.name}`, port },
        source: this.#source,
        name: `gateway ${r.metadata.namespace}/${r.metadata.name}:${port} (cluster ${r.id.cluster})`,
        ...(this.#log ? { accessLog: this.#log } : {}),
        hopObservers: this.#observers,
      });
      let address: Awaited<ReturnType<typeof proxy.listen>>;
      let movedFrom: number | undefined;
      try {
        address = await proxy.listen(ports[key] ?? 0);
      } catch {
        // The remembered port is taken by something else now: take any, and say so wherever the
        // URL is shown — scripts that kept the old URL would now talk to that other program.
        movedFrom = ports[key];
        address = await proxy.listen(0);
      }
      if (ports[key] !== address.port) {
        ports[key] = address.port;
        portsChanged = true;
      }
      this.#listeners.set(key, {
        key,
        namespace: r.metadata.namespace,
        name: r.metadata.name,
        cluster: r.id.cluster,
        declaredPort: port,
        port: address.port,
        movedFrom,
        proxy,
      });
    }
    if (portsChanged) this.#state.writePorts(ports);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#listeners.values()].map((l) => l.proxy.close(500)));
    this.#listeners.clear();
  }
}
