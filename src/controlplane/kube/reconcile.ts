/**
 * One reconcile of the cluster, decided purely from what the informers hold: lanes and ASM kinds,
 * Services, Pods (lane membership is pod labels), Istio Gateways, VirtualServices and
 * DestinationRules. The same analysis and Istio rendering as `lanes render istio`; the plan says
 * which lanes-owned objects to server-side apply or prune, which users' objects to write back
 * (merged with lane routes, or restored), and never touches anything else.
 */
import { loadResources } from '../../config/load/resources.ts';
import type { Resource } from '../../config/resource/resource.ts';
import { analyze } from '../../core/compiler/analyze.ts';
import { endpointsFor, type Instance } from '../../core/compiler/endpoints.ts';
import type { ResourceStatus } from '../../core/compiler/status.ts';
import type { EdgeExtensionApi } from '../../core/render/istio/edge-extension.ts';
import type { IstioObject, RenderWarning } from '../../core/render/istio/objects.ts';
import {
  canonicalJson,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  RENDERED_HASH_ANNOTATION,
  recordedUserSpecFrom,
  USER_SPEC_ANNOTATION,
} from '../../core/render/istio/ownership.ts';
import { renderIstio } from '../../core/render/istio/render.ts';
import { unstartedReleases } from '../release/unstarted.ts';
import { type KubeObj, type ObjectRef, objectKey, refOf, userView } from './objects.ts';

/** Lane kinds: the controller writes their status. */
export const LANE_GROUPS = new Set(['lanes.dev', 'istio.alibabacloud.com']);
const ROUTING_KINDS = new Set(['VirtualService', 'DestinationRule']);
const OWNED_KINDS = new Set([
  'VirtualService',
  'DestinationRule',
  'EnvoyFilter',
  'TrafficExtension',
]);

function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.lastIndexOf('/')) : '';
}

export function isLaneKind(o: KubeObj): boolean {
  return LANE_GROUPS.has(groupOf(o.apiVersion));
}

export function isOwnedByLanes(o: KubeObj): boolean {
  return o.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY;
}

export interface Rejection {
  readonly ref: ObjectRef;
  readonly generation: number | undefined;
  readonly fieldPath: string;
  readonly message: string;
}

export interface ReconcilePlan {
  /** lanes-owned objects that are missing or differ: server-side apply (field manager `lanes`). */
  readonly apply: readonly KubeObj[];
  /** Users' VirtualServices and DestinationRules to write back, with the resourceVersion read. */
  readonly replace: readonly KubeObj[];
  /** lanes-owned objects nothing wants any more. */
  readonly prune: readonly ObjectRef[];
  /** Lane resources lanes cannot read (for Events and their status). */
  readonly rejected: readonly Rejection[];
  readonly statuses: readonly ResourceStatus[];
  readonly warnings: readonly RenderWarning[];
  /** Every lane resource read, by object key, with its generation. */
  readonly laneObjects: ReadonlyMap<string, KubeObj>;
}

export interface ReconcileOptions {
  readonly edgeExtension?: EdgeExtensionApi;
  readonly istioNamespace?: string;
}

/** The user's own spec of a VirtualService or DestinationRule lanes may have merged into. */
function unmerged(o: KubeObj): KubeObj {
  const view = userView(o);
  const annotations = view.metadata.annotations ?? {};
  const user = recordedUserSpecFrom(annotations, view.spec);
  const rest = { ...annotations };
  delete rest[USER_SPEC_ANNOTATION];
  delete rest[RENDERED_HASH_ANNOTATION];
  const metadata = { ...view.metadata, annotations: rest };
  if (Object.keys(rest).length === 0) delete (metadata as { annotations?: unknown }).annotations;
  return { ...view, metadata, spec: user ?? view.spec };
}

/** A Service as lanes needs it: ports and selector only (a live Service has many more fields). */
function serviceView(o: KubeObj): KubeObj {
  const spec = (o.spec ?? {}) as {
    ports?: { port: number; name?: string }[];
    selector?: Record<string, string>;
  };
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: o.metadata.name, namespace: o.metadata.namespace ?? 'default' },
    spec: {
      ports: (spec.ports ?? []).map((p) => ({ port: p.port, ...(p.name ? { name: p.name } : {}) })),
      ...(spec.selector ? { selector: spec.selector } : {}),
    },
  };
}

interface PodStatus {
  readonly phase?: string;
  readonly podIP?: string;
  readonly conditions?: readonly { readonly type: string; readonly status: string }[];
}

export function instancesOf(pods: readonly KubeObj[]): Instance[] {
  return pods
    .filter((p) => (p.status as PodStatus | undefined)?.phase !== 'Succeeded')
    .map((p) => {
      const s = (p.status ?? {}) as PodStatus;
      const ready = s.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      return {
        workload: `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`,
        namespace: p.metadata.namespace ?? 'default',
        cluster: 'default',
        labels: p.metadata.labels ?? {},
        address: s.podIP ?? `${p.metadata.namespace}/${p.metadata.name}`,
        port: 0,
        healthy: s.phase === 'Running' && ready,
      };
    });
}

/** Reads each object (as `view` shows it) on its own, so one bad object never blocks the others. */
function load(
  objects: readonly KubeObj[],
  view: (o: KubeObj) => KubeObj,
  rejected: Rejection[],
): Resource[] {
  const out: Resource[] = [];
  for (const o of objects) {
    const r = loadResources([{ file: objectKey(o), text: JSON.stringify(view(o)) }]);
    if (r.ok) {
      out.push(...r.resources);
      continue;
    }
    const first = r.issues.find((i) => i.severity === 'error');
    rejected.push({
      ref: refOf(o),
      generation: o.metadata.generation,
      fieldPath: first?.path ?? '',
      message: first?.message ?? 'not valid',
    });
  }
  return out;
}

function sameContent(desired: IstioObject | KubeObj, live: KubeObj): boolean {
  const labels = (o: { metadata: { labels?: unknown } }) => o.metadata.labels ?? {};
  const annotations = (o: { metadata: { annotations?: unknown } }) => {
    const a = { ...((o.metadata.annotations ?? {}) as Record<string, string>) };
    delete a['kubectl.kubernetes.io/last-applied-configuration'];
    return a;
  };
  return (
    canonicalJson(desired.spec) === canonicalJson(live.spec) &&
    canonicalJson(labels(desired)) === canonicalJson(labels(live)) &&
    canonicalJson(annotations(desired)) === canonicalJson(annotations(live))
  );
}

export function planReconcile(
  cluster: readonly KubeObj[],
  options: ReconcileOptions = {},
): ReconcilePlan {
  const rejected: Rejection[] = [];
  const lane = cluster.filter(isLaneKind);
  const services = cluster.filter((o) => o.apiVersion === 'v1' && o.kind === 'Service');
  const pods = cluster.filter((o) => o.apiVersion === 'v1' && o.kind === 'Pod');
  const istio = cluster.filter(
    (o) =>
      groupOf(o.apiVersion) === 'networking.istio.io' ||
      groupOf(o.apiVersion) === 'extensions.istio.io',
  );
  const gateways = istio.filter((o) => o.kind === 'Gateway');
  const userRouting = istio.filter((o) => ROUTING_KINDS.has(o.kind) && !isOwnedByLanes(o));
  const owned = istio.filter((o) => OWNED_KINDS.has(o.kind) && isOwnedByLanes(o));

  const unreadable: Rejection[] = [];
  const resources = [
    ...load(lane, userView, rejected),
    ...load(services, serviceView, []),
    ...load(gateways, userView, []),
    ...load(userRouting, unmerged, unreadable),
  ];
  const readable = new Set(
    resources.map((r) => `${r.kind} ${r.metadata.namespace}/${r.metadata.name}`),
  );
  const endpoints = endpointsFor(resources, instancesOf(pods));
  const analysis = analyze(resources, endpoints, { releases: unstartedReleases(resources) });
  const result = renderIstio(analysis, options);

  // A user's mesh VirtualService lanes cannot read still owns its host in Istio (one per host):
  // lanes must not add its own for that host, and says so on the group.
  const blockedHosts = new Set<string>();
  const warnings = [...result.warnings];
  for (const u of unreadable) {
    const o = userRouting.find((x) => objectKey(x) === objectKey(u.ref));
    const spec = (o?.spec ?? {}) as { hosts?: string[]; gateways?: string[] };
    if (
      u.ref.kind !== 'VirtualService' ||
      (spec.gateways?.length && !spec.gateways.includes('mesh'))
    )
      continue;
    for (const host of spec.hosts ?? []) {
      const service = analysis.resolveService(host, u.ref.namespace);
      const group = service === undefined ? undefined : analysis.lanes.serviceGroup.get(service);
      if (service === undefined || !group) continue;
      blockedHosts.add(service);
      warnings.push({
        resource: {
          kind: group.resource.kind,
          namespace: group.resource.metadata.namespace,
          name: group.name,
        },
        fieldPath: 'spec.services',
        reason: 'UserObjectUnreadable',
        message: `VirtualService ${u.ref.namespace}/${u.ref.name} routes ${service} for mesh traffic and lanes cannot read it (${u.fieldPath}: ${u.message}); lanes leaves ${service} to it`,
      });
    }
  }
  const liveByKey = new Map(istio.map((o) => [objectKey(o), o]));
  const apply: KubeObj[] = [];
  const replace: KubeObj[] = [];
  const wanted = new Set<string>();
  for (const o of result.objects) {
    if (o.kind === 'Gateway') continue;
    const key = objectKey(o);
    wanted.add(key);
    const live = liveByKey.get(key);
    if (o.kind === 'VirtualService' && isOwnedByLanes(o as unknown as KubeObj)) {
      const hosts = (o.spec as { hosts?: string[] }).hosts ?? [];
      const service = hosts[0]
        ? analysis.resolveService(hosts[0], o.metadata.namespace)
        : undefined;
      if (service !== undefined && blockedHosts.has(service)) {
        wanted.delete(key);
        continue;
      }
    }
    if (isOwnedByLanes(o as unknown as KubeObj)) {
      // Never take over an object of the same name someone else owns.
      if (live && !isOwnedByLanes(live)) continue;
      if (!live || !sameContent(o, live)) apply.push(o as unknown as KubeObj);
      continue;
    }
    // A user's object: written back only when it exists, lanes could read it, and it changed.
    if (!live || !readable.has(`${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)) continue;
    if (sameContent(o, live)) continue;
    replace.push({
      ...(o as unknown as KubeObj),
      apiVersion: live.apiVersion,
      metadata: { ...o.metadata, resourceVersion: live.metadata.resourceVersion },
    } as KubeObj);
  }
  const prune = owned.filter((o) => !wanted.has(objectKey(o))).map(refOf);
  return {
    apply,
    replace,
    prune,
    rejected,
    statuses: result.statuses.filter((s) => LANE_GROUPS.has(s.id.group)),
    warnings,
    laneObjects: new Map(lane.map((o) => [objectKey(o), o])),
  };
}
