/**
 * `lanes explain`: where a request goes, hop by hop, and why. Each hop is a `decide()` with
 * explanations on; between hops the walk follows what the app does when the daemon knows it
 * (the mock service calls its `upstream_url` and forwards only what its OpenTelemetry
 * propagators forward), and keeps each sidecar's trace memory as the proxies would.
 *
 * Nothing is left to chance: where the proxy would draw at random (a weighted route, the bands
 * of weighted entry rules), the walk takes every branch, lists each with its share of the
 * requests, and follows the one asked for (`branch`: a lane, subset or service name), else the
 * largest. A fault injected for a share of the requests is shown and not taken.
 */

import { TRACE_ID_HEADERS } from '../../config/kinds/carrier-names.ts';
import { type IdSource, traceStartFields } from '../carriers/trace-context.ts';
import type { RoutingTable, TableEndpoint } from '../compiler/table.ts';
import { applyHeaderOps, mapHeaders } from '../engine/apply-ops.ts';
import { decide } from '../engine/decide.ts';
import type { Chooser, Decision, Hop, OverrideTrust, Workload } from '../engine/types.ts';
import { requestView } from '../engine/view.ts';

export interface ExplainHop {
  /** `gateway istio-system/ingressgateway:80`, `sidecar outbound default/mocka-v2`, … */
  readonly hop: string;
  /** What the request looked like when it arrived (its authority and lane-relevant headers). */
  readonly request: string;
  /** The decision in one line: `→ default/mocka lane v2 (127.0.0.1:41231)` or `error NO_ROUTE (404)`. */
  readonly outcome: string;
  /** Every reason, in order. */
  readonly steps: readonly string[];
  /** Where the proxy chooses at random: every branch, with its share; absent when there is one. */
  readonly branches?: readonly ExplainBranch[];
}

export interface ExplainBranch {
  /** Share of the requests at this hop, in percent. */
  readonly percent: number;
  /** Where they go: `→ default/mocka subset v2`. */
  readonly outcome: string;
  /** What `--branch` names it by (a lane, subset or service), when it has a name. */
  readonly name: string | undefined;
  /** The branch the walk follows. */
  readonly followed: boolean;
}

export interface ExplainResponse {
  readonly hops: readonly ExplainHop[];
  /** Why the walk stopped: an app with no known upstream, an error, a loop. */
  readonly end: string;
}

/** What the walk knows about the app behind an endpoint. */
export interface AppModel {
  readonly workload: Workload;
  /** Where the app itself listens (`127.0.0.1:39012`), behind its sidecar's endpoint. */
  readonly appAddress?: string;
  /** `host:port` the app calls next, when known. */
  readonly upstream: string | undefined;
  /** The path (and query) of that call; `/` when absent. */
  readonly upstreamPath?: string;
  /** The method of that call; the request's own when absent. */
  readonly upstreamMethod?: string;
  /** `grpc` when that call is a gRPC call (shown as `grpc://`); HTTP when absent. */
  readonly upstreamProtocol?: 'grpc';
  /** Headers the app forwards on that call (its propagators'); empty when it forwards nothing. */
  readonly propagate: readonly string[];
  /** Why the walk cannot follow this app further, when `upstream` is undefined. */
  readonly opaque?: string;
}

export type Start =
  | { readonly kind: 'gateway'; readonly gateway: string; readonly port: number | undefined }
  | { readonly kind: 'outbound'; readonly workload: Workload; readonly to: string };

const MAX_HOPS = 12;

function lanesHeaders(table: RoutingTable, headers: ReadonlyMap<string, string>): string {
  const names = new Set<string>(['baggage', ...TRACE_ID_HEADERS]);
  for (const c of table.tagContexts) {
    names.add(c.routeHeader);
    for (const h of c.headers) names.add(h);
  }
  const shown = [...headers.entries()].filter(([k]) => names.has(k)).map(([k, v]) => `${k}: ${v}`);
  return shown.length > 0 ? ` (${shown.join('; ')})` : '';
}

/** `→ default/mocka lane v2`: where a forward goes, without which endpoint. */
function destinationOf(d: Decision & { kind: 'forward' }): string {
  const target =
    d.target.kind === 'lane'
      ? `lane ${d.target.lane}`
      : d.target.kind === 'subset'
        ? `subset ${d.target.subset}`
        : 'any endpoint';
  return `→ ${d.service} ${target}`;
}

/** What `--branch` calls a decision: its lane or subset, else its service's name. */
function nameOf(d: Decision): string | undefined {
  if (d.kind !== 'forward') return undefined;
  if (d.target.kind === 'lane') return d.target.lane;
  if (d.target.kind === 'subset') return d.target.subset;
  return d.service.slice(d.service.indexOf('/') + 1);
}

function outcomeOf(
  d: Decision,
  chosen: TableEndpoint | undefined,
  app: AppModel | undefined,
): string {
  switch (d.kind) {
    case 'forward': {
      // The endpoint is the sidecar in front of the app; the app reports its own address (the
      // mock's `ip:`), so say which is which.
      const where = chosen
        ? chosen.workload
          ? ` at ${chosen.id}, the sidecar of ${chosen.workload}${app?.appAddress ? ` (the app itself listens on ${app.appAddress})` : ''}`
          : ` at ${chosen.id}`
        : '';
      const more = d.endpoints.length > 1 ? `, 1 of ${d.endpoints.length} candidates` : '';
      // The one line people read first: say that this is a fallback, and from which lane.
      const first = d.fallback[0];
      const fellBack = first ? `, a fallback for lane ${first.lane}` : '';
      return `${destinationOf(d)}${where}${more}${fellBack}`;
    }
    case 'error':
      return `error ${d.code} (${d.status}): ${d.message}`;
    case 'respond':
      return `answered by the proxy: ${d.status} (${d.reason})`;
    case 'passthrough':
      return `→ passes through to ${d.authority} (not a service of the mesh)`;
    case 'local':
      return '→ the local app';
  }
}

/** Why the walk ends at a decision that forwards to no endpoint of the mesh. */
function endOf(d: Decision): string {
  switch (d.kind) {
    case 'error':
      return `the request fails with ${d.code}`;
    case 'passthrough':
      return `the request leaves the mesh for ${d.authority}; the walk stops here`;
    case 'respond':
      return 'the proxy answers; nothing is forwarded';
    default:
      return 'no endpoint of the mesh is chosen; the walk stops here';
  }
}

/** Placeholder ids: the walk shows where ids would be created, not real ones. */
const EXAMPLE_IDS: IdSource = {
  traceId: () => '0af7651916cd43dd8448eb211c80319c',
  spanId: () => 'b7ad6b7169203331',
  requestId: () => '7f3e0b62-5c4a-4e8b-9d7e-2f6c1a9b3d10',
};
const exampleIds = (header: string) => traceStartFields(header, EXAMPLE_IDS);

/** The only draws left to `random` are fault percentages: the walk follows the requests spared. */
const NO_FAULT = () => 0.999_999_999;

/** The share of requests a decision gets when the proxy chooses at random. */
interface Branch {
  readonly percent: number;
  readonly decision: Decision;
}

/**
 * Every way `decide()` can go for this request: the draw of the weighted entry bands taken once
 * per band interval, each weighted destination taken once, each with its share. Without any
 * random choice, one branch of 100 %.
 */
function allBranches(run: (chooser: Chooser) => Decision): Branch[] {
  // Matching stops at the first band that takes the draw, so a draw in each interval found so
  // far may reveal further bands: probe until no new edge appears.
  const edges = new Set([0, 100]);
  const probed = new Set<number>();
  for (let fresh = true; fresh; ) {
    fresh = false;
    for (const at of [...edges].filter((e) => e < 100 && !probed.has(e))) {
      probed.add(at);
      run({
        bandDraw: at,
        band: (from, to) => {
          for (const e of [from, to]) {
            if (e >= 0 && e <= 100 && !edges.has(e)) {
              edges.add(e);
              fresh = true;
            }
          }
        },
        destination: () => 0,
      });
    }
  }
  const cuts = [...edges].sort((a, b) => a - b);
  const out: Branch[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const width = cuts[i + 1]! - cuts[i]!;
    let weights: readonly number[] = [];
    const first = run({
      bandDraw: cuts[i]!,
      band: () => {},
      destination: (w) => {
        weights = w;
        return 0;
      },
    });
    const total = weights.reduce((a, b) => a + b, 0);
    if (weights.length <= 1 || total <= 0) {
      out.push({ percent: width, decision: first });
      continue;
    }
    weights.forEach((weight, index) => {
      if (weight <= 0) return;
      const decision = run({ bandDraw: cuts[i]!, band: () => {}, destination: () => index });
      out.push({ percent: (width * weight) / total, decision });
    });
  }
  return out;
}

/** The branches merged by where they go, largest first; the followed one marked. */
function chooseBranch(
  branches: readonly Branch[],
  wanted: string | undefined,
): { decision: Decision; listed: ExplainBranch[] | undefined; note: string | undefined } {
  const merged = new Map<string, { percent: number; decision: Decision }>();
  for (const b of branches) {
    const key =
      b.decision.kind === 'forward'
        ? destinationOf(b.decision)
        : outcomeOf(b.decision, undefined, undefined);
    const m = merged.get(key);
    if (m) m.percent += b.percent;
    else merged.set(key, { percent: b.percent, decision: b.decision });
  }
  const sorted = [...merged].sort((a, b) => b[1].percent - a[1].percent);
  const byName =
    wanted === undefined ? undefined : sorted.find(([, b]) => nameOf(b.decision) === wanted);
  const followed = byName ?? sorted[0]!;
  if (sorted.length === 1)
    return { decision: followed[1].decision, listed: undefined, note: undefined };
  const listed = sorted.map(([outcome, b]) => ({
    percent: Math.round(b.percent * 100) / 100,
    outcome,
    name: nameOf(b.decision),
    followed: b === followed[1],
  }));
  const note =
    wanted !== undefined && !byName
      ? `no branch here is named ${wanted}; following the largest`
      : undefined;
  return { decision: followed[1].decision, listed, note };
}

/** What to walk: where the request starts, the request itself, and what the walk knows. */
export interface WalkOptions {
  readonly start: Start;
  /** Default `GET`. */
  readonly method?: string;
  /** Default `/`. */
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** The app behind an endpoint: where it calls next and what it forwards. */
  readonly appOf: (endpoint: TableEndpoint) => AppModel | undefined;
  /** Where the proxy would draw at random, follow this lane, subset or service (else the largest share). */
  readonly branch?: string;
  /** The mesh's override keys: without them the walk follows no override, as a proxy would not. */
  readonly overrides?: OverrideTrust;
}

export function explainWalk(table: RoutingTable, options: WalkOptions): ExplainResponse {
  const walked = walk(table, options);
  const { branch } = options;
  // A --branch that nothing on the path could use is a question the walk did not answer: say so,
  // or the user takes the path shown for the branch they asked about.
  if (branch === undefined || walked.hops.some((h) => h.branches)) return walked;
  return {
    ...walked,
    end: `${walked.end}; --branch ${branch} was not used: no proxy on this path chooses at random`,
  };
}

function walk(table: RoutingTable, options: WalkOptions): ExplainResponse {
  const { start, headers = {}, appOf, branch, overrides } = options;
  let method = options.method ?? 'GET';
  let path = options.path ?? '/';
  const hops: ExplainHop[] = [];
  const memories = new Map<string, Map<string, string>>();
  const memoryOf = (id: string) => {
    let m = memories.get(id);
    if (!m) {
      m = new Map();
      memories.set(id, m);
    }
    return m;
  };
  let current = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  let hop: Hop;
  let authority: string;
  let label: string;
  let memoryId: string | undefined;
  if (start.kind === 'gateway') {
    const gw = table.gateways[start.gateway];
    if (!gw) return { hops, end: `there is no Gateway ${start.gateway}` };
    const port = start.port ?? Number(Object.keys(gw.servers)[0] ?? 80);
    hop = { kind: 'gateway', gateway: start.gateway, port };
    authority = current.get('host') ?? 'localhost';
    label = `gateway ${start.gateway}:${port}`;
  } else {
    hop = { kind: 'outbound', workload: start.workload };
    authority = start.to;
    label = `sidecar outbound ${start.workload.name ?? start.workload.namespace}`;
    memoryId = `workload:${start.workload.name}`;
  }
  const visited = new Set<string>();
  for (let n = 0; n < MAX_HOPS; n++) {
    const memory = memoryId === undefined ? undefined : memoryOf(memoryId);
    const request = `${method} http://${authority}${path}${lanesHeaders(table, current)}`;
    const view = requestView({ method, authority, path, headers: Object.fromEntries(current) });
    const at = hop;
    const {
      decision: d,
      listed,
      note,
    } = chooseBranch(
      allBranches((choose) =>
        decide(table, at, view, NO_FAULT, {
          traceMemory: memory,
          explain: true,
          choose,
          ...(overrides ? { overrides } : {}),
        }),
      ),
      branch,
    );
    const chosen = d.kind === 'forward' ? d.endpoints[0] : undefined;
    const app = chosen ? appOf(chosen) : undefined;
    hops.push({
      hop: label,
      request,
      outcome: outcomeOf(d, chosen, app),
      steps: note ? [...d.steps, note] : d.steps,
      ...(listed ? { branches: listed } : {}),
    });
    if (d.kind !== 'forward' || !chosen) return { hops, end: endOf(d) };
    applyHeaderOps(mapHeaders(current), d.requestOps, exampleIds);
    // The inbound sidecar of the chosen instance records trace ids, as the real one would.
    const inbound = decide(
      table,
      {
        kind: 'inbound',
        workload: app?.workload ?? {
          namespace: chosen.service.split('/')[0] ?? 'default',
          labels: chosen.labels,
        },
      },
      requestView({ authority, path, headers: Object.fromEntries(current) }),
      NO_FAULT,
      { explain: true, ...(overrides ? { overrides } : {}) },
    );
    if (inbound.kind === 'local')
      for (const r of inbound.remember) memoryOf(chosen.id).set(r.traceKey, r.lane);
    if (!app)
      return { hops, end: `${chosen.id} is not an instance the daemon runs; the walk stops here` };
    if (!app.upstream)
      return { hops, end: app.opaque ?? `${app.workload.name} calls nothing further` };
    if (visited.has(`${chosen.id}>${app.upstream}`))
      return { hops, end: `a loop: ${app.workload.name} calls ${app.upstream} again` };
    visited.add(`${chosen.id}>${app.upstream}`);
    const next = new Map<string, string>();
    for (const name of app.propagate) {
      const v = current.get(name);
      if (v !== undefined) next.set(name, v);
    }
    current = next;
    hop = { kind: 'outbound', workload: app.workload };
    authority = app.upstream;
    path = app.upstreamPath ?? '/';
    method = app.upstreamMethod ?? method;
    label = `sidecar outbound ${app.workload.name}`;
    memoryId = chosen.id;
    const forwarded =
      app.propagate.length > 0 ? `forwards ${app.propagate.join(', ')}` : 'forwards no header';
    hops[hops.length - 1] = {
      ...hops[hops.length - 1]!,
      steps: [
        ...hops[hops.length - 1]!.steps,
        `the app ${app.workload.name} calls ${app.upstreamProtocol ?? 'http'}://${app.upstream}${path} and ${forwarded}`,
      ],
    };
  }
  return { hops, end: `stopped after ${MAX_HOPS} hops` };
}
