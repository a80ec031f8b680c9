/**
 * Deployments as local processes (SPEC §6): each of `replicas` instances gets a free PORT, a
 * sidecar (its inbound listener is the instance's endpoint; its outbound listener is the app's
 * http_proxy), the container's env, and — when the pod asks for OpenTelemetry injection — the
 * Node SDK through NODE_OPTIONS. An instance becomes an endpoint only once it accepts connections;
 * a stopping one leaves the routing table first and is stopped after a drain, so no request is
 * sent to a process that is going away.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { join, resolve } from 'node:path';
import type { DeploymentSpec } from '../../../config/kinds/kube/index.ts';
import { type Resource, resourceKey } from '../../../config/resource/resource.ts';
import type { Instance } from '../../../core/compiler/endpoints.ts';
import type { Workload } from '../../../core/engine/types.ts';
import type { ConfigSource } from '../../../dataplane/config.ts';
import { createSidecar, type Sidecar } from '../../../dataplane/sidecar.ts';
import type { AccessLog } from '../../../dataplane/telemetry/access-log.ts';
import type { HopObserver } from '../../../dataplane/telemetry/hop-events.ts';
import { MOCK_SERVER_PATH } from '../mock/server.ts';
import { otelEnv } from '../otel/env.ts';
import { instrumentationFor, specOf } from '../otel/instrumentation.ts';
import { instanceEnv } from './instance-env.ts';
import { isDeployment, runnerOf } from './runnable.ts';
import type { InstanceState, InstanceStatus, Supervisor } from './supervisor.ts';
import { pathWith } from './tool-shims.ts';

/** How long a leaving instance keeps serving after it left the routing table. */
export const DRAIN_MS = 1000;
/** How long a replaced generation keeps serving while its successor starts. */
const SETTLE_MS = 60_000;

/** Variables of the daemon's own environment that a local process needs to work at all. */
const INHERITED = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SHELL'];

export interface InstanceRecord {
  readonly key: string;
  /** The Deployment's resource key: the generations of one Deployment share it. */
  readonly deploymentKey: string;
  readonly workload: string;
  readonly cluster: string;
  readonly namespace: string;
  readonly index: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly appPort: number;
  readonly sidecar: Sidecar;
  readonly inboundPort: number;
  readonly outboundPort: number;
  readonly logFile: string;
  readonly hash: string;
  leaving: boolean;
}

/** What an inbound sidecar answers while its app is not running. */
function appDownReason(state: InstanceState): string {
  switch (state.status) {
    case 'backoff':
    case 'failed':
      return `${state.lastExit ?? 'it exited'}; the supervisor restarts it`;
    case 'stopping':
    case 'stopped':
      return 'it is being stopped';
    case 'starting':
    case 'ready':
      return 'it is starting';
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface WorkloadsOptions {
  readonly supervisor: Supervisor;
  readonly source: ConfigSource;
  readonly logsDir: string;
  readonly compileCacheDir: string;
  /** A directory put first on every instance's PATH (the daemon's `node` and `lanes`). */
  readonly binDir?: string;
  readonly accessLog: AccessLog | undefined;
  /** Observers of every hop of every sidecar besides the access log (the metrics). */
  readonly hopObservers?: readonly HopObserver[];
  /** Readiness or membership changed: the daemon recompiles. */
  readonly changed: () => void;
  readonly env?: NodeJS.ProcessEnv;
  /** The directory of the file a resource came from (relative working directories start there). */
  readonly dirOf: (r: Resource) => string | undefined;
}

/** What one reconcile did: the instances it started, and the ones that could not start at all. */
export interface ReconcileResult {
  readonly started: readonly string[];
  /** One line each, naming the workload and instance: the rest of the reconcile went on. */
  readonly problems: readonly string[];
}

interface Desired {
  readonly key: string;
  readonly deployment: Resource<string, DeploymentSpec>;
  readonly index: number;
  readonly hash: string;
}

export class Workloads {
  readonly #o: WorkloadsOptions;
  readonly #instances = new Map<string, InstanceRecord>();
  readonly #states = new Map<string, InstanceState>();

  constructor(o: WorkloadsOptions) {
    this.#o = o;
  }

  /** Called by the supervisor on every status change. */
  onState(state: InstanceState): void {
    const before = this.#states.get(state.key)?.status;
    // The supervisor forgets a stopped instance; so do we (keys carry a spec hash, so they never repeat).
    if (state.status === 'stopped') this.#states.delete(state.key);
    else this.#states.set(state.key, state);
    const ready = state.status === 'ready';
    if ((before === 'ready') !== ready) {
      // The sidecar hears it now; the routing table follows with the next publish.
      if (before === 'ready')
        this.#instances.get(state.key)?.sidecar.inbound.setAppDown(appDownReason(state));
      else this.#instances.get(state.key)?.sidecar.inbound.setAppDown(undefined);
      this.#o.changed();
    }
  }

  instances(): InstanceRecord[] {
    return [...this.#instances.values()];
  }

  state(key: string): InstanceState | undefined {
    return this.#states.get(key);
  }

  /** Instances for the compiler: every current instance, healthy when its process is ready. */
  endpointInstances(): Instance[] {
    const out: Instance[] = [];
    for (const inst of this.#instances.values()) {
      if (inst.leaving) continue;
      out.push({
        workload: inst.workload,
        namespace: inst.namespace,
        cluster: inst.cluster,
        labels: inst.labels,
        address: '127.0.0.1',
        port: inst.inboundPort,
        healthy: this.#states.get(inst.key)?.status === 'ready',
      });
    }
    return out;
  }

  /**
   * Brings instances in line with the applied Deployments (and the Instrumentations they use).
   * An instance's key includes a hash of what shapes its process (the pod template, the
   * instrumentation, the directory it runs in — not `replicas`, so scaling keeps the others), so
   * a changed Deployment gets new instances and the two generations never share a key. Like a
   * rolling update, the old generation keeps serving until the new one is ready (or gave up
   * starting), so a lane never loses its endpoints to an edit; a deleted Deployment's instances
   * leave at once.
   */
  async reconcile(
    resources: readonly Resource[],
    settleBy = Date.now() + SETTLE_MS,
  ): Promise<ReconcileResult> {
    const desired = new Map<string, Desired>();
    for (const r of resources) {
      if (!isDeployment(r)) continue;
      const instrumentation = instrumentationFor(r, resources);
      const hash = createHash('sha256')
        .update(JSON.stringify(r.spec.template))
        .update(
          instrumentation.kind === 'none'
            ? ''
            : JSON.stringify(specOf(instrumentation) ?? 'defaults'),
        )
        .update(this.#o.dirOf(r) ?? '')
        .digest('hex')
        .slice(0, 12);
      for (let i = 0; i < r.spec.replicas; i++) {
        const key = `${resourceKey(r.id)}#${i}@${hash}`;
        desired.set(key, { key, deployment: r, index: i, hash });
      }
    }
    const started: string[] = [];
    const problems: string[] = [];
    for (const want of desired.values()) {
      if (this.#instances.has(want.key)) continue;
      // One instance that cannot start (a port, a command that expands to nothing) must not stop
      // the others, nor a restore: it is reported, and tried again on the next reconcile.
      try {
        await this.#start(want, resources);
        started.push(want.key);
      } catch (error) {
        const d = want.deployment;
        problems.push(
          `${d.metadata.namespace}/${d.metadata.name} instance ${want.index} could not start: ${(error as Error).message}`,
        );
      }
    }
    const leaving = [...this.#instances.values()].filter(
      (inst) => !inst.leaving && !desired.has(inst.key),
    );
    const replaced = new Set(
      [...desired.values()]
        .filter((w) => leaving.some((l) => l.deploymentKey === resourceKey(w.deployment.id)))
        .map((w) => w.key),
    );
    if (replaced.size > 0)
      await this.#settled(
        [...replaced].filter((k) => started.includes(k)),
        settleBy,
      );
    // Leave the routing table first, then drain, then stop: in-flight requests finish.
    for (const inst of leaving) inst.leaving = true;
    if (leaving.length > 0) this.#o.changed();
    await Promise.all(
      leaving.map(async (inst) => {
        await new Promise((r) => setTimeout(r, DRAIN_MS));
        await this.#o.supervisor.stop(inst.key);
        await inst.sidecar.close(1000);
        this.#instances.delete(inst.key);
        this.#states.delete(inst.key);
      }),
    );
    return { started, problems };
  }

  /** Waits until none of `keys` is still starting (ready, crashed, or failed), at most until `deadline`. */
  async #settled(keys: readonly string[], deadline: number): Promise<void> {
    while (keys.some((k) => this.statusOf(k) === 'starting') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async #start(want: Desired, resources: readonly Resource[]): Promise<void> {
    const d = want.deployment;
    const spec = d.spec;
    const container = spec.template.containers[0]!;
    const runner = runnerOf(container);
    if (typeof runner === 'string') return; // refused at apply time already
    const workloadName = `${d.metadata.namespace}/${d.metadata.name}`;
    const workload: Workload = {
      namespace: d.metadata.namespace,
      labels: spec.template.labels,
      cluster: d.id.cluster,
      name: workloadName,
    };
    const appPort = await freePort();
    const sidecar = createSidecar({
      workload,
      app: { host: '127.0.0.1', port: appPort },
      source: this.#o.source,
      ...(this.#o.accessLog ? { accessLog: this.#o.accessLog } : {}),
      ...(this.#o.hopObservers ? { hopObservers: this.#o.hopObservers } : {}),
    });
    const listening = Promise.all([sidecar.inbound.listen(), sidecar.outbound.listen()]);
    const [inbound, outbound] = await listening.catch(async (error: unknown) => {
      await sidecar.close(0);
      throw error;
    });
    const logFile = join(
      this.#o.logsDir,
      `${d.id.cluster}.${d.metadata.namespace}.${d.metadata.name}.${want.index}.log`,
    );
    const proxyUrl = `http://127.0.0.1:${outbound.port}`;

    const inherited: Record<string, string> = {};
    const env = this.#o.env ?? process.env;
    for (const name of INHERITED) if (env[name] !== undefined) inherited[name] = env[name]!;
    if (this.#o.binDir !== undefined) inherited.PATH = pathWith(this.#o.binDir, inherited.PATH);
    const instrumentation = instrumentationFor(d, resources);
    const injected =
      instrumentation.kind === 'none'
        ? {}
        : {
            ...otelEnv(specOf(instrumentation), workload.labels.app ?? d.metadata.name),
            NODE_COMPILE_CACHE: this.#o.compileCacheDir,
          };
    const prepared = instanceEnv({
      inherited,
      injected,
      mesh: {
        PORT: String(appPort),
        http_proxy: proxyUrl,
        HTTP_PROXY: proxyUrl,
        NODE_USE_ENV_PROXY: '1',
      },
      env: container.env,
      argv:
        runner.kind === 'mock'
          ? [process.execPath, MOCK_SERVER_PATH]
          : [...runner.command, ...runner.args],
    });
    const finalEnv = prepared.env;
    const [command, ...args] = prepared.argv;
    if (!command) {
      await sidecar.close(0);
      throw new Error(
        `its command ${JSON.stringify(runner.kind === 'command' ? runner.command[0] : '')} expands to an empty string; set the variable it names in the container's env`,
      );
    }
    const record: InstanceRecord = {
      key: want.key,
      deploymentKey: resourceKey(d.id),
      workload: workloadName,
      cluster: d.id.cluster,
      namespace: d.metadata.namespace,
      index: want.index,
      labels: spec.template.labels,
      appPort,
      sidecar,
      inboundPort: inbound.port,
      outboundPort: outbound.port,
      logFile,
      hash: want.hash,
      leaving: false,
    };
    try {
      this.#o.supervisor.start({
        key: want.key,
        command,
        args,
        env: finalEnv,
        // Relative to the YAML file that defined it, as compose resolves paths; Kubernetes wants
        // an absolute workingDir anyway, so this only gives meaning to what it would reject.
        ...(runner.kind === 'command'
          ? { cwd: resolve(this.#o.dirOf(d) ?? process.cwd(), container.workingDir ?? '.') }
          : {}),
        port: appPort,
        logFile,
        graceMs: spec.template.terminationGracePeriodSeconds * 1000,
        // A new generation of a changed Deployment gets a log of its own: the old one's last
        // lines (stopping, stopped) land in `.log.1`, not after the new one's start.
        freshLog: [...this.#instances.values()].some(
          (i) => i.deploymentKey === resourceKey(d.id) && i.index === want.index,
        ),
      });
    } catch (error) {
      await sidecar.close(0);
      throw error;
    }
    // Only now: an instance that never started must not linger as a record (and an endpoint).
    this.#instances.set(want.key, record);
  }

  /** Stops everything (daemon shutdown): no drain, the whole mesh is going away. */
  async stopAll(): Promise<void> {
    await this.#o.supervisor.stopAll();
    await Promise.all([...this.#instances.values()].map((i) => i.sidecar.close(500)));
    this.#instances.clear();
  }

  statusOf(key: string): InstanceStatus {
    return this.#states.get(key)?.status ?? 'starting';
  }
}
