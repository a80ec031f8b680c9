/**
 * Instances → endpoints: an instance serves every Service of its cluster and namespace whose
 * selector its labels satisfy, as in Kubernetes. Same-named services in several clusters merge
 * into one mesh-wide service (SPEC §2), so endpoints carry their cluster.
 */
import type { Resource } from '../../config/resource/resource.ts';
import { labelsMatch } from './dict.ts';
import type { Endpoint } from './table.ts';

export interface Instance {
  /** `namespace/name` of the workload (Deployment) it belongs to. */
  readonly workload: string;
  readonly namespace: string;
  readonly cluster: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly address: string;
  readonly port: number;
  readonly healthy: boolean;
}

interface ServiceSelector {
  readonly selector?: Readonly<Record<string, string>> | undefined;
}

export function endpointsFor(
  resources: readonly Resource[],
  instances: readonly Instance[],
): Endpoint[] {
  const out: Endpoint[] = [];
  for (const r of resources) {
    if (r.kind !== 'Service' || r.id.group !== '') continue;
    const selector = (r.spec as ServiceSelector).selector;
    if (!selector || Object.keys(selector).length === 0) continue;
    for (const inst of instances) {
      if (inst.cluster !== r.id.cluster || inst.namespace !== r.metadata.namespace) continue;
      if (!labelsMatch(inst.labels, selector)) continue;
      out.push({
        service: `${r.metadata.namespace}/${r.metadata.name}`,
        cluster: inst.cluster,
        address: inst.address,
        port: inst.port,
        labels: inst.labels,
        healthy: inst.healthy,
        workload: inst.workload,
      });
    }
  }
  return out;
}
