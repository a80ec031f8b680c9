/**
 * What a Release refers to, checked against everything applied, pure:
 *
 * - at apply, a Release naming a lane group, lane or workload that does not exist, a second
 *   active release for the same lane, or a change of group/lane/workloads under a running release
 *   is an error at the field's file:line:col (the whole apply is refused);
 * - the lane a release creates when no Lane defines it: selected by the labels all its workloads
 *   share, containing the group's services that select them;
 * - while it runs, whether its references still hold (a deleted group fails the release);
 * - at promotion, which lane each service leaves and which Deployments cleanup will delete.
 */
import type { DeploymentSpec, ServiceSpec } from '../../config/kinds/kube/index.ts';
import { deploymentKind, serviceKind } from '../../config/kinds/kube/index.ts';
import type { LaneGroupSpec, LaneSpec, ReleaseSpec } from '../../config/kinds/native/index.ts';
import { laneGroupKind, laneKind, releaseKind } from '../../config/kinds/native/index.ts';
import { isKind } from '../../config/kinds/registry.ts';
import { issueAt, type Resource } from '../../config/resource/resource.ts';
import { serviceKey } from '../../config/resource/service-ref.ts';
import type { Issue } from '../../config/source/issues.ts';
import type { ReleaseRouting } from '../../core/compiler/compile.ts';
import { labelsMatch } from '../../core/compiler/dict.ts';
import type { RoutingTable } from '../../core/compiler/table.ts';

type Release = Resource<string, ReleaseSpec>;
type Deployment = Resource<string, DeploymentSpec>;

export function releasesOf(resources: readonly Resource[]): Release[] {
  return resources.filter((r): r is Release => isKind(r, releaseKind));
}

const key = (w: { namespace: string; name: string }) => `${w.namespace}/${w.name}`;

function deploymentsOf(resources: readonly Resource[]): Deployment[] {
  return resources.filter((r): r is Deployment => isKind(r, deploymentKind));
}

/** `namespace/name` of the Services (any cluster) that select a Deployment's pods. */
function servicesOf(d: Deployment, resources: readonly Resource[]): string[] {
  const out = new Set<string>();
  for (const r of resources) {
    if (!isKind(r, serviceKind) || r.metadata.namespace !== d.metadata.namespace) continue;
    const selector = (r.spec as ServiceSpec).selector;
    if (
      selector &&
      Object.keys(selector).length > 0 &&
      labelsMatch(d.spec.template.labels, selector)
    )
      out.add(`${r.metadata.namespace}/${r.metadata.name}`);
  }
  return [...out].sort();
}

export type Template = NonNullable<ReleaseRouting['template']>;

/**
 * The lane a release creates: the labels its workloads share, and the group's services that
 * select them. A string says why there is none.
 */
export function laneTemplate(release: Release, resources: readonly Resource[]): Template | string {
  const spec = release.spec;
  const group = resources.find(
    (r): r is Resource<string, LaneGroupSpec> =>
      isKind(r, laneGroupKind) && r.metadata.name === spec.group,
  );
  if (!group) return `lane group ${spec.group} does not exist`;
  const deployments = deploymentsOf(resources);
  const mine = spec.workloads.map((w) => deployments.find((d) => key(d.metadata) === key(w)));
  if (mine.some((d) => d === undefined)) return 'a workload it names does not exist';
  const pods = (mine as Deployment[]).map((d) => d.spec.template.labels);
  const selector: Record<string, string> = {};
  for (const [k, v] of Object.entries(pods[0] ?? {}))
    if (pods.every((labels) => labels[k] === v)) selector[k] = v;
  if (Object.keys(selector).length === 0)
    return `its workloads share no pod label to select the lane's instances by; give them one (such as version: ${spec.lane}) or create Lane ${spec.lane}`;
  const members = new Set(group.spec.services.map((s) => serviceKey(s.ref)));
  const others = deployments.filter(
    (d) =>
      !spec.workloads.some((w) => key(w) === key(d.metadata)) &&
      labelsMatch(d.spec.template.labels, selector) &&
      servicesOf(d, resources).some((s) => members.has(s)),
  );
  if (others.length > 0)
    return `the labels its workloads share (${labelList(selector)}) also select ${others.map((d) => key(d.metadata)).join(', ')}; give them a label of their own (such as version: ${spec.lane}) or create Lane ${spec.lane}`;
  const services = new Set<string>();
  for (const d of mine as Deployment[])
    for (const s of servicesOf(d, resources)) if (members.has(s)) services.add(s);
  return {
    selector,
    services: [...services].sort().map((s) => ({
      namespace: s.slice(0, s.indexOf('/')),
      name: s.slice(s.indexOf('/') + 1),
    })),
  };
}

function labelList(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
}

export interface ReleaseFacts {
  /** Whether the named release is running (started and not finished). */
  readonly active: (name: string) => boolean;
}

/**
 * Errors that refuse an apply: for every Release among `applied`, checked against `all` (what
 * the store would hold after the apply) and `before` (what it holds now).
 */
export function releaseIssues(
  applied: readonly Resource[],
  all: readonly Resource[],
  before: readonly Resource[],
  facts: ReleaseFacts,
): Issue[] {
  const out: Issue[] = [];
  const groups = all.filter((r): r is Resource<string, LaneGroupSpec> => isKind(r, laneGroupKind));
  const deployments = deploymentsOf(all);
  for (const release of releasesOf(applied)) {
    const spec = release.spec;
    const name = release.metadata.name;
    const previous = releasesOf(before).find((r) => r.metadata.name === name);
    if (previous && facts.active(name)) {
      const fields: [string, unknown, unknown][] = [
        ['spec.group', previous.spec.group, spec.group],
        ['spec.lane', previous.spec.lane, spec.lane],
        ['spec.workloads', previous.spec.workloads.map(key), spec.workloads.map(key)],
      ];
      for (const [path, was, now] of fields)
        if (JSON.stringify(was) !== JSON.stringify(now))
          out.push(
            issueAt(
              release,
              path,
              `cannot change ${path.slice(5)} of release ${name} while it runs (it was ${JSON.stringify(was)}); abort it first (lanes release abort ${name}), or apply a release with another name`,
            ),
          );
    }
    const group = groups.find((g) => g.metadata.name === spec.group);
    if (!group) {
      const asm = all.some((r) => r.kind === 'ASMSwimLaneGroup' && r.metadata.name === spec.group);
      out.push(
        issueAt(
          release,
          'spec.group',
          asm
            ? `${spec.group} is an ASMSwimLaneGroup; a Release drives a native LaneGroup, whose spec.ingress is where its weights and verification apply (see README, "Gray releases")`
            : `lane group ${JSON.stringify(spec.group)} does not exist; LaneGroups: ${groups.map((g) => g.metadata.name).join(', ') || 'none'}`,
        ),
      );
      continue;
    }
    if (group.spec.ingress.length === 0)
      out.push(
        issueAt(
          release,
          'spec.group',
          `LaneGroup ${spec.group} has no spec.ingress: a release's weights and verification are entry rules at the group's ingress gateways; add one`,
        ),
      );
    spec.workloads.forEach((w, i) => {
      if (!deployments.some((d) => key(d.metadata) === key(w)))
        out.push(
          issueAt(
            release,
            `spec.workloads[${i}]`,
            `Deployment ${key(w)} does not exist; apply it with the release or before (Deployments: ${deployments.map((d) => key(d.metadata)).join(', ') || 'none'})`,
          ),
        );
    });
    const lane = all.find(
      (r): r is Resource<string, LaneSpec> => isKind(r, laneKind) && r.metadata.name === spec.lane,
    );
    const otherLane = all.find((r) => r.kind === 'ASMSwimLane' && r.metadata.name === spec.lane);
    if (lane && lane.spec.group !== spec.group) {
      out.push(
        issueAt(
          release,
          'spec.lane',
          `lane ${spec.lane} belongs to group ${lane.spec.group}, not ${spec.group}`,
        ),
      );
    } else if (otherLane) {
      out.push(
        issueAt(
          release,
          'spec.lane',
          `lane ${spec.lane} is an ASMSwimLane; a Release drives native lanes`,
        ),
      );
    } else if (lane) {
      spec.workloads.forEach((w, i) => {
        const d = deployments.find((x) => key(x.metadata) === key(w));
        if (d && !labelsMatch(d.spec.template.labels, lane.spec.selector))
          out.push(
            issueAt(
              release,
              `spec.workloads[${i}]`,
              `the pods of ${key(w)} (${labelList(d.spec.template.labels)}) are not selected by lane ${spec.lane} (${labelList(lane.spec.selector)}), so they would never serve it`,
            ),
          );
      });
    } else if (spec.workloads.every((w) => deployments.some((d) => key(d.metadata) === key(w)))) {
      const template = laneTemplate(release, all);
      if (typeof template === 'string')
        out.push(
          issueAt(
            release,
            'spec.lane',
            `lane ${spec.lane} does not exist and cannot be created: ${template}`,
          ),
        );
      else if (template.services.length === 0)
        out.push(
          issueAt(
            release,
            'spec.workloads',
            `no service of group ${spec.group} selects these workloads, so lane ${spec.lane} would contain nothing`,
          ),
        );
    }
    for (const other of releasesOf(all)) {
      if (other.metadata.name === name || other.spec.lane !== spec.lane) continue;
      const otherIsNew = !releasesOf(before).some((r) => r.metadata.name === other.metadata.name);
      if (facts.active(other.metadata.name) || otherIsNew)
        out.push(
          issueAt(
            release,
            'spec.lane',
            `release ${other.metadata.name} is already ${otherIsNew ? 'being applied' : 'running'} for lane ${spec.lane}; one release per lane at a time: abort or delete it first`,
          ),
        );
    }
  }
  return out;
}

/** Why a running release can no longer go on, or undefined when its references hold. */
export function brokenReferences(
  release: Release,
  resources: readonly Resource[],
): string | undefined {
  const spec = release.spec;
  if (!resources.some((r) => isKind(r, laneGroupKind) && r.metadata.name === spec.group))
    return `lane group ${spec.group} was deleted`;
  const deployments = deploymentsOf(resources);
  const gone = spec.workloads.filter((w) => !deployments.some((d) => key(d.metadata) === key(w)));
  if (gone.length > 0) return `its workloads ${gone.map(key).join(', ')} were deleted`;
  return undefined;
}

/**
 * At promotion: per service of the lane, the lane that was its first baseline (from a table
 * compiled without this promotion), and the Deployments of those lanes that serve those services —
 * what cleanup deletes. The release's own workloads are never among them.
 */
export function promotionPlan(
  release: Release,
  table: RoutingTable,
  resources: readonly Resource[],
): { services: { service: string; from: string | undefined }[]; cleanup: string[] } {
  const lane = table.lanes[release.spec.lane];
  const services = (lane?.services ?? []).map((service) => {
    const chain = table.services[service]?.lanes?.baselineChain ?? [];
    const from = chain.find((l) => l !== release.spec.lane && table.lanes[l] !== undefined);
    return { service, from };
  });
  const mine = new Set(release.spec.workloads.map(key));
  const cleanup = new Set<string>();
  for (const d of deploymentsOf(resources)) {
    if (mine.has(key(d.metadata))) continue;
    const served = servicesOf(d, resources);
    for (const { service, from } of services) {
      const fromLane = from === undefined ? undefined : table.lanes[from];
      if (
        fromLane &&
        served.includes(service) &&
        labelsMatch(d.spec.template.labels, fromLane.selector)
      )
        cleanup.add(key(d.metadata));
    }
  }
  return { services, cleanup: [...cleanup].sort() };
}
