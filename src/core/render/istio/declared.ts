/**
 * Lane membership from the files alone: the instances the Deployments declare (`replicas` pods
 * with the template's labels). Rendering needs only which lanes have instances of a service, so
 * the instances carry labels and no real address. In a cluster the controller uses the pods.
 */
import type { DeploymentSpec } from '../../../config/kinds/kube/index.ts';
import type { Resource } from '../../../config/resource/resource.ts';
import { endpointsFor, type Instance } from '../../compiler/endpoints.ts';
import type { Endpoint } from '../../compiler/table.ts';

export function declaredEndpoints(resources: readonly Resource[]): Endpoint[] {
  const instances: Instance[] = [];
  for (const r of resources) {
    if (r.kind !== 'Deployment' || r.id.group !== 'apps') continue;
    const spec = r.spec as DeploymentSpec;
    for (let i = 0; i < spec.replicas; i++) {
      instances.push({
        workload: `${r.metadata.namespace}/${r.metadata.name}`,
        namespace: r.metadata.namespace,
        cluster: r.id.cluster,
        labels: spec.template.labels,
        // A unique placeholder: membership needs labels, never an address.
        address: `${r.id.cluster}/${r.metadata.namespace}/${r.metadata.name}/${i}`,
        port: 0,
        healthy: true,
      });
    }
  }
  return endpointsFor(resources, instances);
}
