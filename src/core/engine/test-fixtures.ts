/**
 * Shared helpers for the compiler and engine unit tests: resources from YAML text, endpoints as
 * plain objects, requests and hops. Not used by product code.
 */
import assert from 'node:assert/strict';
import { loadResources } from '../../config/load/resources.ts';
import type { Resource } from '../../config/resource/resource.ts';
import { type CompileResult, compile } from '../compiler/compile.ts';
import type { ResourceStatus } from '../compiler/status.ts';
import type { Endpoint, RoutingTable, TableEndpoint } from '../compiler/table.ts';
import { decide } from './decide.ts';
import type { DecideContext, Decision, Hop, RequestView, Workload } from './types.ts';
import { requestView } from './view.ts';

/** Parses YAML text (many documents) into resources; the text must be valid. */
export function load(text: string, file = 't.yaml'): Resource[] {
  const result = loadResources([{ file, text }]);
  const errors = result.issues.filter((i) => i.severity === 'error');
  assert.deepEqual(
    errors.map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`),
    [],
    'the test YAML is valid',
  );
  return [...result.resources];
}

/** Several YAML documents joined with `---`. */
export function yaml(...docs: readonly string[]): string {
  return docs.join('\n---\n');
}

/** A Kubernetes Service with the given ports (selector `app: <name>`). */
export function service(name: string, ports: readonly number[] = [8000], namespace = 'default') {
  return [
    'apiVersion: v1',
    'kind: Service',
    `metadata: { name: ${name}, namespace: ${namespace} }`,
    'spec:',
    `  selector: { app: ${name} }`,
    `  ports: [${ports.map((p, i) => `{ port: ${p}, name: p${i} }`).join(', ')}]`,
  ].join('\n');
}

/** A Gateway with one HTTP server per `[port, hosts]` entry. */
export function gateway(
  name: string,
  servers: readonly (readonly [number, readonly string[]])[] = [[80, ['*']]],
  namespace = 'default',
  annotations: Readonly<Record<string, string>> = {},
) {
  const ann = Object.entries(annotations);
  return [
    'apiVersion: networking.istio.io/v1',
    'kind: Gateway',
    'metadata:',
    `  name: ${name}`,
    `  namespace: ${namespace}`,
    ...(ann.length > 0
      ? ['  annotations:', ...ann.map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)]
      : []),
    'spec:',
    '  servers:',
    ...servers.flatMap(([port, hosts], i) => [
      `    - port: { number: ${port}, name: http-${i}, protocol: HTTP }`,
      `      hosts: [${hosts.map((h) => JSON.stringify(h)).join(', ')}]`,
    ]),
  ].join('\n');
}

/** A VirtualService: `body` lines are indented under `spec:`. */
export function virtualService(name: string, body: readonly string[], namespace = 'default') {
  return [
    'apiVersion: networking.istio.io/v1',
    'kind: VirtualService',
    `metadata: { name: ${name}, namespace: ${namespace} }`,
    'spec:',
    ...body.map((line) => `  ${line}`),
  ].join('\n');
}

let nextAddress = 1;

/** An endpoint of `namespace/name`; labels default to `app: <name>`. */
export function endpoint(
  svc: string,
  labels: Readonly<Record<string, string>> = {},
  opts: { healthy?: boolean; address?: string; port?: number; cluster?: string } = {},
): Endpoint {
  const name = svc.split('/')[1] ?? svc;
  return {
    service: svc,
    cluster: opts.cluster ?? 'default',
    address: opts.address ?? `10.0.0.${nextAddress++}`,
    port: opts.port ?? 8000,
    labels: { app: name, ...labels },
    healthy: opts.healthy ?? true,
  };
}

/** Endpoint `i` of a frozen test service (`default/reviews` at 10.0.0.i:8000), as the table holds it. */
export function tableEndpoint(i: number): TableEndpoint {
  return Object.freeze({
    id: `10.0.0.${i}:8000`,
    service: 'default/reviews',
    cluster: 'local',
    address: `10.0.0.${i}`,
    port: 8000,
    labels: Object.freeze({}),
    healthy: true,
  });
}

/** Compiles YAML text and endpoints. */
export function build(text: string, endpoints: readonly Endpoint[] = []): CompileResult {
  return compile(load(text), endpoints);
}

/** Every status has conditions and all are True; no statuses at all fails (it would prove nothing). */
export function assertAllResolved(statuses: readonly ResourceStatus[]): void {
  assert.ok(statuses.length > 0, 'compile() reported statuses');
  for (const s of statuses) {
    assert.ok(s.conditions.length > 0, `${s.id.kind} ${s.id.name} has conditions`);
    for (const c of s.conditions)
      assert.equal(c.status, 'True', `${s.id.kind} ${s.id.name}: ${c.message}`);
  }
}

export function statusOf(statuses: readonly ResourceStatus[], kind: string, name: string) {
  const s = statuses.find((x) => x.id.kind === kind && x.id.name === name);
  assert.ok(s, `a status for ${kind} ${name}`);
  return s;
}

export function conditionOf(
  statuses: readonly ResourceStatus[],
  kind: string,
  name: string,
  type: 'Accepted' | 'ResolvedRefs',
) {
  const c = statusOf(statuses, kind, name).conditions.find((x) => x.type === type);
  assert.ok(c, `a ${type} condition for ${kind} ${name}`);
  return c;
}

export interface RequestInit {
  readonly authority: string;
  readonly path?: string;
  readonly method?: string;
  readonly scheme?: 'http' | 'https';
  readonly headers?: Readonly<Record<string, string>>;
}

export function req(init: RequestInit | string): RequestView {
  return requestView(typeof init === 'string' ? { authority: init } : init);
}

export function atGateway(gatewayKey: string, port = 80): Hop {
  return { kind: 'gateway', gateway: gatewayKey, port };
}

export function outbound(namespace = 'default', labels: Record<string, string> = {}): Hop {
  const workload: Workload = { namespace, labels, name: `${namespace}/caller` };
  return { kind: 'outbound', workload };
}

export function inbound(namespace = 'default', labels: Record<string, string> = {}): Hop {
  return { kind: 'inbound', workload: { namespace, labels } };
}

export const half = (): number => 0.5;

/** Runs `decide` with a fixed random draw (0.5 unless given) and explain on. */
export function run(
  table: RoutingTable,
  hop: Hop,
  request: RequestView | RequestInit | string,
  random: () => number = half,
  ctx: DecideContext = {},
): Decision {
  const view = typeof request === 'object' && 'header' in request ? request : req(request);
  return decide(table, hop, view, random, { explain: true, ...ctx });
}

/** Asserts the decision forwards, and returns it narrowed. */
export function forwarded(d: Decision): Extract<Decision, { kind: 'forward' }> {
  assert.equal(
    d.kind,
    'forward',
    `expected a forward, got ${d.kind}: ${'message' in d ? d.message : ''}\n${d.steps.join('\n')}`,
  );
  return d as Extract<Decision, { kind: 'forward' }>;
}

export function failed(d: Decision): Extract<Decision, { kind: 'error' }> {
  assert.equal(d.kind, 'error', `expected an error, got ${d.kind}\n${d.steps.join('\n')}`);
  return d as Extract<Decision, { kind: 'error' }>;
}

export function responded(d: Decision): Extract<Decision, { kind: 'respond' }> {
  assert.equal(d.kind, 'respond', `expected a response, got ${d.kind}\n${d.steps.join('\n')}`);
  return d as Extract<Decision, { kind: 'respond' }>;
}

/** The `version` label of the endpoints a forward decision chose (sorted, unique). */
export function versions(d: Decision): string[] {
  const f = forwarded(d);
  return [...new Set(f.endpoints.map((e) => e.labels.version ?? '-'))].sort();
}

/** The lane a forward decision chose, or the subset / `service`. */
export function laneOf(d: Decision): string {
  const t = forwarded(d).target;
  return t.kind === 'lane' ? t.lane : t.kind === 'subset' ? `subset:${t.subset}` : 'service';
}
