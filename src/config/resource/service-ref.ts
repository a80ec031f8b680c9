/**
 * Service names. `mockb`, `mockb.default`, `mockb.default.svc` and
 * `mockb.default.svc.cluster.local` all name the same service; short names resolve in a namespace
 * the caller gives (the referring resource's, or the calling workload's).
 */
export const CLUSTER_DOMAIN = 'svc.cluster.local';

export interface ServiceRef {
  readonly namespace: string;
  readonly name: string;
}

/** `namespace/name`: the key of a service everywhere in lanes. */
export function serviceKey(ref: ServiceRef): string {
  return `${ref.namespace}/${ref.name}`;
}

export function fqdn(ref: ServiceRef): string {
  return `${ref.name}.${ref.namespace}.${CLUSTER_DOMAIN}`;
}

/**
 * Resolves a host (no port) to a service reference: `name`, `name.ns`, `name.ns.svc`,
 * `name.ns.svc.cluster.local`, or `ns/name`. Returns undefined for names that are not
 * cluster-local (`www.example.com`), which the caller treats as external hosts.
 */
export function parseServiceHost(host: string, defaultNamespace: string): ServiceRef | undefined {
  if (host.includes('/')) {
    const [namespace, name, ...rest] = host.split('/');
    return namespace && name && rest.length === 0 ? { namespace, name } : undefined;
  }
  const labels = host.toLowerCase().split('.');
  const [name, namespace, svc, cluster, local, ...rest] = labels;
  if (!name || rest.length > 0) return undefined;
  if (labels.length === 1) return { namespace: defaultNamespace, name };
  if (!namespace) return undefined;
  if (labels.length === 2) return { namespace, name };
  if (svc !== 'svc') return undefined;
  if (labels.length === 3) return { namespace, name };
  return labels.length === 5 && cluster === 'cluster' && local === 'local'
    ? { namespace, name }
    : undefined;
}
