/**
 * The workloads as the control API and the dashboard show them: each Deployment with its current
 * instances (not a replaced generation still draining) and where each stands. One projection, so
 * `lanes status`, `lanes describe deployment` and the dashboard count the same instances.
 */
import type { DeploymentSpec } from '../../config/kinds/kube/index.ts';
import type { Resource } from '../../config/resource/resource.ts';
import type { InstanceView, StatusResponse } from './protocol.ts';
import type { InstanceState } from './workloads/supervisor.ts';
import type { InstanceRecord } from './workloads/workloads.ts';

type Deployment = Resource<string, DeploymentSpec>;

/** What the views read from the workloads (the `Workloads` class). */
export interface InstanceSource {
  instances(): readonly InstanceRecord[];
  state(key: string): InstanceState | undefined;
}

export interface WorkloadView {
  readonly deployment: Deployment;
  /** By index. */
  readonly instances: readonly InstanceView[];
}

export type WorkloadSummary = StatusResponse['workloads'][number];

export function instanceView(i: InstanceRecord, s: InstanceState | undefined): InstanceView {
  return {
    index: i.index,
    status: s?.status ?? 'starting',
    pid: s?.pid ?? null,
    port: i.appPort,
    endpoint: `127.0.0.1:${i.inboundPort}`,
    proxy: `http://127.0.0.1:${i.outboundPort}`,
    restarts: s?.restarts ?? 0,
    log: i.logFile,
    lastExit: s?.lastExit ?? null,
  };
}

/** The current instances of one Deployment, by index. */
export function instancesOf(d: Deployment, source: InstanceSource): InstanceView[] {
  const name = `${d.metadata.namespace}/${d.metadata.name}`;
  return source
    .instances()
    .filter((i) => i.workload === name && i.cluster === d.id.cluster && !i.leaving)
    .sort((a, b) => a.index - b.index)
    .map((i) => instanceView(i, source.state(i.key)));
}

export function workloadViews(
  deployments: readonly Deployment[],
  source: InstanceSource,
): WorkloadView[] {
  return deployments.map((deployment) => ({
    deployment,
    instances: instancesOf(deployment, source),
  }));
}

/** One line of `lanes status`: desired replicas, how many are ready, restarts so far. */
export function workloadSummary(w: WorkloadView): WorkloadSummary {
  const d = w.deployment;
  return {
    name: d.metadata.name,
    namespace: d.metadata.namespace,
    cluster: d.id.cluster,
    replicas: d.spec.replicas,
    ready: w.instances.filter((i) => i.status === 'ready').length,
    restarts: w.instances.reduce((n, i) => n + i.restarts, 0),
  };
}
