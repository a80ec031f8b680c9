/**
 * renderIstio(analysis): lanes lowered to stock Istio (networking.istio.io/v1). The output is the
 * complete set of Istio networking objects the cluster should hold for the inputs — Gateways,
 * DestinationRules with a subset per lane, one VirtualService per lane-group service for mesh
 * traffic (merged into the user's own when there is one: Istio takes one per host), the users'
 * other VirtualServices with lane subsets resolved, and one VirtualService per gateway host for
 * lane entry rules — plus a warning for every feature stock Istio cannot carry. Pure.
 */
import { TRUST_CLIENT_LANE } from '../../../config/kinds/annotations.ts';
import type { GatewaySpec } from '../../../config/kinds/istio/types.ts';
import { type ReleaseSpec, releaseKind } from '../../../config/kinds/native/index.ts';
import { MESH_DEFAULTS, type MeshSpec } from '../../../config/kinds/native/mesh.ts';
import { isKind } from '../../../config/kinds/registry.ts';
import type { Resource } from '../../../config/resource/resource.ts';
import { joinPath } from '../../../config/schema/path.ts';
import type { Analysis } from '../../compiler/analyze.ts';
import type { EntryRoute } from '../../compiler/entry-routes.ts';
import { isIstio } from '../../compiler/services.ts';
import type { ResourceStatus } from '../../compiler/status.ts';
import { gatewayKey, MESH } from '../../compiler/virtual-services.ts';
import { type GroupCarriers, groupCarriers } from './carriers.ts';
import { type EdgeExtensionApi, type EdgeHygiene, edgeExtensionObject } from './edge-extension.ts';
import { entryHost } from './entries.ts';
import { type IstioObject, NETWORKING_V1, type RenderWarning } from './objects.ts';
import {
  MANAGED_BY,
  MANAGED_BY_LABEL,
  RENDERED_HASH_ANNOTATION,
  rawDocument,
  specHash,
  USER_SPEC_ANNOTATION,
} from './ownership.ts';
import {
  type BindingClass,
  EMPTY_SUBSET,
  type RawRoute,
  type RouteContext,
  renderRoute,
} from './routes.ts';
import { laneTarget, resolveChain, type ServicePlan, servicePlan } from './targets.ts';

export interface RenderOptions {
  /** Also remove the lane member of `baggage` clients send, with a Lua filter per gateway. */
  readonly edgeExtension?: EdgeExtensionApi;
  /** Istio's root namespace, where selector-based extensions go (default `istio-system`). */
  readonly istioNamespace?: string;
}

export interface RenderResult {
  readonly objects: readonly IstioObject[];
  readonly warnings: readonly RenderWarning[];
  /** The analysis' statuses (broken references), the same as `lanes apply` reports. */
  readonly statuses: readonly ResourceStatus[];
  /** What the edge extension removes (also the model the equivalence suite runs). */
  readonly hygiene: EdgeHygiene;
}

const TRUSTED_GATEWAY_PATH = joinPath('metadata.annotations', TRUST_CLIENT_LANE);

function idOf(r: Resource) {
  return { kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name };
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : {};
}

function metadataOf(
  r: Resource,
  extra: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
) {
  const labels = { ...r.metadata.labels, ...extra.labels };
  const annotations = { ...r.metadata.annotations, ...extra.annotations };
  return {
    name: r.metadata.name,
    namespace: r.metadata.namespace,
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}

/** A user's object lanes merged into: their spec recorded, and the hash of what lanes wrote. */
function merged(
  r: Resource,
  kind: string,
  userSpec: unknown,
  spec: Record<string, unknown>,
): IstioObject {
  return {
    apiVersion: NETWORKING_V1,
    kind,
    metadata: metadataOf(r, {
      annotations: {
        [USER_SPEC_ANNOTATION]: JSON.stringify(userSpec),
        [RENDERED_HASH_ANNOTATION]: specHash(spec),
      },
    }),
    spec,
  };
}

function unchanged(r: Resource, kind: string, spec: unknown): IstioObject {
  return { apiVersion: NETWORKING_V1, kind, metadata: metadataOf(r), spec: obj(spec) };
}

function owned(
  kind: string,
  name: string,
  namespace: string,
  spec: Record<string, unknown>,
): IstioObject {
  return {
    apiVersion: NETWORKING_V1,
    kind,
    metadata: { name, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
    spec,
  };
}

function carrierPath(r: Resource, index: number): string {
  return r.kind === 'LaneGroup'
    ? `spec.carriers[${index}]`
    : 'spec.permissiveModeConfiguration.traceHeader';
}

/** The name of a lanes route for a tag case (one string per case, shared by every service). */
const caseNames = new WeakMap<object, string>();
function caseName(tag: { readonly lane: string | undefined; readonly kind: string }): string {
  let name = caseNames.get(tag);
  if (name === undefined) {
    name = `lanes/${tag.lane ?? '-'}/${tag.kind}`;
    caseNames.set(tag, name);
  }
  return name;
}

export function renderIstio(analysis: Analysis, options: RenderOptions = {}): RenderResult {
  const warnings: RenderWarning[] = [];
  const istioNamespace = options.istioNamespace ?? 'istio-system';
  const groups = analysis.lanes.groups;

  // Carriers per route header (groups that share one share a context, as in the proxies).
  const carriersByRouteHeader = new Map<string, GroupCarriers>();
  for (const g of groups) {
    const c = groupCarriers(g);
    const prev = carriersByRouteHeader.get(g.routeHeader);
    carriersByRouteHeader.set(
      g.routeHeader,
      prev
        ? {
            routeHeader: g.routeHeader,
            headers: [...new Set([...prev.headers, ...c.headers])],
            baggageKeys: [...new Set([...prev.baggageKeys, ...c.baggageKeys])],
          }
        : c,
    );
  }
  const hygiene: EdgeHygiene = {
    headers: [...new Set([...carriersByRouteHeader.values()].flatMap((c) => c.headers))].sort(),
    baggageKeys: [
      ...new Set([...carriersByRouteHeader.values()].flatMap((c) => c.baggageKeys)),
    ].sort(),
  };

  const trusted = (gateway: string): boolean =>
    analysis.gateways.get(gateway)?.[0]?.metadata.annotations[TRUST_CLIENT_LANE] === 'true';
  const untrustedGateways = [...analysis.gateways.keys()].filter((g) => !trusted(g)).sort();

  groupWarnings(analysis, options, untrustedGateways, warnings);
  for (const key of [...analysis.gateways.keys()].filter(trusted).sort()) {
    warnings.push({
      resource: idOf(analysis.gateways.get(key)![0]!),
      fieldPath: TRUSTED_GATEWAY_PATH,
      reason: 'OverrideNotRendered',
      message: `lanes' gateway follows the unsigned per-request overrides (lanes-override, l5d-dtab) its trusted clients send; Envoy cannot check or sign them, so on a cluster no override is followed and those requests take the route their lane tag gives (the lane tags clients send are kept, as the annotation says). To put one request into a lane there, send the lane tag instead`,
    });
  }
  meshWarnings(analysis.resources, warnings);
  releaseWarnings(analysis, warnings);

  // User DestinationRules by service: lanes' subsets join the first one (Istio merges them too).
  const userDrs = new Map<string, Resource>();
  for (const r of analysis.resources) {
    if (!isIstio(r, 'DestinationRule')) continue;
    const host = (r.spec as { host: string }).host;
    const service = analysis.resolveService(host, r.metadata.namespace);
    if (service !== undefined && !userDrs.has(service)) userDrs.set(service, r);
  }

  const plans = new Map<string, ServicePlan>();
  for (const [key, chains] of analysis.chains) {
    const dr = userDrs.get(key);
    const taken = new Map<string, Readonly<Record<string, string>>>();
    for (const s of (dr ? (rawDocument(dr).spec as { subsets?: unknown[] })?.subsets : undefined) ??
      []) {
      const sub = obj(s);
      if (typeof sub.name === 'string')
        taken.set(sub.name, obj(sub.labels) as Record<string, string>);
    }
    const name = (lane: string): string => {
      const base = lane.replace(/\./g, '-');
      const selector = analysis.lanes.lanes.get(lane)?.selector ?? {};
      const theirs = taken.get(base);
      if (theirs === undefined || JSON.stringify(theirs) === JSON.stringify(selector)) return base;
      warnings.push({
        resource: idOf(dr!),
        fieldPath: 'spec.subsets',
        reason: 'SubsetNameConflict',
        message: `subset ${base} has other labels than lane ${lane}'s selector; lanes names its subset ${base}-lane`,
      });
      return `${base}-lane`;
    };
    plans.set(key, servicePlan(analysis, key, chains, name));
  }
  unlanedWarnings(plans, warnings);

  const ctx: RouteContext = {
    analysis,
    plans,
    // Entry destinations are written in the default namespace (the compiler reads them so).
    namespace: 'default',
    carriersByRouteHeader,
    emptySubsets: new Set(),
    caseCache: new Map(),
  };

  const objects: IstioObject[] = [];

  // Gateways, as written (the first copy of each).
  for (const [, copies] of [...analysis.gateways].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const g = copies[0]!;
    objects.push({
      apiVersion: NETWORKING_V1,
      kind: 'Gateway',
      metadata: metadataOf(g),
      spec: obj(rawDocument(g).spec),
    });
  }

  // Mesh VirtualServices: the first user VS bound to the mesh for a lane-group service takes
  // lanes' routes; the others are the user's as they are.
  const meshOwner = new Map<string, Resource>();
  for (const vs of analysis.virtualServices) {
    if (!vs.bindings.has(MESH)) continue;
    for (const host of vs.spec.hosts) {
      const service = analysis.resolveService(host, vs.resource.metadata.namespace);
      if (service !== undefined && plans.has(service) && !meshOwner.has(service))
        meshOwner.set(service, vs.resource);
    }
  }
  const virtualServices: IstioObject[] = [];
  for (const vs of analysis.virtualServices) {
    const r = vs.resource;
    const ns = r.metadata.namespace;
    const raw = obj(rawDocument(r).spec);
    const hostPlan = [...meshOwner.entries()].find(([, owner]) => owner === r)?.[0];
    const top =
      vs.spec.gateways.length === 0 ? [MESH] : vs.spec.gateways.map((g) => gatewayKey(g, ns));
    const classOf = (binding: string): BindingClass =>
      binding === MESH ? 'mesh' : trusted(binding) ? 'trusted-gateway' : 'gateway';
    const http: RawRoute[] = [];
    const routeCtx = { ...ctx, namespace: ns };
    (Array.isArray(raw.http) ? raw.http : []).forEach((route: unknown, i: number) => {
      const R = obj(route);
      const blocks = Array.isArray(R.match) ? (R.match as Record<string, unknown>[]) : [];
      const bindingsOf = (b: Record<string, unknown>) =>
        Array.isArray(b.gateways) && b.gateways.length > 0
          ? (b.gateways as string[]).map((g) => gatewayKey(g, ns))
          : top;
      const all = [...new Set(blocks.length === 0 ? top : blocks.flatMap(bindingsOf))];
      const classes = [...new Set(all.map(classOf))];
      const name = (
        tag: { lane: string | undefined; kind: string } | undefined,
      ): string | undefined => {
        if (tag === undefined) return typeof R.name === 'string' ? R.name : undefined;
        const base = typeof R.name === 'string' ? R.name : `${r.metadata.name}/${i}`;
        return `${base}/lanes/${tag.lane ?? '-'}/${tag.kind}`;
      };
      for (const cls of classes) {
        let route = R;
        if (classes.length > 1) {
          const mine = all.filter((b) => classOf(b) === cls);
          const scoped = (blocks.length === 0 ? [{}] : blocks)
            .map((b) => ({ ...b, gateways: bindingsOf(b).filter((g) => mine.includes(g)) }))
            .filter((b) => b.gateways.length > 0);
          route = { ...R, match: scoped };
        }
        const plan = cls === 'mesh' && hostPlan !== undefined ? plans.get(hostPlan) : undefined;
        const outcome = renderRoute(route, cls, routeCtx, plan, name);
        if (outcome.kind === 'not-expanded') {
          warnings.push({
            resource: idOf(r),
            fieldPath: `spec.http[${i}].match`,
            reason: 'UserRouteNotExpanded',
            message: `lane routes cannot be combined with this route because ${outcome.why}; it routes by its own match only (no lane tag)`,
          });
        }
        http.push(...outcome.routes);
      }
    });
    const spec = { ...raw, http };
    if (JSON.stringify(spec) === JSON.stringify(raw))
      virtualServices.push(unchanged(r, 'VirtualService', raw));
    else virtualServices.push(merged(r, 'VirtualService', raw, spec));
  }
  for (const [key, plan] of [...plans].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (meshOwner.has(key)) continue;
    const routes = renderRoute(
      { route: [{ destination: { host: plan.host } }] },
      'mesh',
      { ...ctx, namespace: plan.namespace },
      plan,
      (tag) => (tag === undefined ? 'lanes' : caseName(tag)),
    ).routes;
    virtualServices.push(
      owned('VirtualService', `${plan.name}-lanes`, plan.namespace, {
        hosts: [plan.host],
        http: routes,
      }),
    );
  }

  // Lane entry rules: one VirtualService per gateway and host.
  const byGatewayHost = new Map<string, EntryRoute[]>();
  for (const e of analysis.entries) {
    const k = `${e.gateway}\n${e.host.toLowerCase()}`;
    byGatewayHost.set(k, [...(byGatewayHost.get(k) ?? []), e]);
  }
  for (const [k, entries] of [...byGatewayHost].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const [gateway, host] = k.split('\n') as [string, string];
    const cls: BindingClass = trusted(gateway) ? 'trusted-gateway' : 'gateway';
    const h = entryHost(gateway, host, entries, cls, ctx, warnings);
    if (h.routes.length === 0) continue;
    const [gwNs, gwName] = gateway.split('/') as [string, string];
    const slug =
      host === '*' ? '' : `-${host.replace(/^\*/, 'wildcard').replace(/[^a-z0-9.-]/g, '-')}`;
    virtualServices.push(
      owned('VirtualService', `lanes-${gwName}${slug}`.slice(0, 253), gwNs, {
        hosts: [host],
        gateways: [gateway],
        http: h.routes,
      }),
    );
    if (h.catchAll) gatewayOrderWarning(analysis, gateway, host, h.catchAll, warnings);
  }

  // DestinationRules: lanes' subsets, in the user's rule for the host or in lanes' own.
  const drs: IstioObject[] = [];
  const subsetsOf = (plan: ServicePlan): Record<string, unknown>[] => {
    const out = [...plan.subsets.values()].map((s) => ({ name: s.name, labels: { ...s.labels } }));
    if (ctx.emptySubsets.has(plan.key))
      out.push({ name: EMPTY_SUBSET, labels: { 'lanes.dev/no-instance': 'true' } });
    return out;
  };
  const mergedDr = new Set<Resource>();
  for (const [key, plan] of plans) {
    const dr = userDrs.get(key);
    if (!dr) continue;
    mergedDr.add(dr);
    const raw = obj(rawDocument(dr).spec);
    const theirs = Array.isArray(raw.subsets) ? (raw.subsets as Record<string, unknown>[]) : [];
    const names = new Set(theirs.map((s) => s.name));
    const extra = subsetsOf(plan).filter((s) => !names.has(s.name));
    const spec = extra.length === 0 ? raw : { ...raw, subsets: [...theirs, ...extra] };
    drs.push(
      extra.length === 0
        ? unchanged(dr, 'DestinationRule', raw)
        : merged(dr, 'DestinationRule', raw, spec),
    );
  }
  for (const r of analysis.resources) {
    if (isIstio(r, 'DestinationRule') && !mergedDr.has(r))
      drs.push(unchanged(r, 'DestinationRule', rawDocument(r).spec));
  }
  for (const [key, plan] of [...plans].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (userDrs.has(key) || plan.subsets.size === 0) continue;
    drs.push(
      owned('DestinationRule', `${plan.name}-lanes`, plan.namespace, {
        host: plan.host,
        subsets: subsetsOf(plan),
      }),
    );
  }

  const extensions: IstioObject[] = [];
  if (options.edgeExtension && (hygiene.headers.length > 0 || hygiene.baggageKeys.length > 0)) {
    for (const key of untrustedGateways) {
      const g = analysis.gateways.get(key)![0]!;
      extensions.push(
        edgeExtensionObject(
          options.edgeExtension,
          { key, selector: (g.spec as GatewaySpec).selector },
          hygiene,
          istioNamespace,
        ),
      );
    }
  }

  const byName = (a: IstioObject, b: IstioObject) =>
    `${a.metadata.namespace}/${a.metadata.name}` < `${b.metadata.namespace}/${b.metadata.name}`
      ? -1
      : 1;
  return {
    objects: [...objects, ...drs.sort(byName), ...virtualServices.sort(byName), ...extensions],
    warnings,
    statuses: analysis.status.build(),
    hygiene,
  };
}

function groupWarnings(
  analysis: Analysis,
  options: RenderOptions,
  untrustedGateways: readonly string[],
  warnings: RenderWarning[],
): void {
  for (const g of analysis.lanes.groups) {
    const r = g.resource;
    g.carriers.forEach((c, i) => {
      if (c.type === 'traceId') {
        warnings.push({
          resource: idOf(r),
          fieldPath: carrierPath(r, i),
          reason: 'TraceIdCarrierNotRendered',
          message: `the trace-id carrier (${c.header}) needs each sidecar's trace id → lane memory, which Envoy does not have: on stock Istio the tag travels only in the route header${g.carriers.some((x) => x.type !== 'traceId') ? ' and the other carriers' : ''}`,
        });
      }
      if (c.type === 'baggage' && !options.edgeExtension && untrustedGateways.length > 0) {
        warnings.push({
          resource: idOf(r),
          fieldPath: carrierPath(r, i),
          reason: 'BaggageHygieneNeedsExtension',
          message: `gateways ${untrustedGateways.join(', ')} cannot remove the ${c.key} member of the baggage clients send with a VirtualService, so a client could choose its lane; render with --edge-lua to add a Lua filter that does`,
        });
      }
    });
    const hasLanes = [...analysis.lanes.lanes.values()].some((l) => l.groupKey === g.key);
    if (g.mode === 'permissive' && hasLanes) {
      warnings.push({
        resource: idOf(r),
        fieldPath: r.kind === 'LaneGroup' ? 'spec.mode' : 'spec.isPermissive',
        reason: 'HealthFallbackNotRendered',
        message: `fallback is resolved by membership when rendering: a lane without instances of a service falls back, but a lane whose instances are all unhealthy gets 503 from Istio instead of falling back (stock Istio cannot fail over between subsets)`,
      });
    }
  }
}

function meshWarnings(resources: readonly Resource[], warnings: RenderWarning[]): void {
  const mesh = resources.find((r) => r.kind === 'Mesh' && r.id.group === 'lanes.dev');
  if (!mesh) return;
  const spec = mesh.spec as MeshSpec;
  if (spec.outboundTrafficPolicy !== MESH_DEFAULTS.outboundTrafficPolicy) {
    warnings.push({
      resource: idOf(mesh),
      fieldPath: 'spec.outboundTrafficPolicy.mode',
      reason: 'MeshSettingNotRendered',
      message: `no networking object holds it: set meshConfig.outboundTrafficPolicy.mode: ${spec.outboundTrafficPolicy} in Istio's installation (IstioOperator or Helm values)`,
    });
  }
  if (mesh.origin.positions['spec.traceMemory'] !== undefined) {
    warnings.push({
      resource: idOf(mesh),
      fieldPath: 'spec.traceMemory',
      reason: 'MeshSettingNotRendered',
      message: 'Istio has no trace id → lane memory, so its bounds have no Istio field',
    });
  }
}

/**
 * A Release is rendered as it stands before its first step (the caller passes it so to analyze():
 * its lane, entered only by its verification match); what only the local daemon's driver does is
 * said here, with what to do on a cluster instead.
 */
function releaseWarnings(analysis: Analysis, warnings: RenderWarning[]): void {
  for (const r of analysis.resources) {
    if (!isKind(r, releaseKind)) continue;
    const spec = r.spec as ReleaseSpec;
    const lane = analysis.lanes.lanes.get(spec.lane);
    const inGroup = lane !== undefined && lane.groupName === spec.group;
    const steps = spec.steps.map((s) => `${s.weight}`).join(' → ');
    const entered = !inGroup
      ? `nothing enters lane ${spec.lane}`
      : spec.verify
        ? `lane ${spec.lane} is entered only by requests that match spec.verify.match, as while the release waits for approval`
        : `no entry rule of the release puts requests into lane ${spec.lane}`;
    warnings.push({
      resource: idOf(r),
      fieldPath: 'spec.steps',
      reason: 'ReleaseNotRendered',
      message: `the weight steps (${steps} %), analysis, rollback, promotion and cleanup of a Release are driven by lanes' local daemon (lanes up) and by nothing on a cluster, so the release is rendered as before its first step: ${entered}. To shift real traffic on a cluster, declare Lane ${spec.lane} with a weighted entry rule (spec.entry[].weight) and raise it yourself, then make ${spec.lane} the baseline of its services`,
    });
    if (!inGroup) {
      warnings.push({
        resource: idOf(r),
        fieldPath: 'spec.lane',
        reason: 'ReleaseLaneNotRendered',
        message: `lane ${spec.lane} is not rendered: no Lane of group ${spec.group} defines it, and lanes creates it from the pod labels the Deployments of spec.workloads share, which are not among the inputs (or select other workloads too). Their pods are then in no lane: where a service of group ${spec.group} falls back to instances in no lane, they get its ordinary traffic. Render with those Deployments, or apply a Lane ${spec.lane} (group ${spec.group}) that selects their pods`,
      });
    }
  }
}

function unlanedWarnings(plans: ReadonlyMap<string, ServicePlan>, warnings: RenderWarning[]): void {
  for (const plan of plans.values()) {
    if (!plan.unlanedMixes) continue;
    const chains = [plan.chains.baselineChain, ...Object.values(plan.chains.chains)];
    const reaches = chains.some((c) => resolveChain(plan, c, undefined).kind === 'unlaned');
    if (!reaches && laneTarget(plan, undefined).kind !== 'unlaned') continue;
    const svc = plan.group.services.find((s) => s.key === plan.key);
    warnings.push({
      resource: idOf(plan.group.resource),
      fieldPath: svc?.path ?? 'spec.services',
      reason: 'UnlanedFallbackNotSelectable',
      message: `requests for ${plan.key} fall back to instances in no lane, which a DestinationRule subset cannot select (labels select by equality); the rendered route goes to every instance of ${plan.key}. Give those instances a lane label and a lane, and make it the baseline`,
    });
  }
}

function gatewayOrderWarning(
  analysis: Analysis,
  gateway: string,
  host: string,
  catchAll: { kind: string; name: string; path: string },
  warnings: RenderWarning[],
): void {
  for (const vs of analysis.virtualServices) {
    if (!vs.bindings.has(gateway)) continue;
    const hosts = vs.spec.hosts.map((h) => h.toLowerCase());
    if (!hosts.includes(host) && !hosts.includes('*') && host !== '*') continue;
    const hasCatchAll = vs.routes.some(
      (r) => r.bindings.includes(gateway) && r.route.match.kind === 'always',
    );
    if (!hasCatchAll) continue;
    warnings.push({
      resource: { kind: catchAll.kind, namespace: '', name: catchAll.name },
      fieldPath: catchAll.path,
      reason: 'GatewayRouteOrder',
      message: `both this ingress and ${vs.resource.kind} ${vs.resource.metadata.namespace}/${vs.resource.metadata.name} end ${gateway} host ${host} with a catch-all route; lanes takes the ingress default, Istio the VirtualService created first`,
    });
  }
}
