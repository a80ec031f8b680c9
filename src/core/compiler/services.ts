/**
 * The service registry: Kubernetes Services merged across clusters, their endpoints, and the
 * DestinationRules that give them subsets and traffic policies.
 */

import type { DestinationRuleSpec } from '../../config/kinds/istio/types.ts';
import { type Resource, resourceLabel } from '../../config/resource/resource.ts';
import { parseServiceHost, serviceKey } from '../../config/resource/service-ref.ts';
import { labelsMatch, labelsOf, newDict } from './dict.ts';
import { applyTrafficPolicy, DEFAULT_POLICY } from './policy.ts';
import { portProtocol } from './port-protocol.ts';
import type { StatusBook } from './status.ts';
import type {
  CompiledSubset,
  Endpoint,
  PortProtocol,
  SourceRef,
  TableEndpoint,
  UpstreamPolicy,
} from './table.ts';

/** The part of a Kubernetes Service spec the registry needs. */
interface ServicePorts {
  readonly ports?: readonly {
    readonly port: number;
    readonly name?: string | undefined;
    readonly appProtocol?: string | undefined;
  }[];
}

export interface RegistryEntry {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly ports: number[];
  readonly endpoints: TableEndpoint[];
  /** Whether a Service resource declares it (else it exists only through endpoints). */
  declared: boolean;
  policy: UpstreamPolicy;
  policyByPort: Record<string, UpstreamPolicy>;
  readonly protocolByPort: Record<string, PortProtocol>;
  readonly subsets: Record<string, CompiledSubset>;
  readonly subsetSource: Record<string, Resource>;
}

export function isKubeService(r: Resource): r is Resource<string, ServicePorts> {
  return r.kind === 'Service' && r.id.group === '';
}

export function isIstio(
  r: Resource,
  kind: 'Gateway' | 'VirtualService' | 'DestinationRule',
): boolean {
  return r.kind === kind && r.id.group === 'networking.istio.io';
}

export function compareEndpoints(a: Endpoint, b: Endpoint): number {
  const ka = `${a.service}\n${a.address}\n${String(a.port).padStart(5, '0')}\n${a.cluster}`;
  const kb = `${b.service}\n${b.address}\n${String(b.port).padStart(5, '0')}\n${b.cluster}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export function buildRegistry(
  resources: readonly Resource[],
  endpoints: readonly Endpoint[],
): Map<string, RegistryEntry> {
  const registry = new Map<string, RegistryEntry>();
  const entry = (namespace: string, name: string): RegistryEntry => {
    const key = serviceKey({ namespace, name });
    let e = registry.get(key);
    if (!e) {
      e = {
        key,
        namespace,
        name,
        ports: [],
        endpoints: [],
        declared: false,
        policy: DEFAULT_POLICY,
        policyByPort: newDict(),
        protocolByPort: newDict(),
        subsets: newDict(),
        subsetSource: newDict(),
      };
      registry.set(key, e);
    }
    return e;
  };
  for (const r of resources) {
    if (!isKubeService(r)) continue;
    const e = entry(r.metadata.namespace, r.metadata.name);
    e.declared = true;
    for (const p of r.spec.ports ?? []) {
      if (!e.ports.includes(p.port)) e.ports.push(p.port);
      // Same-named services in several clusters: the first declaration of a port wins.
      e.protocolByPort[String(p.port)] ??= portProtocol(p.name, p.appProtocol);
    }
  }
  for (const ep of [...endpoints].sort(compareEndpoints)) {
    const [namespace, name] = ep.service.split('/');
    if (!namespace || !name) continue;
    entry(namespace, name).endpoints.push({
      ...ep,
      labels: labelsOf(ep.labels),
      id: `${ep.address}:${ep.port}`,
    });
  }
  for (const e of registry.values()) e.ports.sort((a, b) => a - b);
  return registry;
}

/**
 * Applies DestinationRules (sorted by namespace/name) to the registry. Istio merges rules for one
 * host: the first definition of a subset wins, and the first top-level policy wins.
 */
export function applyDestinationRules(
  resources: readonly Resource[],
  registry: Map<string, RegistryEntry>,
  status: StatusBook,
): void {
  const policyOwner = new Map<string, Resource>();
  for (const r of resources) {
    if (!isIstio(r, 'DestinationRule')) continue;
    const spec = r.spec as DestinationRuleSpec;
    const ref = parseServiceHost(spec.host, r.metadata.namespace);
    const svc = ref ? registry.get(serviceKey(ref)) : undefined;
    if (!svc) {
      status.problem(
        r,
        'ResolvedRefs',
        'BackendNotFound',
        'spec.host',
        `host ${JSON.stringify(spec.host)} is not a known service; the rule takes effect once a Service with that name exists`,
      );
      continue;
    }
    const source: SourceRef = {
      kind: r.kind,
      namespace: r.metadata.namespace,
      name: r.metadata.name,
    };
    if (spec.trafficPolicy) {
      const owner = policyOwner.get(svc.key);
      if (owner) {
        status.warn(
          r,
          'spec.trafficPolicy',
          `ignored: ${resourceLabel(owner.id)} already sets the traffic policy of ${svc.key} (the first rule by namespace/name wins)`,
        );
      } else {
        policyOwner.set(svc.key, r);
        svc.policy = applyTrafficPolicy(DEFAULT_POLICY, spec.trafficPolicy, {
          ...source,
          path: 'spec.trafficPolicy',
        });
        for (const [i, pls] of (spec.trafficPolicy.portLevelSettings ?? []).entries()) {
          const port = pls.port?.number;
          if (port === undefined) continue;
          // A port-level policy replaces the rule's policy for that port (DR.proto L240-247).
          svc.policyByPort[String(port)] = applyTrafficPolicy(DEFAULT_POLICY, pls, {
            ...source,
            path: `spec.trafficPolicy.portLevelSettings[${i}]`,
          });
        }
      }
    }
    spec.subsets.forEach((subset, i) => {
      const first = svc.subsetSource[subset.name];
      if (first) {
        status.warn(
          r,
          `spec.subsets[${i}]`,
          `ignored: subset ${subset.name} of ${svc.key} is already defined by ${resourceLabel(first.id)}`,
        );
        return;
      }
      svc.subsetSource[subset.name] = r;
      const all = svc.endpoints.filter((e) => labelsMatch(e.labels, subset.labels));
      svc.subsets[subset.name] = {
        name: subset.name,
        labels: labelsOf(subset.labels),
        all,
        healthy: all.filter((e) => e.healthy),
        policy: applyTrafficPolicy(svc.policy, subset.trafficPolicy, {
          ...source,
          path: `spec.subsets[${i}]`,
        }),
        source: { ...source, path: `spec.subsets[${i}]` },
      };
    });
  }
}
