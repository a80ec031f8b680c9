/**
 * What `lanes explain` knows about the local mesh beyond the table: which workload a walk starts
 * from (`--from`), and the app behind each endpoint — the mock service calls its `upstream_url`
 * and forwards what its Instrumentation's propagators forward; a container with its own command is
 * opaque (where it calls next is up to its code).
 */
import type { Resource } from '../../config/resource/resource.ts';
import type { RoutingTable, TableEndpoint } from '../../core/compiler/table.ts';
import type { Workload } from '../../core/engine/types.ts';
import type { AppModel, Start } from '../../core/explain/walk.ts';
import { MOCK_METHOD } from './mock/grpc.ts';
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

/**
 * The gateway `--gateway` names, on `--port` when given: a 404 that lists the Gateways (or the
 * gateway's ports) when there is no such thing — a typo is a mistake in the command, not a
 * request that the mesh would answer, so it must not look like a successful walk.
 */
export function gatewayStart(
  table: RoutingTable,
  gateway: string,
  port: number | undefined,
): Start {
  const gw = table.gateways[gateway];
  if (!gw) {
    const known = Object.keys(table.gateways).sort();
    throw new RequestError(
      404,
      `there is no Gateway ${gateway}; Gateways: ${known.join(', ') || 'none (apply an Istio Gateway first)'}`,
    );
  }
  if (port !== undefined && gw.servers[String(port)] === undefined) {
    const ports = Object.keys(gw.servers).sort((a, b) => Number(a) - Number(b));
    throw new RequestError(
      404,
      `Gateway ${gateway} has no server on port ${port}; its ports: ${ports.join(', ')} (--port is the port in the Gateway's servers, not the local URL's)`,
    );
  }
  return { kind: 'gateway', gateway, port };
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
  // The mock's two flavours: `http.get` of the URL, or its one gRPC method at grpc://host:port.
  if (url.protocol === 'grpc:')
    return {
      workload,
      appAddress,
      upstream: url.host,
      upstreamPath: MOCK_METHOD,
      upstreamMethod: 'POST',
      upstreamProtocol: 'grpc',
      propagate,
    };
  return {
    workload,
    appAddress,
    upstream: url.host,
    upstreamPath: `${url.pathname}${url.search}`,
    upstreamMethod: 'GET',
    propagate,
  };
}
