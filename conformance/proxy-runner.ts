/**
 * Runs conformance requests through real proxies on real sockets: every instance gets an app
 * server and an inbound and an outbound sidecar; every Gateway server gets a gateway proxy; all
 * of them follow one config store. Apps call their upstream through their outbound sidecar in
 * absolute form (as `http_proxy` clients do) and forward only what their propagators forward.
 * The answer lists the hops (`app@version > …`), like the asm-mock's chained answers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Endpoint, RoutingTable } from '../src/core/compiler/table.ts';
import type { Workload } from '../src/core/engine/types.ts';
import { ConfigStore } from '../src/dataplane/config.ts';
import { createProxy, type ProxyServer } from '../src/dataplane/proxy.ts';
import { createSidecar } from '../src/dataplane/sidecar.ts';
import type { AccessLog } from '../src/dataplane/telemetry/access-log.ts';
import { OVERRIDE_KEYS, type RequestCase } from './case.ts';
import { type GatewayFilter, hopLabel } from './engine-runner.ts';
import type { AppBehaviour, MeshState } from './mesh-state.ts';

interface Instance {
  readonly key: string;
  readonly label: string;
  readonly app: http.Server;
  readonly inbound: ProxyServer;
  readonly outbound: ProxyServer;
  readonly inboundPort: number;
  readonly outboundPort: number;
  behaviour: AppBehaviour | undefined;
  /** Headers of the last request the app received (for first-hop expectations). */
  lastHeaders: http.IncomingHttpHeaders | undefined;
}

export interface ProxyAnswer {
  readonly status: number;
  readonly chain: readonly string[];
  /** Headers the first app received. */
  readonly firstHeaders: http.IncomingHttpHeaders | undefined;
  readonly headers: http.IncomingHttpHeaders;
}

function newSpan(random: () => number): string {
  let out = '';
  for (let i = 0; i < 8; i++)
    out += Math.floor(random() * 256)
      .toString(16)
      .padStart(2, '0');
  return out === '0000000000000000' ? '0000000000000001' : out;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One call through a proxy; absolute-form when `absolute` (how an http_proxy client asks). */
export function call(
  port: number,
  authority: string,
  path: string,
  headers: Record<string, string>,
  absolute: boolean,
  method = 'GET',
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: absolute ? `http://${authority}${path}` : path,
        headers: { ...headers, host: authority },
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The chain an answer describes: the body's hops, or the mesh error or response that ended it. */
function chainOf(status: number, body: string, headers: http.IncomingHttpHeaders): string[] {
  const error = headers['x-lanes-error'];
  if (typeof error === 'string') return [`!${error}`];
  if (headers['x-lanes-fault'] !== undefined || status >= 300) return [`!respond:${status}`];
  return body.split(' > ');
}

export class ProxyMesh {
  readonly #state: MeshState;
  readonly #store = new ConfigStore();
  readonly #instances = new Map<string, Instance>();
  readonly #gateways = new Map<string, { proxy: ProxyServer; port: number }>();
  readonly #clients = new Map<string, { proxy: ProxyServer; port: number }>();
  readonly #random: () => number;
  readonly #log: AccessLog | undefined;
  readonly #gatewayFilter: GatewayFilter | undefined;
  table: RoutingTable | undefined;

  constructor(
    state: MeshState,
    random: () => number,
    log?: AccessLog,
    gatewayFilter?: GatewayFilter,
  ) {
    this.#state = state;
    this.#random = random;
    this.#log = log;
    this.#gatewayFilter = gatewayFilter;
  }

  /** Brings servers and proxies in line with the state, then publishes its table. */
  async sync(): Promise<void> {
    const endpoints = this.#state.endpoints();
    const wanted = new Map(endpoints.map((e) => [`${e.address}:${e.port}`, e]));
    for (const [key, inst] of this.#instances) {
      if (!wanted.has(key)) {
        this.#instances.delete(key);
        await this.#stop(inst);
      }
    }
    for (const [key, ep] of wanted) {
      const inst = this.#instances.get(key) ?? (await this.#start(key, ep));
      inst.behaviour = this.#state.behaviourOf(ep);
    }
    const relocate = (e: Endpoint): Endpoint => {
      const inst = this.#instances.get(`${e.address}:${e.port}`)!;
      return { ...e, address: '127.0.0.1', port: inst.inboundPort };
    };
    const { table } = this.#state.compile(relocate);
    this.table = table;
    this.#store.publish(table, OVERRIDE_KEYS);
    for (const gw of Object.values(table.gateways)) {
      for (const server of Object.values(gw.servers)) {
        const key = `${gw.key}:${server.port}`;
        if (this.#gateways.has(key)) continue;
        const proxy = createProxy({
          role: { kind: 'gateway', gateway: gw.key, port: server.port },
          source: this.#store,
          random: this.#random,
          ...(this.#log ? { accessLog: this.#log } : {}),
        });
        const address = await proxy.listen();
        this.#gateways.set(key, { proxy, port: address.port });
      }
    }
  }

  async #start(key: string, ep: Endpoint): Promise<Instance> {
    const namespace = ep.service.split('/')[0] ?? 'default';
    const workload: Workload = {
      namespace,
      labels: ep.labels,
      cluster: ep.cluster,
      name: ep.workload,
    };
    const label = hopLabel({ ...ep, id: key });
    const instance = {} as { -readonly [K in keyof Instance]: Instance[K] };
    const app = http.createServer((req, res) => {
      instance.lastHeaders = req.headers;
      req.resume();
      const behaviour = instance.behaviour;
      if (!behaviour?.upstream) {
        res.end(label);
        return;
      }
      const out: Record<string, string> = {};
      for (const name of behaviour.propagate) {
        const v = req.headers[name];
        if (typeof v === 'string') out[name] = v;
      }
      if (out.traceparent !== undefined)
        out.traceparent = `${out.traceparent.slice(0, 36)}${newSpan(this.#random)}${out.traceparent.slice(52)}`;
      call(instance.outboundPort, behaviour.upstream, '/', out, true).then(
        (up) => res.end(`${label} > ${chainOf(up.status, up.body, up.headers).join(' > ')}`),
        (error: Error) => res.end(`${label} > !app-error:${error.message}`),
      );
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const appPort = (app.address() as AddressInfo).port;
    const sidecar = createSidecar({
      workload,
      app: { host: '127.0.0.1', port: appPort },
      source: this.#store,
      random: this.#random,
      ...(this.#log ? { accessLog: this.#log } : {}),
    });
    const { inbound, outbound } = sidecar;
    Object.assign(instance, {
      key,
      label,
      app,
      inbound,
      outbound,
      inboundPort: (await inbound.listen()).port,
      outboundPort: (await outbound.listen()).port,
      behaviour: undefined,
      lastHeaders: undefined,
    });
    this.#instances.set(key, instance);
    return instance;
  }

  async #stop(inst: Instance): Promise<void> {
    await Promise.all([inst.inbound.close(100), inst.outbound.close(100)]);
    await new Promise<void>((resolve) => inst.app.close(() => resolve()));
    inst.app.closeAllConnections();
  }

  async #clientFor(workload: Workload): Promise<number> {
    const key = `${workload.namespace}/${JSON.stringify(workload.labels)}/${workload.name ?? ''}`;
    let client = this.#clients.get(key);
    if (!client) {
      const proxy = createProxy({
        role: { kind: 'outbound', workload },
        source: this.#store,
        random: this.#random,
        ...(this.#log ? { accessLog: this.#log } : {}),
      });
      client = { proxy, port: (await proxy.listen()).port };
      this.#clients.set(key, client);
    }
    return client.port;
  }

  /** Sends one request of a case and reads the chain from the answer. */
  async run(r: RequestCase, headers: Readonly<Record<string, string>>): Promise<ProxyAnswer> {
    for (const inst of this.#instances.values()) inst.lastHeaders = undefined;
    let answer: { status: number; body: string; headers: http.IncomingHttpHeaders };
    if (r.entry.kind === 'gateway') {
      const gw = this.table?.gateways[r.entry.gateway];
      const port = r.entry.port ?? Number(Object.keys(gw?.servers ?? {})[0] ?? 80);
      const proxy = this.#gateways.get(`${r.entry.gateway}:${port}`);
      if (!proxy) throw new Error(`no gateway proxy for ${r.entry.gateway}:${port}`);
      // The filter stands in front of the gateway, as a Lua filter runs before Envoy's routing.
      const sent = this.#gatewayFilter ? this.#gatewayFilter(headers) : headers;
      answer = await call(
        proxy.port,
        headers.host ?? 'localhost',
        r.path,
        { ...sent },
        false,
        r.method,
      );
    } else {
      const e = r.entry;
      const own = e.workload
        ? [...this.#instances.values()].find((i) => i.key && this.#workloadOf(i) === e.workload)
        : undefined;
      const port = own
        ? own.outboundPort
        : await this.#clientFor({ namespace: e.namespace, labels: e.labels });
      answer = await call(port, e.to, r.path, { ...headers }, true, r.method);
    }
    const first = [...this.#instances.values()].find(
      (i) => i.lastHeaders !== undefined && answer.body.startsWith(i.label),
    );
    return {
      status: answer.status,
      chain: chainOf(answer.status, answer.body, answer.headers),
      firstHeaders: first?.lastHeaders,
      headers: answer.headers,
    };
  }

  #workloadOf(inst: Instance): string | undefined {
    const ep = this.#state.endpoints().find((e) => `${e.address}:${e.port}` === inst.key);
    return ep?.workload;
  }

  async close(): Promise<void> {
    this.#store.close();
    await Promise.all([...this.#instances.values()].map((i) => this.#stop(i)));
    await Promise.all(
      [...this.#gateways.values(), ...this.#clients.values()].map((g) => g.proxy.close(100)),
    );
    agent.destroy();
  }
}
