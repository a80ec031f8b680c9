/**
 * The state a conformance case builds step by step: applied resources (per cluster), deleted
 * ones, instance health, and the instances Deployments would run. Shared by the engine runner and
 * the proxy runners, so every level replays the same story.
 */
import { readFileSync } from 'node:fs';
import type { DeploymentSpec } from '../src/config/kinds/kube/index.ts';
import { loadResources } from '../src/config/load/resources.ts';
import { type Resource, resourceKey } from '../src/config/resource/resource.ts';
import { formatIssue } from '../src/config/source/issues.ts';
import { compile } from '../src/core/compiler/compile.ts';
import { endpointsFor, type Instance } from '../src/core/compiler/endpoints.ts';
import type { Endpoint, RoutingTable } from '../src/core/compiler/table.ts';
import type { ApplySpec, ConformanceCase, DeleteSpec, ExplicitEndpoints } from './case.ts';

/** What an instance does when called: whom it calls next, and which headers its code forwards. */
export interface AppBehaviour {
  readonly upstream: string | undefined;
  readonly propagate: readonly string[];
}

export const PROPAGATOR_HEADERS: Record<string, readonly string[]> = {
  tracecontext: ['traceparent', 'tracestate'],
  baggage: ['baggage'],
  b3: ['b3'],
  b3multi: ['x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags'],
  jaeger: ['uber-trace-id'],
  xray: ['x-amzn-trace-id'],
  ottrace: ['ot-tracer-traceid', 'ot-tracer-spanid', 'ot-tracer-sampled'],
  none: [],
};

/** OpenTelemetry's default propagators when an Instrumentation names none. */
export const DEFAULT_PROPAGATORS = ['tracecontext', 'baggage'];

export interface InstanceInfo extends Instance {
  readonly app: AppBehaviour;
}

/** Turns the applied resources into the ones a level compiles (e.g. rendered to Istio objects). */
export type ResourceTransform = (
  resources: readonly Resource[],
  endpoints: readonly Endpoint[],
) => readonly Resource[];

export class MeshState {
  readonly case: ConformanceCase;
  readonly #transform: ResourceTransform | undefined;
  readonly #resources = new Map<string, Resource>();
  #unhealthy = new Set<string>();
  #explicit: ExplicitEndpoints[] = [];
  /** Each workload keeps its addresses for the whole case, whatever is deleted around it. */
  readonly #slots = new Map<string, number>();

  constructor(c: ConformanceCase, transform?: ResourceTransform) {
    this.case = c;
    this.#transform = transform;
  }

  get resources(): Resource[] {
    return [...this.#resources.values()];
  }

  apply(spec: ApplySpec): void {
    const sources = spec.files.map((file) => ({ file, text: readFileSync(file, 'utf8') }));
    if (spec.yaml !== undefined)
      sources.push({ file: `${this.case.file} (inline)`, text: spec.yaml });
    const result = loadResources(
      sources,
      spec.cluster === undefined ? {} : { cluster: spec.cluster },
    );
    if (!result.ok) {
      const errors = result.issues.filter((i) => i.severity === 'error').map(formatIssue);
      throw new Error(`${this.case.file}: apply rejected:\n${errors.join('\n')}`);
    }
    for (const r of result.resources) this.#resources.set(resourceKey(r.id), r);
  }

  delete(spec: DeleteSpec): void {
    for (const name of spec.names) {
      const match = [...this.#resources.entries()].find(
        ([, r]) =>
          r.kind === spec.kind &&
          r.metadata.name === name &&
          (spec.namespace === undefined || r.metadata.namespace === spec.namespace) &&
          (r.id.cluster === '' || r.id.cluster === (spec.cluster ?? 'default')),
      );
      if (!match)
        throw new Error(`${this.case.file}: delete ${spec.kind} ${name}: no such resource`);
      this.#resources.delete(match[0]);
    }
  }

  setUnhealthy(workloads: readonly string[]): void {
    this.#unhealthy = new Set(workloads);
  }

  setExplicitEndpoints(endpoints: readonly ExplicitEndpoints[]): void {
    this.#explicit = [...endpoints];
  }

  /** The instances every Deployment runs (deterministic addresses), with their app behaviour. */
  instances(): InstanceInfo[] {
    const out: InstanceInfo[] = [];
    const deployments = this.resources.filter(
      (r) => r.kind === 'Deployment' && r.id.group === 'apps',
    );
    for (const d of deployments) {
      const spec = d.spec as DeploymentSpec;
      const workload = `${d.metadata.namespace}/${d.metadata.name}@${d.id.cluster}`;
      const index = this.#slot(workload);
      for (let i = 0; i < spec.replicas; i++) {
        out.push({
          workload: `${d.metadata.namespace}/${d.metadata.name}`,
          namespace: d.metadata.namespace,
          cluster: d.id.cluster,
          labels: spec.template.labels,
          address: `10.${Math.floor(index / 250)}.${index % 250}.${i + 1}`,
          port: 8000,
          healthy: !this.#unhealthy.has(workload),
          app: this.#behaviourOf(d, spec),
        });
      }
    }
    return out;
  }

  #slot(workload: string): number {
    let slot = this.#slots.get(workload);
    if (slot === undefined) {
      slot = this.#slots.size;
      this.#slots.set(workload, slot);
    }
    return slot;
  }

  #behaviourOf(d: Resource, spec: DeploymentSpec): AppBehaviour {
    const declared = this.case.apps[`${d.metadata.namespace}/${d.metadata.name}`];
    if (declared) return declared;
    const container = spec.template.containers[0];
    const env = new Map((container?.env ?? []).map((e) => [e.name, e.value]));
    const upstreamUrl = env.get('upstream_url');
    const upstream = upstreamUrl ? new URL(upstreamUrl).host : undefined;
    const propagate =
      spec.template.instrumentation.length === 0
        ? []
        : this.#propagatedHeaders(d.metadata.namespace);
    return { upstream, propagate };
  }

  #propagatedHeaders(namespace: string): string[] {
    const inst = this.resources.find(
      (r) => r.kind === 'Instrumentation' && r.metadata.namespace === namespace,
    );
    const propagators =
      (inst?.spec as { propagators?: readonly string[] } | undefined)?.propagators ??
      DEFAULT_PROPAGATORS;
    return propagators.flatMap((p) => PROPAGATOR_HEADERS[p] ?? []);
  }

  endpoints(): Endpoint[] {
    const derived = endpointsFor(this.resources, this.instances());
    const explicit = this.#explicit.flatMap((e, index) => {
      const workload = e.workload ?? `${e.service}-${Object.values(e.labels).join('-')}`;
      return Array.from({ length: e.count }, (_, i) => ({
        service: e.service,
        cluster: e.cluster,
        address: `172.16.${index}.${i + 1}`,
        port: e.port,
        labels: e.labels,
        healthy: e.healthy && !this.#unhealthy.has(workload),
        workload,
      }));
    });
    return [...derived, ...explicit];
  }

  /**
   * Compiles the current state. `relocate` moves each endpoint to a real address (the proxy
   * runners put a sidecar in front of every instance).
   */
  compile(relocate?: (endpoint: Endpoint) => Endpoint): {
    table: RoutingTable;
    statuses: ReturnType<typeof compile>['statuses'];
  } {
    const endpoints = this.endpoints();
    const resources = this.#transform ? this.#transform(this.resources, endpoints) : this.resources;
    return compile(resources, relocate ? endpoints.map(relocate) : endpoints);
  }

  /** How an endpoint's app behaves: its Deployment's, or what the case declares for its workload. */
  behaviourOf(endpoint: Endpoint): AppBehaviour | undefined {
    const inst = this.instances().find(
      (i) => i.address === endpoint.address && i.port === endpoint.port,
    );
    return inst?.app ?? this.case.apps[endpoint.workload ?? ''];
  }
}
