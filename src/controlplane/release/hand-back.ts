/**
 * A promotion lives in its Release: the promoted lane is the first baseline of its services only
 * while the Release exists unchanged (lanes never rewrites the user's LaneGroup). Deleting the
 * Release, or changing its spec (which starts it again), would hand those services back to the
 * lane they left — whose workloads the release's own cleanup may have deleted. That must never
 * happen silently: the daemon refuses such a change unless asked to force it, and says what to
 * apply first so the promotion outlives its Release. Pure: the daemon compiles the table.
 */
import type { LaneGroupSpec, ReleaseSpec } from '../../config/kinds/native/index.ts';
import { laneGroupKind, laneKind } from '../../config/kinds/native/index.ts';
import { isKind } from '../../config/kinds/registry.ts';
import { DEFAULT_NAMESPACE, type Resource } from '../../config/resource/resource.ts';
import { type ServiceRef, serviceKey } from '../../config/resource/service-ref.ts';
import { type RoutingTable, UNLANED } from '../../core/compiler/table.ts';
import type { Promotion } from './machine.ts';
import type { Template } from './references.ts';

type Release = Resource<string, ReleaseSpec>;

/** A promoted service whose first baseline would no longer be the release's lane. */
export interface HandBack {
  readonly service: string;
  /** The lane it would go to; undefined for the instances of no lane. */
  readonly to: string | undefined;
}

/** The promoted services that `after` (a table compiled without the promotion) takes from the lane. */
export function handBacks(lane: string, promotion: Promotion, after: RoutingTable): HandBack[] {
  const out: HandBack[] = [];
  for (const { service } of promotion.services) {
    const first = after.services[service]?.lanes?.baselineChain[0];
    if (first === lane) continue;
    out.push({ service, to: first === undefined || first === UNLANED ? undefined : first });
  }
  return out;
}

export interface HandBackReport {
  /** One line: what the change would do. */
  readonly message: string;
  /** One line each: where each service would go, and what to apply instead. */
  readonly lines: readonly string[];
}

/**
 * What to tell the user who deletes (or changes) a promoted release: where each service would
 * go, and the resources that keep the lane as their baseline without the release — a Lane, when
 * only the release defined it (`template`), and the group's services with the lane first in
 * their fallback (a group `baseline` would also move services the lane does not have).
 */
export function handBackReport(
  release: Release,
  promotion: Promotion,
  backs: readonly HandBack[],
  after: readonly Resource[],
  template: Template | undefined,
  change: 'delete' | 'change',
): HandBackReport {
  const { lane, group } = release.spec;
  const name = release.metadata.name;
  const lines = backs.map(
    (b) =>
      `${b.service} would go back to ${b.to === undefined ? 'the instances of no lane' : `lane ${b.to}`}`,
  );
  if (promotion.cleanupStarted && promotion.cleanup.length > 0)
    lines.push(
      `the release's cleanup deleted the workloads of the lanes they left (${promotion.cleanup.join(', ')}): requests would fall back further, or fail with LANE_NO_ENDPOINTS`,
    );
  const laneDefined = after.some((r) => isKind(r, laneKind) && r.metadata.name === lane);
  const laneLine = !laneDefined && template !== undefined;
  if (laneLine)
    lines.push(
      `lane ${lane} exists only through the release; apply it first: ${laneYaml(release, template)}`,
    );
  const groupResource = after.find(
    (r): r is Resource<string, LaneGroupSpec> =>
      isKind(r, laneGroupKind) && r.metadata.name === group,
  );
  if (groupResource) {
    const services = new Set(backs.map((b) => b.service));
    lines.push(
      `${laneLine ? 'and make' : 'make'} lane ${lane} first in the fallback of those services in LaneGroup ${group}${groupResource.origin.file ? ` (${groupResource.origin.file}:${groupResource.origin.line})` : ''}: services: ${groupServicesYaml(groupResource.spec, services, lane)}`,
    );
  }
  lines.push(
    change === 'delete'
      ? `or hand them back anyway: lanes delete release ${name} --force`
      : `or hand them back anyway: lanes delete release ${name} --force, then apply it`,
  );
  const what = change === 'delete' ? 'deleting it' : 'changing its spec (which starts it again)';
  return {
    message: `release ${name} made lane ${lane} the baseline of ${backs.map((b) => b.service).join(', ')}, and ${what} would hand them back; write the promotion into your resources first`,
    lines,
  };
}

function refText(ref: ServiceRef): string {
  return ref.namespace === DEFAULT_NAMESPACE ? ref.name : `${ref.namespace}/${ref.name}`;
}

/** One line of flow YAML: a Lane like the one the release made. */
function laneYaml(release: Release, template: Template): string {
  const ns = release.metadata.namespace;
  const selector = Object.entries(template.selector)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  // Lanes are cluster-scoped like the Release; a namespace is written only where one was.
  const metadata =
    ns === '' || ns === DEFAULT_NAMESPACE
      ? `{name: ${release.spec.lane}}`
      : `{name: ${release.spec.lane}, namespace: ${ns}}`;
  return `{apiVersion: lanes.dev/v1alpha1, kind: Lane, metadata: ${metadata}, spec: {group: ${release.spec.group}, selector: {${selector}}, services: [${template.services.map(refText).join(', ')}]}}`;
}

/** The group's `services:` as flow YAML, with `lane` first in the fallback of `promoted`. */
function groupServicesYaml(
  spec: LaneGroupSpec,
  promoted: ReadonlySet<string>,
  lane: string,
): string {
  const items = spec.services.map((s) => {
    const fallback = promoted.has(serviceKey(s.ref))
      ? [lane, ...s.fallback.filter((l) => l !== lane)]
      : s.fallback;
    if (fallback.length === 0) return refText(s.ref);
    const namespace =
      s.ref.namespace === DEFAULT_NAMESPACE ? '' : `, namespace: ${s.ref.namespace}`;
    return `{name: ${s.ref.name}${namespace}, fallback: [${fallback.join(', ')}]}`;
  });
  return `[${items.join(', ')}]`;
}
