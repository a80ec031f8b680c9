/**
 * Runs conformance requests against the decision engine alone: each hop is a `decide()` call,
 * apps are simulated (they call their upstream and forward only what their OpenTelemetry
 * propagators forward), and each sidecar keeps its own trace memory.
 */
import { getBaggageValue } from '../src/core/carriers/baggage.ts';
import { type IdSource, traceStartFields } from '../src/core/carriers/trace-context.ts';
import type { RoutingTable, TableEndpoint } from '../src/core/compiler/table.ts';
import { applyHeaderOps, mapHeaders } from '../src/core/engine/apply-ops.ts';
import { decide } from '../src/core/engine/decide.ts';
import type { DecideContext, Decision, Hop, Workload } from '../src/core/engine/types.ts';
import { requestView } from '../src/core/engine/view.ts';
import { OVERRIDE_KEYS, type RequestCase } from './case.ts';
import type { AppBehaviour, InstanceInfo, MeshState } from './mesh-state.ts';

export interface ChainResult {
  readonly chain: readonly string[];
  readonly first: Decision;
  /** The request the first hop forwards, after the first decision's header operations. */
  readonly firstHeaders: ReadonlyMap<string, string>;
}

function hex(random: () => number, bytes: number): string {
  let out = '';
  for (let i = 0; i < bytes; i++)
    out += Math.floor(random() * 256)
      .toString(16)
      .padStart(2, '0');
  return out.replace(/^0+$/, '01');
}

function newIds(random: () => number) {
  const ids: IdSource = {
    traceId: () => hex(random, 16),
    spanId: () => hex(random, 8),
    requestId: () =>
      `${hex(random, 4)}-${hex(random, 2)}-4${hex(random, 2).slice(1)}-a${hex(random, 2).slice(1)}-${hex(random, 6)}`,
  };
  return (header: string) => traceStartFields(header, ids);
}

export function hopLabel(e: TableEndpoint): string {
  return `${e.labels.app ?? e.service.split('/')[1]}@${e.labels.version ?? '?'}`;
}

/** What the app forwards on its own call: the propagated headers, with a new span id. */
function propagated(
  app: AppBehaviour,
  incoming: Map<string, string>,
  random: () => number,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of app.propagate) {
    const value = incoming.get(name);
    if (value !== undefined) out.set(name, value);
  }
  const tp = out.get('traceparent');
  if (tp !== undefined)
    out.set('traceparent', `${tp.slice(0, 36)}${hex(random, 8)}${tp.slice(52)}`);
  else if (app.propagate.includes('traceparent'))
    out.set('traceparent', `00-${hex(random, 16)}-${hex(random, 8)}-01`);
  return out;
}

/** A filter in front of every gateway: headers in, headers out (the Istio edge extension's model). */
export type GatewayFilter = (
  headers: Readonly<Record<string, string>>,
) => Readonly<Record<string, string>>;

/** How a decision that did not forward ends a chain: a mesh error by its code, else the answer. */
export function stopLabel(d: Decision): string {
  if (d.kind === 'error') return `!${d.code}`;
  if (d.kind === 'respond') {
    // An Istio direct response that names a lanes error reads like the error itself.
    const code = d.headers.find(([name]) => name === 'x-lanes-error')?.[1];
    return code !== undefined ? `!${code}` : `!respond:${d.status}`;
  }
  return `!${d.kind}:`;
}

/** Every hop holds the mesh's override key, as the daemon's proxies do. */
const OVERRIDES: DecideContext['overrides'] = { keys: OVERRIDE_KEYS, now: Date.now };

export class EngineRunner {
  readonly #memories = new Map<string, Map<string, string>>();
  readonly table: RoutingTable;
  readonly #instances: Map<string, InstanceInfo>;
  readonly #state: MeshState;
  readonly #gatewayFilter: GatewayFilter | undefined;

  constructor(state: MeshState, gatewayFilter?: GatewayFilter) {
    this.#state = state;
    this.#gatewayFilter = gatewayFilter;
    this.table = state.compile().table;
    this.#instances = new Map(state.instances().map((i) => [`${i.address}:${i.port}`, i]));
  }

  #memory(id: string): Map<string, string> {
    let m = this.#memories.get(id);
    if (!m) {
      m = new Map();
      this.#memories.set(id, m);
    }
    return m;
  }

  #entryWorkload(r: RequestCase): { workload: Workload; memoryId: string } {
    const e = r.entry;
    if (e.kind !== 'outbound') throw new Error('not an outbound entry');
    if (e.workload) {
      const inst = [...this.#instances.values()].find((i) => i.workload === e.workload);
      if (!inst) throw new Error(`${r.title}: no instance of workload ${e.workload}`);
      return {
        workload: {
          namespace: inst.namespace,
          labels: inst.labels,
          cluster: inst.cluster,
          name: inst.workload,
        },
        memoryId: `${inst.address}:${inst.port}`,
      };
    }
    return {
      workload: { namespace: e.namespace, labels: e.labels },
      memoryId: `client:${e.namespace}`,
    };
  }

  run(
    r: RequestCase,
    random: () => number,
    headers: Readonly<Record<string, string>> = r.headers,
  ): ChainResult {
    const ids = newIds(random);
    const sent =
      r.entry.kind === 'gateway' && this.#gatewayFilter ? this.#gatewayFilter(headers) : headers;
    let current = new Map(Object.entries(sent).map(([k, v]) => [k.toLowerCase(), v]));
    let hop: Hop;
    let authority: string;
    let memoryId: string | undefined;
    if (r.entry.kind === 'gateway') {
      const gw = this.table.gateways[r.entry.gateway];
      const port = r.entry.port ?? Number(Object.keys(gw?.servers ?? {})[0] ?? 80);
      hop = { kind: 'gateway', gateway: r.entry.gateway, port };
      authority = current.get('host') ?? 'localhost';
    } else {
      const entry = this.#entryWorkload(r);
      hop = { kind: 'outbound', workload: entry.workload };
      authority = r.entry.to;
      memoryId = entry.memoryId;
    }
    const chain: string[] = [];
    let first: Decision | undefined;
    let firstHeaders: Map<string, string> | undefined;
    let path = r.path;
    for (let depth = 0; depth < 16; depth++) {
      const memory = memoryId === undefined ? undefined : this.#memory(memoryId);
      const view = requestView({
        method: r.method,
        authority,
        path,
        headers: Object.fromEntries(current),
      });
      const d = decide(this.table, hop, view, random, {
        traceMemory: memory,
        explain: true,
        overrides: OVERRIDES,
      });
      first ??= d;
      if (d.kind !== 'forward') {
        chain.push(stopLabel(d));
        break;
      }
      applyHeaderOps(mapHeaders(current), d.requestOps, ids);
      firstHeaders ??= new Map(current);
      const ep = d.endpoints[Math.floor(random() * d.endpoints.length)]!;
      chain.push(hopLabel(ep));
      const inst = this.#instances.get(ep.id);
      const workload: Workload = inst
        ? {
            namespace: inst.namespace,
            labels: inst.labels,
            cluster: inst.cluster,
            name: inst.workload,
          }
        : {
            namespace: ep.service.split('/')[0] ?? 'default',
            labels: ep.labels,
            name: ep.workload,
          };
      const inbound = decide(
        this.table,
        { kind: 'inbound', workload },
        requestView({ authority, path, headers: Object.fromEntries(current) }),
        random,
        { overrides: OVERRIDES },
      );
      if (inbound.kind === 'local')
        for (const m of inbound.remember) this.#memory(ep.id).set(m.traceKey, m.lane);
      const app = inst?.app ?? this.#state.case.apps[ep.workload ?? ''];
      if (!app?.upstream) break;
      current = propagated(app, current, random);
      hop = { kind: 'outbound', workload };
      authority = app.upstream;
      memoryId = ep.id;
      path = '/';
    }
    return { chain, first: first!, firstHeaders: firstHeaders ?? current };
  }
}

export function baggageOf(headers: ReadonlyMap<string, string>, key: string): string | undefined {
  return getBaggageValue(headers.get('baggage'), key);
}
