/**
 * What `lanes install` puts in a cluster, as plain objects for `kubectl apply -f -` (the
 * linkerd/istioctl convention) or a kustomize directory: the CRDs, a namespace, a ServiceAccount,
 * least-privilege RBAC, the controller Deployment (two replicas, one leads through a Lease) with
 * probes and resource requests, and a PodDisruptionBudget. `uninstallObjects` names what
 * `kubectl delete -f -` removes: the controller, never the users' own objects (nor, unless asked,
 * the CRDs, whose deletion would delete every lane resource with them).
 */
import { laneCrds } from '../../config/crd/crds.ts';

export interface InstallOptions {
  readonly namespace: string;
  /** A revision name: the controller's objects get `-<revision>`; CRDs and the Lease are shared. */
  readonly revision: string | undefined;
  readonly image: string;
  /** Also the CRDs of Alibaba ASM's lane kinds, for clusters without ASM. */
  readonly asmCrds: boolean;
}

export type KubeObject = {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
  };
} & Record<string, unknown>;

export const CONTROLLER = 'lanes-controller';
/** The Lease every revision competes for, so one controller writes at a time. */
export const LEASE_NAME = 'lanes-controller';
export const HEALTH_PORT = 8081;

function named(o: InstallOptions): string {
  return o.revision ? `${CONTROLLER}-${o.revision}` : CONTROLLER;
}

function labels(o: InstallOptions): Record<string, string> {
  return {
    'app.kubernetes.io/name': CONTROLLER,
    'app.kubernetes.io/part-of': 'lanes',
    ...(o.revision ? { 'lanes.dev/rev': o.revision } : {}),
  };
}

const READ = ['get', 'list', 'watch'];
const WRITE = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

/** Read what lanes analyzes; write only Istio routing objects, the Lua filters and lanes statuses. */
export function clusterRules(): Record<string, unknown>[] {
  return [
    { apiGroups: [''], resources: ['services', 'pods', 'namespaces'], verbs: READ },
    { apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: READ },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
    { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: READ },
    {
      apiGroups: ['lanes.dev'],
      resources: ['lanegroups', 'lanes', 'meshes', 'releases'],
      verbs: READ,
    },
    {
      apiGroups: ['lanes.dev'],
      resources: ['lanegroups/status', 'lanes/status', 'meshes/status', 'releases/status'],
      verbs: ['get', 'update', 'patch'],
    },
    {
      apiGroups: ['istio.alibabacloud.com'],
      resources: ['asmswimlanegroups', 'asmswimlanes'],
      verbs: READ,
    },
    {
      apiGroups: ['istio.alibabacloud.com'],
      resources: ['asmswimlanegroups/status', 'asmswimlanes/status'],
      verbs: ['get', 'update', 'patch'],
    },
    { apiGroups: ['networking.istio.io'], resources: ['gateways'], verbs: READ },
    {
      apiGroups: ['networking.istio.io'],
      resources: ['virtualservices', 'destinationrules', 'envoyfilters'],
      verbs: WRITE,
    },
    { apiGroups: ['extensions.istio.io'], resources: ['trafficextensions'], verbs: WRITE },
    { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
  ];
}

export function installObjects(o: InstallOptions): KubeObject[] {
  const name = named(o);
  const meta = (n: string, namespaced = true) => ({
    name: n,
    ...(namespaced ? { namespace: o.namespace } : {}),
    labels: labels(o),
  });
  const selector = {
    'app.kubernetes.io/name': CONTROLLER,
    ...(o.revision ? { 'lanes.dev/rev': o.revision } : {}),
  };
  const args = [
    'controller',
    '--namespace',
    o.namespace,
    ...(o.revision ? ['--revision', o.revision] : []),
  ];
  return [
    ...(laneCrds({ asm: o.asmCrds }) as unknown as KubeObject[]),
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: o.namespace, labels: labels(o) } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(name) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: meta(name, false),
      rules: clusterRules(),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta(name, false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: o.namespace }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(name),
      rules: [
        // Leader election: only the Lease lanes uses, in its own namespace.
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
        {
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          resourceNames: [LEASE_NAME],
          verbs: ['get', 'update'],
        },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(name),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: o.namespace }],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(name),
      spec: {
        replicas: 2,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: labels(o) },
          spec: {
            serviceAccountName: name,
            securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'controller',
                image: o.image,
                args,
                env: [
                  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                  {
                    name: 'POD_NAMESPACE',
                    valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } },
                  },
                ],
                ports: [{ name: 'health', containerPort: HEALTH_PORT }],
                livenessProbe: {
                  httpGet: { path: '/healthz', port: 'health' },
                  periodSeconds: 10,
                  failureThreshold: 3,
                },
                readinessProbe: {
                  httpGet: { path: '/readyz', port: 'health' },
                  periodSeconds: 5,
                },
                resources: {
                  requests: { cpu: '50m', memory: '96Mi' },
                  limits: { memory: '512Mi' },
                },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: meta(name),
      spec: { minAvailable: 1, selector: { matchLabels: selector } },
    },
  ];
}

/** What `kubectl delete -f -` needs to remove the controller (CRDs only when asked). */
export function uninstallObjects(o: InstallOptions, withCrds: boolean): KubeObject[] {
  return installObjects(o)
    .filter((x) => withCrds || x.kind !== 'CustomResourceDefinition')
    .filter((x) => x.kind !== 'Namespace' || !o.revision)
    .reverse()
    .map((x) => ({
      apiVersion: x.apiVersion,
      kind: x.kind,
      metadata: {
        name: x.metadata.name,
        ...(x.metadata.namespace ? { namespace: x.metadata.namespace } : {}),
      },
    }));
}

/** The kustomize directory form: a file per object group and a kustomization.yaml. */
export function installFiles(o: InstallOptions): Map<string, KubeObject[]> {
  const files = new Map<string, KubeObject[]>();
  for (const x of installObjects(o)) {
    const file =
      x.kind === 'CustomResourceDefinition'
        ? `crds/${x.metadata.name}.yaml`
        : x.kind === 'Namespace'
          ? 'namespace.yaml'
          : /Role|ServiceAccount/.test(x.kind)
            ? 'rbac.yaml'
            : 'controller.yaml';
    files.set(file, [...(files.get(file) ?? []), x]);
  }
  return files;
}
