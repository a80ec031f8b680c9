/**
 * What `lanes explain` knows about the local mesh beyond the table: which workload a walk starts
 * from (`--from`), and the app behind each endpoint — the mock service calls its `upstream_url`
 * and forwards what its Instrumentation's propagators forward; a container with its own command is
 * opaque (where it calls next is up to its code).
 */
import type { Resource } from '../../config/resource/resource.ts';
import type { TableEndpoint } from '../../core/compiler/table.ts';
import type { Workload } from '../../core/engine/types.ts';
import type { AppModel } from '../../core/explain/walk.ts';
import { instrumentationFor, propagatedHeaders } from './otel/instrumentation.ts';
import { RequestError } from './request-error.ts';
import { isDeployment, runnerOf } from './workloads/runnable.ts';
import type { InstanceRecord } from './workloads/workloads.ts';

/** The instances and resources the daemon holds now. */
export interface LocalMesh {
  readonly instances: readonly InstanceRecord[];
  readonly resources: readonly Resource[];
}

function workloadOf(inst: InstanceRecord): Workload {
  return {
    namespace: inst.namespace,
    labels: inst.labels,
    cluster: inst.cluster,
    name: inst.workload,
  };
}

function deploymentOf(mesh: LocalMesh, workload: string, cluster: string | undefined) {
  return mesh.resources
    .filter(isDeployment)
    .find(
      (r) =>
        `${r.metadata.namespace}/${r.metadata.name}` === workload &&
        (cluster === undefined || r.id.cluster === cluster),
    );
}

/**
 * The workload `--from` names (`name` is `default/name`): a running instance's, else the
 * Deployment's (no instance yet). A 404 that says so when there is neither.
 */
export function fromWorkload(mesh: LocalMesh, from: string): Workload {
  const name = from.includes('/') ? from : `default/${from}`;
  const inst = mesh.instances.find((i) => i.workload === name && !i.leaving);
  if (inst) return workloadOf(inst);
  const d = deploymentOf(mesh, name, undefined);
  if (!d) {
    const known = mesh.resources
      .filter(isDeployment)
      .map((r) => `${r.metadata.namespace}/${r.metadata.name}`);
    throw new RequestError(
      404,
      `there is no Deployment ${name} to start from; Deployments: ${known.join(', ') || 'none'}`,
    );
  }
  return { namespace: d.metadata.namespace, labels: d.spec.template.labels, name };
}

/** The model of the app behind an endpoint (an instance's inbound sidecar), for `explain`. */
export function appOf(mesh: LocalMesh, endpoint: TableEndpoint): AppModel | undefined {
  const inst = mesh.instances.find((i) => i.inboundPort === endpoint.port);
  if (!inst) return undefined;
  const workload = workloadOf(inst);
  const appAddress = `127.0.0.1:${inst.appPort}`;
  const d = deploymentOf(mesh, inst.workload, inst.cluster);
  if (!d) return { workload, appAddress, upstream: undefined, propagate: [] };
  const container = d.spec.template.containers[0]!;
  const runner = runnerOf(container);
  if (typeof runner === 'string' || runner.kind === 'command') {
    return {
      workload,
      appAddress,
      upstream: undefined,
      propagate: [],
      opaque: `${inst.workload} runs its own command: where it calls next is up to its code`,
    };
  }
  const upstreamUrl = container.env.find((e) => e.name === 'upstream_url')?.value;
  const propagate = propagatedHeaders(instrumentationFor(d, mesh.resources));
  let url: URL | undefined;
  try {
    url = upstreamUrl ? new URL(upstreamUrl) : undefined;
  } catch {
    url = undefined;
  }
  if (!url) return { workload, appAddress, upstream: undefined, propagate };
  return {
    workload,
    appAddress,
    upstream: url.host,
    upstreamPath: `${url.pathname}${url.search}`,
    propagate,
  };
}
